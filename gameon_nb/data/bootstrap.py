"""The bootstrap data set: scripted controllers running short random chains of base skills.

    >>> stats = bootstrap(run_dir, RunConfig())      # what `gameon bootstrap` runs
    >>> stats["episodes"], stats["steps_per_s"]

This is the paper's "existing skill set": demonstrations of the base skills from fresh resets,
with Gaussian action noise, and with some executions sabotaged (random actions, or giving up
half-way with the gripper open) so the data holds failures as well as successes. Episode `i`
depends only on (seed, i), and episodes are written in order, whatever the number of workers.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TypedDict

import numpy as np

from gameon_nb.config import RunConfig, SimConfig
from gameon_nb.data.episode import Episode
from gameon_nb.data.recorder import Actor, record_episode
from gameon_nb.data.store import EpisodeStore
from gameon_nb.progress import progress_bar
from gameon_nb.run.dir import RunDir
from gameon_nb.sim.controllers import scripted_controller
from gameon_nb.sim.env import Obs, StackingEnv, make_env
from gameon_nb.sim.scene import SceneState
from gameon_nb.skills.skill import Skill, all_skills
from gameon_nb.streams import BOOTSTRAP_EPISODE, stream

__all__ = [
    "BootstrapStats",
    "bootstrap",
    "bootstrap_episode",
    "composite_successes",
    "first_composite",
]

_ENV: tuple[SimConfig, StackingEnv] | None = None
"""This process's env and the config it was made with (a worker makes it once)."""
COMPOSITES = [s for s in all_skills() if s.kind == "composite"]


def _episode_rng(seed: int, index: int) -> np.random.Generator:
    return stream(seed, index, BOOTSTRAP_EPISODE)


def _noisy_scripted(skill: Skill, rng: np.random.Generator, cfg: RunConfig) -> Actor:
    """The skill's scripted controller with noise, sabotaged with chance `failure_rate`."""
    controller = scripted_controller(skill.template, skill.colours, cfg.sim)
    noise = cfg.bootstrap.noise
    failure = (
        rng.choice(["none", "random", "give_up"])
        if rng.random() < cfg.bootstrap.failure_rate
        else "none"
    )
    drift = rng.uniform(-1, 1, 5)
    steps = 0

    def act(obs: Obs, state: SceneState) -> np.ndarray:
        nonlocal steps, drift
        steps += 1
        if failure == "random":
            drift = np.clip(0.8 * drift + 0.4 * rng.normal(size=5), -1, 1)
            return drift
        if failure == "give_up" and steps > skill.duration // 2:
            return np.array([0, 0, 0.3, 0, -1.0])
        return controller(state) + noise * rng.normal(size=5)

    return act


def first_composite(states: SceneState) -> int | None:
    """The first state index at which some composite skill's predicate holds, if any."""
    holds = np.zeros(states.batch_shape, dtype=bool)
    for skill in COMPOSITES:
        holds |= skill.success(states)
    where = np.flatnonzero(holds)
    return int(where[0]) if len(where) else None


def bootstrap_episode(env: StackingEnv, cfg: RunConfig, index: int) -> Episode:
    """Episode `index` of the bootstrap data set of `cfg` (see BootstrapConfig.composites)."""

    def record(max_steps: int | None = None) -> Episode:
        rng = _episode_rng(cfg.seed, index)
        base = [s for s in all_skills() if s.kind == "base"]
        length = rng.integers(1, cfg.bootstrap.max_chain + 1)
        chain = [base[k] for k in rng.integers(len(base), size=length)]
        return record_episode(
            env, chain, lambda skill: _noisy_scripted(skill, rng, cfg),
            seed=int(rng.integers(2**31)), data=cfg.data, task="; ".join(s.text for s in chain),
            round=0, source="scripted", max_steps=max_steps,
        )  # fmt: skip

    episode = record()
    if cfg.bootstrap.composites == "exclude":
        first = first_composite(episode.states)
        if first is not None:  # the same episode again, cut before the action that made it
            episode = record(max_steps=max(first - 1, 0))
    return episode


def composite_successes(store: EpisodeStore, round: int = 0) -> dict[str, int]:
    """Episodes of `round` (0: the bootstrap data) in which each composite skill came true."""
    counts = dict.fromkeys((s.text for s in COMPOSITES), 0)
    for episode_id in store.ids():
        if store.meta(episode_id)["round"] != round:
            continue
        states = store.load(episode_id, frames=False).states
        for skill in COMPOSITES:
            counts[skill.text] += bool(skill.success(states).any())
    return counts


def _worker_episode(args: tuple[RunConfig, int]) -> Episode:
    global _ENV
    cfg, index = args
    if _ENV is None or _ENV[0] != cfg.sim:  # another config in this process: another env
        if _ENV is not None:
            _ENV[1].close()
        _ENV = (cfg.sim, make_env(cfg.sim))
    return bootstrap_episode(_ENV[1], cfg, index)


def _episodes(cfg: RunConfig, start: int, count: int) -> Iterator[Episode]:
    jobs = [(cfg, start + i) for i in range(count)]
    if cfg.bootstrap.workers <= 1:
        yield from map(_worker_episode, jobs)
        return
    # spawn, not fork: a forked child inherits the parent's GL and thread state and can hang
    # (seen under pytest and in Jupyter kernels, which run threads of their own)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(cfg.bootstrap.workers, mp_context=context) as pool:
        yield from pool.map(_worker_episode, jobs, chunksize=4)


class BootstrapStats(TypedDict):
    """What `bootstrap` wrote and how fast (the setup stage's summary shows it)."""

    episodes: int
    """Episodes in the store after it."""
    written: int
    steps: int
    seconds: float
    steps_per_s: float
    episodes_per_s: float
    segment_success: float | None
    """Share of the scripted skill segments that succeeded."""
    composites: str
    composite_successes: dict[str, int]


def bootstrap(run_dir: Path, cfg: RunConfig, progress: bool = True) -> BootstrapStats:
    """Append `cfg.bootstrap.episodes` episodes to the run's store; returns throughput stats.

    Resumable: episodes already in the store count, so a killed bootstrap continues where it was.
    """
    store = RunDir(run_dir).store()
    store.remove_stale_temporaries()
    have = len(store)
    todo = max(cfg.bootstrap.episodes - have, 0)
    start, steps, successes, segments = time.perf_counter(), 0, 0, 0
    bar = progress_bar(total=todo, desc="bootstrap", unit="ep", disable=not progress)
    for episode in _episodes(cfg, have, todo):
        store.append(episode)
        steps += episode.steps
        outcome = episode.segment_success()
        successes, segments = successes + sum(outcome), segments + len(outcome)
        bar.update()
    bar.close()
    seconds = time.perf_counter() - start
    return BootstrapStats(
        episodes=len(store), written=todo, steps=steps, seconds=round(seconds, 2),
        steps_per_s=round(steps / seconds, 1) if seconds > 0 else 0.0,
        episodes_per_s=round(todo / seconds, 2) if seconds > 0 else 0.0,
        segment_success=round(successes / segments, 3) if segments else None,
        composites=cfg.bootstrap.composites, composite_successes=composite_successes(store),
    )  # fmt: skip
