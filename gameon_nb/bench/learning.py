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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from gameon_nb.config import RunConfig, override
from gameon_nb.data.bootstrap import BootstrapStats, bootstrap
from gameon_nb.data.dataset import TransitionData
from gameon_nb.learner.evaluate import evaluate_skills
from gameon_nb.learner.trainer import Learner
from gameon_nb.records import JsonObject, to_json
from gameon_nb.run.dir import RunDir
from gameon_nb.skills.results import SkillResult
from gameon_nb.skills.skill import all_skills

__all__ = ["base_success", "bootstrap_data", "measure_learning"]

DATA = ["data.policy_frames=false", "data.view_frames=false"]
"""The learning figures need no frames: state observations only, as the default learner."""
BASE = [s.text for s in all_skills() if s.kind == "base"]


@contextmanager
def bootstrap_data(
    episodes: int,
    seed: int,
    assignments: list[str] | None,
    run_dir: Path | str | None,
    progress: bool,
    prefix: str = "gameon-learning-",
) -> Iterator[tuple[RunDir, RunConfig, BootstrapStats, TransitionData]]:
    """The run, config, bootstrap figures and training data of `episodes` bootstrap episodes
    (state only), written in `run_dir` (reused if it holds a store) or a temporary directory.

    >>> with bootstrap_data(1000, 0, [], None, False) as (run, config, boot, data): ...
    """
    with tempfile.TemporaryDirectory(prefix=prefix) as scratch:
        root = Path(run_dir) if run_dir is not None else Path(scratch)
        sets = [*DATA, f"bootstrap.episodes={episodes}", f"seed={seed}", *(assignments or [])]
        config = override(RunConfig(), sets)
        run = RunDir(root)
        root.mkdir(parents=True, exist_ok=True)
        run.save_config(config)
        boot = bootstrap(root, config, progress=progress)
        yield (
            run,
            config,
            boot,
            TransitionData.from_store(run.store(), [s.text for s in all_skills()]),
        )


def base_success(
    learner: Learner, config: RunConfig, episodes: int, seed: int, progress: bool = False
) -> dict[str, SkillResult]:
    """Every base skill evaluated on `episodes` seeded resets by the learner's policy."""
    cfg = config.learner
    return evaluate_skills(
        learner.policy(seed=seed), BASE, config.sim, episodes=episodes, envs=cfg.eval_envs,
        seed=seed, stop_on_success=cfg.eval_stop_on_success, progress=progress,
    )  # fmt: skip


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
    prepared = bootstrap_data(episodes, seed, assignments, run_dir, progress)
    with prepared as (run, config, boot, data):
        learner = Learner(config.learner, config.seed)
        learner.set_data(data)
        started = time.perf_counter()
        rows = learner.fit(10**9, progress=progress, seconds=60 * minutes)
        seconds = time.perf_counter() - started
        learner.save(run.checkpoint("latest"))
        started = time.perf_counter()
        results = base_success(learner, config, eval_episodes, seed, progress)
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
