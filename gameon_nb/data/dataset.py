"""Training batches: every stored step as flat arrays, relabelled for every skill, sampled balanced.

    >>> data = TransitionData.from_store(store, skills=library.known())
    >>> sampler = BatchSampler(data, LearnerConfig(), rng=np.random.default_rng(0))
    >>> batch = sampler.sample()          # dict of numpy arrays: obs, action, skill, n-step target

Rows are states: an episode of T actions holds T + 1 rows, and the action of row t leads to row
t + 1. The reward of skill k for that action is k's predicate on row t + 1, and a success ends the
skill (a terminal for the critic). A (transition, skill) pair is a demonstration of the skill, and
is cloned, when the skill was executed there and succeeded, when the episode's task was that skill
and the decomposition achieved it (every row up to the task's success), or when the step lies in
the window of the skill's duration before the skill came true by chance (hindsight): that is how
a stack that happened while practising something else teaches "stack".
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from gameon_nb.config import LearnerConfig
from gameon_nb.data.episode import Episode
from gameon_nb.data.store import EpisodeStore
from gameon_nb.progress import progress_bar
from gameon_nb.sim.scene import SceneState
from gameon_nb.skills.skill import Skill

__all__ = ["BatchSampler", "RowCache", "TransitionData", "objects_from_states"]

Array = npt.NDArray[Any]


def objects_from_states(states: SceneState) -> npt.NDArray[np.float32]:
    """(..., 3, 7) block poses as the env's `objects` observation (position, then w-first quat)."""
    return np.concatenate([states.block_pos, states.block_quat], axis=-1).astype(np.float32)


@dataclass
class TransitionData:
    """The store's steps as arrays; see the module docstring. Build with `from_store`."""

    skills: list[str]
    """Skill texts, in the order of the skill axis of `rewards` and `hindsight`."""
    proprio: npt.NDArray[np.float32]
    """(R, P) proprioception per row (state)."""
    objects: npt.NDArray[np.float32]
    """(R, 3, 7) block poses per row."""
    actions: npt.NDArray[np.float32]
    """(R, 5) the action taken at each row (zeros on an episode's last row, which has none)."""
    has_action: npt.NDArray[np.bool_]
    """(R,) false on each episode's last row."""
    last_row: npt.NDArray[np.int64]
    """(R,) the last row of the row's episode."""
    rewards: npt.NDArray[np.bool_]
    """(R, S) skill k's predicate on the next row (false where there is no action)."""
    executed: npt.NDArray[np.int64]
    """(R,) index of the skill executed at this row (-1: none, or not in `skills`)."""
    executed_ok: npt.NDArray[np.bool_]
    """(R,) the executed skill's segment succeeded."""
    task: npt.NDArray[np.int64]
    """(R,) index of the episode's task skill on rows up to the task's first success (-1: none,
    after it, or not in `skills`): a decomposition that achieved its task demonstrates it."""
    task_ok: npt.NDArray[np.bool_]
    """(R,) the row leads to its episode's task coming true."""
    hindsight: npt.NDArray[np.bool_]
    """(R, S) the row lies in a window of skill k's duration before k came true."""
    episode_ids: npt.NDArray[np.int64]
    """(R,) store id of the row's episode."""
    frames: dict[str, npt.NDArray[np.uint8]]
    """Camera -> (K, H, W, 3) frames, when built with pixels."""
    frame_index: npt.NDArray[np.int64]
    """(R,) index into each camera's frames: the latest frame kept at or before the row."""

    @property
    def rows(self) -> int:
        return len(self.proprio)

    @functools.cached_property
    def composite(self) -> npt.NDArray[np.bool_]:
        """(S,) the skill is composite (stack, next-to, tower) rather than base."""
        return np.array([Skill.from_text(t).kind == "composite" for t in self.skills])

    @classmethod
    def from_store(
        cls,
        store: EpisodeStore,
        skills: Sequence[str],
        pixels: bool = False,
        cameras: Sequence[str] = ("front_left", "front_right"),
        progress: bool = False,
        ids: Sequence[int] | None = None,
        cache: RowCache | None = None,
    ) -> TransitionData:
        """Read every episode of `store` (or those of `ids`), with the cameras' frames if
        `pixels`, and relabel it; a `cache` keeps each episode's rows for the next call."""
        parsed = [Skill.from_text(t) for t in skills]
        parts: dict[str, list[Array]] = {k: [] for k in _PARTS}
        frames: dict[str, list[Array]] = {c: [] for c in cameras} if pixels else {}
        offset = frame_offset = 0
        ids = store.ids() if ids is None else ids
        if not ids:
            raise ValueError(
                f"the episode store {store.root} is empty: run `gameon bootstrap` first"
            )
        if pixels:
            cache = None  # its frames would be held twice
        elif cache is not None:
            cache.keep(parsed)
        for episode_id in progress_bar(
            ids, desc="load episodes", disable=not progress, leave=False
        ):
            kept = cache.get(store, episode_id) if cache is not None else None
            if kept is None:
                ep = store.load(episode_id, frames=pixels)
                kept = _relabel(ep, episode_id, parsed)
                if cache is not None:
                    cache.put(store, episode_id, kept)
            rows = len(kept["proprio"])
            for name, array in kept.items():
                parts[name].append(array)
            parts["last_row"].append(np.full(rows, offset + rows - 1, dtype=np.int64))
            if pixels:
                missing = [c for c in cameras if c not in ep.frames]
                if missing:
                    raise ValueError(
                        f"episode {episode_id} has no {missing} frames: pixel learning needs "
                        "episodes stored with data.policy_frames=true"
                    )
                for camera in cameras:
                    frames[camera].append(ep.frames[camera])
                shown = np.searchsorted(ep.frame_steps, np.arange(rows), side="right") - 1
                parts["frame_index"].append(frame_offset + np.maximum(shown, 0))
                frame_offset += len(ep.frame_steps)
            else:
                parts["frame_index"].append(np.zeros(rows, dtype=np.int64))
            offset += rows
        arrays = {k: np.concatenate(v) for k, v in parts.items()}
        return cls(
            skills=[s.text for s in parsed],
            frames={c: np.concatenate(f) for c, f in frames.items()},
            **arrays,
        )

    def bc_mask(
        self, rows: Array, skills: Array, success_only: bool = True, hindsight: str = "composite"
    ) -> Array:
        """Whether each (row, skill) pair is a demonstration of the skill (see LearnerConfig)."""
        if hindsight not in HINDSIGHT_BC:
            raise ValueError(f"unknown hindsight_bc {hindsight!r}; known: {sorted(HINDSIGHT_BC)}")
        executed = self.executed[rows] == skills
        task = self.task[rows] == skills
        if success_only:
            executed &= self.executed_ok[rows]
            task &= self.task_ok[rows]
        executed |= task
        if hindsight == "none":
            return executed  # type: ignore[no-any-return]
        window = self.hindsight[rows, skills]
        if hindsight == "composite":
            window &= self.composite[skills]
        return executed | window  # type: ignore[no-any-return]

    def n_step(
        self, rows: Array, skills: Array, n: int, discount: float
    ) -> tuple[Array, Array, Array]:
        """(return of up to n rewards, row to bootstrap from, its discount; 0 after a success).

        A success ends the sum and the skill; an episode's end bootstraps from its last row.
        """
        ret = np.zeros(len(rows), dtype=np.float32)
        alive = np.ones(len(rows), dtype=bool)
        row = rows.copy()
        scale = np.ones(len(rows), dtype=np.float32)
        for _ in range(n):
            acting = alive & self.has_action[row]
            reward = self.rewards[row, skills] & acting
            ret += scale * reward
            alive &= ~reward
            scale = np.where(acting, scale * discount, scale)
            row = np.where(acting, row + 1, row)
        return ret, row, np.where(alive, scale, 0.0).astype(np.float32)


