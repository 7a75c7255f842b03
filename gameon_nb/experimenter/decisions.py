"""What the experimenter decides, with who decided and which calls it took.

    >>> p = exp.propose_task(ctx); p.task, p.backend, p.fallback, p.calls
    ('stack the red block on the blue block', 'gemini', False, ['c000004'])

`backend` names who made the decision ('scripted' when a fallback did), `fallback` says the
configured backend's reply could not be used, and `calls` are ids in the run's calls.jsonl.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gameon_nb.records import Json, JsonObject
from gameon_nb.skills.retrieval import Retrieval

__all__ = ["Decomposition", "ProgressVerdict", "Proposal", "Verdict"]


@dataclass(frozen=True)
class _Decision:
    reasoning: str
    backend: str
    fallback: bool
    calls: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class Proposal(_Decision):
    """The next task, in words."""

    task: str

    def to_json(self) -> JsonObject:
        return {"task": self.task, **_meta(self)}


@dataclass(frozen=True, kw_only=True)
class Decomposition(_Decision):
    """A task split into steps in words, each retrieved against the library's known skills."""

    task: str
    steps: list[str]
    retrievals: list[Retrieval]
    """One per step; `skill` is None for a step no known skill matches."""

    @property
    def skills(self) -> list[str | None]:
        """The retrieved skill text of each step (None: a missing skill)."""
        return [r.skill for r in self.retrievals]

    def to_json(self) -> JsonObject:
        retrievals = [r.to_json() for r in self.retrievals]
        return {"task": self.task, "steps": self.steps, "retrievals": retrievals, **_meta(self)}


@dataclass(frozen=True, kw_only=True)
class Verdict(_Decision):
    """Success of one executed skill, judged from frames."""

    success: bool
    options: tuple[str, str] = ("yes", "no")
    """The answer words offered, in the order the prompt showed them."""
    answer: str = ""
    """The word chosen ("yes", "no", "success" or "failure")."""

    def to_json(self) -> JsonObject:
        options = list(self.options)
        return {"success": self.success, "options": options, "answer": self.answer, **_meta(self)}


@dataclass(frozen=True, kw_only=True)
class ProgressVerdict(_Decision):
    """A reading of one skill's learning curve."""

    learned: bool
    converged: bool
    add_to_library: bool
    keep_training: bool

    def to_json(self) -> JsonObject:
        flags = {"learned": self.learned, "converged": self.converged}
        flags |= {"add_to_library": self.add_to_library, "keep_training": self.keep_training}
        return {**flags, **_meta(self)}


def _meta(d: _Decision) -> dict[str, Json]:
    return {
        "reasoning": d.reasoning,
        "backend": d.backend,
        "fallback": d.fallback,
        "calls": d.calls,
    }
