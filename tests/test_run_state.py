"""The typed run state: its JSON form is state.json as before, and bad files fail clearly."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal, NotRequired, TypedDict

import pytest

from gameon_nb.config import ConfigError, Range
from gameon_nb.experimenter.decisions import ProgressVerdict
from gameon_nb.records import RecordError, from_json, to_json
from gameon_nb.run import Decomposed, HistoryRecord, RoundRecord, RunState, RunStateError
from gameon_nb.skills.retrieval import Retrieval

OLD_STATE = {  # as a run of the previous version left it in the middle of round 2
    "round": 2,
    "next": "train",
    "stopped": None,
    "history": [
        {"round": 1, "task": "lift the red block", "skills": ["lift the red block"],
         "outcomes": [True], "failed_at": None, "task_skill": "lift the red block",
         "task_success": 0.5, "source": "truth", "task_success_truth": 0.5},
    ],
    "converged_streak": 0,
    "this_round": {
        "task": "stack the red block on the blue block", "steps": None,
        "decomposition": {
            "task": "stack the red block on the blue block", "steps": ["grasp the red block"],
            "retrievals": [{"text": "grasp the red block", "skill": "grasp the red block",
                            "score": 1.0, "candidates": []}],
            "reasoning": "r", "backend": "scripted", "fallback": False, "calls": [],
        },
        "plan": ["grasp the red block"], "missing": [], "task_skill": None,
        "episodes": [6, 7], "outcomes": {"grasp the red block": 1.0},
        "task_outcome": {"rate": 0.5},  # kept by older versions, read by nothing
        "train_target": 1500,
    },
    "requests": {"juggle": 1},
    "started": [2, "train"],
}  # fmt: skip


def test_a_state_written_by_the_previous_version_loads(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text(json.dumps(OLD_STATE))
    state = RunState.load(path)
    assert (state.round, state.next, state.started) == (2, "train", (2, "train"))
    assert state.history == [
        HistoryRecord(1, "lift the red block", ["lift the red block"], [True], None,
                      "lift the red block", 0.5, "truth", 0.5),
    ]  # fmt: skip
    this = state.this_round
    assert this.decomposition is not None
    assert this.decomposition.retrievals[0] == Retrieval(
        "grasp the red block", "grasp the red block", 1.0, []
    )
    assert (this.episodes, this.train_target, state.requests) == ([6, 7], 1500, {"juggle": 1})


def test_a_state_round_trips_through_its_json_form(tmp_path: Path) -> None:
    verdict = ProgressVerdict(
        reasoning="rising", backend="scripted", fallback=False, learned=True, converged=False,
        add_to_library=True, keep_training=True,
    )  # fmt: skip
    state = RunState(
        round=3, next="grow", history=[HistoryRecord(1, "a"), HistoryRecord(2, "b")],
        this_round=RoundRecord(
            task="t", decomposition=Decomposed(["s"], [Retrieval("s", None, 0.2)], "gemini"),
            analysis={"stack the red block on the blue block": verdict},
            evaluation={"lift the red block": 0.9},
        ),
        started=(3, "grow"),
    )  # fmt: skip
    state.save(tmp_path / "state.json")
    assert RunState.load(tmp_path / "state.json") == state
    assert RunState.load(tmp_path / "missing.json") == RunState()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"round": "two"}, r"state\.json\.round: expected int, got 'two'"),
        ({"history": [{"round": 1}]}, r"history\[0\]"),
        ({"this_round": {"plan": "lift"}}, r"this_round\.plan: expected a list"),
        ({"surprise": 1}, r"unknown field\(s\) \['surprise'\]"),
    ],
)
def test_a_state_that_does_not_fit_fails_naming_the_field(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    path = tmp_path / "state.json"
    path.write_text(json.dumps(OLD_STATE | change))
    with pytest.raises(RunStateError, match=message):
        RunState.load(path)
    path.write_text('{"round": 2, "ne')
    with pytest.raises(RunStateError, match="is damaged"):
        RunState.load(path)


@dataclass
class _Nested:
    pair: tuple[int, str]
    many: tuple[float, ...] = ()
    table: dict[str, list[int]] = field(default_factory=dict)
    maybe: _Nested | None = None


def test_records_nest_and_check_types() -> None:
    record = _Nested((1, "a"), (0.5, 2.0), {"x": [1, 2]}, _Nested((2, "b")))
    data = to_json(record)
    assert data["pair"] == [1, "a"]
    assert data["maybe"]["maybe"] is None
    assert from_json(_Nested, json.loads(json.dumps(data))) == record
    assert from_json(_Nested, {"pair": [1, "a"], "many": [1]}).many == (1.0,)  # int fits float
    with pytest.raises(RecordError, match=r"_Nested\.pair: expected 2 items"):
        from_json(_Nested, {"pair": [1]})
    with pytest.raises(RecordError, match=r"_Nested\.table\['x'\]\[1\]: expected int"):
        from_json(_Nested, {"pair": [1, "a"], "table": {"x": [1, "2"]}})
    with pytest.raises(RecordError, match="expected bool"):
        from_json(HistoryRecord, {"round": 1, "task": "t", "outcomes": [1]})


class _Seen(TypedDict):
    count: int
    note: NotRequired[str]  # optional, though Python 3.11 counts it required under __future__


@dataclass
class _Checked:
    size: Annotated[int, Range(1)]
    seen: list[_Seen] = field(default_factory=list)
    kind: Literal[1, "one"] = 1


def test_records_share_the_config_decoder_marks_typed_dicts_and_literals() -> None:
    data = {"size": 2, "seen": [{"count": 1}, {"count": 2, "note": "n"}], "kind": "one"}
    assert from_json(_Checked, data) == _Checked(
        2, [{"count": 1}, {"count": 2, "note": "n"}], "one"
    )
    with pytest.raises(ConfigError, match=r"^_Checked\.size is 0; it accepts >= 1$"):
        from_json(_Checked, {"size": 0})  # an Annotated mark raises its own error
    with pytest.raises(RecordError, match=r"^_Checked\.seen\[0\]: missing field\(s\) \['count'\]$"):
        from_json(_Checked, {"size": 1, "seen": [{"note": "n"}]})
    with pytest.raises(RecordError, match=r"seen\[1\]: unknown field\(s\) \['x'\]; known: "):
        from_json(_Checked, {"size": 1, "seen": [{"count": 1}, {"count": 1, "x": 0}]})
    with pytest.raises(RecordError, match=r"seen\[0\]\.note: expected str, got 3"):
        from_json(_Checked, {"size": 1, "seen": [{"count": 1, "note": 3}]})
    with pytest.raises(RecordError, match=r"^_Checked\.kind: True is not one of \[1, 'one'\]$"):
        from_json(_Checked, {"size": 1, "kind": True})  # a bool is no int here
