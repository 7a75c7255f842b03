"""Scripted controllers: one per skill template, from privileged `SceneState` to actions.

    >>> controller = scripted_controller("stack", ("red", "blue"))
    >>> obs, _ = env.reset(seed=0)
    >>> for _ in range(TEMPLATES["stack"].duration):
    ...     obs, *_ = env.step(controller(env.scene_state()))

They react to the state rather than replay a plan, so they work from the start states a chained
execution leaves (a block in hand, the gripper closed, a block already in place). They make the
bootstrap data set and are the upper reference for learned skills.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from gameon_nb.config import SimConfig
from gameon_nb.sim import predicates as P
from gameon_nb.sim.scene import BLOCK_HALF, BLOCK_SIZE, COLOURS, FINGER_TRAVEL, SceneState
from gameon_nb.sim.templates import get_template

__all__ = ["CONTROLLERS", "Controller", "scripted_controller"]

Action = npt.NDArray[np.float32]
Vec = npt.NDArray[np.float64]

GRIP_CLOSE, GRIP_OPEN = 1.0, -1.0
PRE_GRASP_OPENING = 0.07
"""Opening (m) while approaching a block: wide enough for it, narrow enough to miss neighbours."""
GRIP_PRE = 1.0 - 2.0 * (PRE_GRASP_OPENING / 2) / FINGER_TRAVEL
TAU = 0.15
"""Seconds in which a commanded position error is closed (a proportional gain of 1/TAU)."""
CLEARANCE = 0.07
"""Height (m) of the TCP over the highest block top when travelling."""
YAW_LIMIT = 1.7


def _wrap(angle: float) -> float:
    return float((angle + np.pi) % (2 * np.pi) - np.pi)


def block_yaw(s: SceneState, c: int) -> float:
    """Yaw of block `c`'s most horizontal face normal (a cube's yaw is defined modulo pi/2)."""
    w, x, y, z = s.block_quat[c]
    axes = np.array(  # columns of the rotation matrix: the block's axes in the world
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )
    k = int(np.argmin(np.abs(axes[2])))
    return float(np.arctan2(axes[1, k], axes[0, k]))


def held_block(s: SceneState) -> int | None:
    """The block in the gripper's grasp, if any."""
    for c in range(len(COLOURS)):
        if P.grasped(s, c):
            return c
    return None


