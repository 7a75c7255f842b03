"""Minari export and import, TensorBoard event files: read back by those libraries' own readers.

$ .venv/bin/python -m pytest tests/test_interop.py -m "not slow"   # without d3rlpy's venv
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import minari
import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from gameon_nb.cli import main
from gameon_nb.config import RunConfig, override
from gameon_nb.data.bootstrap import bootstrap
from gameon_nb.data.minari_io import MinariError, export_minari, import_minari
from gameon_nb.data.relabel import Relabeller
from gameon_nb.data.store import EpisodeStore
from gameon_nb.loop import TINY, Experiment, RunDir
from gameon_nb.loop import events as ev
from gameon_nb.loop.tensorboard import scalars

STACK = "stack the red block on the blue block"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two rounds of the loop on the tiny budget (treat as read-only)."""
    root = tmp_path_factory.mktemp("interop") / "tiny"
    exp = Experiment(root, override(RunConfig(), TINY))
    exp.run()
    exp.close()
    return root


@pytest.fixture
def datasets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Minari's datasets directory for one test."""
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    return tmp_path / "minari"


def _text(values: np.ndarray) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values.tolist()]


def test_minari_sees_the_stores_episodes_steps_actions_and_rewards(
    tiny_run: Path, datasets: Path
) -> None:
    run = RunDir(tiny_run)
    store = run.store()
    assert {store.meta(i)["round"] for i in store.ids()} == {0, 1, 2}
    assert main(["export", "--run-dir", str(tiny_run), "--format", "minari"]) == 0
    dataset = minari.load_dataset("gameon/tiny-v0")
    assert dataset.total_episodes == len(store)
    assert dataset.total_steps == sum(store.meta(i)["steps"] for i in store.ids())
    relabel = Relabeller(store)
    for i, data in zip(store.ids(), dataset.iterate_episodes(), strict=True):
        episode = store.load(i, frames=False)
        assert np.array_equal(data.actions, episode.actions)
        assert np.array_equal(data.observations["proprio"], episode.proprio)
        assert not data.terminations.any()
        assert data.truncations.tolist()[-1]
        assert data.truncations.sum() == 1
        # each step's reward is its executed skill's, as our relabeller computes it
        expected = np.zeros(episode.steps, np.float32)
        for skill, (start, end) in zip(episode.skills, episode.segments, strict=True):
            expected[start:end] = relabel.rewards(i, skill)[start:end]
        assert np.array_equal(data.rewards, expected)
        instruction = _text(data.infos["instruction"])
        assert len(instruction) == episode.steps + 1
        start, end = episode.segments[-1]
        assert instruction[start:end] == [episode.skills[-1]] * (end - start)
        assert _text(data.infos["task"])[0] == episode.task
        assert int(data.infos["store_id"][0]) == i
    assert dataset.storage.metadata["gameon"]["config"]["seed"] == RunConfig().seed


def test_the_recovered_env_resets_to_the_recorded_first_observation(
    tiny_run: Path, datasets: Path
) -> None:
    run = RunDir(tiny_run)
    dataset = export_minari(run.store(), run.load_config(), "gameon/env-v0")
    env = dataset.recover_environment()
    data = next(dataset.iterate_episodes())
    seed = run.store().meta(0)["seed"]
    obs, _ = env.reset(seed=seed)
    assert env.observation_space.contains(obs)
    assert np.allclose(obs["objects"], data.observations["objects"][0], atol=1e-6)
    assert np.allclose(obs["proprio"], data.observations["proprio"][0], atol=1e-6)
    env.close()


def test_skills_relabel_every_episode_once_per_skill(tiny_run: Path, datasets: Path) -> None:
    store = RunDir(tiny_run).store()
    skills = [STACK, "open the gripper"]
    dataset = export_minari(store, RunConfig(), "gameon/relabel-v0", skills=skills)
    assert dataset.total_episodes == 2 * len(store)
    relabel = Relabeller(store)
    episodes = list(dataset.iterate_episodes())
    for k, skill in enumerate(skills):
        for j, i in enumerate(store.ids()):
            data = episodes[k * len(store) + j]
            assert np.array_equal(data.rewards, relabel.rewards(i, skill))
            assert set(_text(data.infos["instruction"])) == {skill}
    assert sum(d.rewards.sum() for d in episodes[len(store) :]) > 0  # the gripper opened


def test_import_round_trips_to_an_equal_store(
    tiny_run: Path, datasets: Path, tmp_path: Path
) -> None:
    source = RunDir(tiny_run).store()
    export_minari(source, RunConfig(), "gameon/trip-v0", skills=[STACK, "open the gripper"])
    copy = EpisodeStore(tmp_path / "copy" / "episodes")
    assert import_minari("gameon/trip-v0", copy, keep_rounds=True) == source.ids()
    assert copy.episodes_table().equals(source.episodes_table())
    for i in source.ids():
        a, b = source.load(i, frames=False), copy.load(i, frames=False)
        assert np.array_equal(a.actions, b.actions)
        assert np.array_equal(a.proprio, b.proprio)
        for name, array in a.states.to_arrays().items():
            assert np.array_equal(array, b.states.to_arrays()[name]), name
    with pytest.raises(MinariError, match="already holds"):
        import_minari("gameon/trip-v0", copy)
    assert len(copy) == len(source)


