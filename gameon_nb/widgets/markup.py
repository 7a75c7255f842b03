"""HTML pieces shared by the static twins: escaping, chips and badges with inline styles.

    >>> chip("success", "#2e7d32")            # '<span class="gameon-chip" ...>success</span>'
    >>> outcome_text(True), outcome_text(None)  # ('success', '—')
    >>> html_table(["skill", "rate"], [[escape(text), "90%"]], "gameon-evaluation")

Inline styles only: notebook front ends sanitize `<style>` blocks and scripts away, not these.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from gameon_nb.widgets.verdicts import Agreement

__all__ = [
    "AGREEMENT_COLOUR",
    "BOX",
    "DISAGREE",
    "FAILURE",
    "GRID_CELL",
    "NEUTRAL",
    "ROW_CELL",
    "SUCCESS",
    "chip",
    "escape",
    "html_table",
    "outcome_colour",
    "outcome_text",
]

SUCCESS = "#2e7d32"
FAILURE = "#c62828"
NEUTRAL = "#757575"
DISAGREE = "#ffd54f"
"""Marks where the judge disagrees with the ground truth (on green and red alike)."""
AGREEMENT_COLOUR: dict[Agreement, str] = {
    "agree": SUCCESS,
    "disagree": FAILURE,
    "unjudged": NEUTRAL,
    "no ground truth": NEUTRAL,
}
BOX = "font-family:sans-serif;font-size:13px;color:#222;line-height:1.4"
"""Style of every twin's outer box."""
ROW_CELL = "padding:2px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top"
"""Style of a cell of a table ruled between rows (the stage sections)."""
GRID_CELL = "padding:2px 8px;border:1px solid #ddd;text-align:left"
"""Style of a cell of a table ruled as a grid (comparisons, judge and analyst reports)."""


def outcome_text(value: bool | None) -> str:
    return "—" if value is None else ("success" if value else "failure")


def outcome_colour(value: bool | None) -> str:
    return NEUTRAL if value is None else (SUCCESS if value else FAILURE)


def chip(text: str, background: str, css_class: str = "gameon-chip", **data: str) -> str:
    """A small rounded label; `data` become data-* attributes (underscores as dashes)."""
    attrs = "".join(f' data-{k.replace("_", "-")}="{escape(v)}"' for k, v in data.items())
    return (
        f'<span class="{css_class}"{attrs} style="display:inline-block;padding:1px 7px;'
        f"border-radius:9px;background:{background};color:white;font-size:12px;"
        f'white-space:nowrap">{escape(text)}</span>'
    )


def html_table(
    head: Sequence[str], rows: Sequence[Sequence[str]], css_class: str = "", *, grid: bool = False
) -> str:
    """A compact table; the head and cells are HTML already escaped by the caller.

        >>> html_table(["episode", "steps"], [["3", "120"]], "gameon-episodes")
        >>> html_table(["run", "success"], rows, "gameon-comparison-table", grid=True)

    Rows are ruled between them, or, with `grid`, every cell is boxed and the head shaded.
    """
    cls = f' class="{css_class}"' if css_class else ""
    cell = GRID_CELL if grid else ROW_CELL
    header = f"{cell};background:#f5f5f5" if grid else f"{cell};border-bottom:1px solid #999"
    th = "".join(f'<th style="{header}">{h}</th>' for h in head)
    body = "".join(
        "<tr>" + "".join(f'<td style="{cell}">{c}</td>' for c in row) + "</tr>" for row in rows
    )
    return (
        f'<table{cls} style="border-collapse:collapse;font-size:12px;margin:4px 0">'
        f"<thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"
    )
