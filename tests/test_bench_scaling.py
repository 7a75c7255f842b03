"""`gameon bench scaling`: the learner's cost against data and model size, and a round's train
stage, on a tiny configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from gameon_nb.bench.scaling import measure_scaling
from gameon_nb.config import LearnerConfig

SMALL = ["learner.layers=2", "learner.batch_size=32", "learner.action_samples=3"]


def test_cost_grows_with_the_data_and_the_model(tmp_path: Path) -> None:
    report = measure_scaling(
        data_sizes=(3, 6), hidden_sizes=(16, 64), model_episodes=6, target=0.0, eval_every=5,
        eval_episodes=1, max_minutes=1.0, run_dir=tmp_path, assignments=SMALL, timed_updates=10,
        out=tmp_path,
    )  # fmt: skip
    data, model = (cast(list[dict[str, Any]], report[axis]) for axis in ("data", "model"))
    default = LearnerConfig().hidden
    assert [(p["episodes"], p["hidden"]) for p in data] == [(3, default), (6, default)]
    assert [(p["episodes"], p["hidden"]) for p in model] == [(6, 16), (6, 64)]
    assert data[0]["rows"] < data[1]["rows"]
    assert model[0]["flops_per_update"] < model[1]["flops_per_update"]
    for point in [*data, *model]:
        assert point["seconds_to_base_0_9"] is not None  # a target of 0 is reached at once
        assert point["load_seconds"] > 0
        assert point["round_load_seconds"] > 0
        assert point["updates_per_s"] > 0
    svg = (tmp_path / "scaling.svg").read_text()
    assert svg.startswith("<svg")
    assert svg.count("<polyline") == 4
