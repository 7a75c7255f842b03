"""`Learner`: fits the actor-critic offline on all stored data, acts, and checkpoints exactly.

    >>> learner = Learner(RunConfig().learner, seed=0)
    >>> learner.set_data(TransitionData.from_store(store, library.known()))
    >>> rows = learner.fit(2000)                  # one metrics dict per `log_every` updates
    >>> learner.act(obs, ["lift the red block"])  # (B, 5) actions for batched observations
    >>> learner.save(run.checkpoint("latest")); Learner.load(path)    # run = RunDir("runs/a")

One update: the critic's cross-entropy to the projected n-step target (expectation over actions
sampled from the target policy), and the policy's bc_weight * behaviour cloning + (1 - bc_weight)
* improvement toward softmax(Q / eta) over actions sampled from the policy. The target networks
are copied every `target_period` updates. A checkpoint holds the networks, the optimiser, both
random streams and the step, so a resumed fit equals an uninterrupted one (on the CPU).
"""

from __future__ import annotations

import contextlib
import copy
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from gameon_nb.atomic import atomic_write_bytes
from gameon_nb.config import LearnerConfig, from_dict, to_dict
from gameon_nb.data.dataset import BatchSampler, TransitionData
from gameon_nb.learner import losses as L
from gameon_nb.learner import readout as R
from gameon_nb.learner.evaluate import BatchPolicy
from gameon_nb.learner.model import ACTION_DIM, ActorCritic, Observation, tokenize
from gameon_nb.learner.readout import READOUTS
from gameon_nb.progress import progress_bar
from gameon_nb.sim.env import PROPRIO_FIELDS
from gameon_nb.streams import TRAIN, stream

__all__ = ["PARTS", "CheckpointError", "Learner", "part", "pick_device"]

PARTS = (
    "tensors", "target", "encoders", "critic", "actor", "losses", "backward", "optimiser",
    "statistics",
)  # fmt: skip
"""The named parts of an update, in order (profiler regions `gameon.<part>`)."""


def part(name: str) -> torch.profiler.record_function:
    """A profiler region of an update's part (a no-op when no profiler records)."""
    return torch.profiler.record_function(f"gameon.{name}")


PROPRIO_DIM = len(PROPRIO_FIELDS)


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be read or does not fit this learner."""


def pick_device(name: str) -> torch.device:
    """'auto' is CUDA when present, else the CPU; 'cuda' without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("LearnerConfig.device is 'cuda' but torch sees no GPU; use 'auto'")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {name!r}; known: ['auto', 'cpu', 'cuda']")
    return torch.device(name)


