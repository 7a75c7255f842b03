"""The learner's speed: FLOPs and time per update, where the time goes, time to reliable skills.

    >>> report = measure_learner_speed(episodes=1000)     # `gameon bench learner-speed --json`
    >>> report["model_flops_utilisation"], report["seconds_to_base_0_9"]

In one run on one bootstrap data set (state observations):
- `flops_per_update`: `torch.utils.flop_counter.FlopCounterMode` over one update;
- `updates_per_s` over `timed_updates` updates after a warm-up, and the float32 matmul peak of
  this machine at the model's own sizes (the best of the (rows, hidden) x (hidden, hidden)
  products an update runs), so `model_flops_utilisation` = FLOPs/update x updates/s / peak;
  `training_updates_per_s` and `training_utilisation` are the same over the whole training to
  the target (target copies, logging and a noisy neighbour's steal time show there);
- `profile`: the share of an update's wall time in each part (`Learner.update`'s regions: the
  batch sampler, tensors, target, encoders, critic, actor, losses, backward, optimiser,
  statistics) read from `torch.profiler`; what no region holds is Python overhead;
- `seconds_to_base_0_9`: training wall time (evaluation not counted) until the mean success
  over the 16 base skills, evaluated every `eval_every` updates on `eval_episodes` resets each,
  first reaches `target`; None, with the curve, if `max_minutes` run out first.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TypedDict, cast

import numpy as np
import torch

from gameon_nb.bench.learning import BASE, base_success, bootstrap_data
from gameon_nb.config import LearnerConfig, RunConfig
from gameon_nb.data.dataset import TransitionData
from gameon_nb.learner.trainer import PARTS, Learner
from gameon_nb.records import Json, JsonObject

__all__ = [
    "Throughput", "matmul_peak", "measure_learner_speed", "seconds_to_target", "throughput",
    "update_flops", "update_profile",
]  # fmt: skip


def update_flops(learner: Learner) -> int:
    """FLOPs of one update (forward, backward and optimiser) as torch counts them."""
    from torch.utils.flop_counter import FlopCounterMode

    assert learner.sampler is not None
    batch = learner.sampler.sample()
    with FlopCounterMode(display=False) as counter:
        learner.update(batch)
    return int(counter.get_total_flops())


def matmul_peak(rows: list[int], hidden: int, seconds: float = 1.0) -> float:
    """The best float32 GFLOP/s of (r, hidden) x (hidden, hidden) products over `rows`."""
    best = 0.0
    for r in rows:
        a, b = torch.randn(r, hidden), torch.randn(hidden, hidden)
        for _ in range(3):
            a @ b  # warm up
        count, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds / len(rows):
            a @ b
            count += 1
        best = max(best, 2 * r * hidden * hidden * count / elapsed / 1e9)
    return best


def update_profile(learner: Learner, updates: int = 50) -> dict[str, float]:
    """Share of wall time per part of an update over `updates` updates (see the docstring)."""
    from torch.profiler import ProfilerActivity, profile, record_function

    assert learner.sampler is not None
    sampler = learner.sampler
    started = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(updates):
            with record_function("gameon.sampler"):
                batch = sampler.sample()
            learner.update(batch)
    wall = time.perf_counter() - started
    regions = {e.key: e.cpu_time_total / 1e6 for e in prof.key_averages()}
    names = ("sampler", *PARTS)
    shares = {name: round(regions.get(f"gameon.{name}", 0.0) / wall, 4) for name in names}
    shares["python_overhead"] = round(max(0.0, 1 - sum(shares.values())), 4)
    return shares


class Throughput(TypedDict):
    """One model's cost on this machine: FLOPs per update, updates/s, the matmul peak at its
    sizes and the utilisation they make."""

    flops_per_update: int
    updates_per_s: float
    matmul_peak_gflop_per_s: float
    model_flops_utilisation: float


def throughput(
    cfg: LearnerConfig, data: TransitionData, seed: int, updates: int = 300
) -> Throughput:
    """FLOPs of one update, and updates/s over `updates` after a warm-up, on a fresh learner."""
    learner = Learner(cfg, seed)
    learner.set_data(data)
    learner.fit(20)  # warm-up
    flops = update_flops(learner)
    started = time.perf_counter()
    learner.fit(updates)
    rate = updates / (time.perf_counter() - started)
    peak = matmul_peak([cfg.batch_size, cfg.batch_size * cfg.action_samples], cfg.hidden)
    return Throughput(
        flops_per_update=flops, updates_per_s=round(rate, 1),
        matmul_peak_gflop_per_s=round(peak, 1),
        model_flops_utilisation=round(flops * rate / 1e9 / peak, 3),
    )  # fmt: skip


def seconds_to_target(
    learner: Learner,
    config: RunConfig,
    target: float,
    eval_every: int,
    eval_episodes: int,
    max_minutes: float,
    seed: int,
    progress: bool = False,
    already: float = 0.0,
) -> tuple[float | None, list[Json]]:
    """Train `learner` (on its data) until the base skills' mean success reaches `target`: the
    training seconds that took (`already` counted in; evaluation not), or None when
    `max_minutes` ran out first, and the curve of evaluations."""
    curve: list[Json] = []
    trained = already
    while trained < 60 * max_minutes:
        started = time.perf_counter()
        learner.fit(eval_every)
        trained += time.perf_counter() - started
        results = base_success(learner, config, eval_episodes, seed)
        mean = round(float(np.mean([r["success"] for r in results.values()])), 6)  # 0.9 is 0.9
        curve.append({"updates": learner.step, "seconds": round(trained, 1), "mean": mean})
        if progress:
            print(f"{learner.step} updates, {trained:.0f} s: base skills {mean:.3f}")
        if mean >= target:
            return round(trained, 1), curve
    return None, curve


def measure_learner_speed(
    episodes: int = 1000,
    target: float = 0.9,
    eval_every: int = 2000,
    eval_episodes: int = 20,
    max_minutes: float = 20.0,
    timed_updates: int = 300,
    run_dir: Path | str | None = None,
    seed: int = 0,
    assignments: list[str] | None = None,
    progress: bool = False,
) -> JsonObject:
    """The figures of the module docstring, as one JSON report."""
    prepared = bootstrap_data(episodes, seed, assignments, run_dir, progress, "gameon-speed-")
    with prepared as (_, config, boot, data):
        cfg = config.learner
        probe = Learner(cfg, seed)  # FLOPs and profile on a copy: the timed learner starts fresh
        probe.set_data(data)
        probe.fit(20)
        flops = update_flops(probe)
        profile = update_profile(probe)
        rows = [cfg.batch_size, cfg.batch_size * cfg.action_samples]
        peak = matmul_peak(rows, cfg.hidden)
        learner = Learner(cfg, seed)
        learner.set_data(data)
        started = time.perf_counter()
        learner.fit(20)  # warm-up
        warm = time.perf_counter()
        learner.fit(timed_updates)
        rate = timed_updates / (time.perf_counter() - warm)
        reached, curve = seconds_to_target(
            learner, config, target, eval_every, eval_episodes, max_minutes, seed, progress,
            already=time.perf_counter() - started,  # every update counts
        )  # fmt: skip
    achieved = flops * rate / 1e9
    # the timed window is short; over the whole training, steal and target copies show too
    last = cast(dict[str, float], curve[-1]) if curve else None
    whole = last["updates"] / last["seconds"] if last else rate
    return {
        "question": (
            f"how fast the default learner trains on this machine, and how long until the base "
            f"skills reach {target} from {episodes} bootstrap episodes"
        ),
        "config": {
            "seed": seed,
            "assignments": list(assignments or []),
            "hidden": cfg.hidden,
            "batch_size": cfg.batch_size,
            "action_samples": cfg.action_samples,
            "atoms": cfg.atoms,
            "bins": cfg.bins,
        },
        "device": str(learner.device),
        "threads": torch.get_num_threads(),
        "bootstrap": {"episodes": boot["episodes"], "seconds": boot["seconds"]},
        "rows": data.rows,
        "flops_per_update": flops,
        "gflop_per_update": round(flops / 1e9, 3),
        "updates_per_s": round(rate, 1),
        "achieved_gflop_per_s": round(achieved, 1),
        "matmul_peak_gflop_per_s": round(peak, 1),
        "model_flops_utilisation": round(achieved / peak, 3),
        "training_updates_per_s": round(whole, 1),
        "training_utilisation": round(flops * whole / 1e9 / peak, 3),
        "profile": profile,
        "target": target,
        "eval": {"every": eval_every, "episodes": eval_episodes, "skills": len(BASE)},
        "seconds_to_base_0_9": reached,
        "max_minutes": max_minutes,
        "curve": curve,
    }
