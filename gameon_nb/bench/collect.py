"""Collection throughput in one run: in this process, on one Ray collector, and on two.

    >>> report = measure_collect(episodes=64)      # `gameon bench collect --json`
    >>> report["ray1_overhead_ratio"]              # in-process rate / one collector's; goal <= 1.15

Every side collects the same jobs the way the loop does (`collect`, or a `CollectorPool`'s
`collect` with the weights shipped once): the demo preset's config, one task of five base skills
(250 control steps an episode), a freshly initialised policy, waves of `loop.envs`. Each side is
warmed up with one untimed wave; actors are started before the clock (`ray_start_s` says how
long that took). Trials go round the sides in turn and the best of each is kept, so a busy
neighbour hurts all sides alike. The driver's time to store an episode is measured too: on a
cluster it bounds what any number of collectors can deliver (see `projected`).
"""

from __future__ import annotations

import math
import os
import pickle
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import torch

from gameon_nb.config import RunConfig, override
from gameon_nb.data.episode import Episode
from gameon_nb.data.store import EpisodeStore
from gameon_nb.executors import ray_session
from gameon_nb.learner.trainer import Learner
from gameon_nb.loop.collect import CollectJob, collect
from gameon_nb.loop.collectors import CollectorPool, acting_weights
from gameon_nb.loop.presets import DEMO
from gameon_nb.progress import progress_bar
from gameon_nb.records import Json, JsonObject
from gameon_nb.skills.skill import Skill
from gameon_nb.streams import COLLECT_ACT, COLLECT_SEEDS, stream, stream_seed

__all__ = ["STEPS", "TASK", "measure_collect", "project"]

TASK = "stack the red block on the blue block"
STEPS = (
    "move above the red block",
    "grasp the red block",
    "lift the red block",
    "hold the red block above the blue block",
    "open the gripper",
)
"""The task's base skills, as the scripted experimenter decomposes it."""
CLUSTER = (1, 2, 4, 8, 16, 32, 64)
"""Collector counts of the projection."""
THREADS = 1
"""Torch threads of the driver and so of every actor: two per process oversubscribe a 2-core
machine, and OpenMP's spinning then made acting ten times slower under load (7.1 s against
0.67 s for one wave's 250 batched policy calls, at a load of 3)."""


def _jobs(config: RunConfig, episodes: int) -> list[CollectJob]:
    plan = tuple(Skill.from_text(t) for t in STEPS)
    seeds = stream(config.seed, 1, COLLECT_SEEDS).integers(2**31, size=episodes)
    return [CollectJob(j, int(s), TASK, plan) for j, s in enumerate(seeds)]


def _timed(episodes: Iterable[Episode]) -> tuple[float, list[np.ndarray]]:
    """Seconds to draw every episode, and copies of their actions (an array from Ray would pin
    its whole wave in the object store)."""
    started = time.perf_counter()
    actions = [episode.actions.copy() for episode in episodes]
    return time.perf_counter() - started, actions


def project(
    per_collector: float, store_s: float, episodes: int, envs: int, counts: Iterable[int] = CLUSTER
) -> list[JsonObject]:
    """Episodes/s of rounds of `episodes` on N collectors of a cluster, a core each, and what
    bounds it: a wave of `envs` is the unit of work, so a round takes ceil(waves / N) wave-times
    ('waves' once N > waves), and the driver, which stores every episode, takes at most
    1 / `store_s` episodes a second ('driver'); else it is N x `per_collector` ('collectors')."""
    waves = math.ceil(episodes / envs)
    rows: list[JsonObject] = []
    for n in counts:
        busy = waves / math.ceil(waves / n)  # collectors at work on average over a round
        rate, bound = busy * per_collector, "collectors" if busy == n else "waves"
        if rate > 1 / store_s:
            rate, bound = 1 / store_s, "driver"
        rows.append({"collectors": n, "eps_per_s": round(rate, 2), "bound": bound})
    return rows


