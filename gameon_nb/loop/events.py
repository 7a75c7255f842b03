"""Typed events of a run, appended to events.jsonl; widgets and reports read them back.

    >>> log = EventLog(run.events_path)
    >>> log.append(TaskProposed(round=2, task="stack the red block on the blue block", ...))
    >>> [e for e in log.read() if isinstance(e, Evaluated)]
    >>> log.read(kind="evaluated")                  # or by kind name

One JSON object per line: {"kind", "round", "stage", "time", ...fields}. A line is written whole
and flushed, so a killed process leaves at most one torn last line, which readers skip.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar, cast

from gameon_nb import records
from gameon_nb.loop.summaries import JudgedExecution, StageSummary
from gameon_nb.records import JsonObject
from gameon_nb.skills.results import SkillResult
from gameon_nb.skills.retrieval import Retrieval

__all__ = [
    "EVENT_TYPES",
    "EpisodeCollected",
    "Evaluated",
    "Event",
    "EventLog",
    "GrowthDisagreement",
    "JudgeAgreement",
    "ProgressAnalysed",
    "RunStopped",
    "SkillAdded",
    "SkillsRetrieved",
    "StageFinished",
    "StageStarted",
    "TaskDecomposed",
    "TaskProposed",
    "TrainingProgress",
]


@dataclass(frozen=True, kw_only=True)
class Event:
    """Common fields: the round, the stage that emitted it, and the wall-clock time."""

    kind: ClassVar[str] = "event"
    round: int
    stage: str = ""
    time: float = field(default_factory=time.time)

    def to_json(self) -> JsonObject:
        return {"kind": self.kind, **dataclasses.asdict(self)}

    @classmethod
    def from_fields(cls, **fields: Any) -> Event:
        """The event of a log line's fields (those of records nested in it as JSON)."""
        return cls(**fields)


@dataclass(frozen=True, kw_only=True)
class StageStarted(Event):
    kind: ClassVar[str] = "stage_started"
    resumed: bool = False
    """The stage had started before and the run was resumed in it."""


@dataclass(frozen=True, kw_only=True)
class StageFinished(Event):
    kind: ClassVar[str] = "stage_finished"
    seconds: float = 0.0
    summary: StageSummary = field(default_factory=lambda: cast(StageSummary, {}))


@dataclass(frozen=True, kw_only=True)
class TaskProposed(Event):
    kind: ClassVar[str] = "task_proposed"
    task: str
    reasoning: str = ""
    backend: str = ""
    fallback: bool = False
    image: str = ""
    """Scene image the proposer saw, relative to the run directory."""
    calls: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class TaskDecomposed(Event):
    kind: ClassVar[str] = "task_decomposed"
    task: str
    steps: list[str]
    reasoning: str = ""
    backend: str = ""
    fallback: bool = False
    calls: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class SkillsRetrieved(Event):
    kind: ClassVar[str] = "skills_retrieved"
    steps: list[str]
    retrievals: list[Retrieval]
    """One per step."""
    plan: list[str]
    """The skill sequence that will be executed."""
    missing: list[str] = field(default_factory=list)
    """Steps no known skill matched: missing-skill requests."""

    @classmethod
    def from_fields(cls, **fields: Any) -> Event:
        retrievals = [records.from_json(Retrieval, r) for r in fields.pop("retrievals")]
        return cls(retrievals=retrievals, **fields)


@dataclass(frozen=True, kw_only=True)
class EpisodeCollected(Event):
    kind: ClassVar[str] = "episode_collected"
    episode: int
    skills: list[str]
    outcomes: list[bool]
    """Each executed skill's own outcome (its predicate at its segment's end)."""
    steps: int
    task_skill: str | None = None
    """The skill the task names (None: the task is the chain of skills itself)."""
    task_success: bool | None = None
    """Whether the task itself came true (see `Episode.task_success`)."""


