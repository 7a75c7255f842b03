"""Per-skill success of a policy from fresh seeded resets, many environments stepped in lockstep.

    >>> report = evaluate_skills(learner.act, ["lift the red block"], SimConfig(), episodes=50)
    >>> report["lift the red block"]          # {"success", "episodes", "successes", "ci95"}

Episodes are jobs on a pool of environments: each free environment takes the next (skill, seed),
and one batched policy call serves every running environment per control step. Evaluation seeds
come from their own stream, so they never coincide with the data's resets.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from gameon_nb.config import SimConfig
from gameon_nb.progress import progress_bar
from gameon_nb.sim.env import StackingEnv, make_env
from gameon_nb.skills.rates import wilson_interval
from gameon_nb.skills.results import GrowthEvidence, SeenEpisode, SkillResult
from gameon_nb.skills.skill import Skill

__all__ = [
    "BatchPolicy",
    "GrowthEvidence",
    "SeenEpisode",
    "SkillResult",
    "evaluate_skills",
    "merge_results",
    "wilson_interval",
]

BatchPolicy = Callable[[dict[str, npt.NDArray[Any]], list[str]], npt.NDArray[np.float32]]
"""Batched observations (a dict of stacked arrays) and skill texts -> (B, 5) actions."""

EVAL_SEED_BASE = 1_000_003
Frame = npt.NDArray[np.uint8]


@dataclass
class _Slot:
    env: StackingEnv
    skill: Skill | None = None
    seed: int = 0
    obs: dict[str, npt.NDArray[Any]] = field(default_factory=dict)
    steps: int = 0
    success: bool = False
    first_view: npt.NDArray[np.uint8] | None = None


def evaluate_skills(
    policy: BatchPolicy,
    skills: Sequence[str],
    sim: SimConfig,
    episodes: int = 50,
    envs: int = 10,
    seed: int = 0,
    stop_on_success: bool = True,
    progress: bool = False,
    first: int = 0,
    views: Collection[str] = (),
) -> dict[str, SkillResult]:
    """Success rate of each skill over `episodes` fresh resets; see the module docstring.

    With `stop_on_success` an episode succeeds as soon as the predicate holds (and ends there);
    otherwise it runs the skill's full duration and is judged on its last state. Resets are
    numbered: `first=10, episodes=10` runs resets 10-19, so an evaluation can be extended by
    the episodes it lacks (`merge_results` adds them up). For the skills in `views`, the result
    also holds "views": per episode in reset order, {"frames": [first, last] view frames (for a
    judge), "truth"}; pop it before writing the result as JSON.
    """
    parsed = [Skill.from_text(s) for s in skills]
    jobs = [(s, EVAL_SEED_BASE + seed * 7919 + first + i) for s in parsed for i in range(episodes)]
    jobs.reverse()
    outcomes: dict[str, list[bool]] = {s.text: [] for s in parsed}
    seen: dict[str, list[tuple[int, list[npt.NDArray[np.uint8]], bool]]] = {
        s.text: [] for s in parsed
    }
    slots = [_Slot(make_env(sim)) for _ in range(min(envs, len(jobs)))]
    bar = progress_bar(
        total=len(jobs), desc="evaluate", unit="ep", disable=not progress, leave=False
    )

    def start(slot: _Slot) -> None:
        slot.skill, slot.seed = jobs.pop()
        slot.obs, _ = slot.env.reset(seed=slot.seed)
        slot.steps, slot.success = 0, False
        slot.first_view = slot.env.render_view() if slot.skill.text in views else None

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
                    if slot.first_view is not None:
                        ends = [slot.first_view, slot.env.render_view()]
                        seen[slot.skill.text].append((slot.seed, ends, holds))
                    bar.update()
                    slot.skill = None
                    if jobs:
                        start(slot)
    finally:
        bar.close()
        for slot in slots:
            slot.env.close()
    report = {text: _result(sum(results), len(results)) for text, results in outcomes.items()}
    for text in (t for t in views if t in report):
        report[text]["views"] = [
            {"frames": ends, "truth": truth} for _, ends, truth in sorted(seen[text])
        ]
    return report


def _result(successes: int, episodes: int) -> SkillResult:
    ci95 = [round(v, 4) for v in wilson_interval(successes, episodes)]
    return SkillResult(
        success=successes / episodes, successes=successes, episodes=episodes, ci95=ci95
    )


def merge_results(a: SkillResult, b: SkillResult) -> SkillResult:
    """One skill's evaluation over the episodes of two (on different resets)."""
    merged = _result(a["successes"] + b["successes"], a["episodes"] + b["episodes"])
    if "views" in a or "views" in b:
        merged["views"] = [*a.get("views", []), *b.get("views", [])]
    return merged
