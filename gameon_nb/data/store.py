"""`EpisodeStore`: append-only, crash-safe episode files in a run directory, read with pandas.

    >>> store = EpisodeStore(RunDir("runs/a").episodes)     # or RunDir("runs/a").store()
    >>> episode_id = store.append(episode)           # atomic: temp file, fsync, rename
    >>> store.load(episode_id).states.block_pos.shape
    >>> store.episodes_table(); store.steps_table()  # one row per episode / per step
    >>> store.frames(episode_id, "experimenter")     # (K, H, W, 3) uint8

One `.npz` file per episode, named by id; the set of files is the index, so there is nothing to
keep in step after a crash. A writer killed mid-episode leaves only a `.tmp-*` file, which is not
an episode. A truncated or damaged episode file raises StoreCorruptError naming it.
"""

from __future__ import annotations

import json
import re
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import numpy.typing as npt

from gameon_nb.atomic import atomic_write_with, remove_stale_temporaries
from gameon_nb.data.episode import Episode, EpisodeMeta
from gameon_nb.sim.env import PROPRIO_FIELDS
from gameon_nb.sim.scene import SceneState

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EpisodeStore", "StoreCheck", "StoreCorruptError"]

_NAME = re.compile(r"^ep-(\d{7})\.npz$")
_STATE = "state/"
_FRAMES = "frames/"


class StoreCorruptError(RuntimeError):
    """An episode file that cannot be read; the message names it."""


class StoreCheck(TypedDict):
    """`EpisodeStore.verify()`: episodes read, damaged files (by message), stale temporaries."""

    episodes: int
    damaged: list[str]
    stale_temporaries: list[str]


