"""Task outcomes: whether the executed decomposition achieved the task itself, on the episode, in
the store and in the loop's events, history and status."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameon_nb.config import DataConfig, RunConfig, override
from gameon_nb.data.recorder import record_episode
from gameon_nb.data.store import EpisodeStore
from gameon_nb.experimenter import ScriptedExperimenter
from gameon_nb.loop import TINY, Experiment
from gameon_nb.loop import events as ev
from gameon_nb.run import RoundRow
from gameon_nb.sim import make_env, scripted_controller
from gameon_nb.skills import Skill, SkillLibrary

STACK = "stack the red block on the blue block"
NO_FRAMES = DataConfig(policy_frames=False, view_frames=False)


def scripted(skill: Skill):  # type: ignore[no-untyped-def]
    controller = scripted_controller(skill.template, skill.colours)
    return lambda obs, state: controller(state)


def run_chain(steps: list[str], task_skill: str | None, seed: int = 1):  # type: ignore[no-untyped-def]
    env = make_env()
    try:
        episode = record_episode(
            env, [Skill.from_text(s) for s in steps], scripted, seed=seed, data=NO_FRAMES,
            task=STACK,
        )  # fmt: skip
    finally:
        env.close()
    episode.task_skill = task_skill
    return episode


def test_a_chain_that_stacks_records_the_task_as_achieved(tmp_path: Path) -> None:
    steps = ScriptedExperimenter().decompose(STACK, SkillLibrary.initial()).steps
    episode = run_chain(steps, STACK)
    assert episode.task_success() is True
    store = EpisodeStore(tmp_path)
    store.append(episode)
    assert store.meta(0)["task_success"] is True
    assert store.load(0).task_skill == STACK
    assert store.episodes_table()["task_success"].tolist() == [True]


def test_a_chain_that_stops_short_records_the_task_as_failed() -> None:
    episode = run_chain(["grasp the red block", "lift the red block"], STACK)
    assert all(episode.segment_success())  # every step of it succeeded ...
    assert episode.task_success() is False  # ... yet the task did not come true


def test_without_a_task_skill_the_chain_is_the_task() -> None:
    assert run_chain(["grasp the red block", "lift the red block"], None).task_success() is True
    assert run_chain(["open the gripper", "lift the red block"], None, seed=2).task_success() in (
        True,
        False,
    )


@pytest.fixture(scope="module")
def target_run(tmp_path_factory: pytest.TempPathFactory) -> Experiment:
    """One round of the 'target' curriculum on the tiny budget (treat as read-only)."""
    root = tmp_path_factory.mktemp("outcomes")
    exp = Experiment(
        root, override(RunConfig(), [*TINY, "loop.rounds=1", "loop.curriculum=target"])
    )
    exp.run()
    exp.close()
    return exp


def test_the_loop_records_each_episodes_task_outcome(target_run: Experiment) -> None:
    exp = target_run
    collected = exp.events.read(ev.EpisodeCollected)
    assert len(collected) == 3
    for event in collected:
        meta = exp.store.meta(event.episode)
        assert event.task_skill == meta["task_skill"] == RunConfig().loop.targets[0]
        assert event.task_success is meta["task_success"]
        assert exp.store.load(event.episode).task_success() is event.task_success
    (entry,) = exp.state.history
    rate = sum(e.task_success for e in collected) / 3
    assert entry.task_skill == RunConfig().loop.targets[0]
    assert entry.task_success == pytest.approx(rate, abs=1e-4)
    (row,) = exp.status().rounds
    assert row == RoundRow(1, entry.task, entry.task_skill, 4, entry.task_success, [], 16)
    collect = next(e for e in exp.events.read(ev.StageFinished) if e.stage == "collect")
    assert collect.summary["task_success"] == entry.task_success


def test_the_judge_also_judges_the_task(target_run: Experiment) -> None:
    (judged,) = target_run.events.read(ev.JudgeAgreement)
    tasks = [v for v in judged.verdicts if v["segment"] is None]
    assert len(tasks) == 3  # loop.judge_fraction is 1 on the tiny budget
    for verdict in tasks:
        assert verdict["skill"] == RunConfig().loop.targets[0]
        assert verdict["truth"] is target_run.store.meta(verdict["episode"])["task_success"]
