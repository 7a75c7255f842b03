"""`RunState` and `RoundRecord`: where a run is, and what its current round has produced.

    >>> state = RunState.load(run.state_path)        # RunState() for a run not started
    >>> state.round, state.next, state.this_round.task, state.this_round.plan
    >>> state.this_round.decomposition.steps          # set by the decompose stage
    >>> state.save(run.state_path)                   # atomic, as after every stage

Each stage of a round reads what the stages before it wrote into `this_round` and adds its own
part: the proposal (task, and the steps a curriculum fixed itself), the decomposition, the plan
and missing skills, the episodes, the outcomes (the loop's word per skill), the training target,
the evaluation, the growth evidence and the analysis. `history` keeps one `HistoryRecord` per
finished round for the curriculum and the tables. state.json is the JSON form of a `RunState`
(`gameon_nb.records`), the same keys as before these types existed, so older run directories
load; a file that does not fit is a `RunStateError` naming the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from gameon_nb.atomic import atomic_write_text
from gameon_nb.experimenter.decisions import ProgressVerdict
from gameon_nb.records import JsonObject, RecordError, from_json, to_json
from gameon_nb.skills.results import SkillResult
from gameon_nb.skills.retrieval import Retrieval

__all__ = [
    "Decomposed",
    "HistoryRecord",
    "LibraryEntry",
    "RoundRecord",
    "RoundRow",
    "RunState",
    "RunStateError",
    "RunStatus",
]


RETIRED_ROUND_FIELDS = ("task_outcome",)
"""Fields older versions kept in `this_round` that nothing reads any more: dropped on loading."""


class RunStateError(RuntimeError):
    """A run directory whose config or state cannot be read back."""


@dataclass
class Decomposed:
    """A task's steps in words, each step's retrieval, and who decomposed it."""

    steps: list[str]
    retrievals: list[Retrieval]
    backend: str
    """The decomposer's backend, or 'curriculum' when the curriculum fixed the steps."""
    reasoning: str = ""
    fallback: bool = False
    calls: list[str] = field(default_factory=list)
    task: str = ""


@dataclass
class RoundRecord:
    """What the current round's stages have produced so far (see the module docstring)."""

    task: str = ""
    steps: list[str] | None = None
    """Steps the curriculum fixed itself (None: the decomposer splits the task)."""
    decomposition: Decomposed | None = None
    plan: list[str] = field(default_factory=list)
    """Library skills to execute, in order."""
    missing: list[str] = field(default_factory=list)
    """Steps no known skill matched: missing-skill requests."""
    task_skill: str | None = None
    """The known skill the task names, whose predicate decides its outcome."""
    episodes: list[int] = field(default_factory=list)
    outcomes: dict[str, float] = field(default_factory=dict)
    """Skill -> share of its executions the loop counts as successes (its outcome source)."""
    train_target: int | None = None
    """Learner step at which this round's training ends (kept, so a resumed stage ends there)."""
    evaluation: dict[str, float] = field(default_factory=dict)
    """Skill -> evaluated success (the full results: evaluations/round-NNN.json)."""
    growth_evidence: dict[str, float] = field(default_factory=dict)
    """Candidate -> the judge's success rate on its evaluation episodes."""
    analysis: dict[str, ProgressVerdict] = field(default_factory=dict)
    """Skill -> the analyst's verdict on its learning curve."""


@dataclass
class HistoryRecord:
    """One finished round as the curriculum and the tables read it."""

    round: int
    task: str
    skills: list[str] = field(default_factory=list)
    outcomes: list[bool] = field(default_factory=list)
    """Whether each skill of `skills` succeeded (in the loop's word, by majority)."""
    failed_at: str | None = None
    task_skill: str | None = None
    task_success: float | None = None
    """Share of the round's episodes in which the task came true, in the loop's word."""
    source: str = "truth"
    task_success_truth: float | None = None
    """The same share by the success predicates."""


@dataclass
class RunState:
    """The stage a run has reached and what it carries between stages and rounds."""

    round: int = 0
    next: str = "setup"
    """The stage a resume starts with: 'setup', a stage of a round, or 'done'."""
    stopped: str | None = None
    """Why the run stopped (None: it has not)."""
    history: list[HistoryRecord] = field(default_factory=list)
    converged_streak: int = 0
    """Consecutive rounds in which the analyst judged every target converged."""
    this_round: RoundRecord = field(default_factory=RoundRecord)
    requests: dict[str, int] = field(default_factory=dict)
    """Missing-skill requests: step text -> rounds it was asked for."""
    started: tuple[int, str] | None = None
    """(round, stage) last started, so a resumed stage knows it was interrupted."""

    @classmethod
    def load(cls, path: Path) -> RunState:
        """The state saved at `path`; a fresh RunState when there is none."""
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text())
            for retired in RETIRED_ROUND_FIELDS:
                data.get("this_round", {}).pop(retired, None)
            return from_json(cls, data, "state.json")
        except json.JSONDecodeError as error:
            raise RunStateError(f"{path} is damaged ({error})") from error
        except RecordError as error:
            raise RunStateError(
                f"{path} does not fit this version's run state ({error}): resume it with the "
                "version that wrote it, or start a new run directory"
            ) from error

    def save(self, path: Path) -> None:
        atomic_write_text(path, json.dumps(to_json(self), indent=1))


@dataclass(frozen=True)
class RoundRow:
    """One finished round in a table: its task, how it went, and the library after it."""

    round: int
    task: str
    task_skill: str | None
    steps: int
    """Skills in the task's decomposition."""
    task_success: float | None
    added: list[str]
    """Skills that joined the library this round."""
    library_size: int


@dataclass(frozen=True)
class LibraryEntry:
    status: str
    """'base', 'learned' or 'candidate'."""
    success: float | None
    """Latest evaluated success (None: never evaluated)."""


@dataclass(frozen=True)
class RunStatus:
    """What `gameon status` prints: where a run is and what it has learned."""

    run_dir: str
    round: int
    next_stage: str
    stopped: str | None
    episodes: int
    library: dict[str, LibraryEntry]
    latest_evaluation: dict[str, SkillResult] | None
    """The latest evaluations/round-NNN.json: skill -> success, episodes, ci95, ..."""
    requests: dict[str, int]
    curriculum: str
    task_counts: dict[str, int]
    rounds: list[RoundRow]

    def to_json(self) -> JsonObject:
        return to_json(self)  # type: ignore[no-any-return]

    def _repr_json_(self) -> JsonObject:
        """Shown as a collapsible JSON tree in JupyterLab."""
        return self.to_json()
