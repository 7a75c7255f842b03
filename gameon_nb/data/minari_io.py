"""Minari datasets of a run's episodes, and episode stores from them.

    >>> run = RunDir("runs/demo")
    >>> export_minari(run.store(), run.load_config(), "gameon/demo-v0")
    >>> export_minari(..., skills=["stack the red block on the blue block"])   # its rewards
    >>> minari.load_dataset("gameon/demo-v0").recover_environment()   # a GameOnStacking-v0 env
    >>> import_minari("gameon/demo-v0", RunDir("runs/next").store())  # data a run bootstraps from

`gameon export --format minari` and `gameon import` run these. A dataset holds, per episode, the
state observations of `GameOnStacking-v0` (`proprio`, `objects`), the actions, rewards relabelled
by our predicates, no terminations (the env never terminates) and a truncation at the end. With no
`skills`, each step's reward is that of the skill executed there; with `skills`, every episode
appears once per skill with that skill's rewards. `infos` (one entry per observation) hold the
`instruction` the reward belongs to, the `task`, the `executed_skill` and its `segment` (-1 outside
every segment), the `store_id`, and the full scene `state` (contacts included), from which any
other skill can be relabelled and which `import_minari` needs. The env spec's kwargs are the run's
`SimConfig` with pixels off, so `recover_environment()` makes the env the data came from, and the
metadata's `gameon` entry holds the run's config and each episode's store record. Frames are not
exported: they are kept for people at a few steps only, not as observations.

Datasets live where Minari keeps them: `$MINARI_DATASETS_PATH`, else `~/.minari/datasets`; pass
`root` to write or read elsewhere.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from gameon_nb.config import RunConfig, SimConfig, to_dict
from gameon_nb.data.episode import Episode
from gameon_nb.data.relabel import step_rewards
from gameon_nb.data.store import EpisodeStore
from gameon_nb.sim.env import object_observation
from gameon_nb.sim.scene import SceneState
from gameon_nb.skills.skill import Skill, UnknownSkillError

if TYPE_CHECKING:
    from minari import MinariDataset

__all__ = ["MinariError", "dataset_id_for", "episode_buffer", "export_minari", "import_minari"]

FORMAT_VERSION = 1
"""Version of the `gameon` metadata entry and of the infos' layout."""
_INSTALL = "pip install 'gameon_nb[minari]' (scripts/setup.sh installs it)"


class MinariError(RuntimeError):
    """A dataset that cannot be written or read; the message says what to do."""


def _minari() -> Any:
    try:
        import minari
    except ImportError as error:
        raise MinariError(f"Minari is not installed: {_INSTALL}") from error
    return minari


@contextlib.contextmanager
def _datasets_root(root: Path | str | None) -> Iterator[None]:
    """Point Minari at `root` (None: leave `MINARI_DATASETS_PATH` as it is) for a block."""
    if root is None:
        yield
        return
    before = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = str(Path(root).resolve())
    try:
        yield
    finally:
        if before is None:
            del os.environ["MINARI_DATASETS_PATH"]
        else:
            os.environ["MINARI_DATASETS_PATH"] = before


def dataset_id_for(run_name: str) -> str:
    """`gameon/<run name>-v0`, the name cut to what Minari ids allow."""
    name = re.sub(r"[^A-Za-z0-9_]+", "_", run_name).strip("_") or "run"
    return f"gameon/{name}-v0"


def _env_spec(sim: SimConfig) -> Any:
    """The spec of `GameOnStacking-v0` with `sim` (pixels off) as its JSON-ready kwargs."""
    import gymnasium

    from gameon_nb import ENV_ID

    state_only = to_dict(dataclasses.replace(sim, pixels=False))
    return dataclasses.replace(
        gymnasium.spec(ENV_ID), kwargs={"config": state_only}, max_episode_steps=sim.episode_steps
    )


def _executed(episode: Episode) -> tuple[npt.NDArray[np.int64], list[str]]:
    """Per action, the index of the segment it belongs to (-1: none), and each action's skill."""
    segment = np.full(episode.steps, -1, np.int64)
    for k, (start, end) in enumerate(episode.segments):
        segment[start:end] = k
    return segment, [episode.skills[k] if k >= 0 else "" for k in segment]


def _executed_rewards(episode: Episode, segment: npt.NDArray[np.int64]) -> np.ndarray:
    rewards = np.zeros(episode.steps, np.float32)
    after = episode.states[1:]
    for k, text in enumerate(episode.skills):
        where = segment == k
        if where.any():
            rewards[where] = Skill.from_text(text).success(after[where])
    return rewards


def _per_observation(per_action: list[str]) -> list[str]:
    """Infos have one entry per observation: the last action's entry repeats after it."""
    return [*per_action, per_action[-1] if per_action else ""]


def episode_buffer(episode: Episode, skill: str | None = None) -> Any:
    """One Minari `EpisodeBuffer` of a stored episode: rewards of `skill`, or, for None, of the
    skill executed at each step (see the module docstring)."""
    from minari.data_collector import EpisodeBuffer

    segment, executed = _executed(episode)
    if skill is None:
        rewards, instruction = _executed_rewards(episode, segment), executed
    else:
        rewards = step_rewards(episode.states, Skill.from_text(skill))
        instruction = [skill] * episode.steps
    steps, states = episode.steps, episode.states
    truncations = np.zeros(steps, bool)
    truncations[-1:] = True
    return EpisodeBuffer(
        observations={
            "proprio": episode.proprio.astype(np.float32),
            "objects": object_observation(states.block_pos, states.block_quat),
        },
        actions=episode.actions.astype(np.float32),
        rewards=rewards,
        terminations=np.zeros(steps, bool),
        truncations=truncations,
        infos={
            "instruction": _per_observation(list(instruction)),
            "task": [episode.task] * (steps + 1),
            "executed_skill": _per_observation(executed),
            "segment": np.append(segment, segment[-1:] if steps else [-1]),
            "store_id": np.full(steps + 1, -1 if episode.id is None else episode.id, np.int64),
            "state": states.to_arrays(),
        },
    )


