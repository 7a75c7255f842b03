"""Hand-placed scenes: put blocks and the gripper exactly where a test says, then read the state."""

from __future__ import annotations

import numpy as np

from gameon_nb.sim.env import StackingEnv, make_env
from gameon_nb.sim.render import mujoco
from gameon_nb.sim.scene import COLOURS, SceneState

FAR = (0.15, 0.15, 0.025)  # a resting spot out of the way


def quat(yaw: float = 0.0, roll: float = 0.0) -> list[float]:
    """(w, x, y, z) of a rotation by `roll` about x, then `yaw` about z."""
    cy, sy, cr, sr = np.cos(yaw / 2), np.sin(yaw / 2), np.cos(roll / 2), np.sin(roll / 2)
    return [cy * cr, cy * sr, sy * sr, sy * cr]


def place(
    blocks: dict[str, tuple[float, ...]],
    gripper: tuple[float, float, float] = (-0.15, 0.15, 0.25),
    yaw: float = 0.0,
    opening: float = 0.09,
    env: StackingEnv | None = None,
) -> SceneState:
    """Blocks at (x, y, z[, yaw[, roll]]) (unnamed ones far away), the TCP at `gripper`."""
    env = env or make_env()
    env.reset(seed=0)
    qpos = env.data.qpos
    spare = iter([(0.15, 0.15), (0.15, -0.15), (-0.15, -0.15)])
    for i, colour in enumerate(COLOURS):
        x, y, z, block_yaw, roll = (*blocks.get(colour, (*next(spare), 0.025)), 0.0, 0.0)[:5]
        adr = env.index.block_qpos[i]
        # sink 1 mm per block level, as resting blocks do: exactly touching geoms make no contact
        qpos[adr : adr + 7] = [x, y, z * 0.98, *quat(block_yaw, roll)]
    qpos[env.index.gripper_qpos] = [*gripper, yaw]
    qpos[env.index.finger_qpos] = opening / 2
    env.data.qvel[:] = 0
    mujoco.mj_forward(env.model, env.data)
    return env.scene_state()
