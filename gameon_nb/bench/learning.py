"""The learning figure: bootstrap data, a wall-time budget of training, then every base skill.

    >>> report = measure_learning(minutes=15, episodes=1000)    # `gameon bench learning --json`
    >>> report["mean_base_success"], report["train"]["updates"]

The question: how far does the default state-based learner get on the base skills within a
fixed wall time on this machine, from `gameon bootstrap` data alone (no loop)? The three steps
are what a user would run (`gameon bootstrap`, `gameon train --minutes`, `gameon eval`), in one
run directory (a temporary one unless `run_dir` is given; an existing store there is reused).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from gameon_nb.config import RunConfig, override
from gameon_nb.data.bootstrap import bootstrap
from gameon_nb.data.dataset import TransitionData
from gameon_nb.learner.evaluate import evaluate_skills
from gameon_nb.learner.trainer import Learner
from gameon_nb.records import JsonObject, to_json
from gameon_nb.run.dir import RunDir
from gameon_nb.skills.skill import all_skills

__all__ = ["measure_learning"]

DATA = ["data.policy_frames=false", "data.view_frames=false"]
"""The learning figure needs no frames: state observations only, as the default learner."""


def measure_learning(
    minutes: float = 15.0,
    episodes: int = 1000,
    eval_episodes: int = 50,
    run_dir: Path | str | None = None,
    seed: int = 0,
    assignments: list[str] | None = None,
    progress: bool = False,
) -> JsonObject:
    """Bootstrap `episodes`, train for `minutes`, evaluate every base skill; see the docstring."""
    with tempfile.TemporaryDirectory(prefix="gameon-learning-") as scratch:
        root = Path(run_dir) if run_dir is not None else Path(scratch)
        sets = [*DATA, f"bootstrap.episodes={episodes}", f"seed={seed}", *(assignments or [])]
        config = override(RunConfig(), sets)
        run = RunDir(root)
        root.mkdir(parents=True, exist_ok=True)
        run.save_config(config)
        boot = bootstrap(root, config, progress=progress)
        skills = [s.text for s in all_skills()]
        data = TransitionData.from_store(run.store(), skills)
        learner = Learner(config.learner, config.seed)
        learner.set_data(data)
        started = time.perf_counter()
        rows = learner.fit(10**9, progress=progress, seconds=60 * minutes)
        seconds = time.perf_counter() - started
        learner.save(run.checkpoint("latest"))
        base = [s.text for s in all_skills() if s.kind == "base"]
        started = time.perf_counter()
        results = evaluate_skills(
            learner.policy(seed=seed), base, config.sim, episodes=eval_episodes,
            envs=config.learner.eval_envs, seed=seed,
            stop_on_success=config.learner.eval_stop_on_success, progress=progress,
        )  # fmt: skip
        eval_seconds = time.perf_counter() - started
    rates = [r["success"] for r in results.values()]
    return {
        "question": (
            f"how far the default state-based learner gets on the base skills in {minutes:g} "
            f"minutes of training on this machine, from {episodes} bootstrap episodes"
        ),
        "config": {
            "seed": seed,
            "assignments": list(assignments or []),
            "act_mode": config.learner.act_mode,
            "hidden": config.learner.hidden,
        },
        "bootstrap": {
            "episodes": boot["episodes"],
            "seconds": boot["seconds"],
            "steps": boot["steps"],
            "steps_per_s": boot["steps_per_s"],
        },
        "train": {
            "updates": learner.step,
            "seconds": round(seconds, 1),
            "updates_per_s": round(learner.step / seconds, 1),
            "rows": data.rows,
            "device": str(learner.device),
            "last": {k: round(v, 4) for k, v in rows[-1].items()} if rows else {},
        },
        "eval": {"episodes": eval_episodes, "seconds": round(eval_seconds, 1)},
        "results": to_json(results),
        "mean_base_success": round(float(np.mean(rates)), 4),
        "min_base_success": min(rates),
    }
