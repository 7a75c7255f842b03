"""Growth and what is evaluated: candidates with data are screened and can join the library; a
candidate whose evaluation clears the bar is promoted and one that does not is not; the
offline-only baseline trains as much without collecting."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameon_nb.config import RunConfig, override
from gameon_nb.experimenter.decisions import ProgressVerdict
from gameon_nb.loop import TINY, Experiment
from gameon_nb.loop import events as ev

CLEARS = "stack the red block on the blue block"
MISSES = "stack the green block on the red block"
NEXT_TO = "put the red block next to the blue block"
JOIN_ON_20 = ("loop.grow_min_episodes=20",)


def verdict(learned: bool, add_to_library: bool) -> ProgressVerdict:
    """An analyst's verdict on a learning curve, as the analyse stage records it."""
    return ProgressVerdict(
        reasoning="", backend="scripted", fallback=False, learned=learned, converged=False,
        add_to_library=add_to_library, keep_training=not learned,
    )  # fmt: skip


def at_stage(root: Path, stage: str, *sets: str) -> Experiment:
    """A tiny run placed in round 1 just before `stage`, without running setup."""
    exp = Experiment(root, override(RunConfig(), [*TINY, *sets]))
    exp.state.round, exp.state.next = 1, stage
    return exp


@pytest.mark.parametrize("rule_only", [True, False])
def test_a_candidate_that_clears_the_bar_joins_and_one_that_misses_does_not(
    tmp_path: Path, rule_only: bool
) -> None:
    rule = f"loop.grow_rule_only={str(rule_only).lower()}"
    exp = at_stage(tmp_path, "grow", *JOIN_ON_20, rule)
    exp.library.record_success(CLEARS, round=1, rate=0.75, episodes=20)
    exp.library.record_success(MISSES, round=1, rate=0.65, episodes=20)
    exp.library.record_success(NEXT_TO, round=1, rate=0.9, episodes=8)
    analysis = verdict(learned=True, add_to_library=True)
    exp.this_round.analysis = dict.fromkeys(exp.library.candidates(), analysis)
    summary = exp.step()
    assert summary["added"] == [CLEARS]  # 0.65 misses 0.7; 8 episodes are fewer than 20
    assert exp.library[CLEARS].status == "learned"
    assert exp.library[CLEARS].round_added == 1
    assert exp.library[MISSES].status == "candidate"
    (added,) = exp.events.read(ev.SkillAdded)
    assert (added.skill, added.success, added.episodes) == (CLEARS, 0.75, 20)
    exp.close()


def test_the_analyst_can_hold_a_measured_candidate_back(tmp_path: Path) -> None:
    exp = at_stage(tmp_path, "grow", *JOIN_ON_20)
    exp.library.record_success(CLEARS, round=1, rate=0.9, episodes=20)
    exp.this_round.analysis = {CLEARS: verdict(learned=False, add_to_library=False)}
    assert exp.step()["added"] == []
    (disagreement,) = exp.events.read(ev.GrowthDisagreement)
    assert (disagreement.skill, disagreement.measured, disagreement.analyst) == (
        CLEARS,
        True,
        False,
    )
    exp.close()


def test_candidates_with_data_are_screened_and_promising_ones_evaluated_in_full(
    tmp_path: Path,
) -> None:
    exp = at_stage(tmp_path, "evaluate", "loop.eval_episodes=4", "loop.screen_episodes=1")
    exp.state.round = 2  # the last round of the tiny budget: candidates are screened
    exp.library[NEXT_TO].reward_steps = 5  # it came true somewhere in the data
    assert NEXT_TO not in exp.eval_skills()
    assert exp.screened_skills() == [NEXT_TO]
    exp.step()
    (evaluated,) = exp.events.read(ev.Evaluated)
    result = evaluated.results[NEXT_TO]
    # with 1 episode the upper 95% bound is above 0.7 whatever it shows: it gets all 4
    assert (result["episodes"], result["screened"]) == (4, False)
    assert set(evaluated.results) == {*exp.eval_skills(), NEXT_TO}
    assert exp.library[NEXT_TO].success[-1] == {
        "round": 2,
        "rate": result["success"],
        "episodes": 4,
    }
    exp.close()


def test_the_offline_baseline_collects_nothing_and_trains_as_much(tmp_path: Path) -> None:
    sets = [*TINY, "loop.rounds=1", "loop.curriculum=none"]
    exp = Experiment(tmp_path, override(RunConfig(), sets))
    exp.run()
    exp.close()
    assert len(exp.store) == 6  # the bootstrap episodes only
    assert exp.learner.step == exp.config.loop.pretrain_steps + exp.config.loop.train_steps
    assert exp.state.history == []
    (row,) = exp.status().rounds
    assert (row.task, row.steps, row.task_success) == ("", 0, None)