def _relabel(ep: Episode, episode_id: int, parsed: list[Skill]) -> dict[str, Array]:
    """One episode's rows and their labels for the skills `parsed` (all but `last_row` and
    `frame_index`, which depend on where the episode lands in the data)."""
    column = {s.text: k for k, s in enumerate(parsed)}
    rows = ep.steps + 1
    success = np.stack([s.success(ep.states) for s in parsed], axis=-1)  # (rows, S)
    rewards = np.zeros_like(success)
    rewards[:-1] = success[1:]
    executed = np.full(rows, -1, dtype=np.int64)
    executed_ok = np.zeros(rows, dtype=bool)
    for text, (start, end), ok in zip(ep.skills, ep.segments, ep.segment_success(), strict=True):
        executed[start:end] = column.get(text, -1)
        executed_ok[start:end] = ok
    task = np.full(rows, -1, dtype=np.int64)
    task_ok = np.zeros(rows, dtype=bool)
    if ep.task_skill in column:
        k = column[ep.task_skill]
        came = np.flatnonzero(success[1:, k])  # action rows that make it true
        last = int(came[0]) + 1 if len(came) else ep.steps
        task[:last] = k
        task_ok[:last] = len(came) > 0
    hindsight = np.zeros_like(success)
    for k, skill in enumerate(parsed):
        (rises,) = np.nonzero(success[1:, k] & ~success[:-1, k])  # action row leading in
        for t in rises:
            hindsight[max(0, t - skill.duration + 1) : t + 1, k] = True
    has_action = np.ones(rows, dtype=bool)
    has_action[-1] = False
    return {
        "proprio": ep.proprio,
        "objects": objects_from_states(ep.states),
        "actions": np.concatenate([ep.actions, np.zeros((1, 5), np.float32)]),
        "has_action": has_action,
        "rewards": rewards,
        "executed": executed,
        "executed_ok": executed_ok,
        "task": task,
        "task_ok": task_ok,
        "hindsight": hindsight,
        "episode_ids": np.full(rows, episode_id, dtype=np.int64),
    }


