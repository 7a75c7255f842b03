"""Collection: the policy executes a task's skill sequence on several environments in lockstep.

    >>> jobs = [CollectJob(index=j, seed=..., task=task, skills=plan) for j in range(16)]
    >>> policy_for = lambda wave: learner.policy(seed=wave)      # a random stream per wave
    >>> for episode in collect(policy_for, jobs, config, round=3): store.append(episode)

Each skill is conditioned on its own text; one batched policy call per control step serves every
running environment, and Gaussian exploration noise from each job's own random stream is added.
Jobs run in fixed waves of `LoopConfig.envs`, each with a policy of its own random stream, so a
wave run again after a crash batches exactly as before and reproduces the same episodes; episodes
come back in job order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from gameon_nb.config import RunConfig
from gameon_nb.data.episode import Episode
from gameon_nb.data.recorder import EpisodeRecorder
from gameon_nb.learner.evaluate import BatchPolicy
from gameon_nb.progress import progress_bar
from gameon_nb.sim.env import StackingEnv, make_env
from gameon_nb.skills.skill import Skill
from gameon_nb.streams import COLLECT_NOISE, stream

__all__ = ["CollectJob", "collect", "run_wave", "waves"]


@dataclass(frozen=True)
class CollectJob:
    """One episode to collect: reset seed, task text and the skills to execute in order."""

    index: int
    seed: int
    task: str
    skills: tuple[Skill, ...]
    task_skill: str | None = None
    """The skill the task names, whose predicate is the task's outcome (see Episode)."""


def waves(jobs: Sequence[CollectJob], size: int) -> list[list[CollectJob]]:
    """Jobs grouped by `index // size`: the batching a wave always has, whatever is left to do."""
    grouped: dict[int, list[CollectJob]] = {}
    for job in jobs:
        grouped.setdefault(job.index // size, []).append(job)
    return [grouped[k] for k in sorted(grouped)]


def run_wave(
    policy: BatchPolicy,
    wave: list[CollectJob],
    envs: list[StackingEnv],
    config: RunConfig,
    round: int,
    source: str,
) -> list[Episode]:
    """One wave of jobs on `envs` in lockstep, acting with `policy`: its episodes in job order."""
    loop = config.loop
    recorders, cursors, noises = [], [], []
    for job, env in zip(wave, envs, strict=False):
        obs, _ = env.reset(seed=job.seed)
        recorder = EpisodeRecorder(
            env, obs, config.data, task=job.task, seed=job.seed, round=round, source=source,
            job=job.index, task_skill=job.task_skill,
        )  # fmt: skip
        recorder.begin(job.skills[0])
        recorders.append(recorder)
        cursors.append(0)
        noises.append(stream(config.seed, round, job.index, COLLECT_NOISE))
    running = list(range(len(wave)))
    while running:
        batch = {
            k: np.stack([recorders[i].obs[k] for i in running]) for k in ("proprio", "objects")
        }
        pixel_keys = [k for k in recorders[running[0]].obs if k not in batch]
        batch |= {k: np.stack([recorders[i].obs[k] for i in running]) for k in pixel_keys}
        texts = [wave[i].skills[cursors[i]].text for i in running]
        actions = policy(batch, texts)
        still = []
        for i, action in zip(running, actions, strict=True):
            noisy = action + loop.exploration_noise * noises[i].normal(size=action.shape)
            noisy = np.clip(noisy, -1.0, 1.0).astype(np.float32)
            obs, *_ = recorders[i].env.step(noisy)
            recorders[i].record(noisy, obs)
            if recorders[i].skill_done(loop.stop_on_success):
                recorders[i].end()
                cursors[i] += 1
                if cursors[i] == len(wave[i].skills):
                    continue
                recorders[i].begin(wave[i].skills[cursors[i]])
            still.append(i)
        running = still
    return [r.episode() for r in recorders]


def collect(
    policy_for: Callable[[int], BatchPolicy],
    jobs: Sequence[CollectJob],
    config: RunConfig,
    round: int,
    source: str = "policy",
    progress: bool = False,
) -> Iterator[Episode]:
    """Run `jobs` wave by wave, wave `w` acting with `policy_for(w)` (see the module docstring),
    and yield their episodes in job order."""
    if not jobs:
        return
    envs = [make_env(config.sim) for _ in range(min(config.loop.envs, len(jobs)))]
    bar = progress_bar(
        total=len(jobs), desc="collect", unit="ep", disable=not progress, leave=False
    )
    try:
        for wave in waves(jobs, config.loop.envs):
            policy = policy_for(wave[0].index // config.loop.envs)
            for episode in run_wave(policy, wave, envs, config, round, source):
                bar.update()
                yield episode
    finally:
        bar.close()
        for env in envs:
            env.close()
