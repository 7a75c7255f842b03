"""`StackingEnv`: the Gymnasium environment of the table-top stacking domain.

    >>> env = gameon_nb.make_env(pixels=True)          # or gymnasium.make("GameOnStacking-v0")
    >>> obs, info = env.reset(seed=0)
    >>> obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    >>> env.scene_state()                                # for predicates and scripted controllers

Actions are (vx, vy, vz, vyaw, grip) in [-1, 1]: velocities scaled to the configured maxima move
the position targets of the stage's actuators, kept inside the workspace; grip +1 closes and -1
opens. Observations hold `proprio`, `objects` and, with pixels on, one image per camera.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any

import gymnasium as gym
import numpy as np
import numpy.typing as npt

from gameon_nb.config import SimConfig, from_dict, to_dict
from gameon_nb.records import JsonObject
from gameon_nb.sim.render import FrameRenderer, mujoco
from gameon_nb.sim.scene import COLOURS, FINGER_TRAVEL, SceneIndex, SceneState

__all__ = [
    "ACTION_FIELDS",
    "PROPRIO_FIELDS",
    "StackingEnv",
    "load_model",
    "make_env",
    "object_observation",
]

PHYSICS_DT = 0.002
WORKSPACE_LOW = np.array([-0.2, -0.2, 0.02, -1.8])
"""Lower limits of the TCP position targets (x, y, z in m) and of yaw (rad)."""
WORKSPACE_HIGH = np.array([0.2, 0.2, 0.32, 1.8])
LEASH = np.array([0.03, 0.03, 0.03, 0.3])
"""How far a target may run ahead of the gripper, so pushing on an obstacle stays gentle."""
PROPRIO_FIELDS = ("x", "y", "z", "cos_yaw", "sin_yaw", "opening", "vx", "vy", "vz", "vyaw")
"""What each entry of the `proprio` observation holds."""
ACTION_FIELDS = ("vx", "vy", "vz", "vyaw", "grip")
"""What each entry of an action commands (see the module docstring)."""
PROPRIO_HIGH = np.array([0.25, 0.25, 0.4, 1, 1, 0.1, 2, 2, 2, 10], dtype=np.float32)
PROPRIO_LOW = -PROPRIO_HIGH * np.array([1, 1, 0, 1, 1, 0, 1, 1, 1, 1], dtype=np.float32)
OBJECTS_HIGH = np.tile(np.array([2, 2, 1, 1, 1, 1, 1], dtype=np.float32), (len(COLOURS), 1))
"""Bounds of block poses: anywhere on the floor (it is 4 m wide), unit quaternions."""

Obs = dict[str, npt.NDArray[Any]]


def load_model() -> mujoco.MjModel:
    """Compile the scene's MJCF."""
    xml = resources.files("gameon_nb.sim").joinpath("assets/scene.xml").read_text()
    return mujoco.MjModel.from_xml_string(xml)


