"""A `gameon loop` killed with SIGKILL in collection and again in training, then resumed, ends where
an uninterrupted run ends: same library, same episodes (none lost, none twice), same evaluation.
A run recorded with one backend replays through `replay` to the same decisions."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gameon_nb.config import RunConfig, override
from gameon_nb.loop import TINY, Experiment, RunDir
from gameon_nb.loop import events as ev

# long enough stages to be killed inside: 6 episodes in waves of 2, 60 updates checkpointed by 10
SETS = [*TINY, "loop.episodes_per_task=6", "loop.train_steps=60", "loop.rounds=2"]


def gameon_loop(run_dir: Path, *extra: str) -> subprocess.Popen[str]:
    args = [sys.executable, "-m", "gameon_nb.cli", "loop", "--run-dir", str(run_dir), "--json"]
    args += [a for s in SETS for a in ("--set", s)]
    return subprocess.Popen(
        [*args, *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_for(run_dir: Path, predicate, timeout: float = 300) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    log = ev.EventLog(RunDir(run_dir).events_path)
    while time.monotonic() < deadline:
        if predicate(log.read()):
            return
        time.sleep(0.05)
    raise TimeoutError(f"{run_dir}: the awaited event did not come")


def finish(process: subprocess.Popen[str]) -> None:
    _, err = process.communicate(timeout=600)
    assert process.returncode == 0, err[-3000:]


def outcome(run_dir: Path) -> dict[str, object]:
    run = RunDir(run_dir)
    table = run.store().episodes_table()
    keys = [
        (int(r), None if j != j else int(j))
        for r, j in zip(table["round"], table["job"], strict=True)
    ]
    library = json.loads(run.library_path.read_text())
    for skill in library["skills"]:
        skill.pop("reward_steps")  # counted, not decided: equal anyway, but not the point here
    return {
        "episodes": len(table),
        "keys": sorted(keys, key=str),
        "library": library,
        "evaluation": json.loads(run.evaluation(2).read_text()),
        "actions": [run.store().load(i, frames=False).actions.tobytes() for i in run.store().ids()],
    }


@pytest.mark.slow
def test_killed_in_collection_and_training_then_resumed_equals_uninterrupted(
    tmp_path: Path,
) -> None:
    straight = tmp_path / "straight"
    finish(gameon_loop(straight))

    killed = tmp_path / "killed"
    process = gameon_loop(killed)
    wait_for(
        killed, lambda log: any(isinstance(e, ev.EpisodeCollected) and e.round == 1 for e in log)
    )
    os.kill(process.pid, signal.SIGKILL)  # mid-collection: one wave stored, the next in flight
    process.wait()
    state = RunDir(killed).load_state()
    assert state.next == "collect"

    process = gameon_loop(killed, "--resume")
    partial = RunDir(killed).checkpoint("train-002")
    wait_for(killed, lambda log: partial.exists())
    os.kill(process.pid, signal.SIGKILL)  # mid-training, after its first checkpoint
    process.wait()
    assert RunDir(killed).load_state().next == "train"
    assert RunDir(killed).checkpoint("train-002").exists()

    finish(gameon_loop(killed, "--resume"))
    a, b = outcome(straight), outcome(killed)
    assert a["episodes"] == b["episodes"] == 6 + 2 * 6
    assert b["keys"] == a["keys"]  # no episode lost, none duplicated
    assert b["library"] == a["library"]
    assert b["evaluation"] == a["evaluation"]
    assert b["actions"] == a["actions"]
    resumed = [
        e
        for e in ev.EventLog(RunDir(killed).events_path).read()
        if isinstance(e, ev.StageStarted) and e.resumed
    ]
    assert [(e.round, e.stage) for e in resumed] == [(1, "collect"), (2, "train")]


def decisions(run_dir: Path) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for e in ev.EventLog(RunDir(run_dir).events_path).read():
        if isinstance(e, ev.TaskProposed):
            out.append(("task", e.round, e.task))
        elif isinstance(e, ev.TaskDecomposed):
            out.append(("steps", e.round, tuple(e.steps)))
        elif isinstance(e, ev.JudgeAgreement):
            out.append(("verdicts", e.round, tuple(v["verdict"] for v in e.verdicts)))
        elif isinstance(e, ev.ProgressAnalysed):
            out.append(("analysis", e.round, e.skill, e.verdict["learned"], e.verdict["converged"]))
    return out


def test_a_recorded_run_replays_to_the_same_decisions(tmp_path: Path) -> None:
    recorded = tmp_path / "recorded"
    exp = Experiment(recorded, override(RunConfig(), TINY))
    exp.run()
    exp.close()
    calls = RunDir(recorded).root / "calls.jsonl"
    replay_sets = [*TINY, "experimenter.backend=replay", f"experimenter.replay_log={calls}"]
    again = Experiment(tmp_path / "replayed", override(RunConfig(), replay_sets))
    again.run()
    again.close()
    assert decisions(tmp_path / "replayed") == decisions(recorded)
    backends = {
        e.backend
        for e in ev.EventLog(RunDir(tmp_path / "replayed").events_path).read()
        if isinstance(e, ev.TaskProposed)
    }
    assert backends == {"replay"}
