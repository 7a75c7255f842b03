"""Relabelling: the per-step reward of any skill on any stored episode, from its SceneStates.

    >>> relabel = Relabeller(store)
    >>> relabel.rewards(episode_id, "stack the red block on the blue block")  # (T,) float32
    >>> relabel.reward_steps("stack the red block on the blue block")        # over the store

Reward r_t of an action is the skill's predicate on the state it leads to, so a stack that
happened by chance while practising something else teaches "stack" too. Episodes never change,
so results are cached per (episode, skill) for the life of the Relabeller.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from gameon_nb.data.store import EpisodeStore
from gameon_nb.sim.scene import SceneState
from gameon_nb.skills.skill import Skill

__all__ = ["Relabeller", "step_rewards"]


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