class Learner:
    """The offline actor-critic; see the module docstring."""

    def __init__(self, config: LearnerConfig, seed: int = 0, cameras: tuple[str, ...] = ()) -> None:
        self.config = config
        self.seed = seed
        self.device = pick_device(config.device)
        self.cameras = cameras if config.pixels else ()
        if config.pixels and not self.cameras:
            raise ValueError("LearnerConfig.pixels needs the policy cameras' names")
        torch_rng = torch.Generator().manual_seed(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)  # initial weights from the run's seed, global RNG untouched
            self.model = ActorCritic(config, PROPRIO_DIM, self.cameras).to(self.device)
        self.target = copy.deepcopy(self.model).requires_grad_(False)
        # one fused kernel for every parameter: on a CPU the per-tensor loop of plain Adam costs
        # about a sixth of a small model's update
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr, fused=True)
        self.step = 0
        self.rng = stream(seed, TRAIN)
        self.torch_rng = torch_rng
        self._act_generator = torch.Generator().manual_seed(seed)
        """Draws of `act` when the caller passes no generator: one stream, not one per call."""
        self.data: TransitionData | None = None
        self.sampler: BatchSampler | None = None
        self.normalized = False
        self._tokens: torch.Tensor | None = None
        self.centres = torch.linspace(-1.0, 1.0, config.bins, device=self.device)
        self.support = torch.linspace(config.v_min, config.v_max, config.atoms, device=self.device)

    # -- data ----------------------------------------------------------------------------------

    def set_data(self, data: TransitionData) -> None:
        """Train on `data` from now on; the first data set also fixes the input normalisation."""
        if self.config.pixels and set(self.cameras) - set(data.frames):
            raise ValueError(
                f"pixel learning needs frames of {self.cameras}; data has {list(data.frames)}"
            )
        self.data = data
        self.sampler = BatchSampler(data, self.config, self.rng)
        self._tokens = tokenize(data.skills, self.config.max_words).to(self.device)
        if not self.normalized:
            proprio = torch.as_tensor(data.proprio, device=self.device)
            objects = torch.as_tensor(data.objects, device=self.device)
            for model in (self.model, self.target):
                model.fit_normalizers(proprio, objects)
            self.normalized = True

    def _obs(self, batch: dict[str, npt.NDArray[Any]], prefix: str = "") -> Observation:
        obs = {
            "proprio": torch.as_tensor(batch[f"{prefix}proprio"], device=self.device),
            "objects": torch.as_tensor(batch[f"{prefix}objects"], device=self.device),
        }
        for camera in self.cameras:
            obs[camera] = torch.as_tensor(batch[f"{prefix}pixels/{camera}"], device=self.device)
        return obs

    # -- training ------------------------------------------------------------------------------

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _sample_bins(self, logits: torch.Tensor, count: int) -> torch.Tensor:
        """(B, M, 5) bin indices of `count` actions per state from the factorised categorical.

        Drawn on the CPU from the learner's own generator, so a resumed run draws the same."""
        probs = torch.softmax(logits.float(), dim=-1).reshape(-1, self.config.bins).cpu()
        picks = torch.multinomial(probs, count, replacement=True, generator=self.torch_rng)
        return picks.to(self.device).view(-1, ACTION_DIM, count).transpose(1, 2)

    @staticmethod
    def _log_prob(logits: torch.Tensor, picks: torch.Tensor) -> torch.Tensor:
        """(B, M) log probability of the sampled bins under (B, 5, bins) logits."""
        log_probs = (
            torch.log_softmax(logits, dim=-1).unsqueeze(1).expand(-1, picks.shape[1], -1, -1)
        )
        return log_probs.gather(-1, picks.unsqueeze(-1)).squeeze(-1).sum(-1)

    def update(self, batch: dict[str, npt.NDArray[Any]]) -> dict[str, float]:
        """One gradient step on a batch from `BatchSampler.sample`; returns its statistics.

        Its parts run in profiler regions named `PARTS` (free when no profiler listens), which
        `gameon bench learner-speed` reads."""
        cfg, model, target = self.config, self.model, self.target
        assert self._tokens is not None
        with part("tensors"):
            tokens = self._tokens[torch.as_tensor(batch["skill"], device=self.device)]
            action = torch.as_tensor(batch["action"], device=self.device)
            returns = torch.as_tensor(batch["return"], device=self.device)
            discount = torch.as_tensor(batch["next_discount"], device=self.device)
            bc_mask = torch.as_tensor(batch["bc_mask"], device=self.device)
            obs, next_obs = self._obs(batch), self._obs(batch, "next_")
        m = cfg.action_samples
        with part("target"), torch.no_grad(), self._autocast():
            next_features = target.features(next_obs, tokens)
            next_actions = self.centres[self._sample_bins(target.policy(next_features), m)]
            next_probs = torch.softmax(target.critic(next_features, next_actions).float(), -1)
            values = returns[:, None, None] + discount[:, None, None] * self.support  # (B, 1, A)
            td_target = L.categorical_projection(
                values.expand(-1, m, -1).reshape(len(returns), -1),
                next_probs.reshape(len(returns), -1) / m,
                self.support,
            )
        with self._autocast():
            with part("encoders"):
                features = model.features(obs, tokens)
            with part("critic"):
                critic_logits = model.critic(features, action).float()
            with part("actor"):
                logits = model.policy(features).float()
        with part("losses"):
            critic_loss = L.cross_entropy(critic_logits, td_target)
            bc = L.bc_loss(logits, action, bc_mask, self.centres)
            with torch.no_grad(), self._autocast():
                picks = self._sample_bins(logits.detach(), m)
                q_logits = model.critic(features.detach(), self.centres[picks]).float()
                q = (torch.softmax(q_logits, -1) * self.support).sum(-1)  # (B, M)
                weights = L.improvement_weights(q, cfg.eta)
            improvement = L.improvement_loss(self._log_prob(logits, picks), weights)
            policy = L.policy_loss(bc, improvement, cfg.bc_weight)
            loss = cfg.critic_weight * critic_loss + policy
        with part("backward"):
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
        with part("optimiser"):
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            self.optimizer.step()
            self.step += 1
            if self.step % cfg.target_period == 0:
                target.load_state_dict(model.state_dict())
        with part("statistics"), torch.no_grad():
            q_data = (torch.softmax(critic_logits, -1) * self.support).sum(-1)
            entropy = -(torch.softmax(logits, -1) * torch.log_softmax(logits, -1)).sum((-1, -2))
            stats = {
                "loss": loss,
                "critic_loss": critic_loss,
                "bc_loss": bc,
                "improvement_loss": improvement,
                "q_data": q_data.mean(),
                "q_sampled": q.mean(),
                "target_return": returns.mean(),
                "policy_entropy": entropy.mean(),
                "bc_fraction": bc_mask.mean(),
                "grad_norm": grad_norm,
            }
            return {k: float(v.detach()) for k, v in stats.items()}

    def fit(
        self, steps: int, progress: bool = False, seconds: float | None = None
    ) -> list[dict[str, float]]:
        """`steps` updates (fewer if `seconds` of wall time run out first); one row of averaged
        statistics (and throughput) per `log_every` updates."""
        if self.sampler is None:
            raise RuntimeError("no data: call set_data(TransitionData.from_store(...)) first")
        self.model.train()
        rows: list[dict[str, float]] = []
        window: list[dict[str, float]] = []
        started = time.perf_counter()
        deadline = started + seconds if seconds is not None else float("inf")
        bar = progress_bar(
            total=steps, desc="train", unit="step", disable=not progress, leave=False
        )
        for _ in range(steps):
            if time.perf_counter() >= deadline:
                break
            window.append(self.update(self.sampler.sample()))
            bar.update()
            if self.step % self.config.log_every == 0:
                rows.append(self._summarise(window, started))
                window, started = [], time.perf_counter()
        if window:
            rows.append(self._summarise(window, started))
        bar.close()
        return rows

    def _summarise(self, window: list[dict[str, float]], started: float) -> dict[str, float]:
        seconds = time.perf_counter() - started
        row = {k: float(np.mean([w[k] for w in window])) for k in window[0]}
        return {"step": float(self.step), **row, "updates_per_s": len(window) / max(seconds, 1e-9)}

    # -- acting --------------------------------------------------------------------------------

    @torch.no_grad()
    def act(
        self,
        obs: dict[str, npt.NDArray[Any]],
        skills: list[str],
        mode: str | None = None,
        generator: torch.Generator | None = None,
    ) -> npt.NDArray[np.float32]:
        """(B, 5) actions for batched env observations, each conditioned on its skill text.

        `mode` is a read-out of `gameon_nb.learner.readout` (default: LearnerConfig.act_mode);
        'sample' and 'best_of' draw from `generator` (default: one stream of the learner's seed),
        never from the training streams, so acting cannot change what a resumed fit draws.
        """
        mode = mode or self.config.act_mode
        if mode not in READOUTS:
            raise ValueError(f"unknown act mode {mode!r}; known: {list(READOUTS)}")
        model = self.model
        model.eval()
        batch = {k: np.asarray(v) for k, v in obs.items()}
        if batch["proprio"].ndim == 1:
            batch = {k: v[None] for k, v in batch.items()}
        tensors = {k: torch.as_tensor(v, device=self.device) for k, v in batch.items()}
        tokens = tokenize(skills, self.config.max_words).to(self.device)
        with self._autocast():
            features = model.features(tensors, tokens)
            probs = torch.softmax(model.policy(features).float(), -1)
        generator = generator or self._act_generator
        if mode == "mean":
            actions = R.expected(probs, self.centres)
        elif mode == "mode":
            actions = R.most_likely(probs, self.centres)
        elif mode == "sample":
            actions = R.sampled(probs, self.centres, 1, generator)[:, 0]
        else:
            if mode == "critic":
                candidates = R.policy_modes(probs, self.centres)
            else:
                draws = R.sampled(probs, self.centres, self.config.act_samples, generator)
                candidates = torch.cat([R.expected(probs, self.centres)[:, None], draws], 1)
            with self._autocast():
                q_logits = model.critic(features, candidates).float()
            q = (torch.softmax(q_logits, -1) * self.support).sum(-1)
            actions = R.pick_by_critic(candidates, q)
        return actions.cpu().numpy().astype(np.float32)

    def policy(self, mode: str | None = None, seed: int = 0) -> BatchPolicy:
        """`act` as a batch policy with its own random stream (for collection and evaluation).

        >>> evaluate_skills(learner.policy(seed=3), skills, sim_config)
        """
        generator = torch.Generator().manual_seed(seed)

        def act(obs: dict[str, npt.NDArray[Any]], skills: list[str]) -> npt.NDArray[np.float32]:
            return self.act(obs, skills, mode, generator)

        return act

    # -- checkpoints ---------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        return {
            "format": 1,
            "config": to_dict(self.config),
            "seed": self.seed,
            "cameras": list(self.cameras),
            "step": self.step,
            "model": self.model.state_dict(),
            "target": self.target.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "numpy_rng": self.rng.bit_generator.state,
            "torch_rng": self.torch_rng.get_state(),
            "normalized": self.normalized,
        }

    def save(self, path: Path) -> None:
        """Write a checkpoint atomically (temporary file, fsync, rename)."""
        buffer = io.BytesIO()
        torch.save(self.state_dict(), buffer)
        atomic_write_bytes(Path(path), buffer.getvalue())

    @classmethod
    def load(cls, path: Path, config: LearnerConfig | None = None) -> Learner:
        """A learner exactly as saved (the saved config unless `config` replaces it)."""
        try:
            state = torch.load(Path(path), map_location="cpu", weights_only=False)
            saved = from_dict(LearnerConfig, state["config"])
        except (OSError, RuntimeError, KeyError, EOFError, ValueError) as error:
            raise CheckpointError(f"cannot read checkpoint {path}: {error}") from error
        learner = cls(config or saved, state["seed"], tuple(state["cameras"]))
        learner.load_state_dict(state)
        return learner

    def load_state_dict(self, state: dict[str, Any]) -> None:
        try:
            self.model.load_state_dict(state["model"])
            self.target.load_state_dict(state["target"])
            self.optimizer.load_state_dict(state["optimizer"])
        except (RuntimeError, KeyError, ValueError) as error:
            raise CheckpointError(
                f"checkpoint does not fit this learner's config: {error}"
            ) from error
        self.step = int(state["step"])
        self.rng.bit_generator.state = state["numpy_rng"]
        self.torch_rng.set_state(state["torch_rng"])
        self.normalized = bool(state["normalized"])

    def parameters(self) -> Iterator[torch.nn.Parameter]:
        return self.model.parameters()
