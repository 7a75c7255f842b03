"""`Episode`: one rollout of a task's skill sequence, as stored and as learned from.

    >>> ep.skills, ep.segments          # ('grasp the red block', ...), ((0, 50), (50, 110))
    >>> ep.states.block_pos.shape       # (T + 1, 3, 3): states before and after every action
    >>> ep.frames["experimenter"].shape, ep.frame_steps   # (K, H, W, 3), state index of each
    >>> ep.segment_success(), ep.task_success()   # each skill's outcome, and the task's own

`actions[t]` leads from `states[t]` to `states[t + 1]`; the segment (start, end) of a skill
covers actions start..end-1, so the skill's outcome is judged on `states[end]`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypedDict

import numpy as np
import numpy.typing as npt

from gameon_nb.sim.scene import SceneState

__all__ = ["Episode", "EpisodeMeta", "EpisodeRecord"]


class EpisodeRecord(TypedDict):
    """What is kept of an episode beyond its arrays (`Episode.record()`), as JSON values."""

    round: int
    task: str
    skills: list[str]
    segments: list[list[int]]
    """[start, end] per skill."""
    seed: int | None
    source: str
    job: int | None
    task_skill: str | None


class EpisodeMeta(EpisodeRecord):
    """A stored episode's metadata (`EpisodeStore.meta`): its record, id, outcome and sizes."""

    id: int
    task_success: bool | None
    steps: int
    cameras: list[str]


@dataclass
class Episode:
    """A stored rollout; `id` is assigned by the store on append."""

    round: int
    task: str
    skills: tuple[str, ...]
    segments: tuple[tuple[int, int], ...]
    actions: npt.NDArray[np.float32]
    proprio: npt.NDArray[np.float32]
    """(T + 1, P) proprioception at every state."""
    states: SceneState
    frames: dict[str, npt.NDArray[np.uint8]] = field(default_factory=dict)
    frame_steps: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    seed: int | None = None
    source: str = ""
    """Who acted: 'scripted', 'policy', ... (free text)."""
    job: int | None = None
    """Index of the episode among its round's collection jobs (None outside the loop)."""
    task_skill: str | None = None
    """The known skill the task names, whose predicate decides the task's outcome; None when the
    task is the chain of `skills` itself (bootstrap data, a random chain) or names no skill."""
    id: int | None = None

    def __post_init__(self) -> None:
        steps = len(self.actions)
        if len(self.proprio) != steps + 1 or self.states.batch_shape != (steps + 1,):
            raise ValueError(
                f"an episode of {steps} actions needs {steps + 1} proprio rows and states, "
                f"got {len(self.proprio)} and {self.states.batch_shape}"
            )
        if len(self.skills) != len(self.segments):
            raise ValueError(f"{len(self.skills)} skills but {len(self.segments)} segments")
        for start, end in self.segments:
            if not 0 <= start <= end <= steps:
                raise ValueError(f"segment {(start, end)} outside 0..{steps}")
        for camera, frames in self.frames.items():
            if len(frames) != len(self.frame_steps):
                raise ValueError(
                    f"{camera}: {len(frames)} frames for {len(self.frame_steps)} steps"
                )

    @property
    def steps(self) -> int:
        return len(self.actions)

    def span(self, segment: int | None = None) -> tuple[int, int]:
        """(first, last) state index of segment `segment`, or of the whole episode for None."""
        return (0, self.steps) if segment is None else self.segments[segment]

    def segment_frames(
        self, camera: str, segment: int | None = None, ends_only: bool = False
    ) -> tuple[list[npt.NDArray[np.uint8]], list[int]]:
        """(frames, their state indices) of one camera kept within a segment (None: the whole
        episode), first to last; with `ends_only` just the first and the last of them."""
        first, last = self.span(segment)
        keep = np.flatnonzero((self.frame_steps >= first) & (self.frame_steps <= last))
        if ends_only and len(keep) > 2:
            keep = keep[[0, -1]]
        return [self.frames[camera][i] for i in keep], [int(self.frame_steps[i]) for i in keep]

    def record(self) -> EpisodeRecord:
        """What the store keeps of the episode beyond its arrays, as JSON values."""
        return EpisodeRecord(
            round=self.round, task=self.task, skills=list(self.skills),
            segments=[list(s) for s in self.segments], seed=self.seed, source=self.source,
            job=self.job, task_skill=self.task_skill,
        )  # fmt: skip

    def task_success(self) -> bool | None:
        """Whether the task came true: `task_skill`'s predicate on the last state, or, with no
        task skill, whether every executed skill succeeded; None when nothing was executed."""
        from gameon_nb.skills.skill import Skill

        if self.task_skill is not None:
            return bool(Skill.from_text(self.task_skill).success(self.states[self.steps]))
        outcomes = self.segment_success()
        return all(outcomes) if outcomes else None

    def segment_success(self) -> list[bool]:
        """Ground truth per skill segment: its predicate on the state its segment ends in."""
        from gameon_nb.skills.skill import Skill

        return [
            bool(Skill.from_text(skill).success(self.states[end]))
            for skill, (_, end) in zip(self.skills, self.segments, strict=True)
        ]