def test_an_imported_dataset_is_the_bootstrap_data_of_a_new_run(
    small_run: Path, small_config: RunConfig, datasets: Path, tmp_path: Path
) -> None:
    export_minari(EpisodeStore(small_run / "episodes"), small_config, "gameon/boot-v0")
    target = tmp_path / "next"
    assert main(["import", "gameon/boot-v0", "--run-dir", str(target), "--json"]) == 0
    store = EpisodeStore(target / "episodes")
    assert len(store) == 8
    assert set(store.episodes_table()["round"]) == {0}
    stats = bootstrap(target, small_config, progress=False)
    assert stats["written"] == 0
    assert stats["episodes"] == 8


def test_export_refuses_what_it_cannot_write_and_changes_nothing(
    tiny_run: Path, datasets: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = RunDir(tiny_run).store()
    export_minari(store, RunConfig(), "gameon/once-v0")
    before = sorted(p.relative_to(datasets) for p in datasets.rglob("*"))
    with pytest.raises(MinariError, match="exists"):
        export_minari(store, RunConfig(), "gameon/once-v0")
    with pytest.raises(MinariError, match="not a canonical skill"):
        export_minari(store, RunConfig(), "gameon/other-v0", skills=["lift the purple block"])
    assert sorted(p.relative_to(datasets) for p in datasets.rglob("*")) == before
    with pytest.raises(SystemExit):
        main(["export", "--run-dir", str(tiny_run), "--name", "gameon/once-v0"])
    assert "pass another --name" in capsys.readouterr().err
    assert main(["export", "--run-dir", str(tiny_run.parent / "nothing")]) == 2
    with pytest.raises(MinariError, match="cannot load"):
        import_minari("gameon/missing-v0", EpisodeStore(datasets.parent / "x" / "episodes"))


def test_tensorboard_holds_the_learners_losses_and_the_round_success(tiny_run: Path) -> None:
    run = RunDir(tiny_run)
    board = EventAccumulator(str(run.tb_dir))
    board.Reload()
    tags = board.Tags()["scalars"]
    assert {"learner/critic_loss", "learner/bc_loss"} <= set(tags)
    training = [e.metrics for e in ev.EventLog(run.events_path).read(ev.TrainingProgress)]
    losses = board.Scalars("learner/critic_loss")
    assert [s.step for s in losses] == [int(m["step"]) for m in training]
    assert np.allclose([s.value for s in losses], [m["critic_loss"] for m in training])
    evaluated = ev.EventLog(run.events_path).read(ev.Evaluated)
    stack = [e.results[STACK]["success"] for e in evaluated]
    assert [(s.step, s.value) for s in board.Scalars(f"success/{STACK}")] == list(enumerate(stack))
    assert [s.step for s in board.Scalars("round/library_size")] == [0, 1, 2]
    assert next(s.value for s in board.Scalars("round/library_size")) == 16


def test_tensorboard_is_rewritten_from_the_event_log(tiny_run: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-r", str(tiny_run), str(copy)], check=True)
    expected = sum(len(list(scalars(e))) for e in ev.EventLog(copy / "events.jsonl").read())
    for _ in range(2):  # written twice, held once
        assert main(["tensorboard", "--run-dir", str(copy)]) == 0
        board = EventAccumulator(str(copy / "tb"))
        board.Reload()
        held = sum(len(board.Scalars(t)) for t in board.Tags()["scalars"])
        assert held == expected


@pytest.mark.slow
def test_d3rlpy_trains_on_an_exported_dataset_through_minari(
    tiny_run: Path, tmp_path: Path
) -> None:
    from gameon_nb.bench.learner import WORKER, ensure_d3rlpy_venv, ensure_minari

    root = tmp_path / "minari"
    run = RunDir(tiny_run)
    dataset = export_minari(run.store(), run.load_config(), "gameon/d3rlpy-v0", [STACK], root)
    python = ensure_minari(ensure_d3rlpy_venv())
    job = {
        "minari": {"id": "gameon/d3rlpy-v0", "root": str(root)},
        "hidden_units": [32, 32], "batch_size": 32, "gamma": 0.99, "lr": 3e-4, "iql": {},
        "seed": 0, "threads": 1, "device": "cpu:0", "budget_updates": 20, "budget_seconds": 0.0,
    }  # fmt: skip
    (tmp_path / "job.json").write_text(json.dumps(job))
    done = subprocess.run(
        [str(python), "-I", str(WORKER), str(tmp_path / "job.json")],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["updates"] >= 20
    # d3rlpy drops the last step of an episode that times out (it has no next observation)
    assert result["transitions"] == dataset.total_steps - dataset.total_episodes
    assert result["episodes"] == dataset.total_episodes
    assert all(np.isfinite(v) for v in result["last_losses"].values())


def test_without_tensorboard_a_run_warns_once_and_writes_no_tb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gameon_nb.loop import tensorboard

    monkeypatch.setattr(tensorboard, "available", lambda: False)
    with pytest.warns(UserWarning, match="TensorBoard is not installed"):
        sink = tensorboard.open_sink(tmp_path / "tb", ev.EventLog(tmp_path / "events.jsonl"))
    assert sink is None
    assert not (tmp_path / "tb").exists()