@dataclass(frozen=True, kw_only=True)
class JudgeAgreement(Event):
    kind: ClassVar[str] = "judge_agreement"
    judged: int
    """Verdicts given, the scripted fallback's included."""
    agree: int
    """Verdicts of the configured backend itself (no fallback) that equal the ground truth."""
    backend: str
    verdicts: list[JudgedExecution] = field(default_factory=list)
    fallbacks: int = 0
    """Verdicts the scripted judge gave in the backend's place (it reads the ground truth, so
    they say nothing of the backend and are left out of the agreement)."""
    source: str = "truth"
    """Whose word the loop acted on this round (LoopConfig.outcome_source)."""

    @property
    def real(self) -> int:
        """Verdicts the configured backend gave itself."""
        return self.judged - self.fallbacks

    @property
    def agreement(self) -> float | None:
        """Share of the backend's own verdicts that agree with the ground truth; None if none."""
        return self.agree / self.real if self.real else None


@dataclass(frozen=True, kw_only=True)
class TrainingProgress(Event):
    kind: ClassVar[str] = "training"
    metrics: dict[str, float]


@dataclass(frozen=True, kw_only=True)
class Evaluated(Event):
    kind: ClassVar[str] = "evaluated"
    results: dict[str, SkillResult]


@dataclass(frozen=True, kw_only=True)
class ProgressAnalysed(Event):
    kind: ClassVar[str] = "analysed"
    skill: str
    verdict: JsonObject
    """`ProgressVerdict.to_json()`."""


@dataclass(frozen=True, kw_only=True)
class SkillAdded(Event):
    kind: ClassVar[str] = "skill_added"
    skill: str
    success: float
    """Its evaluated success (ground truth)."""
    episodes: int
    analyst_agreed: bool
    evidence: str = "truth"
    """Whose word the growth rule read: 'truth' or 'judge' (LoopConfig.outcome_source)."""
    evidence_success: float | None = None
    """The success rate the growth rule read (the judge's verdicts with 'judge')."""


@dataclass(frozen=True, kw_only=True)
class GrowthDisagreement(Event):
    kind: ClassVar[str] = "growth_disagreement"
    skill: str
    measured: bool
    """The measured success passed the threshold."""
    analyst: bool
    """The analyst judged the skill learned and worth adding."""


@dataclass(frozen=True, kw_only=True)
class RunStopped(Event):
    kind: ClassVar[str] = "run_stopped"
    reason: str


EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (
        StageStarted,
        StageFinished,
        TaskProposed,
        TaskDecomposed,
        SkillsRetrieved,
        EpisodeCollected,
        JudgeAgreement,
        TrainingProgress,
        Evaluated,
        ProgressAnalysed,
        SkillAdded,
        GrowthDisagreement,
        RunStopped,
    )
}

E = TypeVar("E", bound=Event)


def from_json(data: JsonObject) -> Event:
    """The typed event of one log line; an unknown kind is an error naming the known ones."""
    kind = data.get("kind")
    if kind not in EVENT_TYPES:
        raise ValueError(f"unknown event kind {kind!r}; known: {sorted(EVENT_TYPES)}")
    return EVENT_TYPES[str(kind)].from_fields(**{k: v for k, v in data.items() if k != "kind"})


class EventLog:
    """Append-only JSONL of events; see the module docstring."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._checked = False

    def _drop_torn_tail(self) -> None:
        """Cut a last line a killed writer left without its newline, before appending after it."""
        if not self.path.exists():
            return
        with open(self.path, "rb+") as handle:
            data = handle.read()
            if data and not data.endswith(b"\n"):
                handle.truncate(data.rfind(b"\n") + 1)

    def append(self, event: Event) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self._checked:
            self._drop_torn_tail()
            self._checked = True
        line = json.dumps(event.to_json(), separators=(",", ":"), default=str) + "\n"
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def read(self, kind: str | type[E] | None = None) -> list[Any]:
        """Every event (of one kind, by name or class), oldest first; a torn last line skipped."""
        if not self.path.exists():
            return []
        events: list[Event] = []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                if number == len(lines) - 1:
                    continue  # a line torn by a kill mid-write
                raise ValueError(f"{self.path}:{number + 1} is not JSON") from None
            events.append(from_json(data))
        if kind is None:
            return events
        name = kind if isinstance(kind, str) else kind.kind
        return [e for e in events if e.kind == name]
