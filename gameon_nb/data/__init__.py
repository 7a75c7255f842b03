"""Data: episodes, the append-only episode store, relabelling, and the bootstrap data set.

>>> from gameon_nb.data import EpisodeStore, Relabeller
>>> store = RunDir("runs/a").store()                       # an EpisodeStore
>>> Relabeller(store).rewards(0, "lift the red block")     # (T,) rewards of any skill
"""

from gameon_nb.data.episode import Episode
from gameon_nb.data.relabel import Relabeller, relabel_known, step_rewards
from gameon_nb.data.store import EpisodeStore, StoreCorruptError

__all__ = [
    "Episode",
    "EpisodeStore",
    "Relabeller",
    "StoreCorruptError",
    "relabel_known",
    "step_rewards",
]
