"""What each stage of the loop returns (and its `stage_finished` event carries), typed.

    >>> summary = exp.step()                       # e.g. a CollectSummary after "collect"
    >>> summary["task_success"]
    >>> [e.summary for e in log.read(kind="stage_finished") if e.stage == "train"]

Typed dicts: the event log keeps their plain JSON form, and a summary read back from an older
log is the same dict it was. `StageSummary` is any of them; read one stage's fields after
narrowing on the event's `stage` (`cast(TrainSummary, event.summary)`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NotRequired, TypedDict

if TYPE_CHECKING:  # the bootstrap module pulls in the simulator; readers of events need not
    from gameon_nb.data.bootstrap import BootstrapStats

__all__ = [
    "AnalyseSummary",
    "CollectSummary",
    "DecomposeSummary",
    "EvaluateSummary",
    "GrowSummary",
    "JudgeSummary",
    "JudgedExecution",
    "ProposeSummary",
    "RetrieveSummary",
    "SetupSummary",
    "StageSummary",
    "TaskOutcome",
    "TrainSummary",
]


class TrainSummary(TypedDict):
    steps: int
    """The learner's update count after the stage."""
    rows: int
    """Transitions trained on (every step relabelled for every known skill)."""
    critic_loss: NotRequired[float]
    bc_loss: NotRequired[float]
    q_data: NotRequired[float]


class EvaluateSummary(TypedDict):
    skills: int
    screened: int
    mean_success: float | None
    judged_for_growth: int


class SetupSummary(TypedDict):
    bootstrap: BootstrapStats
    train: TrainSummary
    evaluation: EvaluateSummary
    library_size: int


class ProposeSummary(TypedDict):
    task: str
    backend: str
    fallback: bool


class DecomposeSummary(TypedDict):
    steps: list[str]
    backend: str


class RetrieveSummary(TypedDict):
    plan: list[str]
    missing: list[str]
    task_skill: str | None


class CollectSummary(TypedDict):
    episodes: int
    skipped: int
    """Episodes a resumed stage found already collected."""
    task_success: float | None


class JudgeSummary(TypedDict):
    judged: int
    fallbacks: int
    agreement: float | None
    outcomes: dict[str, float]
    """Skill -> the loop's word on its executions this round (share successful)."""
    source: str
    task_success: float | None


class AnalyseSummary(TypedDict):
    analysed: int


class GrowSummary(TypedDict):
    added: list[str]
    stopped: str | None
    library_size: int


StageSummary = (
    SetupSummary
    | ProposeSummary
    | DecomposeSummary
    | RetrieveSummary
    | CollectSummary
    | JudgeSummary
    | TrainSummary
    | EvaluateSummary
    | AnalyseSummary
    | GrowSummary
)


class TaskOutcome(TypedDict):
    """A round's task and how often it came true (`Experiment.task_outcome`)."""

    task: str
    skill: str | None
    """The known skill the task names (None: the task is its chain of skills)."""
    successes: int
    episodes: int
    rate: float | None
    """None when nothing was collected."""


class JudgedExecution(TypedDict):
    """The judge's verdict on one executed skill (or a task) of a collected episode."""

    episode: int
    segment: int | None
    """The skill's segment; None: the task as a whole."""
    skill: str
    truth: bool
    verdict: bool
    reasoning: str
    backend: str
    fallback: bool
