"""The table-top stacking domain: MJCF scene, Gymnasium env, scene state, predicates, controllers.

    >>> from gameon_nb.sim import make_env, TEMPLATES, scripted_controller
    >>> env = make_env()
    >>> obs, _ = env.reset(seed=0)

Importing this package picks a headless GL backend for MuJoCo when MUJOCO_GL is unset (gl.py).
"""

from gameon_nb.sim.controllers import Controller, scripted_controller
from gameon_nb.sim.env import StackingEnv, make_env
from gameon_nb.sim.gl import RenderingUnavailableError
from gameon_nb.sim.scene import COLOURS, SceneState
from gameon_nb.sim.templates import TEMPLATES, Template, get_template

__all__ = [
    "COLOURS",
    "TEMPLATES",
    "Controller",
    "RenderingUnavailableError",
    "SceneState",
    "StackingEnv",
    "Template",
    "get_template",
    "make_env",
    "scripted_controller",
]
