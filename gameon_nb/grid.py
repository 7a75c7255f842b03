"""Grids of settings: `--grid name=v1,v2` options read, crossed into points, and named.

>>> grid = parse_grid(["learner.bc_weight=0.2,0.5", "seed=0,1"])
>>> points(grid)[1]
{'learner.bc_weight': '0.2', 'seed': '1'}
>>> label(points(grid)[1])
'bc_weight=0.2-seed=1'
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence

__all__ = ["GridError", "label", "parse_grid", "points"]


class GridError(ValueError):
    """A `--grid` option that is not name=v1,v2,..."""


def parse_grid(items: Sequence[str], option: str = "--grid") -> dict[str, list[str]]:
    """{name: values} from `name=v1,v2` strings, in the order given; a name given twice, or one
    with no values, is a GridError that shows the form expected."""
    grid: dict[str, list[str]] = {}
    for item in items:
        name, sep, values = item.partition("=")
        name = name.strip()
        listed = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not name or not listed:
            raise GridError(f"{option} takes name=v1,v2,... (e.g. seed=0,1,2), got {item!r}")
        if name in grid:
            raise GridError(f"{option} {name} is given twice: list all its values in one option")
        grid[name] = listed
    return grid


def points(grid: Mapping[str, Sequence[str]]) -> list[dict[str, str]]:
    """Every combination of the grid's values, the first name varying slowest."""
    names = list(grid)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*grid.values())]


def label(point: Mapping[str, str]) -> str:
    """A name for a point that is also a safe directory name: `field=value` joined by '-'."""
    parts = [f"{name.split('.')[-1]}={value}" for name, value in point.items()]
    return re.sub(r"[^A-Za-z0-9_.=,+-]", "_", "-".join(parts)) or "default"
