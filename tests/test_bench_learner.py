"""`gameon bench learner`: d3rlpy's view of our data, argument errors, and a smoke run.

    $ .venv/bin/python -m pytest tests/test_bench_learner.py           # the smoke run is slow
    $ .venv/bin/python -m pytest tests/test_bench_learner.py -m "not slow"

The smoke run makes d3rlpy's venv in the cache on first use (about 70 s here: torch from a local
wheel, d3rlpy from the registry) and reuses it afterwards.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gameon_nb.bench.learner import d3rlpy_arrays, flat_features
from gameon_nb.cli import main
from gameon_nb.config import RunConfig, override
from gameon_nb.data.bootstrap import bootstrap
from gameon_nb.data.dataset import TransitionData
from gameon_nb.data.store import EpisodeStore
from gameon_nb.learner.model import BLOCK_FEATURES


def test_d3rlpy_arrays_end_an_episode_at_each_success_and_drop_empty_ones(small_run: Path) -> None:
    data = TransitionData.from_store(EpisodeStore(small_run / "episodes"), ["open the gripper"])
    arrays = d3rlpy_arrays(data)
    rewards, terminals, timeouts = arrays["rewards"], arrays["terminals"], arrays["timeouts"]
    kept = len(arrays["observations"])
    assert kept == len(arrays["actions"]) == len(rewards)
    assert arrays["observations"].shape[1] == data.proprio.shape[1] + 3 * BLOCK_FEATURES
    assert np.array_equal(rewards, terminals)  # reward 1 is the skill's success, which ends it
    assert terminals.sum() == (data.rewards[:, 0] & data.has_action).sum()
    assert not (terminals.astype(bool) & timeouts.astype(bool)).any()
    # each episode ends in a timeout, unless a success on its last action left that row alone
    dropped = data.rows - kept
    assert timeouts.sum() + dropped == len(np.unique(data.episode_ids))
    assert terminals.sum() > 0
    assert timeouts[-1] == 1


def test_flat_features_match_the_models_features() -> None:
    rng = np.random.default_rng(0)
    proprio = rng.normal(size=(4, 10)).astype(np.float32)
    objects = rng.normal(size=(4, 3, 7)).astype(np.float32)
    flat = flat_features(proprio, objects)
    assert flat.shape == (4, 10 + 3 * BLOCK_FEATURES)
    assert flat.dtype == np.float32
    assert np.array_equal(flat[:, :10], proprio)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--skill", "lift the purple block"], "not a canonical skill text"),
        (["--budget-updates", "0"], "--budget-updates"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(
    option: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "learner", "--json", *option])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_bench_learner_json_through_the_cli(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    config = override(
        RunConfig(),
        [
            "bootstrap.episodes=40",
            "bootstrap.workers=1",
            "data.policy_frames=false",
            "data.view_frames=false",
        ],
    )
    bootstrap(run_dir, config, progress=False)
    command = [
        sys.executable, "-m", "gameon_nb.cli", "bench", "learner", "--json",
        "--run-dir", str(run_dir), "--budget-updates", "5", "--budget-seconds", "2",
        "--episodes", "2",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    required = ["ours_updates_per_s", "d3rlpy_updates_per_s", "ours_success", "d3rlpy_success"]
    assert set(required) <= set(report)
    assert report["budget_updates"] == 5
    assert report["budget_seconds"] == 2.0
    for side in ("ours", "d3rlpy"):
        assert math.isfinite(report[f"{side}_updates_per_s"])
        assert report[f"{side}_updates_per_s"] > 0
        for key in (f"{side}_success", f"{side}_success_at_updates"):
            assert 0.0 <= report[key] <= 1.0
            low, high = report[f"{key}_ci95"]
            assert 0.0 <= low <= report[key] <= high <= 1.0
        assert report[f"{side}_updates_at_seconds"] >= 1
        assert report[f"{side}_train_seconds"] >= 2.0
        assert report[f"{side}_seconds_at_updates"] <= report[f"{side}_train_seconds"]
    assert all(e["episodes"] == 2 for e in report["evaluations"].values())
    assert report["data"]["rows"] > report["data"]["reward_rows"] > 0
    learner = RunConfig().learner
    assert report["hidden_units"] == [learner.hidden] * learner.layers
