"""The demo's figure: each seed's rounds read from a real (tiny) run, and the goal checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameon_nb.bench.demo import measure_demo
from gameon_nb.loop import TINY
from gameon_nb.loop import events as ev


def test_the_demo_figure_reads_each_seeds_rounds_and_checks_the_goal(tmp_path: Path) -> None:
    sets = [*TINY, "loop.rounds=1"]
    report = measure_demo(tmp_path, [0], sets)
    (seed,) = report["seeds"]
    assert seed["seed"] == 0
    assert [r["round"] for r in seed["rounds"]] == [1]
    assert seed["rounds"][0]["composites"], "the targets are evaluated every round"
    assert seed["updates"] == 40  # TINY: 20 pretraining, 20 in the round
    assert not seed["stacks_learned"]
    assert seed["goal_met"] is False
    assert report["goal_met"] is False
    assert report["seeds_meeting_goal"] == []
    # a finished run is read back, not rerun: the same figure, no new events
    log = tmp_path / "seed0" / "events.jsonl"
    before = len(ev.EventLog(log).read())
    assert measure_demo(tmp_path, [0], sets)["seeds"] == report["seeds"]
    assert len(ev.EventLog(log).read()) == before
    with pytest.raises(ValueError, match="another config"):
        measure_demo(tmp_path, [0], [*sets, "loop.train_steps=30"])
