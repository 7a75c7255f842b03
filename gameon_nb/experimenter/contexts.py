"""What the loop hands the experimenter for each decision: scene, library, history, frames, curves.

    >>> ctx = ProposalContext(scene_image=frame, scene_state=state, library=library, round=3)
    >>> JudgeContext(skill="lift the red block", frames=[first, last], ground_truth=True)
    >>> HistoryEntry.from_dict({"round": 2, "task": "...", "skills": [...], "outcomes": [...]})

Fields marked privileged (scene state, ground truth) are read only by the scripted backend; the VLM
backends see what a person would: images, texts and numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NotRequired, TypedDict

import numpy as np
import numpy.typing as npt

from gameon_nb.sim.scene import SceneState
from gameon_nb.skills.library import SkillLibrary

__all__ = [
    "CurveContext",
    "CurvePoint",
    "DecompositionContext",
    "HistoryDict",
    "HistoryEntry",
    "Image",
    "JudgeContext",
    "ProposalContext",
]

Image = npt.NDArray[np.uint8]
"""An (H, W, 3) uint8 RGB image."""
CurvePoint = Mapping[str, float]
"""One evaluation of a skill: {"round", "rate", "episodes"}."""


class HistoryDict(TypedDict):
    """A `HistoryEntry` as a plain dict (`to_json()`); `from_dict` needs "round" and "task" only."""

    round: int
    task: str
    skills: NotRequired[Sequence[str]]
    outcomes: NotRequired[Sequence[bool]]
    failed_at: NotRequired[str | None]
    task_skill: NotRequired[str | None]
    task_success: NotRequired[float | None]


@dataclass(frozen=True)
class HistoryEntry:
    """One past round: the task, the skills it ran, per-skill outcomes and where it failed."""

    round: int
    task: str
    skills: tuple[str, ...] = ()
    outcomes: tuple[bool, ...] = ()
    """Success of each skill in `skills` (of a representative episode, or a majority)."""
    failed_at: str | None = None
    """The first skill that failed, or None when every skill succeeded."""
    task_skill: str | None = None
    """The known skill the task names, whose predicate decides the task's outcome."""
    task_success: float | None = None
    """Share of the round's episodes in which the task itself came true (None: not known)."""

    @classmethod
    def from_dict(cls, data: HistoryDict) -> HistoryEntry:
        """From a plain dict (the loop's history record): other keys are ignored, a missing
        optional field takes its default."""
        rate = data.get("task_success")
        return cls(
            round=int(data["round"]),
            task=str(data["task"]),
            skills=tuple(str(s) for s in data.get("skills", ())),
            outcomes=tuple(bool(o) for o in data.get("outcomes", ())),
            failed_at=None if data.get("failed_at") is None else str(data["failed_at"]),
            task_skill=None if data.get("task_skill") is None else str(data["task_skill"]),
            task_success=None if rate is None else float(rate),
        )

    def to_json(self) -> HistoryDict:
        return {
            "round": self.round,
            "task": self.task,
            "skills": list(self.skills),
            "outcomes": list(self.outcomes),
            "failed_at": self.failed_at,
            "task_skill": self.task_skill,
            "task_success": self.task_success,
        }


def _entries(history: Sequence[HistoryEntry | HistoryDict]) -> tuple[HistoryEntry, ...]:
    return tuple(h if isinstance(h, HistoryEntry) else HistoryEntry.from_dict(h) for h in history)


@dataclass(frozen=True, eq=False)
class ProposalContext:
    """What the proposer sees: the scene now, the library with success rates, the history."""

    scene_image: Image | None
    scene_state: SceneState
    """Privileged: read only by the scripted backend."""
    library: SkillLibrary
    history: Sequence[HistoryEntry | HistoryDict] = ()
    """Past rounds, oldest first; plain dicts are accepted and read as HistoryEntry."""
    targets: Sequence[str] = ()
    """Skill texts the experiment is after (e.g. a tower); empty: every skill."""
    round: int = 0

    def entries(self) -> tuple[HistoryEntry, ...]:
        """The history as typed entries."""
        return _entries(self.history)


@dataclass(frozen=True, eq=False)
class DecompositionContext:
    """What the decomposer sees besides the task."""

    scene_image: Image | None
    scene_state: SceneState
    """Privileged: read only by the scripted backend."""
    library: SkillLibrary
    round: int = 0


@dataclass(frozen=True, eq=False)
class JudgeContext:
    """One executed skill segment to judge."""

    skill: str
    frames: Sequence[Image]
    """The segment's kept frames in time order (the judge shows `judge_frames` of them)."""
    ground_truth: bool | None = None
    """Privileged: the skill's predicate on the segment's last state; only the scripted backend
    reads it. Needed wherever the scripted judge may answer: as the backend, or as the fallback
    of a VLM judge (without it, that fallback raises ValueError)."""


@dataclass(frozen=True, eq=False)
class CurveContext:
    """A skill's learning curve to analyse."""

    skill: str
    curve: Sequence[CurvePoint] = field(default_factory=tuple)
    """Evaluations, oldest first: {"round", "rate", "episodes"}."""
    threshold: float = 0.8
    """Success rate from which the skill counts as learned."""