def export_minari(
    store: EpisodeStore,
    config: RunConfig,
    dataset_id: str,
    skills: list[str] | None = None,
    root: Path | str | None = None,
) -> MinariDataset:
    """Write the store's episodes as the Minari dataset `dataset_id` (see the module docstring);
    `config` is the run's, kept in the metadata, its `sim` the env spec's.

    Refuses an id that exists (Minari never overwrites), an empty store and skills it does not
    know, before writing anything.
    """
    minari = _minari()
    ids = store.ids()
    if not ids:
        raise MinariError(f"{store.root} holds no episodes: run the loop (or bootstrap) first")
    for text in skills or []:
        try:
            Skill.from_text(text)
        except UnknownSkillError as error:
            raise MinariError(f"skill {text!r}: {error}") from error
    with _datasets_root(root):
        from minari.storage import get_dataset_path

        if get_dataset_path(dataset_id).exists():
            raise MinariError(
                f"a Minari dataset {dataset_id!r} exists in {get_dataset_path()}: pass another "
                f"--name, or delete it (minari delete {dataset_id})"
            )
        episodes = [store.load(i, frames=False) for i in ids]
        relabel: list[str | None] = list(skills) if skills else [None]
        buffers = [episode_buffer(e, s) for s in relabel for e in episodes]
        env = _env_spec(config.sim)
        from gameon_nb.sim.env import StackingEnv

        probe = StackingEnv(env.kwargs["config"])
        with warnings.catch_warnings():  # Minari nags for an author e-mail and a code link
            warnings.filterwarnings("ignore", ".* is set to None", UserWarning)
            dataset = minari.create_dataset_from_buffers(
                dataset_id=dataset_id,
                buffer=buffers,
                env=env,
                eval_env=env,
                algorithm_name="gameon_nb",
                author="gameon_nb",
                observation_space=probe.observation_space,
                action_space=probe.action_space,
                description=(
                    f"Episodes of the gameon_nb run in {store.root.parent.name!r}; rewards of "
                    + (
                        ", ".join(repr(s) for s in skills)
                        if skills
                        else "each step's executed skill"
                    )
                    + "; infos hold the instruction, task, executed skill, segment and scene state."
                ),
            )
        probe.close()
        dataset.storage.update_metadata(
            {
                "gameon": {
                    "format": FORMAT_VERSION,
                    "relabel": list(skills) if skills else "executed",
                    "config": to_dict(config),
                    "episodes": [
                        {"store_id": e.id, **e.record()} for _ in relabel for e in episodes
                    ],
                }
            }
        )
    return dataset


def import_minari(
    dataset_id: str,
    store: EpisodeStore,
    root: Path | str | None = None,
    keep_rounds: bool = False,
) -> list[int]:
    """Append the episodes of a dataset `export_minari` wrote to `store` (empty); their ids.

    Each stored episode is imported once (a dataset relabelled for several skills holds it once
    per skill). By default every episode becomes round-0 data, which a run then takes as its
    bootstrap data set (`bootstrap.episodes` at most the count imported); `keep_rounds` keeps
    the rounds they were collected in, for an exact copy of the exported store. Refuses a store
    that already holds episodes, and a dataset without scene states, before writing anything.
    """
    minari = _minari()
    with _datasets_root(root):
        try:
            dataset = minari.load_dataset(dataset_id)
        except (FileNotFoundError, ValueError) as error:
            raise MinariError(f"cannot load Minari dataset {dataset_id!r}: {error}") from error
    from gameon_nb import ENV_ID

    spec = dataset.spec.env_spec
    if spec is None or spec.id != ENV_ID:
        raise MinariError(
            f"{dataset_id!r} is a dataset of {getattr(spec, 'id', None)!r}, not of {ENV_ID}"
        )
    records = dataset.storage.metadata.get("gameon", {}).get("episodes")
    if records is None or len(records) != dataset.total_episodes:
        raise MinariError(
            f"{dataset_id!r} has no gameon episode records in its metadata: only datasets "
            "written by `gameon export --format minari` can be imported (relabelling needs the "
            "scene states and segments they hold)"
        )
    if len(store):
        raise MinariError(
            f"{store.root} already holds {len(store)} episodes: import into a new run directory"
        )
    seen: set[Any] = set()
    imported = []
    for record, data in zip(records, dataset.iterate_episodes(), strict=True):
        key = record["store_id"] if record["store_id"] is not None else ("minari", data.id)
        if key in seen:
            continue
        seen.add(key)
        if "state" not in data.infos:
            raise MinariError(f"episode {data.id} of {dataset_id!r} has no infos['state']")
        episode = Episode(
            round=record["round"] if keep_rounds else 0,
            task=record["task"],
            skills=tuple(record["skills"]),
            segments=tuple((int(a), int(b)) for a, b in record["segments"]),
            actions=np.asarray(data.actions, np.float32),
            proprio=np.asarray(data.observations["proprio"], np.float32),
            states=SceneState.from_arrays(data.infos["state"]),
            seed=record["seed"],
            source=record["source"] if keep_rounds else f"{record['source']} (minari {dataset_id})",
            job=record["job"] if keep_rounds else None,
            task_skill=record["task_skill"],
        )
        imported.append(store.append(episode))
    return imported
