"""Shared fixtures: a small bootstrap run made once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameon_nb.config import RunConfig, override
from gameon_nb.data.bootstrap import bootstrap

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
