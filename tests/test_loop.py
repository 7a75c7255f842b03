"""The experiment loop end to end on the scripted experimenter, with a tiny budget."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from gameon_nb.config import ConfigError, RunConfig, override
from gameon_nb.loop import STAGES, TINY, Experiment, RunDir
from gameon_nb.loop import events as ev
from gameon_nb.skills.library import SkillLibrary


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-round run of the whole loop (treat as read-only)."""
    root = tmp_path_factory.mktemp("tiny_loop")
    exp = Experiment(root, override(RunConfig(), TINY))
    stages = []
    while not exp.done:
        stages.append((exp.round, exp.next_stage))
        exp.step()
    exp.close()
    assert stages == [(0, "setup")] + [(r, s) for r in (1, 2) for s in STAGES]
    return root


def test_every_stage_emits_its_events(tiny_run: Path) -> None:
    log = ev.EventLog(RunDir(tiny_run).events_path).read()
    started = [(e.round, e.stage) for e in log if isinstance(e, ev.StageStarted)]
    finished = [(e.round, e.stage) for e in log if isinstance(e, ev.StageFinished)]
    assert started == finished == [(0, "setup")] + [(r, s) for r in (1, 2) for s in STAGES]
    kinds = Counter(e.kind for e in log)
    for kind in ("task_proposed", "task_decomposed", "skills_retrieved", "judge_agreement",
                 "evaluated"):  # fmt: skip
        assert kinds[kind] == (3 if kind == "evaluated" else 2), kind
    assert kinds["episode_collected"] == 2 * 3
    assert kinds["training"] >= 3  # setup and both rounds log metrics
    assert kinds["run_stopped"] == 1
    proposed = [e for e in log if isinstance(e, ev.TaskProposed)]
    assert all((tiny_run / e.image).exists() for e in proposed)  # the scene the proposer saw


def test_store_library_and_state_grow(tiny_run: Path) -> None:
    run = RunDir(tiny_run)
    store = run.store()
    table = store.episodes_table()
    assert len(table) == 6 + 2 * 3  # bootstrap, then three episodes per round
    loop = table[table["job"].notna()]
    assert sorted(zip(loop["round"], loop["job"], strict=True)) == [
        (r, j) for r in (1, 2) for j in range(3)
    ]
    library = SkillLibrary.load(run.library_path)
    evaluated = [t for t in library.known() if library[t].success]
    assert len(evaluated) >= 16  # every base skill after setup, plus targets
    for target in RunConfig().loop.targets:
        assert [p["round"] for p in library[target].success] == [0, 1, 2]
    state = run.load_state()
    assert state.next == "done"
    assert state.stopped == "round budget spent"
    assert [h.round for h in state.history] == [1, 2]
    assert run.checkpoint("latest").exists()
    assert not run.checkpoint("train-002").exists()  # partial checkpoints are cleaned up
    evaluated_last = set(json.loads(run.evaluation(2).read_text()))
    full = set(Experiment.resume(tiny_run).eval_skills())
    assert full <= evaluated_last
    screened = evaluated_last - full  # the last round screens every other candidate with data
    assert all(library[t].status == "candidate" and library[t].reward_steps for t in screened)


def test_status_reports_the_run(tiny_run: Path) -> None:
    status = Experiment.resume(tiny_run, read_only=True).status()
    assert status.next_stage == "done"
    assert status.episodes == 12
    assert status.library["open the gripper"].status == "base"
    assert status.latest_evaluation
    assert status.to_json()["library"]["open the gripper"]["status"] == "base"
    with pytest.raises(RuntimeError, match="is done"):
        Experiment.resume(tiny_run).step()


def test_curricula_choose_differently(tmp_path: Path) -> None:
    tasks = {}
    for curriculum in ("random", "fixed", "target"):
        cfg = override(RunConfig(), [*TINY, f"loop.curriculum={curriculum}"])
        exp = Experiment(tmp_path / curriculum, cfg)
        exp.state.round, exp.state.next = 1, "propose"  # choose a task without setting up
        tasks[curriculum] = exp.step()["task"]
        exp.close()
    assert tasks["fixed"] == RunConfig().loop.fixed_schedule[0]
    assert tasks["target"] == RunConfig().loop.targets[0]
    assert ";" in tasks["random"] or tasks["random"] in SkillLibrary.initial().available()
    with pytest.raises(ConfigError, match=r"loop.curriculum is 'genius'; it accepts"):
        Experiment(tmp_path / "bad", override(RunConfig(), ["loop.curriculum=genius"]))
