"""`gameon bench learner`: d3rlpy's view of our data, its policy's one-hot, the mean over skills,
argument errors, and smoke runs on one skill (through the CLI) and on two.

    $ .venv/bin/python -m pytest tests/test_bench_learner.py           # the smoke run is slow
    $ .venv/bin/python -m pytest tests/test_bench_learner.py -m "not slow"

The smoke runs make d3rlpy's venv in the cache on first use (about 70 s here: torch from a local
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
import torch

from gameon_nb.bench.learner import (
    BenchLearnerError,
    TorchScriptPolicy,
    _mean,
    d3rlpy_arrays,
    flat_features,
    measure_learner,
)
from gameon_nb.cli import main
from gameon_nb.config import RunConfig, override
from gameon_nb.data.bootstrap import bootstrap
from gameon_nb.data.dataset import TransitionData
from gameon_nb.data.store import EpisodeStore
from gameon_nb.learner.model import BLOCK_FEATURES
from gameon_nb.skills.results import SkillResult

TWO = ["open the gripper", "move above the red block"]


def test_d3rlpy_arrays_end_an_episode_at_each_success_and_drop_empty_ones(small_run: Path) -> None:
    data = TransitionData.from_store(EpisodeStore(small_run / "episodes"), ["open the gripper"])
    arrays = d3rlpy_arrays(data)
    rewards, terminals, timeouts = arrays["rewards"], arrays["terminals"], arrays["timeouts"]
    kept = len(arrays["observations"])
    assert kept == len(arrays["actions"]) == len(rewards)
    # the state features, then a one-hot of the one skill
    assert arrays["observations"].shape[1] == data.proprio.shape[1] + 3 * BLOCK_FEATURES + 1
    assert (arrays["observations"][:, -1] == 1).all()
    assert np.array_equal(rewards, terminals)  # reward 1 is the skill's success, which ends it
    assert terminals.sum() == (data.rewards[:, 0] & data.has_action).sum()
    assert not (terminals.astype(bool) & timeouts.astype(bool)).any()
    # each episode ends in a timeout, unless a success on its last action left that row alone
    dropped = data.rows - kept
    assert timeouts.sum() + dropped == len(np.unique(data.episode_ids))
    assert terminals.sum() > 0
    assert timeouts[-1] == 1


def test_d3rlpy_arrays_hold_every_row_once_per_skill_with_its_one_hot(small_run: Path) -> None:
    store = EpisodeStore(small_run / "episodes")
    data = TransitionData.from_store(store, TWO)
    arrays = d3rlpy_arrays(data)
    features = flat_features(data.proprio, data.objects)
    one_hot = arrays["observations"][:, features.shape[1] :]
    assert one_hot.shape[1] == 2
    assert np.array_equal(one_hot.sum(1), np.ones(len(one_hot)))
    for k, text in enumerate(TWO):
        alone = d3rlpy_arrays(TransitionData.from_store(store, [text]))
        copy = one_hot[:, k] == 1
        # skill k's copy is what the one skill alone would give, k's one-hot appended
        assert np.array_equal(arrays["observations"][copy, :-2], alone["observations"][:, :-1])
        for key in ("actions", "rewards", "terminals", "timeouts"):
            assert np.array_equal(arrays[key][copy], alone[key])
    # copies follow one another, so each ends on an episode's last row, a timeout
    first_of_second = int(np.argmax(one_hot[:, 1]))
    assert arrays["timeouts"][first_of_second - 1] == 1


class _Tail(torch.nn.Module):
    """Stands in for d3rlpy's policy: its 'action' is the last five inputs."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, -5:]


