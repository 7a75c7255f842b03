"""Relabelling: the per-step reward of any skill on any stored episode, from its SceneStates.

    >>> relabel = Relabeller(store)
    >>> relabel.rewards(episode_id, "stack the red block on the blue block")  # (T,) float32
    >>> relabel.reward_steps("stack the red block on the blue block")        # over the store
    >>> relabel_known(library, store)     # every known skill's `reward_steps`, over the store

Reward r_t of an action is the skill's predicate on the state it leads to, so a stack that
happened by chance while practising something else teaches "stack" too. Episodes never change,
so results are cached per (episode, skill) for the life of the Relabeller.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from gameon_nb.data.store import EpisodeStore
from gameon_nb.sim.scene import SceneState
from gameon_nb.skills.skill import Skill

if TYPE_CHECKING:
    from gameon_nb.data.dataset import TransitionData
    from gameon_nb.skills.library import SkillLibrary

__all__ = ["Relabeller", "relabel_known", "step_rewards"]


def step_rewards(states: SceneState, skill: Skill) -> npt.NDArray[np.float32]:
    """(T,) rewards of `skill` for the T actions between T + 1 batched states."""
    return skill.success(states[1:]).astype(np.float32)


class Relabeller:
    """Cached, vectorised rewards of skills on a store's episodes."""

    def __init__(self, store: EpisodeStore) -> None:
        self.store = store
        self._states: dict[int, SceneState] = {}
        self._rewards: dict[tuple[int, str], npt.NDArray[np.float32]] = {}

    def states(self, episode_id: int) -> SceneState:
        if episode_id not in self._states:
            self._states[episode_id] = self.store.load(episode_id, frames=False).states
        return self._states[episode_id]

    def rewards(self, episode_id: int, skill: str | Skill) -> npt.NDArray[np.float32]:
        """Per-action reward of `skill` in one episode."""
        skill = skill if isinstance(skill, Skill) else Skill.from_text(skill)
        key = (episode_id, skill.text)
        if key not in self._rewards:
            self._rewards[key] = step_rewards(self.states(episode_id), skill)
        return self._rewards[key]

    def reward_steps(self, skill: str | Skill) -> int:
        """Steps across the whole store on which `skill`'s reward is 1."""
        return int(sum(self.rewards(i, skill).sum() for i in self.store.ids()))


def relabel_known(library: SkillLibrary, source: EpisodeStore | TransitionData) -> None:
    """Set every known skill's `reward_steps`: the stored steps on which its reward is 1.

        >>> relabel_known(library, store)   # reads and relabels every episode of the store
        >>> relabel_known(library, data)    # TransitionData of every known skill: reads nothing

    Transition data must be relabelled for every known skill; its rows after an episode's last
    action have no reward, so both sources count the same steps.
    """
    if isinstance(source, EpisodeStore):
        relabel = Relabeller(source)
        counts = {text: relabel.reward_steps(text) for text in library.known()}
    else:
        counts = {text: int(source.rewards[:, k].sum()) for k, text in enumerate(source.skills)}
        missing = [text for text in library.known() if text not in counts]
        if missing:
            raise ValueError(f"the transition data is not relabelled for {missing}")
    for text in library.known():
        library[text].reward_steps = counts[text]
