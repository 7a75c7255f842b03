"""Train d3rlpy's IQL on a data set that `gameon bench learner` wrote; runs in d3rlpy's own venv.

    $ D3RLPY_VENV/bin/python -I gameon_nb/bench/d3rlpy_worker.py WORK/job.json
    $ cat WORK/result.json      # updates and seconds at each budget, the TorchScript policies

A job may name a Minari dataset (`"minari": {"id", "root"}`, one `gameon export` wrote) in place
of the .npz: it is read through `minari.load_dataset` alone, its observations flattened
(proprio, then each block's pose), as any Minari user would read it.

d3rlpy 2.8.1 pins gymnasium==1.0.0, so it cannot share our environment: this script imports only
numpy, torch and d3rlpy, never gameon_nb. The job names an .npz of flat observations (our state
features, then a one-hot of the skill: each row once per skill), actions, rewards, terminals and
timeouts, the networks' hidden units, the update and wall-time budgets, and the torch thread
count. The script trains until both budgets are reached and saves the greedy policy (d3rlpy's
`save_policy`, TorchScript) at each; the clock stops while a policy is saved, so the seconds are
training seconds only, sampling of batches included.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Literal, NotRequired, TypedDict

import numpy as np
import torch

PROGRESS = "d3rlpy worker:"
"""Lines starting so are progress, passed on to the benchmark's stderr."""
REPORT_EVERY_S = 30.0
STD_FLOOR = 1e-2
"""Least scale of an input feature, as our learner's Normalizer has: a feature that is nearly
constant in the data (a cube's tilt) would otherwise be blown up by 1 / (std + 1e-3) when it
moves a little at evaluation time."""

Budget = Literal["at_updates", "at_seconds"]
"""The two points a policy is kept at: when the update budget and when the time budget is spent."""


class MinariSource(TypedDict):
    """A Minari dataset (one `gameon export` wrote) for the worker to read."""

    id: str
    root: NotRequired[str]
    """Minari's datasets directory (default: Minari's own)."""


class Job(TypedDict):
    """What `gameon bench learner` asks of the worker (job.json)."""

    data: NotRequired[str]
    """The .npz of flat observations, actions, rewards, terminals and timeouts, ..."""
    minari: NotRequired[MinariSource]
    """... or, in its place, a Minari dataset."""
    hidden_units: list[int]
    batch_size: int
    gamma: float
    lr: float
    iql: dict[str, float]
    """IQLConfig's own settings (expectile, weight_temp, ...)."""
    budget_updates: int
    budget_seconds: float
    threads: int
    seed: int
    device: str


class Checkpoint(TypedDict):
    """A policy kept when a budget was spent: updates and training seconds by then."""

    updates: int
    seconds: float
    policy: str
    """The saved policy's path."""


class Training(TypedDict):
    """One side's training: its speed and its policy at each budget."""

    updates: int
    seconds: float
    updates_per_s: float
    setup_seconds: float
    at_updates: Checkpoint
    at_seconds: Checkpoint


class WorkerResult(Training):
    """What the worker writes (result.json)."""

    transitions: int
    episodes: int
    last_losses: dict[str, float]
    versions: dict[str, str]
    """d3rlpy, torch, numpy and python of d3rlpy's venv."""
    threads: int


def minari_arrays(dataset_id: str, root: str | None = None) -> dict[str, np.ndarray]:
    """Flat observations, actions, rewards, terminals and timeouts of a Minari dataset."""
    if root:
        os.environ["MINARI_DATASETS_PATH"] = root
    minari: Any = importlib.import_module("minari")
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("observations", "actions", "rewards")}
    parts |= {"terminals": [], "timeouts": []}
    for episode in minari.load_dataset(dataset_id).iterate_episodes():
        steps = len(episode)
        obs = episode.observations
        flat = [obs["proprio"][:steps], obs["objects"][:steps].reshape(steps, -1)]
        parts["observations"].append(np.concatenate(flat, axis=1))
        parts["actions"].append(episode.actions)
        parts["rewards"].append(episode.rewards)
        parts["terminals"].append(episode.terminations)
        parts["timeouts"].append(episode.truncations)
    return {k: np.concatenate(v) for k, v in parts.items()}


