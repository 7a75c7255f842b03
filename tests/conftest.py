"""Shared fixtures: a small bootstrap run made once per test session, and a seeded scene."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gameon_nb.config import RunConfig, override
from gameon_nb.data.bootstrap import bootstrap
from gameon_nb.sim import make_env
from gameon_nb.sim.scene import SceneState

SMALL = [
    "bootstrap.episodes=8",
    "bootstrap.workers=1",
    "bootstrap.failure_rate=0.3",
    "sim.image_size=[32, 32]",
    "sim.view_size=[48, 64]",
]


@pytest.fixture(scope="session")
def small_config() -> RunConfig:
    return override(RunConfig(), SMALL)


@pytest.fixture(scope="session")
def small_run(tmp_path_factory: pytest.TempPathFactory, small_config: RunConfig) -> Path:
    """A run directory holding 8 bootstrap episodes with small frames. Treat as read-only."""
    run_dir = tmp_path_factory.mktemp("small_run")
    bootstrap(run_dir, small_config, progress=False)
    return run_dir


@pytest.fixture(scope="session")
def scene() -> tuple[np.ndarray, SceneState]:
    """The experimenter camera's picture of seed 0's reset (48x64), and its scene state."""
    env = make_env(view_size=(48, 64))
    env.reset(seed=0)
    image, state = env.render_view(), env.scene_state()
    env.close()
    return image, state
