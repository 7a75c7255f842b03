"""The skill templates: canonical text, arity, success predicate and default duration.

    >>> TEMPLATES["stack"].text(("red", "blue"))
    'stack the red block on the blue block'
    >>> list(TEMPLATES["next_to"].instances())[:2]
    [('red', 'green'), ('red', 'blue')]

The one registry of templates and colours; skills, controllers and prompts are built from it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from gameon_nb.sim import predicates as P
from gameon_nb.sim.scene import COLOURS, BoolArray, SceneState

__all__ = ["COLOURS", "TEMPLATES", "Template", "UnknownTemplateError", "get_template"]


class UnknownTemplateError(KeyError):
    """A template name that is not in the registry."""


@dataclass(frozen=True)
class Template:
    """One family of skills over colours, e.g. 'stack the {0} block on the {1} block'."""

    name: str
    pattern: str
    arity: int
    predicate: Callable[..., BoolArray]
    duration: int
    """Control steps (20 Hz) a scripted or learned execution is given."""
    base: bool
    """Base skills start in the library; the others are candidates to be learned."""

    def text(self, colours: tuple[str, ...] = ()) -> str:
        """Canonical instruction for these colours."""
        if len(colours) != self.arity:
            raise ValueError(f"{self.name!r} takes {self.arity} colours, got {colours!r}")
        return self.pattern.format(*colours)

    def instances(self) -> Iterator[tuple[str, ...]]:
        """Every tuple of distinct colours the template takes."""
        return itertools.permutations(COLOURS, self.arity)

    def success(self, state: SceneState, colours: tuple[str, ...] = ()) -> BoolArray:
        """The predicate for these colours, over the state's batch axes."""
        return self.predicate(state, *(COLOURS.index(c) for c in colours))


TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in [
        Template("open", "open the gripper", 0, P.is_open, 10, True),
        Template("move_above", "move above the {0} block", 1, P.moved_above, 30, True),
        Template("grasp", "grasp the {0} block", 1, P.grasped, 50, True),
        Template("lift", "lift the {0} block", 1, P.lifted, 60, True),
        Template(
            "hold_above", "hold the {0} block above the {1} block", 2, P.held_above, 100, True
        ),
        Template("stack", "stack the {0} block on the {1} block", 2, P.is_stacked, 120, False),
        Template("next_to", "put the {0} block next to the {1} block", 2, P.is_next_to, 120, False),
        Template(
            "tower", "build a tower of the {0}, {1} and {2} blocks", 3, P.is_tower, 250, False
        ),
    ]
}


def get_template(name: str) -> Template:
    """Look a template up by name; an unknown name lists the known ones."""
    try:
        return TEMPLATES[name]
    except KeyError:
        known = sorted(TEMPLATES)
        raise UnknownTemplateError(f"unknown template {name!r}; known: {known}") from None