class EpisodeStore:
    """Episodes of one run; see the module docstring."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._meta: dict[int, EpisodeMeta] = {}

    def path(self, episode_id: int) -> Path:
        return self.root / f"ep-{episode_id:07d}.npz"

    def ids(self) -> list[int]:
        """Ids of the committed episodes, ascending."""
        return sorted(int(m[1]) for p in self.root.iterdir() if (m := _NAME.match(p.name)))

    def __len__(self) -> int:
        return len(self.ids())

    def append(self, episode: Episode) -> int:
        """Write `episode` under the next id (set on the episode) and return the id."""
        ids = self.ids()
        episode.id = (ids[-1] + 1) if ids else 0
        meta = EpisodeMeta(
            **episode.record(), id=episode.id, task_success=episode.task_success(),
            steps=episode.steps, cameras=sorted(episode.frames),
        )  # fmt: skip
        arrays: dict[str, npt.NDArray[Any]] = {
            "meta": np.array(json.dumps(meta)),
            "actions": episode.actions.astype(np.float32),
            "proprio": episode.proprio.astype(np.float32),
            "frame_steps": episode.frame_steps.astype(np.int64),
        }
        arrays |= {_STATE + k: v for k, v in episode.states.to_arrays().items()}
        arrays |= {_FRAMES + k: v for k, v in episode.frames.items()}
        save = np.savez_compressed  # its stub checks **arrays against its allow_pickle flag
        atomic_write_with(self.path(episode.id), lambda f: save(f, **arrays))  # type: ignore[arg-type]
        self._meta[episode.id] = meta
        return episode.id

    def _open(self, episode_id: int) -> Any:
        path = self.path(episode_id)
        if not path.exists():
            raise KeyError(f"no episode {episode_id} in {self.root}")
        try:
            return np.load(path, allow_pickle=False)
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
            raise StoreCorruptError(f"episode file {path} is damaged: {error}") from error

    def _read(self, episode_id: int, keys: list[str] | None = None) -> dict[str, npt.NDArray[Any]]:
        path = self.path(episode_id)
        with self._open(episode_id) as npz:
            try:
                names = npz.files if keys is None else keys
                return {k: npz[k] for k in names}
            except (
                zipfile.BadZipFile,
                ValueError,
                OSError,
                EOFError,
                KeyError,
                zlib.error,
            ) as error:
                raise StoreCorruptError(f"episode file {path} is damaged: {error}") from error

    def meta(self, episode_id: int) -> EpisodeMeta:
        """The episode's metadata (id, round, task, skills, segments, seed, source, steps)."""
        if episode_id not in self._meta:
            meta: EpisodeMeta = json.loads(str(self._read(episode_id, ["meta"])["meta"]))
            self._meta[episode_id] = meta
        return self._meta[episode_id]

    def load(self, episode_id: int, frames: bool = True) -> Episode:
        """Read one episode, with its frames unless `frames` is False (then none are read)."""
        with self._open(episode_id) as npz:
            names = [k for k in npz.files if frames or not k.startswith(_FRAMES)]
        data = self._read(episode_id, names)
        meta: EpisodeMeta = json.loads(str(data["meta"]))
        return Episode(
            id=meta["id"],
            round=meta["round"],
            task=meta["task"],
            skills=tuple(meta["skills"]),
            segments=tuple((int(a), int(b)) for a, b in meta["segments"]),
            actions=data["actions"],
            proprio=data["proprio"],
            states=SceneState.from_arrays(
                {k[len(_STATE) :]: v for k, v in data.items() if k.startswith(_STATE)}
            ),
            frames={
                k[len(_FRAMES) :]: v for k, v in data.items() if frames and k.startswith(_FRAMES)
            },
            frame_steps=data["frame_steps"] if frames else np.zeros(0, np.int64),
            seed=meta["seed"],
            source=meta["source"],
            job=meta.get("job"),
            task_skill=meta.get("task_skill"),
        )

    def frames(self, episode_id: int, camera: str) -> np.ndarray:
        """(K, H, W, 3) frames of one camera; `meta(id)['cameras']` lists the cameras."""
        key = _FRAMES + camera
        with self._open(episode_id) as npz:
            if key not in npz.files:
                cameras = [k[len(_FRAMES) :] for k in npz.files if k.startswith(_FRAMES)]
                raise KeyError(f"episode {episode_id} has no {camera!r} frames; it has {cameras}")
        return self._read(episode_id, [key])[key]

    def verify(self) -> StoreCheck:
        """Read every episode fully; report damaged files by name and stale temporaries."""
        damaged = []
        for i in self.ids():
            try:
                self._read(i)
            except StoreCorruptError as error:
                damaged.append(str(error))
        stale = [p.name for p in self.root.glob(".tmp-*")]
        return StoreCheck(episodes=len(self), damaged=damaged, stale_temporaries=stale)

    def remove_stale_temporaries(self) -> list[Path]:
        """Delete what killed writers left behind (never a committed episode)."""
        return remove_stale_temporaries(self.root)

    def episodes_table(self) -> pd.DataFrame:
        """One row per episode: id, round, task, its skill and outcome, skills, segments, steps,
        seed, source, job."""
        import pandas as pd

        rows = [self.meta(i) for i in self.ids()]
        columns = ["id", "round", "task", "task_skill", "task_success", "skills", "segments"]
        columns += ["steps", "seed", "source", "job"]
        return pd.DataFrame(rows, columns=[*columns, "cameras"]).drop(columns="cameras")

    def steps_table(self) -> pd.DataFrame:
        """One row per action: episode, step, skill, the action and the proprio before it."""
        import pandas as pd

        frames = []
        for i in self.ids():
            data = self._read(i, ["actions", "proprio"])
            meta = self.meta(i)
            steps = len(data["actions"])
            skill = np.empty(steps, dtype=object)
            for text, (start, end) in zip(meta["skills"], meta["segments"], strict=True):
                skill[start:end] = text
            table = {"episode": i, "round": meta["round"], "step": np.arange(steps), "skill": skill}
            table |= {f"action_{k}": data["actions"][:, k] for k in range(data["actions"].shape[1])}
            table |= {name: data["proprio"][:-1, k] for k, name in enumerate(PROPRIO_FIELDS)}
            frames.append(pd.DataFrame(table))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