def test_the_d3rlpy_policy_is_asked_about_each_skill_through_its_one_hot(tmp_path: Path) -> None:
    torch.jit.save(torch.jit.script(_Tail()), str(tmp_path / "policy.pt"))
    policy = TorchScriptPolicy(tmp_path / "policy.pt", TWO)
    rng = np.random.default_rng(0)
    obs = {
        "proprio": rng.normal(size=(3, 10)).astype(np.float32),
        "objects": rng.normal(size=(3, 3, 7)).astype(np.float32),
    }
    actions = policy(obs, [TWO[1], TWO[0], TWO[1]])
    assert actions.shape == (3, 5)
    assert actions.dtype == np.float32
    assert np.array_equal(actions[:, -2:], [[0, 1], [1, 0], [0, 1]])
    assert np.array_equal(actions[:, :3], flat_features(obs["proprio"], obs["objects"])[:, -3:])
    with pytest.raises(ValueError, match="not trained on"):
        policy(obs, ["lift the red block"] * 3)


def test_the_mean_over_skills_pools_their_episodes_for_the_interval() -> None:
    results = {
        "a": SkillResult(success=1.0, successes=10, episodes=10, ci95=[0.72, 1.0]),
        "b": SkillResult(success=0.5, successes=5, episodes=10, ci95=[0.24, 0.76]),
    }
    mean = _mean(results)
    assert mean["success"] == 0.75
    assert (mean["successes"], mean["episodes"]) == (15, 20)
    # Wilson's 95% interval for 15 of 20, by hand: (0.5313, 0.8881)
    assert mean["ci95"] == pytest.approx([0.5313, 0.8881], abs=1e-4)


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


@pytest.mark.parametrize(
    ("skills", "message"),
    [([], "at least one"), (["lift the red block", "lift the purple block"], "not a canonical")],
)
def test_bad_skill_lists_are_refused_before_any_work(skills: list[str], message: str) -> None:
    with pytest.raises(BenchLearnerError, match=message):
        measure_learner(skills, venv=Path("/nonexistent/venv"))


@pytest.fixture(scope="module")
def run_40(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 bootstrap episodes, no frames: enough for the smoke runs' skills to come true."""
    run_dir = tmp_path_factory.mktemp("bench_learner") / "run"
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
    return run_dir


@pytest.mark.slow
def test_bench_learner_json_through_the_cli(run_40: Path) -> None:
    command = [
        sys.executable, "-m", "gameon_nb.cli", "bench", "learner", "--json",
        "--run-dir", str(run_40), "--skill", "lift the red block", "--budget-updates", "5",
        "--budget-seconds", "2", "--episodes", "2",
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
    assert report["skills"] == ["lift the red block"]
    assert all(e["episodes"] == 2 for e in report["evaluations"].values())
    assert report["data"]["rows"] > report["data"]["per_skill"]["lift the red block"]["reward_rows"]
    learner = RunConfig().learner
    assert report["hidden_units"] == [learner.hidden] * learner.layers


@pytest.mark.slow
def test_bench_learner_on_two_skills_reports_each_and_their_mean(run_40: Path) -> None:
    skills = ["move above the blue block", "lift the red block"]
    report = measure_learner(
        skills, budget_updates=5, budget_seconds=2.0, episodes=2, run_dir=run_40
    )
    assert report["skills"] == skills
    assert list(report["per_skill"]) == skills
    for side in ("ours", "d3rlpy"):
        for key in (f"{side}_success", f"{side}_success_at_updates"):
            each = [report["per_skill"][skill][key] for skill in skills]
            assert report[key] == pytest.approx(np.mean(each))
            for skill in skills:
                low, high = report["per_skill"][skill][f"{key}_ci95"]
                assert 0.0 <= low <= report["per_skill"][skill][key] <= high <= 1.0
        assert report[f"{side}_updates_per_s"] > 0
    assert all(e["episodes"] == 2 * len(skills) for e in report["evaluations"].values())
    data = report["data"]
    for skill in skills:
        assert data["per_skill"][skill]["reward_rows"] > 0
        assert data["per_skill"][skill]["executions"] >= data["per_skill"][skill]["successes"]
    # d3rlpy trains on every row once per skill, its observations one-hot longer
    assert data["d3rlpy_transitions"] == len(skills) * data["transitions"]
    assert report["iql"]["observation_size"] == 10 + 3 * BLOCK_FEATURES + len(skills)
