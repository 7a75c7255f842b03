"""Run one `gameon bench NAME --json` (or another gameon command) and save its report as
benchmarks/results/NAME-DATE.json.

    $ .venv/bin/python benchmarks/sim.py               # each benchmark's script calls run_and_save
    >>> run_and_save("learner", ["--budget-seconds", "120"])   # -> the path written

The saved file is the report as printed, plus a "meta" entry: the command, when it finished,
the git revision, the machine and its load average before and after, so that a result can be
traced back to what produced it and to how busy the cores were.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _git_revision() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or "unknown"


def run_and_save(
    name: str, options: list[str], gameon: list[str] | None = None, tag: str = ""
) -> Path:
    """Run `gameon bench NAME --json OPTIONS` (or `gameon GAMEON... --json OPTIONS`) with this
    interpreter; write and return the file (NAME-TAG-DATE.json when a `tag` is given)."""
    gameon = gameon or ["bench", name]
    command = [sys.executable, "-m", "gameon_nb.cli", *gameon, "--json", *options]
    # other work on a shared machine slows every side: the load is part of the record
    load_before = os.getloadavg()[0]
    # stderr passes through, so progress and errors show as the benchmark runs
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode:
        sys.exit(f"`{' '.join(command)}` failed with exit code {done.returncode}")
    report = json.loads(done.stdout)
    now = datetime.datetime.now(datetime.UTC)
    report["meta"] = {
        "command": f"gameon {' '.join(gameon)} --json {' '.join(options)}".strip(),
        "date": now.isoformat(timespec="seconds"),
        "git_revision": _git_revision(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
        "load_average_1m": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
        "python": platform.python_version(),
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}{'-' + tag if tag else ''}-{now:%Y-%m-%d}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(path)
    return path
