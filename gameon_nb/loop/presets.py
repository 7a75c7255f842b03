"""Named sets of config overrides: the demo's budget, and the tiny budget of tests and CI.

    >>> config = override(RunConfig(), DEMO)      # what `gameon demo` runs
    >>> config = override(RunConfig(), TINY)      # seconds, for smoke tests

Each is a list of `section.field=value` strings, the same language as `--set` and papermill
parameters, so a preset is also a documented starting point for one's own runs.
"""

from __future__ import annotations

__all__ = ["DEMO", "PRESETS", "TINY"]

DEMO: list[str] = [
    "bootstrap.episodes=300",
    "data.policy_frames=false",  # the state learner does not need them; the judge's view stays
    "loop.rounds=4",
    "loop.pretrain_steps=6000",
    "loop.train_steps=1500",
    "loop.episodes_per_task=12",
    "loop.eval_episodes=12",
    "loop.grow_min_episodes=12",
]
"""The main job of the README: about 15 minutes on a 2-core CPU."""

TINY: list[str] = [
    "bootstrap.episodes=6",
    "bootstrap.workers=1",
    "data.policy_frames=false",
    "sim.view_size=[48,64]",
    "learner.hidden=32",
    "learner.layers=2",
    "learner.batch_size=32",
    "learner.log_every=10",
    "learner.eval_envs=4",
    "loop.rounds=2",
    "loop.pretrain_steps=20",
    "loop.train_steps=20",
    "loop.checkpoint_every=10",
    "loop.episodes_per_task=3",
    "loop.envs=2",
    "loop.eval_episodes=2",
    "loop.grow_min_episodes=2",
    "loop.judge_fraction=1.0",
]
"""A loop that runs every stage in seconds (its numbers mean nothing)."""

PRESETS: dict[str, list[str]] = {"demo": DEMO, "tiny": TINY}
