"""Named sets of config overrides: the demo's budget, and the tiny budget of tests and CI.

    >>> config = override(RunConfig(), DEMO)      # what `gameon demo` runs
    >>> config = override(RunConfig(), STUDY)     # an hour: ten rounds on more data
    >>> config = override(RunConfig(), TINY)      # seconds, for smoke tests
    >>> config = override(RunConfig(), GPU)       # the full system, Perceiver on pixels

Each is a list of `section.field=value` strings, the same language as `--set` and papermill
parameters, so a preset is also a documented starting point for one's own runs.
"""

from __future__ import annotations

__all__ = ["DEMO", "GPU", "PRESETS", "STUDY", "TINY"]

DEMO: list[str] = [
    "bootstrap.episodes=300",
    "data.policy_frames=false",  # the state learner does not need them; the judge's view stays
    "loop.rounds=4",
    "loop.pretrain_steps=8000",
    "loop.train_steps=1500",
    "loop.episodes_per_task=16",
    "loop.eval_episodes=20",  # a skill joins on at least 20 episodes
    "loop.grow_min_episodes=20",
    "loop.screen_every=2",
]
"""The main job of the README: at most 15 minutes on a 2-core CPU."""

STUDY: list[str] = [
    "bootstrap.episodes=600",
    "data.policy_frames=false",
    "loop.rounds=10",
    "loop.pretrain_steps=24000",
    "loop.train_steps=3000",
    "loop.episodes_per_task=24",
    "loop.eval_episodes=20",
    "loop.grow_min_episodes=20",
    "loop.screen_every=2",
]
"""A longer study of the loop on the CPU: at most 60 minutes on 2 cores (`--preset study`)."""

TINY: list[str] = [
    "bootstrap.episodes=6",
    "bootstrap.workers=1",
    "data.policy_frames=false",  # the view stays at its 240x180: people and the judge see it
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

GPU: list[str] = [
    "sim.pixels=true",
    "sim.image_size=[64,64]",
    "data.policy_frames=true",
    "data.frame_every=1",  # pixel learning needs a frame at every step
    "learner.trunk=perceiver",
    "learner.pixels=true",
    "learner.hidden=512",
    "learner.lr=0.0003",
    "learner.latent_dim=256",
    "learner.latents=32",
    "learner.heads=8",
    "learner.blocks=4",
    "learner.conv_channels=[32,64,128]",
    "learner.batch_size=512",
    "learner.eval_envs=32",
    "bootstrap.episodes=2000",
    "bootstrap.workers=8",
    "loop.rounds=20",
    "loop.pretrain_steps=50000",
    "loop.train_steps=10000",
    "loop.checkpoint_every=2000",
    "loop.episodes_per_task=64",
    "loop.envs=32",
    "loop.eval_episodes=50",
    "loop.grow_min_episodes=50",
    "loop.eval_base=true",
]
"""The full system on a GPU (Perceiver trunk on both policy cameras, CUDA with bf16 autocast):
what notebooks/03_full_loop.ipynb runs by default. Not for a CPU."""

PRESETS: dict[str, list[str]] = {"demo": DEMO, "study": STUDY, "tiny": TINY, "gpu": GPU}
