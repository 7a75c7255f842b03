"""One writer per run directory: a second one fails at once, naming the holder; a kill frees it."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gameon_nb.config import RunConfig, override
from gameon_nb.loop import TINY, Experiment, RunDir
from gameon_nb.run.dir import RunLock, RunLockedError

HOLDER = """
import sys, time
from gameon_nb.config import RunConfig, override
from gameon_nb.loop import TINY, Experiment
exp = Experiment(sys.argv[1], override(RunConfig(), TINY))
print("holding", flush=True)
time.sleep(600)
"""


def _files(root: Path) -> dict[str, tuple[int, str]]:
    """Every file under `root`: (mtime in ns, content hash)."""
    return {
        str(p.relative_to(root)): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def held(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    """A run directory whose lock another process holds (an Experiment opened, then asleep)."""
    run_dir = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(run_dir)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "holding"
    yield run_dir, holder
    holder.kill()
    holder.wait()


def test_a_second_writer_fails_at_once_naming_the_holder_and_changes_nothing(
    held: tuple[Path, subprocess.Popen[str]],
) -> None:
    run_dir, holder = held
    before = _files(run_dir)
    with pytest.raises(RunLockedError, match=rf"in use by process {holder.pid} \(python -c"):
        Experiment(run_dir, override(RunConfig(), TINY))
    with pytest.raises(RunLockedError, match=str(holder.pid)):
        Experiment.resume(run_dir)
    gameon = Path(sys.executable).with_name("gameon")
    for command in (
        ["loop", "--run-dir", str(run_dir), "--resume", "--set", "loop.rounds=3"],
        ["train", "--run-dir", str(run_dir), "--steps", "5"],
        ["bootstrap", "--run-dir", str(run_dir), "--episodes", "2"],
    ):
        done = subprocess.run([str(gameon), *command], capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, done.stderr
        assert f"in use by process {holder.pid}" in done.stderr
    assert _files(run_dir) == before
    # reading needs no lock
    status = subprocess.run(
        [str(gameon), "status", "--run-dir", str(run_dir), "--json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert status.returncode == 0, status.stderr
    assert _files(run_dir) == before


def test_the_lock_is_free_once_its_holder_is_killed(
    held: tuple[Path, subprocess.Popen[str]],
) -> None:
    run_dir, holder = held
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    exp = Experiment.resume(run_dir)  # no error: the OS let go of the dead holder's lock
    assert RunLock(run_dir).holder()["pid"] == os.getpid()  # type: ignore[index]
    exp.close()
    assert RunLock(run_dir).holder() is None


def test_one_process_may_open_a_run_twice_and_holds_it_until_the_last_close(
    tmp_path: Path,
) -> None:
    run_dir = tmp_path / "run"
    first = Experiment(run_dir, override(RunConfig(), TINY))
    second = Experiment.resume(run_dir)
    first.close()
    code = f"from gameon_nb.loop import RunDir; RunDir({str(run_dir)!r}).lock()"
    probe = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert probe.returncode != 0
    assert "RunLockedError" in probe.stderr
    second.close()
    assert subprocess.run([sys.executable, "-c", probe.args[-1]]).returncode == 0
    assert RunDir(run_dir).config_path.exists()
