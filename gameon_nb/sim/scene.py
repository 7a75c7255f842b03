"""`SceneState`: everything the success predicates and scripted controllers may look at.

    >>> state = env.unwrapped.scene_state()
    >>> state.block_pos[COLOURS.index("red")]      # x, y, z of the red block's centre
    >>> batch = SceneState.stack([state, state])    # leading batch axis, for relabelling

Fields are numpy arrays with optional leading batch axes, so every predicate evaluates one state or
a whole episode at once. `to_arrays` / `from_arrays` give a flat layout for episode storage.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import mujoco

__all__ = [
    "BLOCK_HALF",
    "BLOCK_SIZE",
    "COLOURS",
    "FINGER_TRAVEL",
    "SceneIndex",
    "SceneState",
]

COLOURS: tuple[str, ...] = ("red", "green", "blue")
"""Block colours, in the order of every per-block array axis."""
BLOCK_SIZE = 0.05
"""Edge of a cube, metres."""
BLOCK_HALF = BLOCK_SIZE / 2
FINGER_TRAVEL = 0.045
"""Travel of each finger from closed; the opening is twice the finger position."""

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Contact entities: the three blocks, then the parts of the gripper and the table (with the bin).
_LEFT, _RIGHT, _PALM, _TABLE = 3, 4, 5, 6


@dataclass(frozen=True)
class SceneState:
    """Object poses, gripper pose and opening, and contacts, at one instant (or a batch)."""

    block_pos: FloatArray
    """(..., 3, 3) block centre positions, rows in COLOURS order."""
    block_quat: FloatArray
    """(..., 3, 4) block orientations as (w, x, y, z) quaternions."""
    gripper_pos: FloatArray
    """(..., 3) tool centre point, half-way up the finger pads."""
    gripper_yaw: FloatArray
    """(...) gripper yaw in radians."""
    gripper_opening: FloatArray
    """(...) distance between the finger pads in metres (0 closed, 0.09 fully open)."""
    finger_contact: BoolArray
    """(..., 2, 3) left and right finger pad touching each block."""
    palm_contact: BoolArray
    """(..., 3) the rest of the gripper (palm) touching each block."""
    block_contact: BoolArray
    """(..., 3, 3) block touching block, symmetric, false on the diagonal."""
    table_contact: BoolArray
    """(..., 3) block touching the table or the bin."""

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return self.gripper_yaw.shape

    def to_arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        """The fields by name, for storage."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, npt.NDArray[np.generic]]) -> SceneState:
        """Inverse of `to_arrays`."""
        return cls(**{f.name: np.asarray(arrays[f.name]) for f in dataclasses.fields(cls)})

    @classmethod
    def stack(cls, states: list[SceneState]) -> SceneState:
        """Join states along a new leading axis."""
        return cls(
            **{
                f.name: np.stack([getattr(s, f.name) for s in states])
                for f in dataclasses.fields(cls)
            }
        )

    def __getitem__(self, index: int | slice) -> SceneState:
        """Index the leading batch axis."""
        return SceneState(**{k: v[index] for k, v in self.to_arrays().items()})  # type: ignore[arg-type]


class SceneIndex:
    """Addresses of the scene's joints and geoms in a compiled model; reads `SceneState`s."""

    def __init__(self, model: mujoco.MjModel) -> None:
        import mujoco

        def joint_adr(name: str) -> int:
            return int(model.jnt_qposadr[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, name)])

        def dof_adr(name: str) -> int:
            return int(model.jnt_dofadr[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, name)])

        def geom(name: str) -> int:
            return int(mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, name))

        self.block_qpos = np.array([joint_adr(f"{c}_block") for c in COLOURS])
        self.block_dof = np.array([dof_adr(f"{c}_block") for c in COLOURS])
        self.gripper_qpos = np.array([joint_adr(n) for n in ("x", "y", "z", "yaw")])
        self.gripper_dof = np.array([dof_adr(n) for n in ("x", "y", "z", "yaw")])
        self.finger_qpos = np.array([joint_adr("finger_left"), joint_adr("finger_right")])
        self.finger_dof = np.array([dof_adr("finger_left"), dof_adr("finger_right")])
        entity = np.full(model.ngeom, -1, dtype=np.int64)
        for i, c in enumerate(COLOURS):
            entity[geom(f"{c}_block")] = i
        entity[geom("finger_left")] = _LEFT
        entity[geom("finger_right")] = _RIGHT
        entity[geom("palm")] = _PALM
        for name in ("table", "floor", "bin_north", "bin_south", "bin_east", "bin_west"):
            entity[geom(name)] = _TABLE
        self.geom_entity = entity

    def contacts(self, data: mujoco.MjData) -> BoolArray:
        """(7, 7) symmetric matrix: entity i touches entity j (blocks 0-2, fingers, palm, table)."""
        touch = np.zeros((7, 7), dtype=bool)
        n = data.ncon
        if n:
            pairs = self.geom_entity[data.contact.geom[:n]]
            close = (data.contact.dist[:n] < 1e-3) & (pairs >= 0).all(axis=1)
            a, b = pairs[close, 0], pairs[close, 1]
            touch[a, b] = True
            touch[b, a] = True
        np.fill_diagonal(touch, False)
        return touch

    def scene_state(self, data: mujoco.MjData) -> SceneState:
        """Read the scene state from simulation data (after `mj_forward` or `mj_step`)."""
        qpos = data.qpos
        blocks = qpos[self.block_qpos[:, None] + np.arange(7)]
        quat = blocks[:, 3:] * np.where(blocks[:, 3:4] < 0, -1.0, 1.0)
        touch = self.contacts(data)
        return SceneState(
            block_pos=blocks[:, :3].copy(),
            block_quat=quat,
            gripper_pos=qpos[self.gripper_qpos[:3]].copy(),
            gripper_yaw=np.asarray(qpos[self.gripper_qpos[3]], dtype=np.float64),
            gripper_opening=np.asarray(qpos[self.finger_qpos].sum(), dtype=np.float64),
            finger_contact=touch[[_LEFT, _RIGHT], :3],
            palm_contact=touch[_PALM, :3].copy(),
            block_contact=touch[:3, :3].copy(),
            table_contact=touch[:3, _TABLE].copy(),
        )
