"""Read-outs side by side: one checkpoint, every way of reading an action off it, the same resets.

    >>> report = measure_readouts("runs/demo", episodes=50)     # `gameon bench readouts --json`
    >>> report["table"]["critic"]["stack the red block on the blue block"]   # {"success", "ci95"}

Each read-out of `gameon_nb.learner.readout` drives the run's latest policy (or a named
checkpoint) on the same seeded resets of each skill, base and composite, so the differences are
the read-out's alone. `best` names the read-out of highest mean success over the skills.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TypedDict

import numpy as np

from gameon_nb.learner.evaluate import evaluate_skills
from gameon_nb.learner.readout import READOUTS
from gameon_nb.learner.trainer import Learner
from gameon_nb.records import JsonObject, to_json
from gameon_nb.run.dir import RunDir
from gameon_nb.skills.skill import Skill

__all__ = ["DEFAULT_SKILLS", "measure_readouts"]

DEFAULT_SKILLS = (
    "open the gripper",
    "grasp the blue block",
    "lift the red block",
    "hold the red block above the blue block",
    "hold the green block above the red block",
    "stack the red block on the blue block",
    "stack the green block on the red block",
    "stack the blue block on the green block",
    "put the red block next to the blue block",
)


class Cell(TypedDict):
    """One read-out on one skill."""

    success: float
    ci95: list[float]


def measure_readouts(
    run_dir: Path | str,
    skills: tuple[str, ...] | list[str] = DEFAULT_SKILLS,
    modes: tuple[str, ...] | list[str] = READOUTS,
    episodes: int = 50,
    checkpoint: str = "latest",
    progress: bool = False,
) -> JsonObject:
    """Success of each read-out on each skill; see the module docstring."""
    run = RunDir(run_dir)
    path = run.checkpoint(checkpoint)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint {path}: train the run first (gameon train/demo)")
    unknown = [m for m in modes if m not in READOUTS]
    if unknown:
        raise ValueError(f"unknown read-out(s) {unknown}; known: {list(READOUTS)}")
    config = run.load_config()
    learner = Learner.load(path, config.learner)
    table: dict[str, dict[str, Cell]] = {}
    seconds: dict[str, float] = {}
    for mode in modes:
        started = time.perf_counter()
        results = evaluate_skills(
            learner.policy(mode, seed=config.seed), list(skills), config.sim, episodes=episodes,
            envs=config.learner.eval_envs, seed=config.seed,
            stop_on_success=config.learner.eval_stop_on_success, progress=progress,
        )  # fmt: skip
        seconds[mode] = round(time.perf_counter() - started, 1)
        table[mode] = {s: Cell(success=r["success"], ci95=r["ci95"]) for s, r in results.items()}

    def mean(mode: str, kind: str | None = None) -> float:
        rates = [
            r["success"]
            for s, r in table[mode].items()
            if kind is None or Skill.from_text(s).kind == kind
        ]
        return round(float(np.mean(rates)), 4) if rates else float("nan")

    summary = {
        m: {"all": mean(m), "base": mean(m, "base"), "composite": mean(m, "composite")}
        for m in modes
    }
    return {
        "run_dir": str(run.root),
        "checkpoint": str(path),
        "learner_step": learner.step,
        "episodes": episodes,
        "modes": list(modes),
        "skills": list(skills),
        "table": to_json(table),
        "mean_success": summary,
        "best": max(modes, key=lambda m: summary[m]["all"]),
        "seconds": seconds,
    }
