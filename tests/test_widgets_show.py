"""The show_* helpers display the live widget, or its static twin with static=True."""

from __future__ import annotations

from pathlib import Path

import IPython.display
import numpy as np
import pytest

from gameon_nb.skills.library import SkillLibrary
from gameon_nb.widgets import (
    JudgementCard,
    LearningCurves,
    RolloutViewer,
    SkillLibraryView,
    show_curves,
    show_judgement,
    show_library,
    show_rollout,
)


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    displayed: list[object] = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: displayed.append(obj))
    return displayed


def _html(obj: object) -> str:
    assert isinstance(obj, IPython.display.HTML)
    return str(obj.data)


def test_show_helpers(shown: list[object], small_run: Path, tmp_path: Path) -> None:
    show_rollout(small_run, 2, progress=False)
    show_rollout((small_run, 2), static=True, camera="front_left", max_frames=4)
    assert isinstance(shown[0], RolloutViewer)
    assert "front_left camera" in _html(shown[1])
    with pytest.raises(TypeError, match="episode id"):
        show_rollout(small_run)

    frames = np.zeros((2, 8, 8, 3), np.uint8)
    show_judgement("lift the red block", frames, True, ground_truth=False, progress=False)
    show_judgement("lift the red block", frames, True, ground_truth=False, static=True)
    assert isinstance(shown[2], JudgementCard)
    assert 'data-agreement="disagree"' in _html(shown[3])

    SkillLibrary.initial().save(tmp_path / "library.json")
    show_library(tmp_path)
    show_library(tmp_path, static=True)
    assert isinstance(shown[4], SkillLibraryView)
    assert "34 skills" in _html(shown[5])

    rows = [{"step": 1.0, "loss": 1.0}]
    show_curves(tmp_path, rows)
    show_curves(tmp_path, rows, static=True)
    assert isinstance(shown[6], LearningCurves)
    assert "gameon-curve" in _html(shown[7])
