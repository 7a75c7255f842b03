"""Recording rollouts: run a sequence of skills in the env, each by its own actor, into an Episode.

    >>> episode = record_episode(env, skills, actor_for, seed=3, data=DataConfig(), task="...")

`actor_for(skill)` returns a fresh callable from (observation, SceneState) to an action; the
scripted controllers, a learned policy or a noisy mix all fit. Frames are rendered only at the
kept steps (every `frame_every` and at every skill boundary).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from gameon_nb.config import DataConfig
from gameon_nb.data.episode import Episode
from gameon_nb.sim.env import Obs, StackingEnv
from gameon_nb.sim.scene import SceneState
from gameon_nb.skills.skill import Skill

__all__ = ["Actor", "record_episode"]

Actor = Callable[[Obs, SceneState], npt.ArrayLike]


def record_episode(
    env: StackingEnv,
    skills: list[Skill],
    actor_for: Callable[[Skill], Actor],
    *,
    seed: int,
    data: DataConfig,
    task: str,
    round: int = 0,
    source: str = "",
) -> Episode:
    """Reset with `seed`, run each skill for its duration, and return the recorded episode."""
    obs, _ = env.reset(seed=seed)
    cameras = list(env.config.cameras) if data.policy_frames else []
    view = env.config.view_camera if data.view_frames else None
    frames: dict[str, list[npt.NDArray[np.uint8]]] = {c: [] for c in cameras}
    if view is not None:
        frames[view] = []
    frame_steps: list[int] = []

    def keep_frames(step: int) -> None:
        if frame_steps and frame_steps[-1] == step:
            return
        frame_steps.append(step)
        for camera in cameras:
            frames[camera].append(obs[camera] if camera in obs else env.render_camera(camera))
        if view is not None:
            frames[view].append(env.render_view())

    states, proprio = [env.scene_state()], [obs["proprio"]]
    actions: list[npt.NDArray[np.float32]] = []
    segments: list[tuple[int, int]] = []
    for skill in skills:
        act = actor_for(skill)
        start = len(actions)
        keep_frames(start)
        for _ in range(skill.duration):
            action = np.clip(np.asarray(act(obs, states[-1]), dtype=np.float32), -1.0, 1.0)
            obs, *_ = env.step(action)
            actions.append(action)
            states.append(env.scene_state())
            proprio.append(obs["proprio"])
            if len(actions) % data.frame_every == 0:
                keep_frames(len(actions))
        keep_frames(len(actions))
        segments.append((start, len(actions)))
    return Episode(
        round=round,
        task=task,
        skills=tuple(s.text for s in skills),
        segments=tuple(segments),
        actions=np.array(actions, dtype=np.float32).reshape(-1, 5),
        proprio=np.array(proprio, dtype=np.float32),
        states=SceneState.stack(states),
        frames={c: np.array(f, dtype=np.uint8) for c, f in frames.items()},
        frame_steps=np.array(frame_steps, dtype=np.int64),
        seed=seed,
        source=source,
    )