class StackingEnv(gym.Env[Obs, npt.NDArray[np.float32]]):
    """Three blocks in a bin and a Cartesian parallel-jaw gripper; see the module docstring."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 20}  # noqa: RUF012 (gymnasium API)

    def __init__(
        self,
        config: SimConfig | JsonObject | None = None,
        render_mode: str | None = None,
        reward_fn: Callable[[SceneState], Any] | None = None,
    ) -> None:
        if isinstance(config, Mapping):  # from a serialised EnvSpec (a Minari dataset's env)
            config = from_dict(SimConfig, dict(config))
        self.config = config = config or SimConfig()
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.render_mode = render_mode
        self.reward_fn = reward_fn
        self.model = load_model()
        self.data = mujoco.MjData(self.model)
        self.index = SceneIndex(self.model)
        self.substeps = round(1.0 / (config.control_hz * PHYSICS_DT))
        self.control_dt = self.substeps * PHYSICS_DT
        self._speed = np.array([config.max_linear_speed] * 3 + [config.max_yaw_speed])
        self._target = np.zeros(4)
        self._steps = 0
        self._gripper_dof = np.concatenate([self.index.gripper_dof, self.index.finger_dof[:1]])
        missing = set(config.cameras) - {self.model.camera(i).name for i in range(self.model.ncam)}
        if missing:
            raise ValueError(f"unknown camera(s) {sorted(missing)} in SimConfig.cameras")
        self._renderer: FrameRenderer | None = None
        self._viewer: FrameRenderer | None = None

        self.action_space = gym.spaces.Box(-1.0, 1.0, (len(ACTION_FIELDS),), dtype=np.float32)
        spaces: dict[str, gym.Space[Any]] = {
            "proprio": gym.spaces.Box(PROPRIO_LOW, PROPRIO_HIGH, dtype=np.float32),
            "objects": gym.spaces.Box(-OBJECTS_HIGH, OBJECTS_HIGH, dtype=np.float32),
        }
        if config.pixels:
            h, w = config.image_size
            for camera in config.cameras:
                spaces[camera] = gym.spaces.Box(0, 255, (h, w, 3), dtype=np.uint8)
        self.observation_space = gym.spaces.Dict(spaces)  # type: ignore[assignment]

    # -- Gymnasium API -------------------------------------------------------------------------

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Obs, dict[str, Any]]:
        """Randomise block poses (no overlaps) and the gripper pose and opening."""
        super().reset(seed=seed)
        rng, index = self.np_random, self.index
        mujoco.mj_resetData(self.model, self.data)
        qpos = self.data.qpos
        for adr, xy in zip(index.block_qpos, self._block_positions(rng), strict=True):
            yaw = rng.uniform(-np.pi / 4, np.pi / 4)
            qpos[adr : adr + 7] = [*xy, 0.025, np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)]
        gripper = [*rng.uniform(-0.1, 0.1, 2), rng.uniform(0.12, 0.22), rng.uniform(-0.6, 0.6)]
        qpos[index.gripper_qpos] = gripper
        qpos[index.finger_qpos] = rng.uniform(0.0, FINGER_TRAVEL)
        self._target[:] = gripper
        self.data.ctrl[:4] = gripper
        self.data.ctrl[4] = qpos[index.finger_qpos[0]]
        mujoco.mj_step(self.model, self.data, nstep=self.substeps)  # settle contacts
        self._steps = 0
        return self._observe(), {}

    def step(self, action: npt.ArrayLike) -> tuple[Obs, float, bool, bool, dict[str, Any]]:
        a = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0)
        if a.shape != (len(ACTION_FIELDS),):
            raise ValueError(f"action must have shape ({len(ACTION_FIELDS)},), got {a.shape}")
        current = self.data.qpos[self.index.gripper_qpos]
        target = self._target + a[:4] * self._speed * self.control_dt
        target = np.clip(target, current - LEASH, current + LEASH)
        self._target = np.clip(target, WORKSPACE_LOW, WORKSPACE_HIGH)
        ctrl = self.data.ctrl
        ctrl[:4] = self._target
        ctrl[4] = (1.0 - a[4]) * 0.5 * FINGER_TRAVEL
        mujoco.mj_step(self.model, self.data, nstep=self.substeps)
        self._steps += 1
        reward = 0.0 if self.reward_fn is None else float(self.reward_fn(self.scene_state()))
        truncated = self._steps >= self.config.episode_steps
        return self._observe(), reward, False, truncated, {}

    def render(self) -> npt.NDArray[np.uint8] | None:
        """The wide experimenter view at `view_size` (None unless render_mode is 'rgb_array')."""
        if self.render_mode is None:
            return None
        return self.render_view()

    def close(self) -> None:
        for renderer in (self._renderer, self._viewer):
            if renderer is not None:
                renderer.close()
        self._renderer = self._viewer = None

    # -- beyond Gymnasium ----------------------------------------------------------------------

    def scene_state(self) -> SceneState:
        """Poses, opening and contacts now: the input of predicates and scripted controllers."""
        return self.index.scene_state(self.data)

    def render_camera(self, camera: str) -> npt.NDArray[np.uint8]:
        """One observation-sized frame from any camera, with the observation render flags."""
        if self._renderer is None:
            h, w = self.config.image_size
            cfg = self.config
            self._renderer = FrameRenderer(
                self.model, h, w, shadows=cfg.shadows, reflections=cfg.reflections
            )
        return self._renderer.render(self.data, camera)

    def render_view(self, camera: str | None = None) -> npt.NDArray[np.uint8]:
        """A `view_size` frame (experimenter camera by default) with the view's render flags."""
        if self._viewer is None:
            h, w = self.config.view_size
            flags = self.config.view_shadows
            self._viewer = FrameRenderer(self.model, h, w, shadows=flags, reflections=flags)
        return self._viewer.render(self.data, camera or self.config.view_camera)

    def get_state(self) -> npt.NDArray[np.float64]:
        """Full simulator state plus actuator targets and step count, for exact restore."""
        spec = mujoco.mjtState.mjSTATE_INTEGRATION
        state = np.empty(mujoco.mj_stateSize(self.model, spec))
        mujoco.mj_getState(self.model, self.data, state, spec)
        return np.concatenate([state, self._target, [self._steps]])

    def set_state(self, state: npt.ArrayLike) -> None:
        """Inverse of `get_state`."""
        state = np.asarray(state, dtype=np.float64)
        spec = mujoco.mjtState.mjSTATE_INTEGRATION
        mujoco.mj_setState(self.model, self.data, state[:-5], spec)
        self._target = state[-5:-1].copy()
        self._steps = int(state[-1])
        mujoco.mj_forward(self.model, self.data)

    # -- internals -----------------------------------------------------------------------------

    def _block_positions(self, rng: np.random.Generator) -> list[npt.NDArray[np.float64]]:
        e, dmin = self.config.spawn_half_extent, self.config.min_block_distance
        for _ in range(1000):
            xy = rng.uniform(-e, e, (len(COLOURS), 2))
            gaps = np.linalg.norm(xy[:, None] - xy[None], axis=-1) + np.eye(len(COLOURS))
            if gaps.min() >= dmin:
                return list(xy)
        raise ValueError(
            f"cannot place {len(COLOURS)} blocks {dmin} m apart within +-{e} m: "
            "raise SimConfig.spawn_half_extent or lower min_block_distance"
        )

    def _observe(self) -> Obs:
        d, index = self.data, self.index
        x, y, z, yaw = d.qpos[index.gripper_qpos]
        qvel = d.qvel[self._gripper_dof[:4]]
        opening = d.qpos[index.finger_qpos].sum()
        proprio = np.array([x, y, z, np.cos(yaw), np.sin(yaw), opening, *qvel], dtype=np.float32)
        np.clip(proprio, PROPRIO_LOW, PROPRIO_HIGH, out=proprio)
        blocks = d.qpos[index.block_qpos[:, None] + np.arange(7)]
        quat = blocks[:, 3:] * np.where(blocks[:, 3:4] < 0, -1.0, 1.0)
        obs: Obs = {"proprio": proprio, "objects": object_observation(blocks[:, :3], quat)}
        if self.config.pixels:
            for camera in self.config.cameras:
                obs[camera] = self.render_camera(camera)
        return obs


def object_observation(
    block_pos: npt.NDArray[np.floating[Any]], block_quat: npt.NDArray[np.floating[Any]]
) -> npt.NDArray[np.float32]:
    """The `objects` observation, (..., 3, 7) block positions and unit quaternions (w >= 0), of
    one state or a batch: `object_observation(s.block_pos, s.block_quat)` rebuilds it from
    stored `SceneState`s."""
    objects = np.concatenate([block_pos, block_quat], axis=-1).astype(np.float32)
    return np.clip(objects, -OBJECTS_HIGH, OBJECTS_HIGH)


def make_env(
    config: SimConfig | None = None,
    *,
    render_mode: str | None = None,
    reward_fn: Callable[[SceneState], Any] | None = None,
    **fields: Any,
) -> StackingEnv:
    """A `StackingEnv`, with SimConfig fields given by keyword (`make_env(pixels=True)`).

    Unlike `gymnasium.make`, this adds no wrappers, so stepping costs only the env itself.
    """
    config = config or SimConfig()
    if fields:
        config = from_dict(SimConfig, {**to_dict(config), **fields})
    return StackingEnv(dataclasses.replace(config), render_mode=render_mode, reward_fn=reward_fn)
