"""`gameon bench learning`: bootstrap, a wall-time budget of training, every base skill (tiny)."""

from __future__ import annotations

from pathlib import Path

from gameon_nb.bench.learning import BASE, measure_learning
from gameon_nb.run.dir import RunDir

SMALL = ["learner.hidden=32", "learner.layers=2", "learner.batch_size=32", "learner.atoms=11"]


def test_the_learning_figure_on_a_tiny_budget(tmp_path: Path) -> None:
    report = measure_learning(
        minutes=0.05, episodes=6, eval_episodes=1, run_dir=tmp_path, assignments=SMALL
    )
    assert report["bootstrap"]["episodes"] == 6  # type: ignore[index]
    assert report["train"]["updates"] > 0  # type: ignore[index, operator]
    assert sorted(report["results"]) == sorted(BASE)  # type: ignore[arg-type]
    assert RunDir(tmp_path).checkpoint("latest").is_file()
    assert len(BASE) == 16
