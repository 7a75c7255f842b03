"""Relabelling equals the predicates evaluated step by step, for any skill, and is cached."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gameon_nb.data.relabel import Relabeller
from gameon_nb.data.store import EpisodeStore
from gameon_nb.skills.skill import all_skills


def test_relabelled_rewards_equal_step_by_step_predicates(small_run: Path) -> None:
    store = EpisodeStore(small_run / "episodes")
    relabel = Relabeller(store)
    for episode_id in store.ids()[:4]:
        episode = store.load(episode_id, frames=False)
        for skill in all_skills():  # including skills the data was never collected for
            rewards = relabel.rewards(episode_id, skill)
            assert rewards.shape == (episode.steps,)
            expected = [bool(skill.success(episode.states[t + 1])) for t in range(episode.steps)]
            assert rewards.astype(bool).tolist() == expected, skill.text


def test_rewards_are_cached(small_run: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    store = EpisodeStore(small_run / "episodes")
    relabel = Relabeller(store)
    loads = []
    original = store.load
    monkeypatch.setattr(store, "load", lambda *a, **k: loads.append(a) or original(*a, **k))
    first = relabel.rewards(0, "lift the red block")
    relabel.rewards(0, "lift the red block")
    relabel.rewards(0, "lift the green block")
    assert len(loads) == 1
    assert relabel.rewards(0, "lift the red block") is first


def test_reward_steps_sum_over_the_store(small_run: Path) -> None:
    store = EpisodeStore(small_run / "episodes")
    relabel = Relabeller(store)
    text = "open the gripper"
    assert relabel.reward_steps(text) == sum(
        int(relabel.rewards(i, text).sum()) for i in store.ids()
    )
    assert relabel.reward_steps(text) > 0
    assert np.isfinite(relabel.rewards(0, text)).all()