class Controller:
    """Base of the scripted controllers: call with a SceneState, get a (5,) action."""

    def __init__(self, colours: tuple[int, ...], config: SimConfig | None = None) -> None:
        self.colours = colours
        self.config = config or SimConfig()
        self.reset()

    def reset(self) -> None:
        """Forget phase memory before a new execution."""
        self.phase = "start"

    def __call__(self, s: SceneState) -> Action:
        return self.act(s)

    def act(self, s: SceneState) -> Action:
        raise NotImplementedError

    # -- motion primitives ---------------------------------------------------------------------

    def drive(self, s: SceneState, pos: Vec, yaw: float, grip: float) -> Action:
        """Proportional step of the TCP toward `pos`, the yaw toward `yaw`, with a grip command."""
        cfg = self.config
        v = (np.asarray(pos) - s.gripper_pos) / TAU / cfg.max_linear_speed
        w = _wrap(yaw - float(s.gripper_yaw)) / TAU / cfg.max_yaw_speed
        action = np.array([*v, w, grip], dtype=np.float32)
        return np.clip(action, -1.0, 1.0, out=action)

    def hold(self, s: SceneState, grip: float) -> Action:
        return self.drive(s, s.gripper_pos, float(s.gripper_yaw), grip)

    def travel(
        self, s: SceneState, xy: Vec, z: float, yaw: float, grip: float, carried: int | None = None
    ) -> Action:
        """Go to (xy, z) over the blocks: rise to a safe height, cross, then descend.

        With `carried`, xy and z are where that block's centre should go.
        """
        offset = np.zeros(3) if carried is None else s.gripper_pos - s.block_pos[carried]
        here = s.gripper_pos - offset
        held = held_block(s)
        others = [c for c in range(len(COLOURS)) if c != held]
        safe = float(s.block_pos[others, 2].max()) + BLOCK_HALF + CLEARANCE
        if held is not None:  # what hangs from the fingers must clear the blocks too
            safe += BLOCK_SIZE
        safe = float(np.clip(safe, 0.12, 0.3))
        if np.linalg.norm(np.asarray(xy) - here[:2]) > 0.02:
            if here[2] < safe - 0.015:
                goal = np.array([here[0], here[1], safe])
            else:
                goal = np.array([xy[0], xy[1], safe])
        else:
            goal = np.array([xy[0], xy[1], z])
        return self.drive(s, goal + offset, yaw, grip)

    def grasp_yaw(self, s: SceneState, c: int) -> float:
        """A yaw that squares the fingers to block `c`'s faces, fingers clear of other blocks."""
        base = block_yaw(s, c)
        yaw_now = float(s.gripper_yaw)
        best, best_score = yaw_now, np.inf
        for k in range(-4, 5):
            yaw = base + k * np.pi / 2
            if abs(yaw) > YAW_LIMIT:
                continue
            along = np.array([-np.sin(yaw), np.cos(yaw)])  # the fingers' axis
            score = abs(_wrap(yaw - yaw_now))
            for other in range(len(COLOURS)):
                if other == c:
                    continue
                r = s.block_pos[other, :2] - s.block_pos[c, :2]
                across = abs(r @ np.array([np.cos(yaw), np.sin(yaw)]))
                if across < 0.05 and abs(r @ along) < 0.09:
                    score += 10.0  # a finger would land on that block
            if score < best_score:
                best, best_score = yaw, score
        return best


class Open(Controller):
    """open the gripper: open in place (a held block drops where it is)."""

    def act(self, s: SceneState) -> Action:
        return self.hold(s, GRIP_OPEN)


class MoveAbove(Controller):
    """move above the {c} block: hover over it, squared to it, keeping whatever is held."""

    def act(self, s: SceneState) -> Action:
        (c,) = self.colours
        held = held_block(s)
        grip = GRIP_CLOSE if held is not None and held != c else GRIP_PRE
        target = s.block_pos[c]
        yaw = self.grasp_yaw(s, c) if held is None else float(s.gripper_yaw)
        return self.travel(s, target[:2], float(target[2]) + 0.09, yaw, grip)


class Grasp(Controller):
    """grasp the {c} block: drop anything else held, approach from above, descend, close."""

    def reset(self) -> None:
        super().reset()
        self.closing_steps = 0

    def act(self, s: SceneState) -> Action:
        (c,) = self.colours
        held = held_block(s)
        if held == c:
            return self.hold(s, GRIP_CLOSE)
        if held is not None:
            self.phase = "start"
            return self.hold(s, GRIP_OPEN)
        block = s.block_pos[c]
        yaw = self.grasp_yaw(s, c)
        xy_err = float(np.linalg.norm(block[:2] - s.gripper_pos[:2]))
        yaw_err = abs(_wrap(yaw - float(s.gripper_yaw)))
        bottom = np.array([block[0], block[1], block[2]])
        if self.phase == "close":
            self.closing_steps += 1
            missed = s.gripper_opening < 0.035 or xy_err > 0.015 or self.closing_steps > 20
            if not missed:
                return self.drive(s, bottom, yaw, GRIP_CLOSE)
            self.phase = "start"
        if self.phase == "descend":
            if xy_err > 0.012:
                self.phase = "start"
            elif s.gripper_pos[2] - block[2] < 0.006:
                self.phase, self.closing_steps = "close", 0
                return self.drive(s, bottom, yaw, GRIP_CLOSE)
            else:
                return self.drive(s, bottom, yaw, GRIP_PRE)
        ready = s.gripper_opening >= PRE_GRASP_OPENING - 0.006
        above = s.gripper_pos[2] - block[2] > 0.03
        if xy_err < 0.005 and yaw_err < 0.06 and ready and above:
            self.phase = "descend"
            return self.drive(s, bottom, yaw, GRIP_PRE)
        self.phase = "approach"
        return self.travel(s, block[:2], float(block[2]) + 0.07, yaw, GRIP_PRE)


