"""gameon_nb: language models as reinforcement-learning experimenters, in Jupyter.

    >>> import gameon_nb
    >>> env = gameon_nb.make_env()                 # the table-top stacking domain
    >>> obs, info = env.reset(seed=0)

The package follows "Game On: Towards Language Models as RL Experimenters" (Zhang et al., 2024).
Importing it registers the Gymnasium id `GameOnStacking-v0` and does no other work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gymnasium

from gameon_nb.config import RunConfig, SimConfig

if TYPE_CHECKING:
    from gameon_nb.sim.env import StackingEnv

__all__ = ["ENV_ID", "RunConfig", "SimConfig", "make_env"]
__version__ = "0.1.0"

ENV_ID = "GameOnStacking-v0"

if ENV_ID not in gymnasium.registry:
    gymnasium.register(ENV_ID, entry_point="gameon_nb.sim.env:StackingEnv")


def make_env(config: SimConfig | None = None, **kwargs: Any) -> StackingEnv:
    """The stacking env with no wrappers; see `gameon_nb.sim.env.make_env`."""
    from gameon_nb.sim.env import make_env as _make_env

    return _make_env(config, **kwargs)
