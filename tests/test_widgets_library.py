"""SkillLibraryView and library_html: rows from the library file, refresh, errors, HTML."""

from __future__ import annotations

import base64
from pathlib import Path
from xml.etree import ElementTree

import pytest
from bs4 import BeautifulSoup

from gameon_nb.skills.library import LibraryCorruptError, SkillLibrary
from gameon_nb.widgets import SkillLibraryView, library_html
from gameon_nb.widgets.library_view import library_rows

LIFT = "lift the red block"
STACK = "stack the red block on the blue block"


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    library = SkillLibrary.initial()
    library.record_success(LIFT, round=1, rate=0.4, episodes=10)
    library.record_success(LIFT, round=2, rate=0.9, episodes=20)
    library[LIFT].reward_steps = 321
    library.save(tmp_path / "library.json")
    return tmp_path


def test_rows_hold_status_success_history_data_and_round(run_dir: Path) -> None:
    library = SkillLibrary.load(run_dir / "library.json")
    rows = {row["skill"]: row for row in library_rows(library)}
    assert len(rows) == len(library) == 34
    lift = rows[LIFT]
    assert (lift["status"], lift["round_added"], lift["success"], lift["episodes"]) == (
        "base",
        0,
        0.9,
        20,
    )
    assert (lift["history"], lift["rounds"], lift["reward_steps"]) == ([0.4, 0.9], [1, 2], 321)
    assert (rows[STACK]["status"], rows[STACK]["round_added"], rows[STACK]["success"]) == (
        "candidate",
        None,
        None,
    )


def test_view_refreshes_from_the_file(run_dir: Path) -> None:
    view = SkillLibraryView(run_dir)  # a run directory finds its library.json
    assert view.source == str(run_dir / "library.json")
    assert len(view.skills) == 34
    assert "export default" in view._esm
    library = SkillLibrary.load(run_dir / "library.json")
    library.record_success(STACK, round=3, rate=0.8, episodes=10)
    library.promote(STACK, round=3)
    library.save(run_dir / "library.json")
    stack = next(row for row in view.skills if row["skill"] == STACK)
    assert stack["status"] == "candidate"  # nothing changes until a refresh
    view._on_message(view, {"type": "refresh"}, [])  # what the refresh button sends
    stack = next(row for row in view.skills if row["skill"] == STACK)
    assert (stack["status"], stack["round_added"], stack["success"]) == ("learned", 3, 0.8)
    assert view.refreshed


def test_a_damaged_file_is_shown_not_swallowed(run_dir: Path) -> None:
    view = SkillLibraryView(run_dir / "library.json")
    (run_dir / "library.json").write_text("{not json")
    view.refresh(raise_errors=False)
    assert "not a readable skill library" in view.error
    assert len(view.skills) == 34  # the last good rows stay
    with pytest.raises(LibraryCorruptError):
        view.refresh()
    with pytest.raises(FileNotFoundError, match="no skill library"):
        SkillLibraryView(run_dir / "missing.json")


def test_view_of_a_library_object_follows_it() -> None:
    library = SkillLibrary.initial()
    view = SkillLibraryView(library)
    assert view.source == ""
    library.record_success(LIFT, round=1, rate=0.5, episodes=4)
    view.refresh()
    assert next(r for r in view.skills if r["skill"] == LIFT)["success"] == 0.5


def test_library_html(run_dir: Path) -> None:
    soup = BeautifulSoup(library_html(run_dir / "library.json"), "html.parser")
    assert not soup.find("script")
    rows = soup.select("tr.gameon-skill-row")
    assert len(rows) == 34
    assert [r["data-status"] for r in rows].count("candidate") == 18
    lift = next(r for r in rows if r.td is not None and r.td.get_text() == LIFT)
    assert "90%" in lift.select_one(".gameon-success-rate").get_text()
    sparklines = soup.select("img.gameon-sparkline")
    assert len(sparklines) == 1  # only lift has been evaluated
    svg = base64.b64decode(sparklines[0]["src"].split(",", 1)[1])
    points = ElementTree.fromstring(svg).find("{http://www.w3.org/2000/svg}polyline")
    assert points is not None
    assert len(points.get("points", "").split()) == 2
    assert "34 skills (16 base, 18 candidate)" in soup.get_text()