def train(job: Job, out: Path) -> WorkerResult:
    """Train IQL as `job` says; save policies into `out`; return updates and timings."""
    # d3rlpy exists only in its own venv, never in the one that type-checks this package
    d3rlpy: Any = importlib.import_module("d3rlpy")
    torch.set_num_threads(int(job["threads"]))
    d3rlpy.seed(int(job["seed"]))
    setup_started = time.perf_counter()
    if "minari" in job:
        data = minari_arrays(job["minari"]["id"], job["minari"].get("root"))
    else:
        with np.load(job["data"]) as arrays:
            data = {k: arrays[k] for k in arrays.files}
    observations = data["observations"].astype(np.float32)
    dataset = d3rlpy.dataset.MDPDataset(
        observations=observations,
        actions=data["actions"].astype(np.float32),
        rewards=data["rewards"].astype(np.float32),
        terminals=data["terminals"].astype(np.float32),
        timeouts=data["timeouts"].astype(np.float32),
    )
    encoder = d3rlpy.models.VectorEncoderFactory(hidden_units=list(job["hidden_units"]))
    scaler = d3rlpy.preprocessing.StandardObservationScaler(
        mean=observations.mean(0), std=np.maximum(observations.std(0), STD_FLOOR)
    )
    iql = d3rlpy.algos.IQLConfig(
        batch_size=int(job["batch_size"]),
        gamma=float(job["gamma"]),
        actor_learning_rate=float(job["lr"]),
        critic_learning_rate=float(job["lr"]),
        actor_encoder_factory=encoder,
        critic_encoder_factory=encoder,
        value_encoder_factory=encoder,
        observation_scaler=scaler,
        **job["iql"],
    ).create(device=job["device"])
    iql.build_with_dataset(dataset)
    setup_seconds = time.perf_counter() - setup_started

    budget_updates, budget_seconds = int(job["budget_updates"]), float(job["budget_seconds"])
    points: dict[Budget, Checkpoint] = {}
    updates, seconds = 0, 0.0
    losses: dict[str, float] = {}

    def save(name: Budget) -> None:
        policy = out / f"d3rlpy-{name}.pt"
        iql.save_policy(str(policy))
        points[name] = {"updates": updates, "seconds": seconds, "policy": str(policy)}

    reported = 0.0
    while len(points) < 2:
        started = time.perf_counter()
        losses = iql.update(dataset.sample_transition_batch(iql.config.batch_size))
        seconds += time.perf_counter() - started
        updates += 1
        if seconds - reported >= REPORT_EVERY_S:
            reported = seconds
            print(f"{PROGRESS} {updates} updates in {seconds:.0f} s", file=sys.stderr, flush=True)
        if updates == budget_updates:
            save("at_updates")
        if seconds >= budget_seconds and "at_seconds" not in points:
            save("at_seconds")
    return {
        "updates": updates,
        "seconds": seconds,
        "updates_per_s": updates / seconds,
        "setup_seconds": setup_seconds,
        "at_updates": points["at_updates"],
        "at_seconds": points["at_seconds"],
        "transitions": int(dataset.transition_count),
        "episodes": len(dataset.episodes),
        "last_losses": {k: float(v) for k, v in losses.items()},
        "versions": {
            "d3rlpy": d3rlpy.__version__,
            "torch": torch.__version__,
            "numpy": np.__version__,
            "python": sys.version.split()[0],
        },
        "threads": torch.get_num_threads(),
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} JOB.json (written by `gameon bench learner`)", file=sys.stderr)
        return 2
    job_path = Path(argv[1])
    job: Job = json.loads(job_path.read_text())
    out = job_path.parent
    result = train(job, out)
    # written last, and atomically, so a result file always means a finished run
    tmp = out / "result.json.tmp"
    tmp.write_text(json.dumps(result, indent=2))
    tmp.replace(out / "result.json")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
