"""Comparisons and sweeps with their runs as Ray tasks, on a local Ray of this machine's cores:
the same table as the serial path, a failing run reported by name while the others finish, and
a killed driver's comparison resumed without recomputing the runs that finished."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gameon_nb.loop import TINY
from gameon_nb.loop.compare import compare_curricula

pytest.importorskip("ray")
pytestmark = pytest.mark.slow

SETS = [*TINY, "loop.rounds=1"]


def gameon(*args: str) -> list[str]:
    return [sys.executable, "-m", "gameon_nb.cli", *args, *(a for s in SETS for a in ("--set", s))]


def test_ray_gives_the_same_table_as_the_serial_path(tmp_path: Path) -> None:
    serial = compare_curricula(tmp_path / "serial", ["random", "target"], [0], SETS)
    on_ray = compare_curricula(tmp_path / "ray", ["random", "target"], [0], SETS, executor="ray")
    assert on_ray == serial
    assert [r["run"] for r in on_ray["rows"]] == ["random-seed0", "target-seed0"]
    assert on_ray["failed"] == []


def test_a_failing_run_is_named_and_the_others_finish(tmp_path: Path) -> None:
    broken = tmp_path / "random-seed0"
    broken.mkdir(parents=True)
    (broken / "state.json").write_text("{not json")
    args = ["compare", "--run-dir", str(tmp_path), "--curricula", "random,target", "--seeds", "0"]
    out = subprocess.run(
        gameon(*args, "--executor", "ray", "--json"), capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 1, out.stderr[-3000:]
    table = json.loads(out.stdout)
    assert [r["run"] for r in table["rows"]] == ["target-seed0"]
    assert [f["run"] for f in table["failed"]] == ["random-seed0"]
    assert "random-seed0 failed: FileNotFoundError" in out.stderr
    assert "holds no run to resume" in out.stderr
    assert (broken / "state.json").read_text() == "{not json"  # nothing of it was overwritten


def test_a_killed_driver_resumes_only_the_unfinished_runs(tmp_path: Path) -> None:
    args = [
        "sweep", "--run-dir", str(tmp_path), "--curriculum", "target", "--grid", "seed=0",
        "--grid", "loop.rounds=1,3", "--executor", "ray", "--json",
    ]  # fmt: skip
    short, long = tmp_path / "target-rounds=1-seed0", tmp_path / "target-rounds=3-seed0"
    driver = subprocess.Popen(gameon(*args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 600
    while not (short / "compare-row.json").exists():
        assert driver.poll() is None, driver.stderr.read().decode()[-3000:]  # type: ignore[union-attr]
        assert time.monotonic() < deadline
        time.sleep(0.2)
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait()
    assert not (long / "compare-row.json").exists(), "the longer run must still be unfinished"
    finished = {p: p.stat().st_mtime_ns for p in short.rglob("*") if p.is_file()}

    again = subprocess.run(gameon(*args), capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    table = json.loads(again.stdout)
    assert [r["run"] for r in table["rows"]] == [short.name, long.name]
    assert [r["updates"] for r in table["rows"]] == [40, 80]  # pretraining + 1 or 3 rounds of 20
    assert {p: p.stat().st_mtime_ns for p in short.rglob("*") if p.is_file()} == finished
