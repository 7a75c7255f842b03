"""The Gymnasium env: spaces, seeding, action scaling, workspace limits, pixels, GL errors."""

from __future__ import annotations

import json
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

import gameon_nb
from gameon_nb.config import ConfigError, SimConfig
from gameon_nb.sim import gl
from gameon_nb.sim.env import WORKSPACE_HIGH, make_env
from gameon_nb.sim.predicates import BLOCK_SIZE

DIGEST = """
import hashlib, json, numpy as np, gameon_nb
env = gameon_nb.make_env(pixels=True)
h = hashlib.sha256()
obs, _ = env.reset(seed=7)
rng = np.random.default_rng(7)
for i in range(30):
    for k in sorted(obs):
        h.update(k.encode()); h.update(np.ascontiguousarray(obs[k]).tobytes())
    obs, *_ = env.step(rng.uniform(-1, 1, 5))
print(h.hexdigest())
"""


def test_registered_and_passes_gymnasium_check() -> None:
    from gymnasium.utils.env_checker import check_env

    env = gym.make(gameon_nb.ENV_ID)
    check_env(env.unwrapped)
    obs, _ = env.reset(seed=0)
    assert set(obs) == {"proprio", "objects"}
    assert env.action_space.shape == (5,)


def test_same_seed_same_observations_across_processes() -> None:
    digests = {
        subprocess.run(
            [sys.executable, "-c", DIGEST], capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    }
    assert len(digests) == 1


def test_resets_randomise_without_overlap() -> None:
    env = make_env()
    starts = []
    for seed in range(20):
        obs, _ = env.reset(seed=seed)
        xy = obs["objects"][:, :2]
        gaps = np.linalg.norm(xy[:, None] - xy[None], axis=-1) + np.eye(3)
        assert gaps.min() >= env.config.min_block_distance - 1e-3
        assert np.allclose(obs["objects"][:, 2], BLOCK_SIZE / 2, atol=2e-3)
        starts.append(obs["objects"].copy())
    assert len({s.tobytes() for s in starts}) == 20
    obs_a, _ = env.reset(seed=3)
    obs_b, _ = env.reset(seed=3)
    assert all(np.array_equal(obs_a[k], obs_b[k]) for k in obs_a)


def test_actions_scale_to_configured_speed() -> None:
    env = make_env(max_linear_speed=0.2)
    env.reset(seed=1)
    env.step(np.array([0, 0, 0, 0, -1.0]))
    x0 = env.scene_state().gripper_pos[0]
    x0 = float(np.clip(x0, -0.2, 0.05))
    steps = 10
    for _ in range(steps):
        env.step(np.array([0.5, 0, 0, 0, -1.0]))
    moved = env.scene_state().gripper_pos[0] - x0
    expected = 0.5 * 0.2 * steps * env.control_dt
    assert moved == pytest.approx(expected, rel=0.25)


def test_workspace_limits_are_enforced() -> None:
    env = make_env()
    env.reset(seed=2)
    for _ in range(80):
        obs, *_ = env.step(np.array([1.0, 1.0, 1.0, 1.0, 1.0]))
    x, y, z = obs["proprio"][:3]
    assert x <= WORKSPACE_HIGH[0] + 2e-3
    assert y <= WORKSPACE_HIGH[1] + 2e-3
    assert z <= WORKSPACE_HIGH[2] + 2e-3


def test_grip_opens_and_closes() -> None:
    env = make_env()
    env.reset(seed=0)
    for _ in range(10):
        obs, *_ = env.step(np.array([0, 0, 0, 0, -1.0]))
    assert obs["proprio"][5] > 0.085
    for _ in range(10):
        obs, *_ = env.step(np.array([0, 0, 0, 0, 1.0]))
    assert obs["proprio"][5] < 0.005


def test_truncates_after_episode_steps() -> None:
    env = make_env(episode_steps=3)
    env.reset(seed=0)
    flags = [env.step(np.zeros(5))[3] for _ in range(3)]
    assert flags == [False, False, True]


def test_pixels_observations() -> None:
    env = make_env(pixels=True, image_size=(48, 40), render_mode="rgb_array")
    obs, _ = env.reset(seed=0)
    for camera in ("front_left", "front_right"):
        assert obs[camera].shape == (48, 40, 3)
        assert obs[camera].dtype == np.uint8
        assert obs[camera].std() > 5  # a real picture, not a blank
    assert env.observation_space.contains(obs)
    view = env.render()
    assert view is not None
    assert view.shape == (*SimConfig().view_size, 3)
    assert not np.array_equal(env.render_camera("top"), env.render_camera("front_left"))
    env.close()


def test_state_round_trip_reproduces_the_future() -> None:
    env = make_env()
    env.reset(seed=4)
    saved = env.get_state()
    actions = np.random.default_rng(0).uniform(-1, 1, (20, 5))
    first = [env.step(a)[0]["objects"] for a in actions]
    env.set_state(saved)
    second = [env.step(a)[0]["objects"] for a in actions]
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


def test_bad_arguments_say_what_to_do() -> None:
    with pytest.raises(ValueError, match="unknown camera"):
        make_env(cameras=("nowhere",))
    with pytest.raises(ConfigError, match="unknown field"):
        make_env(pixel=True)
    env = make_env()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="shape"):
        env.step(np.zeros(4))


def test_rendering_failure_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from gameon_nb.sim import render

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("eglInitialize failed")

    monkeypatch.setattr(render.mujoco, "Renderer", broken)
    env = make_env(pixels=True)
    with pytest.raises(gl.RenderingUnavailableError, match="apt-get install"):
        env.reset(seed=0)


def test_gl_backend_is_chosen_before_mujoco_loads() -> None:
    code = "import os, gameon_nb.sim; print(os.environ.get('MUJOCO_GL'))"
    env = {k: v for k, v in __import__("os").environ.items() if k != "MUJOCO_GL"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() in {"egl", "osmesa"}


def test_scene_state_arrays_round_trip() -> None:
    from gameon_nb.sim.scene import SceneState

    env = make_env()
    env.reset(seed=0)
    state = env.scene_state()
    stored = json.loads(json.dumps({k: v.tolist() for k, v in state.to_arrays().items()}))
    again = SceneState.from_arrays(stored).to_arrays()
    assert all(np.array_equal(v, again[k]) for k, v in state.to_arrays().items())