class RowCache:
    """Each episode's relabelled rows, kept between `TransitionData.from_store` calls, so that a
    loop round reads and relabels only the episodes stored since the last one.

        >>> cache = RowCache()
        >>> data = TransitionData.from_store(store, skills, cache=cache)  # reads every episode
        >>> data = TransitionData.from_store(store, skills, cache=cache)  # reads only new ones

    The data are the same with or without it. An episode is read again when its file changed
    (size or modification time) and every episode when the skills change; pixel data are never
    cached (their frames would be held twice).
    """

    def __init__(self) -> None:
        self._skills: list[str] = []
        self._rows: dict[int, tuple[tuple[int, int], dict[str, Array]]] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def keep(self, parsed: list[Skill]) -> None:
        """Drop everything unless it was relabelled for exactly these skills."""
        if [s.text for s in parsed] != self._skills:
            self._skills, self._rows = [s.text for s in parsed], {}

    def get(self, store: EpisodeStore, episode_id: int) -> dict[str, Array] | None:
        found = self._rows.get(episode_id)
        return found[1] if found is not None and found[0] == _stamp(store, episode_id) else None

    def put(self, store: EpisodeStore, episode_id: int, rows: dict[str, Array]) -> None:
        self._rows[episode_id] = (_stamp(store, episode_id), rows)


def _stamp(store: EpisodeStore, episode_id: int) -> tuple[int, int]:
    stat = store.path(episode_id).stat()
    return stat.st_mtime_ns, stat.st_size


HINDSIGHT_BC = {"all", "composite", "none"}

_PARTS = (
    "proprio",
    "objects",
    "actions",
    "has_action",
    "last_row",
    "rewards",
    "executed",
    "executed_ok",
    "task",
    "task_ok",
    "hindsight",
    "episode_ids",
    "frame_index",
)


class BatchSampler:
    """Balanced (transition, skill) batches: executed, hindsight and uniformly relabelled pairs.

    Skills are drawn uniformly within the executed and hindsight shares, so rare successes are not
    drowned by common skills; the rest pairs a uniform row with a uniform skill.
    """

    def __init__(self, data: TransitionData, config: LearnerConfig, rng: np.random.Generator):
        self.data, self.config, self.rng = data, config, rng
        acting = np.nonzero(data.has_action)[0]
        self.acting_rows = acting
        self.by_executed = [
            acting[(data.executed[acting] == k) | (data.task[acting] == k)]
            for k in range(len(data.skills))
        ]
        self.by_hindsight = [acting[data.hindsight[acting, k]] for k in range(len(data.skills))]
        self.executed_skills = [k for k, r in enumerate(self.by_executed) if len(r)]
        self.hindsight_skills = [k for k, r in enumerate(self.by_hindsight) if len(r)]

    def _grouped(self, groups: list[Array], skills: list[int], count: int) -> tuple[Array, Array]:
        if not skills or count == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        chosen = self.rng.choice(skills, size=count)
        rows = np.array([groups[k][self.rng.integers(len(groups[k]))] for k in chosen])
        return rows.astype(np.int64), chosen.astype(np.int64)

    def sample_pairs(self, size: int | None = None) -> tuple[Array, Array]:
        """(rows, skills) of one batch."""
        cfg = self.config
        size = size or cfg.batch_size
        n_exec = round(size * cfg.task_fraction) if self.executed_skills else 0
        n_hind = round(size * cfg.hindsight_fraction) if self.hindsight_skills else 0
        n_rand = size - n_exec - n_hind
        r1, k1 = self._grouped(self.by_executed, self.executed_skills, n_exec)
        r2, k2 = self._grouped(self.by_hindsight, self.hindsight_skills, n_hind)
        r3 = self.rng.choice(self.acting_rows, size=n_rand)
        k3 = self.rng.integers(len(self.data.skills), size=n_rand)
        return np.concatenate([r1, r2, r3]), np.concatenate([k1, k2, k3])

    def sample(self, size: int | None = None) -> dict[str, Array]:
        """One batch: observations now and at the bootstrap row, action, skill, targets, masks."""
        cfg, data = self.config, self.data
        rows, skills = self.sample_pairs(size)
        ret, next_rows, next_discount = data.n_step(rows, skills, cfg.n_step, cfg.discount)
        batch = {
            "proprio": data.proprio[rows],
            "objects": data.objects[rows],
            "next_proprio": data.proprio[next_rows],
            "next_objects": data.objects[next_rows],
            "action": data.actions[rows],
            "skill": skills,
            "return": ret,
            "next_discount": next_discount,
            "bc_mask": data.bc_mask(rows, skills, cfg.bc_success_only, cfg.hindsight_bc).astype(
                np.float32
            ),
        }
        for camera, frames in data.frames.items():
            batch[f"pixels/{camera}"] = frames[data.frame_index[rows]]
            batch[f"next_pixels/{camera}"] = frames[data.frame_index[next_rows]]
        return batch
