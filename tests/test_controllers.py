"""Scripted controllers: every template from fresh resets, and from states a chain leaves behind."""

from __future__ import annotations

import pytest

from gameon_nb.sim import TEMPLATES, make_env, scripted_controller
from gameon_nb.sim.env import StackingEnv
from gameon_nb.sim.scene import SceneState


def execute(env: StackingEnv, template: str, colours: tuple[str, ...]) -> SceneState:
    """Run one skill's scripted controller for its duration; return the final state."""
    controller = scripted_controller(template, colours, env.config)
    for _ in range(TEMPLATES[template].duration):
        env.step(controller(env.scene_state()))
    return env.scene_state()


@pytest.fixture
def env() -> StackingEnv:
    return make_env()


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_every_template_from_fresh_resets(env: StackingEnv, template: str) -> None:
    t = TEMPLATES[template]
    instances = list(t.instances())
    trials = 6 if template == "tower" else 10
    wins = 0
    for seed in range(trials):
        colours = instances[seed % len(instances)]
        env.reset(seed=1000 + seed)
        wins += bool(t.success(execute(env, template, colours), colours))
    assert wins >= trials - 1, f"{template}: {wins}/{trials}"


CHAINS = [
    # open the gripper while holding a block above another: it drops, the gripper is open
    [("hold_above", ("red", "blue")), ("open", ())],
    # grasp one block while holding another: let go, then grasp
    [("lift", ("green",)), ("grasp", ("blue",))],
    # move above a block while carrying another
    [("lift", ("red",)), ("move_above", ("green",))],
    # stack starting with the block already in hand, then stack again: nothing to undo
    [("hold_above", ("blue", "green")), ("stack", ("blue", "green")), ("stack", ("blue", "green"))],
    # next to, starting from a closed empty gripper
    [("grasp", ("red",)), ("open", ()), ("next_to", ("green", "red"))],
    # a tower whose base was built by an earlier skill
    [("stack", ("green", "blue")), ("tower", ("red", "green", "blue"))],
]


@pytest.mark.parametrize("chain", CHAINS, ids=lambda c: " > ".join(t for t, _ in c))
def test_chained_executions(env: StackingEnv, chain: list[tuple[str, tuple[str, ...]]]) -> None:
    for seed in (11, 12):
        env.reset(seed=seed)
        for template, colours in chain:
            state = execute(env, template, colours)
            assert TEMPLATES[template].success(state, colours), (seed, template, colours)


def test_unknown_names_list_the_known_ones() -> None:
    with pytest.raises(KeyError, match="known"):
        scripted_controller("juggle", ())
    with pytest.raises(ValueError, match="known"):
        scripted_controller("lift", ("purple",))
    with pytest.raises(ValueError, match="distinct"):
        scripted_controller("stack", ("red", "red"))
