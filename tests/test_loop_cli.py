"""The loop's commands end to end, tiny: loop, status, demo (and its report), train, eval,
compare."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gameon_nb.config import LoopConfig, RunConfig, override
from gameon_nb.loop import TINY, Experiment
from gameon_nb.loop import events as ev
from gameon_nb.loop.compare import compare_curricula
from gameon_nb.widgets.evaluation import write_comparison_page

SETS = [a for s in TINY for a in ("--set", s)]


def gameon(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gameon_nb.cli", *args], capture_output=True, text=True, timeout=900
    )


def test_loop_then_status_then_refuses_to_overwrite(tmp_path: Path) -> None:
    out = gameon("loop", "--run-dir", str(tmp_path), "--rounds", "1", *SETS, "--json")
    assert out.returncode == 0, out.stderr[-3000:]
    status = json.loads(out.stdout)
    assert status["round"] == 1
    assert status["next_stage"] == "done"
    again = gameon("status", "--run-dir", str(tmp_path), "--json")
    assert json.loads(again.stdout) == status
    assert set(status) >= {"round", "next_stage", "episodes", "library", "latest_evaluation"}
    assert status["library"]["open the gripper"] == {
        "status": "base",
        "success": status["library"]["open the gripper"]["success"],
    }
    refused = gameon("loop", "--run-dir", str(tmp_path), "--rounds", "2", *SETS)
    assert refused.returncode == 2
    assert "--resume" in refused.stderr
    more = gameon("loop", "--run-dir", str(tmp_path), "--rounds", "2", "--resume", *SETS, "--json")
    assert more.returncode == 0, more.stderr[-3000:]
    assert json.loads(more.stdout)["round"] == 2
    bad = gameon("loop", "--run-dir", str(tmp_path / "b"), "--set", "loop.rounds=many")
    assert bad.returncode == 2
    assert "expected int" in bad.stderr


def test_demo_writes_a_report_with_a_video(tmp_path: Path) -> None:
    out = gameon("demo", "--run-dir", str(tmp_path), *SETS, "--rounds", "1", "--json")
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads(out.stdout)
    report = Path(summary["report"]).read_text()
    assert "<video" in report
    assert "Skill library" in report
    assert "Learning curves" in report
    assert "Growth: library, decompositions, task outcomes" in report
    assert summary["seconds"] > 0
    assert [r["round"] for r in summary["rounds"]] == [1]
    # run again: it resumes, and an option that would change the run is refused, not dropped
    again = gameon("demo", "--run-dir", str(tmp_path), *SETS, "--rounds", "1", "--json")
    assert again.returncode == 0, again.stderr[-3000:]
    changed = gameon("demo", "--run-dir", str(tmp_path), *SETS, "--rounds", "3")
    assert changed.returncode == 2
    assert "loop.rounds" in changed.stderr
    assert "gameon loop --run-dir" in changed.stderr
    before = (tmp_path / "config.json").read_text()
    other = gameon("demo", "--run-dir", str(tmp_path), *SETS, "--curriculum", "random")
    assert other.returncode == 2
    assert "loop.curriculum" in other.stderr
    assert (tmp_path / "config.json").read_text() == before


def test_train_then_eval(small_run: Path, tmp_path: Path) -> None:
    shutil.copytree(small_run / "episodes", tmp_path / "episodes")
    tiny = [
        "--set",
        "learner.hidden=32",
        "--set",
        "learner.layers=2",
        "--set",
        "learner.batch_size=32",
    ]
    out = gameon("train", "--run-dir", str(tmp_path), "--steps", "12", *tiny, "--json")
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout)
    assert report["step"] == 12
    assert report["updates_per_s"] > 0
    out = gameon("train", "--run-dir", str(tmp_path), "--steps", "8", "--json")
    assert json.loads(out.stdout)["step"] == 20  # continues from the latest checkpoint
    out = gameon("eval", "--run-dir", str(tmp_path), "--skill", "pick up the red cube",
                 "--episodes", "3", "--json")  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout)
    assert result["skill"] == "lift the red block"
    assert result["episodes"] == 3
    low, high = result["ci95"]
    assert 0 <= low <= result["success"] <= high <= 1
    missing = gameon("eval", "--run-dir", str(tmp_path), "--skill", "juggle the blocks")
    assert missing.returncode == 2
    assert "not a known skill" in missing.stderr
    empty = gameon("train", "--run-dir", str(tmp_path / "empty"), "--steps", "3")
    assert empty.returncode == 2
    assert "gameon bootstrap" in empty.stderr


def test_compare_writes_a_table(tmp_path: Path) -> None:
    table = compare_curricula(tmp_path, ["random", "target"], [0], [*TINY, "loop.rounds=1"])
    rows = table["rows"]
    assert [(r["curriculum"], r["seed"]) for r in rows] == [("random", 0), ("target", 0)]
    for row in rows:
        assert row["episodes"] == 3
        assert row["distinct_tasks"] == 1
        assert row["sequence_entropy_bits"] == 0.0  # one task, one skill sequence
        assert isinstance(row["stack_pairs"], list)
    # one set of columns for every run: the targets first, then whatever any run's last round
    # evaluated besides (None where a run did not evaluate it)
    assert len({tuple(row) for row in rows}) == 1
    targets = [f"success/{t}" for t in LoopConfig().targets]
    assert table["columns"][:4] == ["arm", "run", "curriculum", "seed"]
    assert table["columns"][4 : 4 + len(targets)] == targets
    others = [c for c in table["columns"] if c.startswith("success/") and c not in targets]
    assert others, "each run practised a skill besides the targets and evaluated it"
    assert all(isinstance(row[c], float | None) for row in rows for c in others)
    assert (tmp_path / "compare.md").read_text().startswith("| arm | run | curriculum | seed |")
    assert (tmp_path / "compare.csv").exists()
    page = write_comparison_page(tmp_path, table)  # what `gameon compare` adds
    assert page == tmp_path / "compare.html"
    assert "<svg" in page.read_text() or "data:image/svg" in page.read_text()

    # setup ran once for seed 0: the target run started from a copy of it (its setup events are
    # the random run's, timestamps and all) ...
    logs = [tmp_path / f"{c}-seed0" / "events.jsonl" for c in ("random", "target")]
    first = [log.read_text().splitlines()[0] for log in logs]
    assert first[0] == first[1]
    assert json.loads((tmp_path / "setup-seed0" / "state.json").read_text())["next"] == "propose"
    # ... and ends exactly where a run of its own, setup included, ends
    alone = Experiment(
        tmp_path / "alone",
        override(RunConfig(), [*TINY, "loop.rounds=1", "loop.curriculum=target", "seed=0"]),
    )
    try:
        alone.run()
    finally:
        alone.close()
    own = alone.status().to_json()
    shared = Experiment.resume(tmp_path / "target-seed0").status().to_json()
    for key in ("episodes", "library", "latest_evaluation", "task_counts"):
        assert shared[key] == own[key], key


def test_a_preset_comes_first_and_the_options_override_it() -> None:
    from gameon_nb.cli import _loop_sets, build_parser
    from gameon_nb.loop.presets import DEMO

    parse = build_parser().parse_args
    demo = parse(["demo", "--run-dir", "r", "--set", "loop.rounds=2"])
    assert _loop_sets(demo) == [*DEMO, "loop.rounds=2"]  # the demo's own preset by default
    study = parse(["loop", "--run-dir", "r", "--preset", "study", "--rounds", "3"])
    config = override(RunConfig(), _loop_sets(study))
    assert config.loop.pretrain_steps == 24000
    assert config.loop.rounds == 3
    assert _loop_sets(parse(["loop", "--run-dir", "r"])) == []


def test_compare_runs_the_loop_on_the_oracle_and_on_an_erring_judge(tmp_path: Path) -> None:
    sets = [*TINY, "loop.rounds=1", "experimenter.scripted_judge_error=0.5"]
    vary = {"loop.outcome_source": ["truth", "judge"]}
    rows = compare_curricula(tmp_path, ["target"], [0], sets, vary=vary)["rows"]
    assert [r["arm"] for r in rows] == [
        "target outcome_source=truth",
        "target outcome_source=judge",
    ]
    assert sorted(p.name for p in tmp_path.glob("setup-seed0*")) == ["setup-seed0"]  # shared
    runs = [Experiment.resume(tmp_path / r["run"]) for r in rows]
    try:
        (truth,), (judged,) = (exp.state.history for exp in runs)
        assert (truth.source, judged.source) == ("truth", "judge")
        assert truth.task_success == truth.task_success_truth
        # on the judge's word, every step of every episode and the task were judged
        log = ev.EventLog(runs[1].rundir.events_path).read()
        (agreement,) = [e for e in log if isinstance(e, ev.JudgeAgreement)]
        episodes = [runs[1].store.load(i) for i in runs[1].round_episodes(1).values()]
        tasks = [e.task_skill is not None and e.task_success() is not None for e in episodes]
        assert agreement.judged == sum(len(e.skills) for e in episodes) + sum(tasks)
        assert agreement.source == "judge"
        assert agreement.fallbacks == 0
        wrong = [v for v in agreement.verdicts if v["verdict"] != v["truth"]]
        assert 0 < len(wrong) < agreement.judged  # the judge erred on some, not all
        assert agreement.agreement == pytest.approx(1 - len(wrong) / agreement.judged)
    finally:
        for exp in runs:
            exp.close()