class Lift(Controller):
    """lift the {c} block: grasp it, then raise it well clear of the table."""

    HEIGHT = BLOCK_HALF + P.LIFT_CLEARANCE + 0.04

    def reset(self) -> None:
        super().reset()
        self.grasp = Grasp(self.colours, self.config)

    def act(self, s: SceneState) -> Action:
        (c,) = self.colours
        if held_block(s) != c:
            return self.grasp(s)
        block = s.block_pos[c]
        goal = s.gripper_pos + np.array([0.0, 0.0, max(self.HEIGHT - block[2], 0.0)])
        return self.drive(s, goal, float(s.gripper_yaw), GRIP_CLOSE)


class HoldAbove(Controller):
    """hold the {top} block above the {bottom} block: grasp it, carry it, hover 3 cm over."""

    GAP = 0.03

    def reset(self) -> None:
        super().reset()
        self.grasp = Grasp(self.colours[:1], self.config)

    def act(self, s: SceneState) -> Action:
        top, bottom = self.colours
        if held_block(s) != top:
            return self.grasp(s)
        under = s.block_pos[bottom]
        z = float(under[2]) + BLOCK_SIZE + self.GAP
        return self.travel(s, under[:2], z, float(s.gripper_yaw), GRIP_CLOSE, carried=top)


class Place(Controller):
    """Carry block `colours[0]` to where `goal` says, lower it until it touches, release, rise."""

    def reset(self) -> None:
        super().reset()
        self.grasp = Grasp(self.colours[:1], self.config)

    def goal(self, s: SceneState) -> tuple[Vec, float]:
        """Where the carried block's centre should come to rest: (xy, z)."""
        raise NotImplementedError

    def placed(self, s: SceneState) -> bool:
        """The block rests where it should and the gripper has let go."""
        raise NotImplementedError

    def landed(self, s: SceneState) -> bool:
        """The carried block touches its support: time to let go."""
        raise NotImplementedError

    def act(self, s: SceneState) -> Action:
        c = self.colours[0]
        if self.placed(s):
            self.phase = "retreat"
            goal = s.gripper_pos.copy()
            goal[2] = max(goal[2], float(s.block_pos[c, 2]) + 0.08)
            return self.drive(s, goal, float(s.gripper_yaw), GRIP_OPEN)
        if self.phase == "release":
            if not P.released(s, c) or s.gripper_opening < PRE_GRASP_OPENING:
                return self.hold(s, GRIP_OPEN)
            self.phase = "start"  # let go but not placed: it fell; start again
        held = held_block(s)
        if held != c:
            return self.grasp(s)
        xy, z = self.goal(s)
        xy_err = float(np.linalg.norm(s.block_pos[c, :2] - xy))
        if self.phase == "lower" or (xy_err < 0.004 and s.block_pos[c, 2] < z + 0.04):
            self.phase = "lower"
            if self.landed(s):
                self.phase = "release"
                return self.hold(s, GRIP_OPEN)
            if xy_err > 0.012:
                self.phase = "carry"
            offset = s.gripper_pos - s.block_pos[c]
            goal = np.array([xy[0], xy[1], z - 0.004]) + offset
            return self.drive(s, goal, float(s.gripper_yaw), GRIP_CLOSE)
        self.phase = "carry"
        return self.travel(s, xy, z + 0.03, float(s.gripper_yaw), GRIP_CLOSE, carried=c)


