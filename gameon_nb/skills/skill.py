"""`Skill`: one instruction the robot can be asked to carry out, e.g. 'lift the red block'.

    >>> skill = Skill.from_text("stack the red block on the blue block")
    >>> skill.template, skill.colours, skill.duration, skill.kind
    ('stack', ('red', 'blue'), 120, 'composite')
    >>> skill.success(episode_states)          # a bool per state, vectorised

Skills are a template from the registry in `gameon_nb.sim.templates` applied to colours.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

from gameon_nb.sim.scene import BoolArray, SceneState
from gameon_nb.sim.templates import TEMPLATES, Template, get_template

__all__ = ["Skill", "UnknownSkillError", "all_skills"]

Kind = Literal["base", "composite"]


class UnknownSkillError(KeyError):
    """A skill text that is not a template applied to known colours."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True, order=True)
class Skill:
    """A template applied to colours."""

    template: str
    colours: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        t = get_template(self.template)
        if tuple(self.colours) not in set(t.instances()):
            raise UnknownSkillError(
                f"{self.template!r} takes {t.arity} distinct colours, got {self.colours!r}"
            )

    @property
    def spec(self) -> Template:
        return TEMPLATES[self.template]

    @property
    def text(self) -> str:
        """The canonical instruction, e.g. 'grasp the red block'."""
        return self.spec.text(self.colours)

    @property
    def duration(self) -> int:
        """Control steps an execution of this skill is given."""
        return self.spec.duration

    @property
    def kind(self) -> Kind:
        return "base" if self.spec.base else "composite"

    def success(self, state: SceneState) -> BoolArray:
        """The skill's predicate over the state's batch axes."""
        return self.spec.success(state, self.colours)

    @classmethod
    def from_text(cls, text: str) -> Skill:
        """The skill whose canonical text this is (case and outer spaces ignored)."""
        try:
            return _by_text()[" ".join(text.lower().split())]
        except KeyError:
            raise UnknownSkillError(
                f"{text!r} is not a canonical skill text; e.g. {all_skills()[1].text!r}"
            ) from None

    def __str__(self) -> str:
        return self.text


@functools.cache
def all_skills() -> list[Skill]:
    """Every skill of every template, templates in registry order."""
    return [Skill(name, colours) for name, t in TEMPLATES.items() for colours in t.instances()]


@functools.cache
def _by_text() -> dict[str, Skill]:
    return {s.text: s for s in all_skills()}
