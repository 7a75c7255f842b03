"""Simulator speed, side by side in one run: our env against raw MuJoCo on the same work.

    >>> measure_sim(seconds=2.0)["overhead_ratio"]
    1.05

Physics: the env's control step against `mj_step` replaying the same controls from the same
state (raw steps in `nstep` batches, the cheapest way to call MuJoCo). Rendering: frames through
the env against `mujoco.Renderer` alone, same camera, size and flags. Trials alternate and the
best of each side is kept, so a noisy neighbour on the machine hurts both alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from gameon_nb.records import JsonObject
from gameon_nb.sim.env import make_env
from gameon_nb.sim.render import mujoco

__all__ = ["measure_sim"]


def _rate(run: Callable[[], int], seconds: float) -> float:
    """Items per second of `run`, called repeatedly for about `seconds`."""
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        done += run()
    return done / elapsed


def _side_by_side(
    a: Callable[[], int], b: Callable[[], int], seconds: float, trials: int
) -> tuple[float, float]:
    """Best rates of `a` and `b`, alternating trials of `seconds / (2 * trials)` each."""
    share = seconds / (2 * trials)
    rates = [(_rate(a, share), _rate(b, share)) for _ in range(trials)]
    return max(r[0] for r in rates), max(r[1] for r in rates)


def measure_sim(
    seconds: float = 6.0, image_size: tuple[int, int] = (64, 64), trials: int = 3
) -> JsonObject:
    """Measure physics and rendering throughput; returns the JSON report of `gameon bench sim`."""
    env = make_env(image_size=image_size)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    steps = 200
    actions = rng.uniform(-1, 1, (steps, 5)).astype(np.float32)
    start_state = env.get_state()

    # record the controls the env applies, so raw MuJoCo replays exactly the same physics
    controls = np.empty((steps, env.model.nu))
    for i, a in enumerate(actions):
        env.step(a)
        controls[i] = env.data.ctrl
    model, data, substeps = env.model, mujoco.MjData(env.model), env.substeps

    def env_run() -> int:
        env.set_state(start_state)
        for a in actions:
            env.step(a)
        return steps

    def raw_run() -> int:
        env.set_state(start_state)
        data.qpos[:], data.qvel[:], data.act[:] = env.data.qpos, env.data.qvel, env.data.act
        for ctrl in controls:
            data.ctrl[:] = ctrl
            mujoco.mj_step(model, data, nstep=substeps)
        return steps * substeps

    env_steps_per_s, mj_step_per_s = _side_by_side(env_run, raw_run, seconds, trials)

    h, w = image_size
    camera = env.config.cameras[0]
    raw_renderer = mujoco.Renderer(model, height=h, width=w)
    flags = raw_renderer.scene.flags
    flags[mujoco.mjtRndFlag.mjRND_SHADOW] = env.config.shadows
    flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = env.config.reflections
    frames = 60

    def env_render() -> int:
        for _ in range(frames):
            env.render_camera(camera)
        return frames

    def raw_render() -> int:
        for _ in range(frames):
            raw_renderer.update_scene(env.data, camera)
            raw_renderer.render()
        return frames

    env_render()  # build the env's renderer outside the timed region
    render_fps_env, render_fps_raw = _side_by_side(env_render, raw_render, seconds, trials)
    raw_renderer.close()
    env.close()
    return {
        "mj_step_per_s": round(mj_step_per_s, 1),
        "env_steps_per_s": round(env_steps_per_s, 1),
        "substeps": substeps,
        "overhead_ratio": round(mj_step_per_s / (substeps * env_steps_per_s), 4),
        "render_fps_env": round(render_fps_env, 1),
        "render_fps_raw": round(render_fps_raw, 1),
        "render_ratio": round(render_fps_env / render_fps_raw, 4),
        "image_size": list(image_size),
        "camera": camera,
        "mujoco": mujoco.__version__,
    }
