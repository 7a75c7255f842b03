"""Relabelling equals the predicates evaluated step by step, for any skill, and is cached."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gameon_nb.data.dataset import TransitionData
from gameon_nb.data.relabel import Relabeller, relabel_known
from gameon_nb.data.store import EpisodeStore
from gameon_nb.skills.library import SkillLibrary
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


def test_relabel_known_counts_the_same_from_the_store_and_from_transition_data(
    small_run: Path,
) -> None:
    store = EpisodeStore(small_run / "episodes")
    from_store, from_data = SkillLibrary.initial(), SkillLibrary.initial()
    relabel_known(from_store, store)
    relabel_known(from_data, TransitionData.from_store(store, from_data.known()))
    relabel = Relabeller(store)
    counts = {t: from_store[t].reward_steps for t in from_store.known()}
    assert counts == {t: from_data[t].reward_steps for t in from_data.known()}
    assert counts == {t: relabel.reward_steps(t) for t in from_store.known()}
    assert sum(counts.values()) > 0


def test_relabel_known_needs_data_relabelled_for_every_known_skill(small_run: Path) -> None:
    store = EpisodeStore(small_run / "episodes")
    library = SkillLibrary.initial()
    data = TransitionData.from_store(store, library.known()[:2])
    with pytest.raises(ValueError, match="not relabelled for"):
        relabel_known(library, data)