def measure_collect(
    episodes: int = 64,
    progress: bool = False,
    trials: int = 2,
    sets: list[str] | None = None,
    threads: int = THREADS,
) -> JsonObject:
    """Measure collection throughput; returns the JSON report of `gameon bench collect`.

    `sets` override the config (default: the demo preset), e.g. the tiny preset in tests."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _measure(episodes, progress, trials, sets)
    finally:
        torch.set_num_threads(before)


def _measure(episodes: int, progress: bool, trials: int, sets: list[str] | None) -> JsonObject:
    config = override(RunConfig(), DEMO if sets is None else sets)
    learner = Learner(config.learner, config.seed, tuple(config.sim.cameras))
    jobs = _jobs(config, episodes)
    warm = jobs[: config.loop.envs]

    def seed_for(wave: int) -> int:
        return stream_seed(config.seed, 1, wave, COLLECT_ACT)

    def here(jobs: list[CollectJob]) -> Iterable[Episode]:
        return collect(lambda w: learner.policy(seed=seed_for(w)), jobs, config, round=1)

    def on(pool: CollectorPool) -> Callable[[list[CollectJob]], Iterable[Episode]]:
        return lambda jobs: pool.collect(learner, seed_for, jobs, config, round=1)

    seconds: dict[str, float] = {}
    actions: dict[str, list[np.ndarray]] = {}
    start_s: list[float] = []

    bar = progress_bar(total=3 * trials, desc="collect bench", unit="side", disable=not progress)

    def record(side: str, run: Callable[[list[CollectJob]], Iterable[Episode]]) -> None:
        _timed(run(warm))
        took, actions[side] = _timed(run(jobs))
        seconds[side] = min(took, seconds.get(side, math.inf))
        bar.update()

    with bar, ray_session() as ray:
        for _ in range(trials):
            record("inprocess", here)
            for count in (1, 2):
                started = time.perf_counter()
                with CollectorPool(count) as pool:
                    pool.ready()
                    start_s.append(time.perf_counter() - started)

                    record(f"ray{count}", on(pool))
        ray_version = str(ray.__version__)

    # what the driver does with each episode besides receiving it: store it (frames and all)
    sample = list(here(jobs[: config.loop.envs]))
    with tempfile.TemporaryDirectory() as tmp:
        store = EpisodeStore(Path(tmp))
        started = time.perf_counter()
        for episode in sample:
            store.append(episode)
        store_s = (time.perf_counter() - started) / len(sample)
    shipped = len(pickle.dumps(sample[0], protocol=5))  # what an actor sends back per episode

    rate = {side: episodes / s for side, s in seconds.items()}
    same = all(
        all(np.array_equal(a, b) for a, b in zip(actions["inprocess"], got, strict=True))
        for got in actions.values()
    )
    weights_mb = sum(t.nbytes for t in acting_weights(learner).values()) / 2**20
    report: dict[str, Json] = {
        "inprocess_eps_per_s": round(rate["inprocess"], 3),
        "ray1_eps_per_s": round(rate["ray1"], 3),
        "ray2_eps_per_s": round(rate["ray2"], 3),
        "ray1_overhead_ratio": round(rate["inprocess"] / rate["ray1"], 4),
        "ray2_speedup": round(rate["ray2"] / rate["inprocess"], 4),
        "ray2_per_collector_eps_per_s": round(rate["ray2"] / 2, 3),
        "same_episodes": same,
        "ray_start_s": round(max(start_s), 2),
        "driver_store_s_per_episode": round(store_s, 4),
        "episode_mb": round(shipped / 2**20, 2),
        "weights_mb": round(weights_mb, 3),
        "projected": project(rate["ray1"], store_s, episodes, config.loop.envs),
        "episodes": episodes,
        "envs": config.loop.envs,
        "steps_per_episode": sample[0].steps,
        "task": TASK,
        "trials": trials,
        "torch_threads": torch.get_num_threads(),
        "cpus": os.cpu_count() or 1,
        "ray": ray_version,
    }
    return report