class Stack(Place):
    """stack the {top} block on the {bottom} block."""

    def goal(self, s: SceneState) -> tuple[Vec, float]:
        under = s.block_pos[self.colours[1]]
        return under[:2], float(under[2]) + BLOCK_SIZE

    def placed(self, s: SceneState) -> bool:
        top, bottom = self.colours
        return bool(P.rests_on(s, top, bottom) & P.released(s, top))

    def landed(self, s: SceneState) -> bool:
        top, bottom = self.colours
        gap = s.block_pos[top, 2] - s.block_pos[bottom, 2] - BLOCK_SIZE
        return bool(s.block_contact[top, bottom] or gap < 0.003)


class NextTo(Place):
    """put the {a} block next to the {b} block: on the table at one block's gap beside it."""

    SPACING = 0.07

    def reset(self) -> None:
        super().reset()
        self.spot: Vec | None = None
        self.anchor: Vec | None = None

    def goal(self, s: SceneState) -> tuple[Vec, float]:
        b = self.colours[1]
        anchor = s.block_pos[b, :2]
        if self.spot is None or self.anchor is None or np.linalg.norm(anchor - self.anchor) > 0.01:
            self.anchor, self.spot = anchor.copy(), self._choose_spot(s)
        return self.spot, BLOCK_HALF

    def _choose_spot(self, s: SceneState) -> Vec:
        a, b = self.colours
        third = [c for c in range(len(COLOURS)) if c not in (a, b)]
        fingers = np.array([-np.sin(s.gripper_yaw), np.cos(s.gripper_yaw)])
        best, best_score = s.block_pos[b, :2], np.inf
        for angle in np.arange(16) * np.pi / 8:
            direction = np.array([np.cos(angle), np.sin(angle)])
            spot = s.block_pos[b, :2] + self.SPACING * direction
            if np.abs(spot).max() > 0.16:
                continue
            if any(np.linalg.norm(spot - s.block_pos[c, :2]) < 0.085 for c in third):
                continue
            # short moves; a finger would land on the neighbour when they point at it
            score = float(np.linalg.norm(spot - s.block_pos[a, :2]))
            score += 1.0 if abs(direction @ fingers) > 0.5 else 0.0
            if score < best_score:
                best, best_score = spot, score
        return best

    def placed(self, s: SceneState) -> bool:
        a, b = self.colours
        return bool(P.is_next_to(s, a, b))

    def landed(self, s: SceneState) -> bool:
        a = self.colours[0]
        return bool(s.table_contact[a] or s.block_pos[a, 2] < BLOCK_HALF + 0.003)


class Tower(Controller):
    """build a tower of the {top}, {middle} and {bottom} blocks: middle on bottom, then top."""

    def reset(self) -> None:
        super().reset()
        top, middle, bottom = self.colours
        self.first = Stack((middle, bottom), self.config)
        self.second = Stack((top, middle), self.config)

    def act(self, s: SceneState) -> Action:
        top, middle, bottom = self.colours
        base_done = P.rests_on(s, middle, bottom) & P.on_table(s, bottom) & P.released(s, middle)
        if base_done or (held_block(s) == top and P.rests_on(s, middle, bottom)):
            return self.second(s)
        return self.first(s)


CONTROLLERS: dict[str, Callable[[tuple[int, ...], SimConfig | None], Controller]] = {
    "open": Open,
    "move_above": MoveAbove,
    "grasp": Grasp,
    "lift": Lift,
    "hold_above": HoldAbove,
    "stack": Stack,
    "next_to": NextTo,
    "tower": Tower,
}


def scripted_controller(
    template: str, colours: tuple[str, ...] = (), config: SimConfig | None = None
) -> Controller:
    """The scripted controller of a template for these colours (names from COLOURS)."""
    t = get_template(template)
    if len(colours) != t.arity or len(set(colours)) != len(colours):
        raise ValueError(f"{template!r} takes {t.arity} distinct colours, got {colours!r}")
    unknown = [c for c in colours if c not in COLOURS]
    if unknown:
        raise ValueError(f"unknown colour(s) {unknown}; known: {list(COLOURS)}")
    return CONTROLLERS[template](tuple(COLOURS.index(c) for c in colours), config)
