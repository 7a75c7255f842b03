"""Training batches: n-step targets and demonstration masks by hand, and the store's relabelling."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from gameon_nb.config import LearnerConfig
from gameon_nb.data.dataset import BatchSampler, RowCache, TransitionData, objects_from_states
from gameon_nb.data.relabel import Relabeller
from gameon_nb.data.store import EpisodeStore
from gameon_nb.sim.env import make_env
from gameon_nb.skills.library import SkillLibrary
from gameon_nb.skills.skill import Skill


def tiny() -> TransitionData:
    """One episode of 4 actions (5 rows), 2 skills; skill 0 comes true after action 2."""
    rows = 5
    rewards = np.zeros((rows, 2), dtype=bool)
    rewards[2, 0] = True
    hindsight = np.zeros((rows, 2), dtype=bool)
    hindsight[1:3, 0] = True
    return TransitionData(
        skills=["open the gripper", "lift the red block"],
        proprio=np.arange(rows * 10, dtype=np.float32).reshape(rows, 10),
        objects=np.zeros((rows, 3, 7), np.float32),
        actions=np.zeros((rows, 5), np.float32),
        has_action=np.array([True, True, True, True, False]),
        last_row=np.full(rows, 4),
        rewards=rewards,
        executed=np.array([1, 1, 1, 1, -1]),
        executed_ok=np.array([False, False, False, False, False]),
        task=np.full(rows, -1),
        task_ok=np.zeros(rows, dtype=bool),
        hindsight=hindsight,
        episode_ids=np.zeros(rows, np.int64),
        frames={},
        frame_index=np.zeros(rows, np.int64),
    )


def test_n_step_stops_at_success_and_at_the_episode_end() -> None:
    data = tiny()
    ret, row, discount = data.n_step(np.array([0, 3, 1]), np.array([0, 0, 1]), n=5, discount=0.5)
    # from row 0: rewards 0, 0, 1 -> 0.5**2; the success ends the skill, nothing to bootstrap
    assert ret[0] == pytest.approx(0.25)
    assert discount[0] == 0.0
    # from row 3: one action, then the episode ends: bootstrap from its last row, discounted once
    assert (ret[1], row[1], discount[1]) == (0.0, 4, 0.5)
    # skill 1 never comes true: three actions, then the last row
    assert (ret[2], row[2], discount[2]) == (0.0, 4, 0.125)
    ret, row, discount = data.n_step(np.array([0]), np.array([1]), n=2, discount=0.5)
    assert (ret[0], row[0], discount[0]) == (0.0, 2, 0.25)


def test_bc_mask_is_successful_executions_and_hindsight_windows() -> None:
    data = tiny()
    rows, skills = np.array([0, 1, 0, 1]), np.array([1, 1, 0, 0])
    # skill 1 was executed but failed: not cloned unless failures are cloned too
    every = {"hindsight": "all"}
    assert data.bc_mask(rows, skills, **every).tolist() == [False, False, False, True]
    assert data.bc_mask(rows, skills, False, **every).tolist() == [True, True, False, True]
    # row 1 is in skill 0's hindsight window, but 'open the gripper' is a base skill
    assert data.bc_mask(rows, skills, hindsight="composite").tolist() == [False] * 4
    assert data.bc_mask(rows, skills, hindsight="none").tolist() == [False] * 4
    data.skills[0] = "stack the red block on the blue block"
    del data.composite  # a cached property, recomputed for the new skill list
    assert data.bc_mask(rows, skills, hindsight="composite").tolist() == [False, False, False, True]
    with pytest.raises(ValueError, match="unknown hindsight_bc"):
        data.bc_mask(rows, skills, hindsight="some")


def test_a_decomposition_that_achieved_its_task_demonstrates_the_task() -> None:
    data = tiny()
    data.skills[0] = "stack the red block on the blue block"
    data.task[:3], data.task_ok[:3] = 0, True  # rows up to the action that made it true
    rows, stack = np.arange(4), np.zeros(4, dtype=np.int64)
    assert data.bc_mask(rows, stack, hindsight="none").tolist() == [True, True, True, False]
    data.task_ok[:] = False  # the task did not come true: the rows teach the critic only
    assert data.bc_mask(rows, stack, hindsight="none").tolist() == [False] * 4
    assert data.bc_mask(rows, stack, False, hindsight="none").tolist() == [True, True, True, False]
    sampler = BatchSampler(data, LearnerConfig(batch_size=8), np.random.default_rng(0))
    assert sampler.by_executed[0].tolist() == [0, 1, 2]  # drawn as executed for the task


def test_store_data_is_relabelled_like_the_relabeller(small_run: Path) -> None:
    store = EpisodeStore(small_run / "episodes")
    skills = SkillLibrary.initial().known()
    data = TransitionData.from_store(store, skills)
    relabel = Relabeller(store)
    assert data.rows == sum(store.meta(i)["steps"] + 1 for i in store.ids())
    for episode_id in store.ids()[:3]:
        rows = np.nonzero((data.episode_ids == episode_id) & data.has_action)[0]
        for k, skill in enumerate(skills):
            assert np.array_equal(data.rewards[rows, k], relabel.rewards(episode_id, skill) > 0)
    # hindsight windows are the skill's duration up to the action that made it come true
    k, duration = skills.index("lift the red block"), 60
    windows = 0
    for episode_id in store.ids():
        rows = np.nonzero(data.episode_ids == episode_id)[0]
        holds = data.rewards[rows[:-1], k]
        before = np.concatenate(
            [
                [
                    bool(
                        Skill.from_text(skills[k]).success(
                            store.load(episode_id, frames=False).states[0]
                        )
                    )
                ],
                holds[:-1],
            ]
        )
        expected = np.zeros(len(rows), dtype=bool)
        for t in np.nonzero(holds & ~before)[0]:
            expected[max(0, t - duration + 1) : t + 1] = True
            windows += 1
        assert np.array_equal(data.hindsight[rows, k], expected), episode_id
    assert windows > 0


def test_objects_rebuilt_from_states_equal_the_env_observation() -> None:
    env = make_env()
    obs, _ = env.reset(seed=5)
    for _ in range(3):
        obs, *_ = env.step(env.action_space.sample())
    assert np.allclose(objects_from_states(env.scene_state()), obs["objects"], atol=1e-6)


def test_batches_balance_skills_and_carry_targets(small_run: Path) -> None:
    data = TransitionData.from_store(
        EpisodeStore(small_run / "episodes"), SkillLibrary.initial().known()
    )
    sampler = BatchSampler(data, LearnerConfig(batch_size=400), np.random.default_rng(0))
    batch = sampler.sample()
    assert batch["proprio"].shape == (400, 10)
    assert batch["objects"].shape == (400, 3, 7)
    assert set(np.unique(batch["bc_mask"])) <= {0.0, 1.0}
    executed = batch["skill"][:200]
    assert (data.executed[np.asarray(sampler.sample_pairs(10)[0])] >= -1).all()
    # the executed share draws skills uniformly, not in proportion to their data
    assert len(np.unique(executed)) == len(sampler.executed_skills)
    assert ((batch["return"] >= 0) & (batch["return"] <= 1)).all()
    again = BatchSampler(data, LearnerConfig(batch_size=400), np.random.default_rng(0)).sample()
    assert all(np.array_equal(batch[k], again[k]) for k in batch)


def _same(a: TransitionData, b: TransitionData) -> None:
    for field in dataclasses.fields(TransitionData):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y, err_msg=field.name)
        else:
            assert x == y, field.name


def test_a_row_cache_reads_only_new_episodes_and_gives_the_same_data(
    small_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = EpisodeStore(small_run / "episodes")
    store = EpisodeStore(tmp_path / "episodes")
    ids = source.ids()
    for i in ids[:5]:
        shutil.copy(source.path(i), store.path(i))
    read: list[int] = []
    load = EpisodeStore.load
    monkeypatch.setattr(EpisodeStore, "load", lambda s, i, **k: read.append(i) or load(s, i, **k))
    skills = SkillLibrary.initial().known()
    cache = RowCache()

    _same(
        TransitionData.from_store(store, skills, cache=cache),
        TransitionData.from_store(store, skills),
    )
    assert read == ids[:5] * 2
    assert len(cache) == 5
    for i in ids[5:]:  # a round stores more episodes
        shutil.copy(source.path(i), store.path(i))
    read.clear()
    _same(
        TransitionData.from_store(store, skills, cache=cache),
        TransitionData.from_store(store, skills),
    )
    assert read == ids[5:] + ids  # the cached call read only the new ones

    stamp = os.stat(store.path(ids[1]))  # a changed file is read again
    os.utime(store.path(ids[1]), ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 1))
    read.clear()
    TransitionData.from_store(store, skills, cache=cache)
    assert read == [ids[1]]

    grown = [*skills, "stack the red block on the blue block"]  # new skills relabel everything
    read.clear()
    _same(
        TransitionData.from_store(store, grown, cache=cache),
        TransitionData.from_store(store, grown),
    )
    assert read == ids * 2
