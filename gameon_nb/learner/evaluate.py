"""Per-skill success of a policy from fresh seeded resets, many environments stepped in lockstep.

    >>> report = evaluate_skills(learner.act, ["lift the red block"], SimConfig(), episodes=50)
    >>> report["lift the red block"]          # {"success", "episodes", "successes", "ci95"}

Episodes are jobs on a pool of environments: each free environment takes the next (skill, seed),
and one batched policy call serves every running environment per control step. Evaluation seeds
come from their own stream, so they never coincide with the data's resets.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from tqdm.auto import tqdm

from gameon_nb.config import SimConfig
from gameon_nb.sim.env import StackingEnv, make_env
from gameon_nb.skills.skill import Skill

__all__ = ["BatchPolicy", "evaluate_skills", "wilson_interval"]

BatchPolicy = Callable[[dict[str, npt.NDArray[Any]], list[str]], npt.NDArray[np.float32]]
"""Batched observations (a dict of stacked arrays) and skill texts -> (B, 5) actions."""

EVAL_SEED_BASE = 1_000_003


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a success rate."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class _Slot:
    env: StackingEnv
    skill: Skill | None = None
    obs: dict[str, npt.NDArray[Any]] = field(default_factory=dict)
    steps: int = 0
    success: bool = False


def evaluate_skills(
    policy: BatchPolicy,
    skills: Sequence[str],
    sim: SimConfig,
    episodes: int = 50,
    envs: int = 10,
    seed: int = 0,
    stop_on_success: bool = True,
    progress: bool = False,
) -> dict[str, dict[str, Any]]:
    """Success rate of each skill over `episodes` fresh resets; see the module docstring.

    With `stop_on_success` an episode succeeds as soon as the predicate holds (and ends there);
    otherwise it runs the skill's full duration and is judged on its last state.
    """
    parsed = [Skill.from_text(s) for s in skills]
    jobs = [(s, EVAL_SEED_BASE + seed * 7919 + i) for s in parsed for i in range(episodes)]
    jobs.reverse()
    outcomes: dict[str, list[bool]] = {s.text: [] for s in parsed}
    slots = [_Slot(make_env(sim)) for _ in range(min(envs, len(jobs)))]
    bar = tqdm(total=len(jobs), desc="evaluate", unit="ep", disable=not progress, leave=False)

    def start(slot: _Slot) -> None:
        slot.skill, job_seed = jobs.pop()
        slot.obs, _ = slot.env.reset(seed=job_seed)
        slot.steps, slot.success = 0, False

    for slot in slots:
        start(slot)
    try:
        while any(slot.skill is not None for slot in slots):
            running = [slot for slot in slots if slot.skill is not None]
            batch = {k: np.stack([s.obs[k] for s in running]) for k in running[0].obs}
            actions = policy(batch, [s.skill.text for s in running])  # type: ignore[union-attr]
            for slot, action in zip(running, actions, strict=True):
                assert slot.skill is not None
                slot.obs, *_ = slot.env.step(action)
                slot.steps += 1
                holds = bool(slot.skill.success(slot.env.scene_state()))
                last = slot.steps >= slot.skill.duration
                if (stop_on_success and holds) or last:
                    outcomes[slot.skill.text].append(holds)
                    bar.update()
                    slot.skill = None
                    if jobs:
                        start(slot)
    finally:
        bar.close()
        for slot in slots:
            slot.env.close()
    report = {}
    for text, results in outcomes.items():
        wins = sum(results)
        report[text] = {
            "success": wins / len(results),
            "successes": wins,
            "episodes": len(results),
            "ci95": [round(v, 4) for v in wilson_interval(wins, len(results))],
        }
    return report
