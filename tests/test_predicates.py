"""Predicates against hand-placed scenes: a true and a false case for each, and the edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from gameon_nb.sim import predicates as P
from gameon_nb.sim.scene import SceneState
from gameon_nb.sim.templates import TEMPLATES
from tests.scenes import place

R, G, B = P.RED, P.GREEN, P.BLUE
H = 0.025  # half a block


def test_open() -> None:
    assert P.is_open(place({}, opening=0.09))
    assert not P.is_open(place({}, opening=0.05))


def test_move_above() -> None:
    assert P.moved_above(place({"red": (0.0, 0.0, H)}, gripper=(0.005, 0.0, 0.12)), R)
    assert not P.moved_above(place({"red": (0.0, 0.0, H)}, gripper=(0.05, 0.0, 0.12)), R)
    # beside it at its height (fingers around it) is not above it
    assert not P.moved_above(place({"red": (0.0, 0.0, H)}, gripper=(0.0, 0.0, H)), R)


def test_grasp() -> None:
    pinched = place({"green": (0.0, 0.0, H)}, gripper=(0.0, 0.0, H), opening=0.0495)
    assert P.grasped(pinched, G)
    assert not P.grasped(pinched, R)
    open_around = place({"green": (0.0, 0.0, H)}, gripper=(0.0, 0.0, H), opening=0.08)
    assert not P.grasped(open_around, G)


def test_lift() -> None:
    up = place({"blue": (0.0, 0.0, 0.1)}, gripper=(0.0, 0.0, 0.1), opening=0.0495)
    assert P.lifted(up, B)
    low = place({"blue": (0.0, 0.0, H)}, gripper=(0.0, 0.0, H), opening=0.0495)
    assert P.grasped(low, B)
    assert not P.lifted(low, B)
    # high in the air but not held
    assert not P.lifted(place({"blue": (0.0, 0.0, 0.1)}), B)


def test_block_resting_on_the_gripper_is_neither_grasped_nor_lifted() -> None:
    # the palm's top face is 0.065 m over the TCP: the red block lies on it, beside the column
    s = place({"red": (0.0, 0.04, 0.2 + 0.065 + H - 0.0005)}, gripper=(0.0, 0.0, 0.2), opening=0.0)
    assert s.palm_contact[R]
    assert not P.grasped(s, R)
    assert not P.lifted(s, R)
    assert not P.released(s, R)
    assert not P.on_table(s, R)


def test_hold_above() -> None:
    held = place(
        {"red": (0.0, 0.0, 0.11), "blue": (0.0, 0.0, H)}, gripper=(0.0, 0.0, 0.11), opening=0.0495
    )
    assert P.held_above(held, R, B)
    assert not P.held_above(held, B, R)
    aside = place(
        {"red": (0.06, 0.0, 0.11), "blue": (0.0, 0.0, H)}, gripper=(0.06, 0.0, 0.11), opening=0.0495
    )
    assert not P.held_above(aside, R, B)


def test_stack() -> None:
    stacked = place({"red": (0.0, 0.0, 3 * H), "blue": (0.0, 0.0, H)})
    assert P.is_stacked(stacked, R, B)
    assert not P.is_stacked(stacked, B, R)  # never the other way round
    apart = place({"red": (0.1, 0.0, H), "blue": (0.0, 0.0, H)})
    assert not P.is_stacked(apart, R, B)
    offset = place({"red": (0.03, 0.0, 3 * H), "blue": (0.0, 0.0, H)})
    assert not P.is_stacked(offset, R, B)


def test_stack_still_in_the_gripper_is_not_a_stack() -> None:
    s = place(
        {"red": (0.0, 0.0, 3 * H), "blue": (0.0, 0.0, H)}, gripper=(0.0, 0.0, 3 * H), opening=0.0495
    )
    assert P.rests_on(s, R, B)
    assert not P.released(s, R)
    assert not P.is_stacked(s, R, B)


def test_stack_held_in_the_air_by_the_gripper_is_not_a_stack() -> None:
    # the gripper holds blue 10 cm up; red sits on blue
    s = place(
        {"blue": (0.0, 0.0, 0.1), "red": (0.0, 0.0, 0.15)}, gripper=(0.0, 0.0, 0.1), opening=0.0495
    )
    assert P.rests_on(s, R, B)
    assert not P.is_stacked(s, R, B)
    assert not P.is_tower(s, G, R, B)


def test_block_leaning_on_another_is_not_stacked() -> None:
    # red tilted 35 degrees about x, one edge on the table, its face against blue's side
    roll = np.deg2rad(35)
    y = -(H + H * np.cos(roll) + H * np.sin(roll)) + 0.0005
    z = H * np.cos(roll) + H * np.sin(roll)
    s = place({"blue": (0.0, 0.0, H), "red": (0.0, y, z, 0.0, roll)})
    assert not P.upright(s, R)
    assert not P.rests_on(s, R, B)
    assert not P.is_stacked(s, R, B)
    assert not P.is_next_to(s, R, B)  # leaning is not standing on the table


def test_next_to() -> None:
    side = place({"red": (0.0, 0.0, H), "green": (0.065, 0.0, H)})
    assert P.is_next_to(side, R, G)
    assert P.is_next_to(side, G, R)
    far = place({"red": (0.0, 0.0, H), "green": (0.15, 0.0, H)})
    assert not P.is_next_to(far, R, G)
    on_top = place({"red": (0.0, 0.0, 3 * H), "green": (0.0, 0.0, H)})
    assert not P.is_next_to(on_top, R, G)


def test_tower() -> None:
    tower = place({"red": (0.0, 0.0, 5 * H), "green": (0.0, 0.0, 3 * H), "blue": (0.0, 0.0, H)})
    assert P.is_tower(tower, R, G, B)
    assert not P.is_tower(tower, B, G, R)
    assert not P.is_tower(tower, G, R, B)
    two = place({"red": (0.1, 0.0, H), "green": (0.0, 0.0, 3 * H), "blue": (0.0, 0.0, H)})
    assert not P.is_tower(two, R, G, B)


def test_predicates_broadcast_over_a_batch() -> None:
    stacked = place({"red": (0.0, 0.0, 3 * H), "blue": (0.0, 0.0, H)})
    apart = place({"red": (0.1, 0.0, H), "blue": (0.0, 0.0, H)})
    batch = SceneState.stack([stacked, apart, stacked])
    for name, template in TEMPLATES.items():
        colours = next(iter(template.instances()))
        one_by_one = [bool(template.success(batch[i], colours)) for i in range(3)]
        assert template.success(batch, colours).tolist() == one_by_one, name
    assert P.is_stacked(batch, R, B).tolist() == [True, False, True]


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_template_text_and_arity(name: str) -> None:
    t = TEMPLATES[name]
    for colours in t.instances():
        text = t.text(colours)
        assert all(c in text for c in colours)
    with pytest.raises(ValueError, match="takes"):
        t.text(("red",) * (t.arity + 1))
