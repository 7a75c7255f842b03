"""Our learner against d3rlpy's IQL on a few base skills, side by side in one run: speed, success.

    >>> report = measure_learner(DEFAULT_SKILLS, budget_updates=6000, budget_seconds=240)
    >>> report["ours_success"], report["d3rlpy_success"]      # mean over skills, equal wall time
    >>> report["per_skill"]["lift the red block"]["d3rlpy_success"]
    $ gameon bench learner --json --data-episodes 1000 --budget-updates 6000 --budget-seconds 240

Same data, same hidden sizes, same torch thread count, on the CPU, one side after the other (never
at once: the machine has two cores). The data are a run's episodes, or a bootstrap data set cached
on disk, relabelled for the skills. Our `Learner` trains one language-conditioned model on
`TransitionData` restricted to them. d3rlpy's IQL (Kostrikov et al. 2021) takes no instruction, so
it trains on the same rows once per skill: flat vectors of the state features our model computes
(`state_features`) with a one-hot of the skill appended, rewarded by that skill's predicate, a
success ending the d3rlpy episode as it ends the skill for us; its policy is asked about a skill
through that one-hot. Each side trains until both budgets are spent and keeps its policy at each;
every policy is then evaluated by the same `evaluate_skills` on the same seeded resets, per skill.
d3rlpy 2.8.1 pins gymnasium==1.0.0, which would downgrade ours, so it runs in a venv of its own,
made on first use, through the standalone `d3rlpy_worker.py`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from gameon_nb.bench import d3rlpy_worker
from gameon_nb.bench.d3rlpy_worker import (
    PROGRESS,
    Budget,
    Checkpoint,
    Job,
    Training,
    WorkerResult,
)
from gameon_nb.config import RunConfig, override, to_dict
from gameon_nb.data.bootstrap import bootstrap
from gameon_nb.data.dataset import TransitionData
from gameon_nb.data.store import EpisodeStore
from gameon_nb.learner import Learner, evaluate_skills
from gameon_nb.learner.evaluate import BatchPolicy
from gameon_nb.learner.model import state_features
from gameon_nb.records import Json, JsonObject
from gameon_nb.run.dir import RunDir
from gameon_nb.skills.rates import wilson_interval
from gameon_nb.skills.results import SkillResult
from gameon_nb.skills.skill import Skill, UnknownSkillError

__all__ = [
    "D3RLPY_VERSION",
    "DEFAULT_BUDGET_SECONDS",
    "DEFAULT_BUDGET_UPDATES",
    "DEFAULT_DATA_EPISODES",
    "DEFAULT_SKILLS",
    "BenchLearnerError",
    "D3rlpyVenvError",
    "D3rlpyWorkerError",
    "cache_root",
    "d3rlpy_arrays",
    "ensure_d3rlpy_venv",
    "ensure_minari",
    "flat_features",
    "measure_learner",
]

DEFAULT_SKILLS = (
    "move above the blue block",
    "grasp the green block",
    "lift the red block",
    "hold the blue block above the green block",
)
"""Four base skills of rising difficulty, one or two of each block: a reach, a grasp, a lift and a
hold (the gripper's own skill is too easy to tell learners apart)."""
DEFAULT_BUDGET_UPDATES = 6000
DEFAULT_BUDGET_SECONDS = 240.0
"""Enough for ours to reach a high success on these skills: on 1,000 bootstrap episodes it reaches
0.9 mean over all 16 base skills after about 150 s (8,300 updates) on a quiet 2-core machine."""
D3RLPY_VERSION = "2.8.1"
TORCH_VERSION = "2.13.0"
"""The torch the d3rlpy venv gets; this machine holds a CPU build of exactly this version."""
MINARI_REQUIREMENTS = ("minari[hdf5]==0.5.4", "pillow")
"""What `ensure_minari` adds to d3rlpy's venv (Minari allows d3rlpy's gymnasium 1.0; its HDF5
storage imports Pillow without declaring it)."""
DEFAULT_DATA_EPISODES = 1000
"""Bootstrap episodes of the cached data set: chains of 1-3 of the 16 base skills, so each base
skill is executed about 125 times (most succeed, the rest sabotaged or noisy), and many are
achieved in passing by more ("lift the red block" by "hold the red block above ...")."""
IQL_SETTINGS = {"expectile": 0.7, "weight_temp": 3.0, "max_weight": 100.0, "tau": 0.005}
"""d3rlpy's IQL defaults (those of the paper's locomotion runs), named so the report shows them."""
DEFAULT_THREADS = 1
"""Torch threads of each side. One, because two per process on the shared 2-core machines
oversubscribe the cores, and OpenMP's spinning then made updates 6-20x slower and erratic for
both sides (measured under a load of 5: ours 65 ms an update at one thread, 0.4-1.3 s at two;
d3rlpy's IQL 58 ms against 0.25-4 s)."""
REPORT_EVERY_S = 30.0
"""Seconds of training between progress lines on stderr."""
WORKER = Path(d3rlpy_worker.__file__)
_READY = ".gameon-ready"
_PARTIAL = ".gameon-partial"


class BenchLearnerError(RuntimeError):
    """The learner benchmark cannot run as asked; the message says what to do."""


class D3rlpyVenvError(BenchLearnerError):
    """d3rlpy's venv could not be made; the message names the command that failed."""


class D3rlpyWorkerError(BenchLearnerError):
    """The d3rlpy worker failed; the message holds the command and the end of its output."""


class D3rlpyTraining(WorkerResult):
    """The worker's result, with the size of the flat observations it trained on."""

    observation_size: int


def _say(message: str) -> None:
    print(f"bench learner: {message}", file=sys.stderr, flush=True)


def cache_root() -> Path:
    """$GAMEON_CACHE, else ~/.cache/gameon_nb: the d3rlpy venv and the cached data set live here."""
    env = os.environ.get("GAMEON_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "gameon_nb"


# -- d3rlpy's venv ---------------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path`, so two benchmarks never build the same venv at once."""
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _versions(python: Path) -> dict[str, str] | None:
    """{'d3rlpy', 'torch'} versions importable by `python`, or None where either is missing."""
    probe = "import json, d3rlpy, torch; print(json.dumps([d3rlpy.__version__, torch.__version__]))"
    try:
        done = subprocess.run(
            [str(python), "-I", "-c", probe], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    d3rlpy, torch_version = json.loads(done.stdout.strip().splitlines()[-1])
    return {"d3rlpy": d3rlpy, "torch": torch_version}


def _pinned(versions: dict[str, str] | None) -> bool:
    return (
        versions is not None
        and versions["d3rlpy"] == D3RLPY_VERSION
        and versions["torch"].split("+")[0] == TORCH_VERSION
    )


def _step(command: list[str], what: str, hint: str = "") -> None:
    _say(f"{what}: {shlex.join(command)}")
    started = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode:
        tail = "\n".join(done.stdout.splitlines()[-25:])
        raise D3rlpyVenvError(
            f"`{shlex.join(command)}` failed (exit {done.returncode}) while {what}:\n{tail}"
            + (f"\n{hint}" if hint else "")
        )
    _say(f"{what}: done in {time.perf_counter() - started:.0f} s")


def ensure_d3rlpy_venv(venv: Path | None = None) -> Path:
    """The python of a venv holding d3rlpy 2.8.1 on torch 2.13.0; made on first use (~2 min).

        >>> python = ensure_d3rlpy_venv()          # cache_root() / "d3rlpy-2.8.1-venv"
        >>> subprocess.run([python, "-I", WORKER, "job.json"])

    torch is installed first, from a local CPU wheel only (`--no-index`), so that resolving
    d3rlpy never pulls a multi-GB CUDA build from a registry. A directory that exists but was
    neither made here nor holds the pinned versions is left alone, with an error.
    """
    venv = Path(venv) if venv else cache_root() / f"d3rlpy-{D3RLPY_VERSION}-venv"
    python = venv / "bin" / "python"
    if (venv / _READY).exists():
        return python
    venv.parent.mkdir(parents=True, exist_ok=True)
    with _locked(venv.parent / f".{venv.name}.lock"):
        if (venv / _READY).exists():  # made by another process while we waited for the lock
            return python
        if venv.exists() and any(venv.iterdir()) and not (venv / _PARTIAL).exists():
            if _pinned(found := _versions(python)):
                (venv / _READY).write_text(json.dumps(found))
                return python
            raise D3rlpyVenvError(
                f"{venv} exists but is not a venv with d3rlpy=={D3RLPY_VERSION} and "
                f"torch=={TORCH_VERSION} (found {found}); delete it or pass another --d3rlpy-venv"
            )
        _say(f"making d3rlpy's venv in {venv} (first use only; about two minutes)")
        _step([sys.executable, "-m", "venv", "--clear", str(venv)], "creating the venv")
        (venv / _PARTIAL).touch()
        # a venv inside a checkout must not show up in `git status`
        (venv / ".gitignore").write_text("*\n")
        pip = [str(python), "-m", "pip", "install", "--progress-bar", "off"]
        _step(
            [*pip, "--no-index", "--no-deps", f"torch=={TORCH_VERSION}"],
            f"installing torch {TORCH_VERSION} from a local wheel",
            hint=f"pip found no local torch {TORCH_VERSION} wheel (pip's find-links): install a "
            f"CPU build of torch {TORCH_VERSION} into {venv} with pip yourself (PyTorch's CPU "
            "wheel index), then rerun; a plain `pip install torch` would fetch a CUDA build",
        )
        _step([*pip, f"torch=={TORCH_VERSION}"], "installing torch's dependencies")
        _step([*pip, f"d3rlpy=={D3RLPY_VERSION}"], f"installing d3rlpy {D3RLPY_VERSION}")
        found = _versions(python)
        if not _pinned(found):
            raise D3rlpyVenvError(
                f"{venv} holds {found} after installing, not d3rlpy=={D3RLPY_VERSION} on "
                f"torch=={TORCH_VERSION}; delete {venv} and rerun"
            )
        (venv / _READY).write_text(json.dumps(found))
        (venv / _PARTIAL).unlink()
    return python


def ensure_minari(python: Path) -> Path:
    """`python` (d3rlpy's venv) with Minari and h5py too, installed on first use, so the worker
    can read a Minari dataset the way any Minari user does."""
    probe = [str(python), "-c", "import minari.dataset._storages.hdf5_storage"]
    if subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    with _locked(python.parent.parent.parent / f".{python.parent.parent.name}.minari.lock"):
        if subprocess.run(probe, capture_output=True).returncode != 0:
            pip = [str(python), "-m", "pip", "install", "--progress-bar", "off"]
            _step([*pip, *MINARI_REQUIREMENTS], f"installing {MINARI_REQUIREMENTS} beside d3rlpy")
    return python


# -- data ------------------------------------------------------------------------------------------


def _cached_data(seed: int, episodes: int, progress: bool) -> tuple[RunConfig, RunDir, str]:
    """A bootstrap data set in the cache (made, or completed, on first use)."""
    run = RunDir(cache_root() / f"bench-learner-seed{seed}-{episodes}ep")
    config = override(
        RunConfig(),
        [
            f"seed={seed}",
            f"bootstrap.episodes={episodes}",
            "data.policy_frames=false",  # state-based learning only: no frames to render
            "data.view_frames=false",
        ],
    )
    if run.config_path.exists():
        saved: JsonObject = json.loads(run.config_path.read_text())
        wanted = to_dict(config)
        differs = [k for k in ("seed", "sim", "data", "bootstrap") if saved.get(k) != wanted[k]]
        if differs:
            raise BenchLearnerError(
                f"the cached data set {run.root} was made with other {differs} settings than "
                "this version uses; delete that directory to make it anew"
            )
    run.root.mkdir(parents=True, exist_ok=True)
    run.save_config(config)
    if len(run.store()) < episodes:
        _say(f"bootstrapping {episodes} episodes into {run.root} (first use only)")
        bootstrap(run.root, config, progress=progress)
    return config, run, f"bootstrap cache {run.root}"


def _run_data(run_dir: Path) -> tuple[RunConfig, RunDir, str]:
    run = RunDir(run_dir)
    # checked before `run.store()`, which would make the directory
    if not run.episodes.is_dir() or not len(run.store()):
        raise BenchLearnerError(
            f"no episodes in {run.episodes}; run `gameon bootstrap --run-dir {run_dir}` first"
        )
    return run.load_config(), run, str(run_dir)


def flat_features(proprio: npt.NDArray[Any], objects: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    """(B, P + 3 * BLOCK_FEATURES) float32: our model's state features, flattened for d3rlpy.

    >>> flat_features(obs["proprio"], obs["objects"]).shape      # (B, 58) at 16 features a block
    """
    with torch.no_grad():
        p, blocks = state_features(
            torch.as_tensor(np.asarray(proprio, np.float32)),
            torch.as_tensor(np.asarray(objects, np.float32)),
        )
        return torch.cat([p, blocks.flatten(1)], dim=-1).numpy().astype(np.float32)


def d3rlpy_arrays(data: TransitionData) -> dict[str, npt.NDArray[Any]]:
    """The rows of `data` as d3rlpy's MDPDataset arrays, once per skill (see the module docstring).

        >>> arrays = d3rlpy_arrays(TransitionData.from_store(store, DEFAULT_SKILLS))
        >>> sorted(arrays)   # actions, observations, rewards, terminals, timeouts
        >>> arrays["observations"].shape      # (about 4 * rows, 58 + 4): features, then one-hot

    Skill k's copy has k's one-hot after the state features. A row whose action makes the skill
    true is terminal (reward 1); an episode's last row has no action and is a timeout, its state
    only the next observation of the row before. Rows after a success start a new d3rlpy episode,
    as they start a fresh pair for our sampler.
    """
    features = flat_features(data.proprio, data.objects)
    copies = [_skill_arrays(data, features, k) for k in range(len(data.skills))]
    return {key: np.concatenate([copy[key] for copy in copies]) for key in copies[0]}


def _skill_arrays(
    data: TransitionData, features: npt.NDArray[np.float32], k: int
) -> dict[str, npt.NDArray[Any]]:
    terminals = data.rewards[:, k] & data.has_action
    timeouts = ~data.has_action
    # a success on an episode's last action leaves its final row between two episode ends: a
    # d3rlpy episode with no transition at all, which is only noise to it; drop that row
    lone = timeouts & np.concatenate([[False], terminals[:-1]])
    keep = ~lone
    one_hot = np.zeros((int(keep.sum()), len(data.skills)), np.float32)
    one_hot[:, k] = 1.0
    return {
        "observations": np.concatenate([features[keep], one_hot], axis=1),
        "actions": data.actions[keep].astype(np.float32),
        "rewards": terminals[keep].astype(np.float32),
        "terminals": terminals[keep].astype(np.float32),
        "timeouts": timeouts[keep].astype(np.float32),
    }


def _data_stats(store: EpisodeStore, data: TransitionData) -> dict[str, Json]:
    """Row counts, and per skill its executions in the store, their successes and reward rows."""
    ids, first_row = np.unique(data.episode_ids, return_index=True)
    offsets = dict(zip(ids.tolist(), first_row.tolist(), strict=True))
    per_skill = {
        text: {"reward_rows": int(data.rewards[:, k].sum()), "executions": 0, "successes": 0}
        for k, text in enumerate(data.skills)
    }
    for episode_id in store.ids():
        meta = store.meta(episode_id)
        for text, (start, _) in zip(meta["skills"], meta["segments"], strict=True):
            if text in per_skill:
                per_skill[text]["executions"] += 1
                per_skill[text]["successes"] += int(data.executed_ok[offsets[episode_id] + start])
    return {
        "episodes": len(ids),
        "rows": data.rows,
        "transitions": int(data.has_action.sum()),
        "per_skill": dict(per_skill),
    }


# -- the two sides ---------------------------------------------------------------------------------


def _train_ours(
    config: RunConfig,
    data: TransitionData,
    budget_updates: int,
    budget_seconds: float,
    work: Path,
) -> Training:
    """Fit our learner until both budgets are spent; checkpoints at each, clock paused to save."""
    started = time.perf_counter()
    learner = Learner(config.learner, config.seed)
    learner.set_data(data)
    setup_seconds = time.perf_counter() - started
    points: dict[Budget, Checkpoint] = {}
    updates, seconds = 0, 0.0

    def save(name: Budget) -> None:
        path = work / f"ours-{name}.pt"
        learner.save(path)
        points[name] = {"updates": updates, "seconds": seconds, "policy": str(path)}

    reported = 0.0
    while len(points) < 2:
        started = time.perf_counter()
        # one update a call, so a budget is never overrun by more than one update
        learner.fit(1)
        seconds += time.perf_counter() - started
        updates += 1
        if seconds - reported >= REPORT_EVERY_S:
            reported = seconds
            _say(f"ours: {updates} updates in {seconds:.0f} s")
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
    }


def _train_d3rlpy(
    python: Path,
    config: RunConfig,
    data: TransitionData,
    budget_updates: int,
    budget_seconds: float,
    threads: int,
    work: Path,
) -> D3rlpyTraining:
    """Write the data set and the job, run the worker in d3rlpy's venv, read its result."""
    arrays = d3rlpy_arrays(data)
    np.savez(
        work / "d3rlpy-data.npz",
        observations=arrays["observations"],
        actions=arrays["actions"],
        rewards=arrays["rewards"],
        terminals=arrays["terminals"],
        timeouts=arrays["timeouts"],
    )
    cfg = config.learner
    job = Job(
        data=str(work / "d3rlpy-data.npz"),
        hidden_units=[cfg.hidden] * cfg.layers,
        batch_size=cfg.batch_size,
        gamma=cfg.discount,
        lr=cfg.lr,
        iql=IQL_SETTINGS,
        budget_updates=budget_updates,
        budget_seconds=budget_seconds,
        threads=threads,
        seed=config.seed,
        device="cpu:0",
    )
    (work / "job.json").write_text(json.dumps(job, indent=2))
    command = [str(python), "-I", str(WORKER), str(work / "job.json")]
    log = work / "worker.log"
    with (
        log.open("w") as out,
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=work
        ) as worker,
    ):
        assert worker.stdout is not None
        for line in worker.stdout:  # d3rlpy's own logging stays in the log, progress is shown
            out.write(line)
            if line.startswith(PROGRESS):
                _say(f"d3rlpy: {line.removeprefix(PROGRESS).strip()}")
        code = worker.wait()
    result_path = work / "result.json"
    if code or not result_path.exists():
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise D3rlpyWorkerError(
            f"`{shlex.join(command)}` failed (exit {code}); the end of its output:\n{tail}"
        )
    result: WorkerResult = json.loads(result_path.read_text())
    return D3rlpyTraining(**result, observation_size=int(arrays["observations"].shape[1]))


class TorchScriptPolicy:
    """A policy that d3rlpy saved as TorchScript, fed our flat state features and a skill's one-hot.

    >>> policy = TorchScriptPolicy(Path("d3rlpy-at_seconds.pt"), DEFAULT_SKILLS)
    >>> policy(obs_batch, ["lift the red block"] * len(obs_batch["proprio"]))   # (B, 5)

    `skills` are those it was trained on, in the order of the one-hot (`TransitionData.skills`).
    """

    def __init__(self, path: Path, skills: Sequence[str]) -> None:
        self.module = torch.jit.load(str(path), map_location="cpu")  # type: ignore[no-untyped-call]
        self.column = {text: k for k, text in enumerate(skills)}

    def __call__(self, obs: dict[str, npt.NDArray[Any]], skills: list[str]) -> npt.NDArray[Any]:
        unknown = sorted(set(skills) - set(self.column))
        if unknown:
            raise ValueError(f"not trained on {unknown}; only on {list(self.column)}")
        one_hot = np.zeros((len(skills), len(self.column)), np.float32)
        one_hot[np.arange(len(skills)), [self.column[text] for text in skills]] = 1.0
        flat = np.concatenate([flat_features(obs["proprio"], obs["objects"]), one_hot], axis=1)
        with torch.no_grad():
            actions = self.module(torch.as_tensor(flat))
        return np.asarray(actions.numpy(), dtype=np.float32)


def _evaluate(
    policy: BatchPolicy, skills: list[str], config: RunConfig, episodes: int, progress: bool
) -> dict[str, SkillResult]:
    """Success of `policy` on each skill: the same seeded resets for every policy evaluated."""
    return evaluate_skills(
        policy, skills, config.sim, episodes=episodes, envs=config.learner.eval_envs,
        seed=config.seed, stop_on_success=config.learner.eval_stop_on_success, progress=progress,
    )  # fmt: skip


def _mean(results: dict[str, SkillResult]) -> SkillResult:
    """The mean over skills, with a Wilson interval over all their episodes pooled."""
    successes = sum(r["successes"] for r in results.values())
    episodes = sum(r["episodes"] for r in results.values())
    return SkillResult(
        success=round(float(np.mean([r["success"] for r in results.values()])), 4),
        successes=successes,
        episodes=episodes,
        ci95=[round(v, 4) for v in wilson_interval(successes, episodes)],
    )


@contextlib.contextmanager
def _torch_threads(threads: int) -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _canonical(skills: str | Sequence[str]) -> list[str]:
    texts = [skills] if isinstance(skills, str) else list(skills)
    if not texts:
        raise BenchLearnerError("give at least one --skill")
    try:
        return list(dict.fromkeys(Skill.from_text(text).text for text in texts))
    except UnknownSkillError as error:
        raise BenchLearnerError(str(error)) from None


def measure_learner(
    skills: str | Sequence[str] = DEFAULT_SKILLS,
    budget_updates: int = DEFAULT_BUDGET_UPDATES,
    budget_seconds: float = DEFAULT_BUDGET_SECONDS,
    episodes: int = 50,
    run_dir: Path | None = None,
    seed: int = 0,
    data_episodes: int = DEFAULT_DATA_EPISODES,
    threads: int | None = None,
    venv: Path | None = None,
    progress: bool = False,
) -> JsonObject:
    """Train and evaluate both sides on `skills` (one text or several); returns the JSON report of
    `gameon bench learner`.

    `ours_success` and `d3rlpy_success` are the mean over skills at equal wall time
    (`budget_seconds` of training each); `*_success_at_updates` at equal updates (`budget_updates`
    each); `per_skill` holds each skill's. `episodes` evaluation episodes per skill, side and point,
    on the same seeded resets. Without `run_dir`, a bootstrap data set of `data_episodes` episodes
    under `seed` is made in (and later read from) the cache. `threads`: torch threads of each side
    (None: DEFAULT_THREADS); `venv`: d3rlpy's venv.
    """
    if budget_updates < 1 or budget_seconds <= 0 or episodes < 1:
        raise BenchLearnerError(
            "--budget-updates and --episodes must be at least 1 and --budget-seconds above 0"
        )
    texts = _canonical(skills)
    threads = threads or DEFAULT_THREADS
    python = ensure_d3rlpy_venv(venv)
    if run_dir is None:
        config, run, source = _cached_data(seed, data_episodes, progress)
    else:
        config, run, source = _run_data(Path(run_dir))
        config = override(config, [f"seed={seed}"])
    # both sides on the CPU, whatever the run's config says, so that the comparison is the same
    # on any machine (d3rlpy's venv holds a CPU build of torch)
    config = dataclasses.replace(config, learner=dataclasses.replace(config.learner, device="cpu"))
    store = run.store()
    _say(f"reading {len(store)} episodes from {source}, relabelled for {texts}")
    data = TransitionData.from_store(store, texts, progress=progress)
    stats = _data_stats(store, data)
    never = [text for k, text in enumerate(texts) if not data.rewards[:, k].any()]
    if never:
        raise BenchLearnerError(
            f"{never} never come true in the data of {source}: nothing to learn from; use a "
            "larger data set (--data-episodes) or a run that holds them"
        )
    with (
        tempfile.TemporaryDirectory(prefix="gameon-bench-learner-") as tmp,
        _torch_threads(threads),
    ):
        work = Path(tmp)
        budgets = f"{budget_updates} updates and {budget_seconds:g} s"
        _say(f"training ours until {budgets} are both spent")
        ours = _train_ours(config, data, budget_updates, budget_seconds, work)
        _say(f"ours: {ours['updates_per_s']:.1f} updates/s")
        _say(f"training d3rlpy IQL (in {python.parent.parent}) until {budgets} are both spent")
        theirs = _train_d3rlpy(python, config, data, budget_updates, budget_seconds, threads, work)
        _say(f"d3rlpy: {theirs['updates_per_s']:.1f} updates/s")
        results: dict[str, dict[str, SkillResult]] = {}
        point: Budget
        for point, budget in (("at_updates", "update"), ("at_seconds", "time")):
            _say(f"evaluating both policies at the {budget} budget, {episodes} episodes a skill")
            learner = Learner.load(Path(ours[point]["policy"]), config.learner)
            results[f"ours_{point}"] = _evaluate(learner.act, texts, config, episodes, progress)
            policy = TorchScriptPolicy(Path(theirs[point]["policy"]), data.skills)
            results[f"d3rlpy_{point}"] = _evaluate(policy, texts, config, episodes, progress)
    return _report(
        texts, budget_updates, budget_seconds, episodes, threads, config, source, stats,
        ours, theirs, results,
    )  # fmt: skip


def _report(
    skills: list[str],
    budget_updates: int,
    budget_seconds: float,
    episodes: int,
    threads: int,
    config: RunConfig,
    source: str,
    stats: dict[str, Json],
    ours: Training,
    theirs: D3rlpyTraining,
    results: dict[str, dict[str, SkillResult]],
) -> JsonObject:
    report: dict[str, Json] = {
        "skills": list(skills),
        "budget_updates": budget_updates,
        "budget_seconds": budget_seconds,
        "eval_episodes": episodes,
    }
    means = {name: _mean(by_skill) for name, by_skill in results.items()}
    per_skill: dict[str, dict[str, Json]] = {skill: {} for skill in skills}
    for side, trained in (("ours", ours), ("d3rlpy", theirs)):
        keys = {"at_seconds": f"{side}_success", "at_updates": f"{side}_success_at_updates"}
        for point, key in keys.items():
            for skill, result in results[f"{side}_{point}"].items():
                per_skill[skill] |= {key: result["success"], f"{key}_ci95": result["ci95"]}
        at_s, at_u = means[f"{side}_at_seconds"], means[f"{side}_at_updates"]
        report |= {
            f"{side}_updates_per_s": round(trained["updates_per_s"], 2),
            f"{side}_success": at_s["success"],
            f"{side}_success_ci95": at_s["ci95"],
            f"{side}_updates_at_seconds": trained["at_seconds"]["updates"],
            f"{side}_success_at_updates": at_u["success"],
            f"{side}_success_at_updates_ci95": at_u["ci95"],
            f"{side}_seconds_at_updates": round(trained["at_updates"]["seconds"], 2),
            f"{side}_train_seconds": round(trained["seconds"], 2),
            f"{side}_setup_seconds": round(trained["setup_seconds"], 2),
        }
    cfg = config.learner
    report |= {
        "speed_ratio": round(ours["updates_per_s"] / theirs["updates_per_s"], 3),
        "per_skill": per_skill,
        "evaluations": {
            name: {"success": r["success"], "successes": r["successes"],
                   "episodes": r["episodes"], "ci95": r["ci95"]}
            for name, r in means.items()
        },
        "data": {"source": source, **stats, "d3rlpy_transitions": theirs["transitions"]},
        "hidden_units": [cfg.hidden] * cfg.layers,
        "batch_size": cfg.batch_size,
        "discount": cfg.discount,
        "lr": cfg.lr,
        "ours": {"bins": cfg.bins, "atoms": cfg.atoms, "n_step": cfg.n_step,
                 "bc_weight": cfg.bc_weight, "act_mode": cfg.act_mode},
        "iql": {**IQL_SETTINGS, "observation_size": theirs["observation_size"],
                "last_losses": theirs["last_losses"]},
        "threads": threads,
        "device": "cpu",
        "seed": config.seed,
        "versions": {"torch": torch.__version__, "d3rlpy_venv": theirs["versions"]},
    }  # fmt: skip
    return report
