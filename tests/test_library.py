"""SkillLibrary: initial contents, persistence round trip, damaged files, promotion rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gameon_nb.skills.library import LibraryCorruptError, SkillLibrary
from gameon_nb.skills.skill import Skill, UnknownSkillError, all_skills

STACK = "stack the red block on the blue block"


def test_initial_library_has_base_skills_and_candidates() -> None:
    library = SkillLibrary.initial()
    assert len(library) == len(all_skills()) == 34
    assert "open the gripper" in library.available()
    assert "hold the red block above the blue block" in library.available()
    assert STACK in library.candidates()
    assert STACK not in library.available()
    assert {Skill.from_text(t).template for t in library.candidates()} == {
        "stack",
        "next_to",
        "tower",
    }
    assert all(library[t].round_added == 0 for t in library.available())


def test_round_trip(tmp_path: Path) -> None:
    library = SkillLibrary.initial()
    library.record_success(STACK, round=2, rate=0.4, episodes=20)
    library.record_success(STACK, round=3, rate=0.85, episodes=20)
    library.promote(STACK, round=3)
    library["lift the red block"].reward_steps = 123
    library.save(tmp_path / "library.json")
    again = SkillLibrary.load(tmp_path / "library.json")
    assert again.to_json() == library.to_json()
    assert again[STACK].status == "learned"
    assert again[STACK].round_added == 3
    assert again[STACK].latest_success == 0.85
    assert STACK in again.available()
    assert list(tmp_path.iterdir()) == [tmp_path / "library.json"]  # no temporaries left


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # truncated
        lambda text: text.replace('"format": 1', '"format": 99'),
        lambda text: text.replace("stack the red block", "stack the purple block"),
        lambda text: text.replace('"candidate"', '"maybe"', 1),
        lambda text: "[]",
    ],
    ids=["truncated", "format", "unknown-skill", "status", "not-a-mapping"],
)
def test_damaged_file_is_a_clear_error(tmp_path: Path, damage) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "library.json"
    SkillLibrary.initial().save(path)
    path.write_text(damage(path.read_text()))
    with pytest.raises(LibraryCorruptError, match=r"library\.json"):
        SkillLibrary.load(path)


def test_rules() -> None:
    library = SkillLibrary.initial()
    with pytest.raises(ValueError, match="not a candidate"):
        library.promote("lift the red block", round=1)
    with pytest.raises(ValueError, match="rate"):
        library.record_success(STACK, round=1, rate=1.5, episodes=3)
    with pytest.raises(UnknownSkillError, match="not in the library"):
        library["juggle the blocks"]


def test_skill_parsing() -> None:
    skill = Skill.from_text("  Stack the RED block on the blue block ")
    assert (skill.template, skill.colours, skill.kind) == ("stack", ("red", "blue"), "composite")
    with pytest.raises(UnknownSkillError, match="canonical"):
        Skill.from_text("stack the purple block on the blue block")
    with pytest.raises(UnknownSkillError, match="distinct"):
        Skill("stack", ("red", "red"))


def test_frame_view() -> None:
    frame = SkillLibrary.initial().to_frame()
    assert set(frame.columns) >= {"skill", "status", "round_added", "success", "reward_steps"}
    assert (frame["status"] == "candidate").sum() == 18
    assert json.loads(frame.to_json())  # plain data
