"""Success predicates: pure functions of a `SceneState`, one per skill template.

    >>> is_stacked(state, RED, BLUE)          # red resting on blue, released
    >>> lifted(episode_states, GREEN)         # a bool per step for a batched SceneState

Colours are indices into COLOURS. Every function broadcasts over the state's leading batch axes,
so relabelling a stored episode for any skill is one vectorised call. Thresholds are named below.
"""

from __future__ import annotations

import numpy as np

from gameon_nb.sim.scene import BLOCK_HALF, BLOCK_SIZE, BoolArray, FloatArray, SceneState

__all__ = [
    "BLUE",
    "GREEN",
    "RED",
    "grasped",
    "held_above",
    "is_next_to",
    "is_open",
    "is_stacked",
    "is_tower",
    "lifted",
    "moved_above",
    "on_table",
    "released",
    "rests_on",
    "upright",
]

RED, GREEN, BLUE = 0, 1, 2

OPEN_MIN = 0.075
"""Opening (m) from which the gripper counts as open; fully open is 0.09."""
ABOVE_XY = 0.02
"""Horizontal TCP-to-block distance (m) that counts as 'above'."""
ABOVE_Z = (0.05, 0.20)
"""Height of the TCP over a block's centre (m) that counts as 'above' (fingertips clear it)."""
GRASP_OPENING = (0.04, 0.058)
"""Opening (m) of a gripper closed on a 5 cm block."""
LIFT_CLEARANCE = 0.05
"""Height (m) of a lifted block's bottom face over the table."""
HOVER_GAP = (0.005, 0.10)
"""Gap (m) between a held block's bottom and the lower block's top when holding above it."""
STACK_XY = 0.02
"""Horizontal offset (m) of a block resting on another."""
STACK_Z_TOL = 0.008
"""Tolerance (m) of a resting block's height over the one below (a leaning block is lower)."""
TABLE_Z_TOL = 0.006
"""Tolerance (m) of a block's centre height over the table when resting on it."""
UPRIGHT_COS = float(np.cos(np.deg2rad(12)))
"""A face within 12 degrees of horizontal counts as upright."""
NEXT_TO = (0.045, 0.10)
"""Centre distance (m) of blocks side by side: touching to one block's gap."""


def _xy_dist(a: FloatArray, b: FloatArray) -> FloatArray:
    return np.linalg.norm(a[..., :2] - b[..., :2], axis=-1)  # type: ignore[no-any-return]


def upright(s: SceneState, c: int) -> BoolArray:
    """Block `c` has a face up (any of its axes within UPRIGHT_COS of vertical)."""
    w, x, y, z = np.moveaxis(s.block_quat[..., c, :], -1, 0)
    vertical = np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)])
    return np.abs(vertical).max(axis=0) >= UPRIGHT_COS  # type: ignore[no-any-return]


def released(s: SceneState, c: int) -> BoolArray:
    """No part of the gripper touches block `c`."""
    return ~(s.finger_contact[..., :, c].any(axis=-1) | s.palm_contact[..., c])


def on_table(s: SceneState, c: int) -> BoolArray:
    """Block `c` stands upright on the table."""
    flat = np.abs(s.block_pos[..., c, 2] - BLOCK_HALF) < TABLE_Z_TOL
    return s.table_contact[..., c] & flat & upright(s, c)


def rests_on(s: SceneState, top: int, bottom: int) -> BoolArray:
    """Block `top` sits upright on block `bottom`, clear of the table (whoever holds it)."""
    p_top, p_bottom = s.block_pos[..., top, :], s.block_pos[..., bottom, :]
    level = np.abs(p_top[..., 2] - p_bottom[..., 2] - BLOCK_SIZE) < STACK_Z_TOL
    return (
        (_xy_dist(p_top, p_bottom) < STACK_XY)
        & level
        & s.block_contact[..., top, bottom]
        & ~s.table_contact[..., top]
        & upright(s, top)
    )


def is_open(s: SceneState) -> BoolArray:
    """open the gripper."""
    return np.asarray(s.gripper_opening >= OPEN_MIN)


def moved_above(s: SceneState, c: int) -> BoolArray:
    """move above the {c} block: the TCP hovers over it, fingertips clear of it."""
    dz = s.gripper_pos[..., 2] - s.block_pos[..., c, 2]
    near = _xy_dist(s.gripper_pos, s.block_pos[..., c, :]) < ABOVE_XY
    return near & (dz >= ABOVE_Z[0]) & (dz <= ABOVE_Z[1])


def grasped(s: SceneState, c: int) -> BoolArray:
    """grasp the {c} block: both finger pads on it, closed to its width."""
    lo, hi = GRASP_OPENING
    width = (s.gripper_opening >= lo) & (s.gripper_opening <= hi)
    return s.finger_contact[..., :, c].all(axis=-1) & width


def lifted(s: SceneState, c: int) -> BoolArray:
    """lift the {c} block: grasped, its bottom LIFT_CLEARANCE over the table, touching nothing."""
    high = s.block_pos[..., c, 2] - BLOCK_HALF >= LIFT_CLEARANCE
    free = ~s.table_contact[..., c] & ~s.block_contact[..., c, :].any(axis=-1)
    return grasped(s, c) & high & free


def held_above(s: SceneState, top: int, bottom: int) -> BoolArray:
    """hold the {top} block above the {bottom} block: grasped, over it, not touching it."""
    p_top, p_bottom = s.block_pos[..., top, :], s.block_pos[..., bottom, :]
    gap = p_top[..., 2] - p_bottom[..., 2] - BLOCK_SIZE
    return (
        grasped(s, top)
        & (_xy_dist(p_top, p_bottom) < ABOVE_XY)
        & (gap >= HOVER_GAP[0])
        & (gap <= HOVER_GAP[1])
        & ~s.block_contact[..., top, bottom]
    )


def is_stacked(s: SceneState, top: int, bottom: int) -> BoolArray:
    """stack the {top} block on the {bottom} block: resting on it, on the table, released."""
    return rests_on(s, top, bottom) & on_table(s, bottom) & released(s, top) & released(s, bottom)


def is_next_to(s: SceneState, a: int, b: int) -> BoolArray:
    """put the {a} block next to the {b} block: both on the table, side by side, released."""
    d = _xy_dist(s.block_pos[..., a, :], s.block_pos[..., b, :])
    return (
        on_table(s, a)
        & on_table(s, b)
        & released(s, a)
        & released(s, b)
        & (d >= NEXT_TO[0])
        & (d <= NEXT_TO[1])
    )


def is_tower(s: SceneState, top: int, middle: int, bottom: int) -> BoolArray:
    """build a tower of the {top}, {middle} and {bottom} blocks: top on middle on bottom."""
    return (
        rests_on(s, top, middle)
        & rests_on(s, middle, bottom)
        & on_table(s, bottom)
        & released(s, top)
        & released(s, middle)
        & released(s, bottom)
    )
