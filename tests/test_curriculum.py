"""The scripted curriculum on hand-written histories: it practises the steps a composite waits on,
proposes the composite once they are reliable, waits after a failure until a step improves,
moves on once a skill is learned, and reads rates with their noise."""

from __future__ import annotations

import pytest

from gameon_nb.experimenter import HistoryEntry, ProposalContext, ScriptedExperimenter
from gameon_nb.experimenter.backends.scripted import Rate
from gameon_nb.skills import SkillLibrary
from gameon_nb.skills.rates import significant_change, wilson_interval

STACK = "stack the red block on the blue block"
OTHER = "stack the green block on the red block"
STEPS = [
    "grasp the red block",
    "lift the red block",
    "hold the red block above the blue block",
    "open the gripper",
]


def measured(library: SkillLibrary, round: int, rates: dict[str, float], n: int = 20) -> None:
    for text, rate in rates.items():
        library.record_success(text, round=round, rate=rate, episodes=n)


def propose(scene, library, history=(), targets=(STACK,), round=1) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    image, state = scene
    ctx = ProposalContext(image, state, library, list(history), list(targets), round=round)
    reply = ScriptedExperimenter(seed=0).propose(ctx)
    return reply.task, reply.reasoning


def test_steps_first_then_the_composite_once_they_are_reliable(scene) -> None:  # type: ignore[no-untyped-def]
    library = SkillLibrary.initial()
    measured(library, 0, dict.fromkeys(STEPS, 0.95) | {"lift the red block": 0.3})
    task, why = propose(scene, library)
    assert task == "lift the red block"
    assert f"'{STACK}' waits on it" in why
    measured(library, 1, {"lift the red block": 0.85})
    task, why = propose(scene, library, round=2)
    assert task == STACK
    assert "its steps are reliable" in why


def test_a_failed_composite_waits_until_one_of_its_steps_improves(scene) -> None:  # type: ignore[no-untyped-def]
    library = SkillLibrary.initial()
    measured(library, 1, dict.fromkeys(STEPS, 0.75))
    failed = HistoryEntry(
        1, STACK, tuple(STEPS), (True, True, False, True), STEPS[2], STACK, task_success=0.1
    )
    task, _ = propose(scene, library, [failed], round=2)
    assert task == STEPS[2]  # where it failed, not the stack again
    measured(library, 2, {STEPS[2]: 0.95})  # beyond the noise of 20 episodes
    task, why = propose(scene, library, [failed], round=3)
    assert task == STACK
    assert "a step has improved since" in why


def test_a_learned_composite_makes_way_for_the_next(scene) -> None:  # type: ignore[no-untyped-def]
    library = SkillLibrary.initial()
    other_steps = ["grasp the green block", "lift the green block",
                   "hold the green block above the red block"]  # fmt: skip
    measured(library, 1, dict.fromkeys([*STEPS, *other_steps], 0.95))
    measured(library, 1, {STACK: 0.9, OTHER: 0.1})
    library.promote(STACK, round=1)
    task, _ = propose(scene, library, targets=(STACK, OTHER), round=2)
    assert task == OTHER


def test_noise_is_not_progress() -> None:
    assert significant_change(0.5, 12, 0.6, 12) == 0.0  # within a standard error of 12 episodes
    assert significant_change(0.2, 50, 0.8, 50) > 0.4
    assert significant_change(0.8, 50, 0.2, 50) < -0.4
    low, high = wilson_interval(6, 12)
    assert low == pytest.approx(0.2538, abs=1e-3)
    assert high == pytest.approx(0.7462, abs=1e-3)
    library = SkillLibrary.initial()
    assert Rate.of(library, STACK).describe() == "not measured"
    measured(library, 1, {STACK: 0.2})
    measured(library, 2, {STACK: 0.8})
    measured(library, 3, {STACK: 0.85})
    assert Rate.of(library, STACK).change == 0.0  # 0.8 -> 0.85 is noise
    assert Rate.of(library, STACK, since=1).change > 0.3  # since round 1 it rose
