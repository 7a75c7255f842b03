"""Recording rollouts: a sequence of skills executed in the env, each by its own actor.

    >>> episode = record_episode(env, skills, actor_for, seed=3, data=DataConfig(), task="...")
    >>> recorder = EpisodeRecorder(env, data, task="...", seed=3)   # step by step, for lockstep
    >>> recorder.begin(skill); recorder.record(action, obs); recorder.end(); recorder.episode()

`actor_for(skill)` returns a fresh callable from (observation, SceneState) to an action; the
scripted controllers, a learned policy or a noisy mix all fit. Frames are rendered only at the
kept steps (every `frame_every` and at every skill boundary). A skill runs for its duration, or
until its predicate holds when `stop_on_success` is on.
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

__all__ = ["Actor", "EpisodeRecorder", "record_episode"]

Actor = Callable[[Obs, SceneState], npt.ArrayLike]


class EpisodeRecorder:
    """Buffers of one episode in progress in `env`, which the caller has just reset."""

    def __init__(
        self,
        env: StackingEnv,
        obs: Obs,
        data: DataConfig,
        *,
        task: str,
        seed: int,
        round: int = 0,
        source: str = "",
        job: int | None = None,
        task_skill: str | None = None,
    ) -> None:
        self.env, self.data, self.obs = env, data, obs
        self.task, self.seed, self.round, self.source, self.job = task, seed, round, source, job
        self.task_skill = task_skill
        self.cameras = list(env.config.cameras) if data.policy_frames else []
        self.view = env.config.view_camera if data.view_frames else None
        self.frames: dict[str, list[npt.NDArray[np.uint8]]] = {c: [] for c in self.cameras}
        if self.view is not None:
            self.frames[self.view] = []
        self.frame_steps: list[int] = []
        self.states = [env.scene_state()]
        self.proprio = [obs["proprio"]]
        self.actions: list[npt.NDArray[np.float32]] = []
        self.skills: list[Skill] = []
        self.segments: list[tuple[int, int]] = []
        self._start = 0

    @property
    def state(self) -> SceneState:
        return self.states[-1]

    @property
    def skill_steps(self) -> int:
        """Actions taken in the current skill."""
        return len(self.actions) - self._start

    def _keep_frames(self) -> None:
        step = len(self.actions)
        if self.frame_steps and self.frame_steps[-1] == step:
            return
        self.frame_steps.append(step)
        for camera in self.cameras:
            kept = self.obs[camera] if camera in self.obs else self.env.render_camera(camera)
            self.frames[camera].append(kept)
        if self.view is not None:
            self.frames[self.view].append(self.env.render_view())

    def begin(self, skill: Skill) -> None:
        """Start executing `skill` from the current state."""
        self.skills.append(skill)
        self._start = len(self.actions)
        self._keep_frames()

    def record(self, action: npt.ArrayLike, obs: Obs) -> None:
        """The action just sent to the env and the observation it returned."""
        self.actions.append(np.clip(np.asarray(action, dtype=np.float32), -1.0, 1.0))
        self.obs = obs
        self.states.append(self.env.scene_state())
        self.proprio.append(obs["proprio"])
        if len(self.actions) % self.data.frame_every == 0:
            self._keep_frames()

    def skill_done(self, stop_on_success: bool) -> bool:
        """The current skill has used its duration, or (with `stop_on_success`) came true."""
        skill = self.skills[-1]
        if self.skill_steps >= skill.duration:
            return True
        return stop_on_success and self.skill_steps > 0 and bool(skill.success(self.state))

    def end(self) -> None:
        """Close the current skill's segment."""
        self._keep_frames()
        self.segments.append((self._start, len(self.actions)))

    def episode(self) -> Episode:
        return Episode(
            round=self.round,
            task=self.task,
            skills=tuple(s.text for s in self.skills),
            segments=tuple(self.segments),
            actions=np.array(self.actions, dtype=np.float32).reshape(-1, 5),
            proprio=np.array(self.proprio, dtype=np.float32),
            states=SceneState.stack(self.states),
            frames={c: np.array(f, dtype=np.uint8) for c, f in self.frames.items()},
            frame_steps=np.array(self.frame_steps, dtype=np.int64),
            seed=self.seed,
            source=self.source,
            job=self.job,
            task_skill=self.task_skill,
        )


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
    stop_on_success: bool = False,
    max_steps: int | None = None,
) -> Episode:
    """Reset with `seed`, run each skill in turn, and return the recorded episode (cut after
    `max_steps` actions: the skill running then ends there, the rest are not begun)."""
    obs, _ = env.reset(seed=seed)
    recorder = EpisodeRecorder(env, obs, data, task=task, seed=seed, round=round, source=source)
    limit = max_steps if max_steps is not None else float("inf")
    for skill in skills:
        act = actor_for(skill)
        recorder.begin(skill)
        while not recorder.skill_done(stop_on_success) and len(recorder.actions) < limit:
            action = np.asarray(act(recorder.obs, recorder.state), dtype=np.float32)
            obs, *_ = env.step(np.clip(action, -1.0, 1.0))
            recorder.record(action, obs)
        recorder.end()
        if len(recorder.actions) >= limit:
            break
    return recorder.episode()
