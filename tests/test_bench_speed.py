"""`gameon bench learner-speed`: FLOPs that scale with the work, a profile of the update's parts,
and the time-to-target loop, on a tiny configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameon_nb.bench.speed import matmul_peak, measure_learner_speed, update_flops, update_profile
from gameon_nb.config import LearnerConfig
from gameon_nb.data.dataset import TransitionData
from gameon_nb.data.store import EpisodeStore
from gameon_nb.learner.trainer import PARTS, Learner
from gameon_nb.skills.library import SkillLibrary

SMALL = {"hidden": 32, "layers": 2, "text_dim": 8, "bins": 7, "atoms": 11, "action_samples": 3}


@pytest.fixture(scope="module")
def data(small_run: Path) -> TransitionData:
    return TransitionData.from_store(
        EpisodeStore(small_run / "episodes"), SkillLibrary.initial().known()
    )


def _learner(data: TransitionData, **fields: object) -> Learner:
    learner = Learner(LearnerConfig(**{**SMALL, **fields}), seed=0)  # type: ignore[arg-type]
    learner.set_data(data)
    return learner


def test_flops_per_update_grow_with_the_batch(data: TransitionData) -> None:
    small = update_flops(_learner(data, batch_size=32))
    large = update_flops(_learner(data, batch_size=64))
    assert small > 0
    assert large / small == pytest.approx(2.0, rel=0.1)


def test_the_profile_covers_every_part_and_sums_to_one(data: TransitionData) -> None:
    shares = update_profile(_learner(data, batch_size=32), updates=5)
    assert list(shares) == ["sampler", *PARTS, "python_overhead"]
    assert all(0.0 <= v <= 1.0 for v in shares.values())
    assert sum(shares.values()) == pytest.approx(1.0, abs=0.01)
    assert shares["backward"] > 0
    assert shares["critic"] > 0


def test_matmul_peak_is_a_rate() -> None:
    assert matmul_peak([64, 128], 64, seconds=0.1) > 0.1  # GFLOP/s


def test_the_report_stops_at_the_target(tmp_path: Path) -> None:
    sets = [f"learner.{k}={v}" for k, v in SMALL.items()] + ["learner.batch_size=32"]
    report = measure_learner_speed(
        episodes=6, target=0.0, eval_every=10, eval_episodes=1, max_minutes=1.0,
        timed_updates=10, run_dir=tmp_path, assignments=sets,
    )  # fmt: skip
    assert report["seconds_to_base_0_9"] is not None  # a target of 0 is reached at once
    assert len(report["curve"]) == 1  # type: ignore[arg-type]
    flops, rate, peak = (
        report["flops_per_update"],
        report["updates_per_s"],
        report["matmul_peak_gflop_per_s"],
    )
    assert report["model_flops_utilisation"] == pytest.approx(
        flops * rate / 1e9 / peak,
        rel=0.02,  # type: ignore[operator]
    )
    (point,) = report["curve"]  # type: ignore[misc]
    whole = point["updates"] / point["seconds"]  # type: ignore[index,operator]
    assert report["training_updates_per_s"] == pytest.approx(whole, abs=0.05)
    assert report["training_utilisation"] == pytest.approx(
        flops * whole / 1e9 / peak,
        rel=0.02,  # type: ignore[operator]
    )


@pytest.mark.parametrize(
    ("given", "episodes", "minutes"),
    [([], 20, 20.0), (["--episodes", "50", "--minutes", "15"], 50, 15.0)],
)
def test_the_cli_passes_what_is_given_and_its_own_defaults_otherwise(
    monkeypatch: pytest.MonkeyPatch, given: list[str], episodes: int, minutes: float
) -> None:
    from gameon_nb import cli
    from gameon_nb.bench import speed

    seen: dict[str, object] = {}
    monkeypatch.setattr(speed, "measure_learner_speed", lambda **kw: seen.update(kw) or {})
    assert cli.main(["bench", "learner-speed", "--json", *given]) == 0
    assert (seen["eval_episodes"], seen["max_minutes"]) == (episodes, minutes)
