"""LearningCurves and curves_html: series from the library and metric rows, live appends, HTML."""

from __future__ import annotations

import base64
import math
from pathlib import Path
from xml.etree import ElementTree

import pytest
from bs4 import BeautifulSoup

from gameon_nb.skills.library import SkillLibrary
from gameon_nb.widgets import LearningCurves, curves_html
from gameon_nb.widgets.curves import default_shown, metric_series, success_series
from gameon_nb.widgets.svg import PALETTE

SVG = "{http://www.w3.org/2000/svg}"
LIFT = "lift the red block"
GRASP = "grasp the blue block"
ROWS = [
    {"step": 100.0, "critic_loss": 0.9, "bc_loss": 2.0, "grad_norm": 40.0},
    {"step": 200.0, "critic_loss": 0.5, "bc_loss": 1.5, "grad_norm": 20.0},
]


@pytest.fixture
def library_file(tmp_path: Path) -> Path:
    library = SkillLibrary.initial()
    library.record_success(LIFT, round=1, rate=0.2, episodes=10)
    library.record_success(LIFT, round=2, rate=0.6, episodes=10)
    library.record_success(GRASP, round=2, rate=1.0, episodes=10)
    library.save(tmp_path / "library.json")
    return tmp_path / "library.json"


def test_series() -> None:
    library = SkillLibrary.initial()
    library.record_success(LIFT, round=1, rate=0.2, episodes=10)
    assert success_series(library) == {LIFT: [(1.0, 0.2)]}
    series = metric_series(ROWS)
    assert series["critic_loss"] == [(100.0, 0.9), (200.0, 0.5)]
    assert set(series) == {"critic_loss", "bc_loss", "grad_norm"}
    assert default_shown(series) == ["critic_loss", "bc_loss"]
    assert default_shown(["q", "entropy"]) == ["q", "entropy"]
    with pytest.raises(KeyError, match="needs a 'step'"):
        metric_series([{"loss": 1.0}])


def test_live_figure_updates(library_file: Path) -> None:
    curves = LearningCurves(library_file, ROWS)
    traces = {(t.legend or "legend", t.name): t for t in curves.figure.data}
    assert set(traces) == {
        ("legend", LIFT),
        ("legend", GRASP),
        ("legend2", "critic_loss"),
        ("legend2", "bc_loss"),
        ("legend2", "grad_norm"),
    }
    assert list(traces[("legend", LIFT)].y) == [0.2, 0.6]
    # colours by position in each panel, as the static twin draws them
    assert traces[("legend", LIFT)].line.color == PALETTE[1]  # grasp comes first in the library
    assert traces[("legend2", "critic_loss")].line.color == PALETTE[0]
    assert traces[("legend", LIFT)].line.dash == "solid"  # dashes start with the 11th series
    assert traces[("legend2", "grad_norm")].visible == "legendonly"
    assert traces[("legend2", "bc_loss")].visible is True

    curves.append({"step": 300.0, "critic_loss": 0.25, "bc_loss": 1.0, "grad_norm": math.nan})
    critic = next(t for t in curves.figure.data if t.name == "critic_loss")
    assert list(critic.x) == [100.0, 200.0, 300.0]
    assert list(critic.y) == [0.9, 0.5, 0.25]
    assert next(t for t in curves.figure.data if t.name == "grad_norm").y[-1] is None

    curves.append_success("stack the red block on the blue block", 3, 0.4)
    assert len(curves.figure.data) == 6
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        curves.append_success(LIFT, 3, 1.5)

    library = SkillLibrary.load(library_file)
    library.record_success(LIFT, round=3, rate=0.9, episodes=10)
    curves.update(library=library)
    lift = next(t for t in curves.figure.data if t.name == LIFT)
    assert list(lift.y) == [0.2, 0.6, 0.9]

    data, _ = curves._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    assert data["text/html"] == curves.to_html()
    assert "LearningCurves(" in data["text/plain"]


def _svgs(html: str) -> list[ElementTree.Element]:
    soup = BeautifulSoup(html, "html.parser")
    assert not soup.find("script")
    return [
        ElementTree.fromstring(base64.b64decode(img["src"].split(",", 1)[1]))
        for img in soup.select("img.gameon-curve")
    ]


def test_curves_html(library_file: Path) -> None:
    success, critic, bc = _svgs(curves_html(library_file, ROWS))
    assert len(success.findall(f"{SVG}polyline")) == 2
    legend = [t.text for t in success.iter(f"{SVG}text")]
    assert LIFT in legend
    assert GRASP in legend
    assert len(critic.findall(f"{SVG}polyline")) == 1
    assert "critic_loss" in [t.text for t in critic.iter(f"{SVG}text")]
    assert "bc_loss" in [t.text for t in bc.iter(f"{SVG}text")]
    assert "also logged: grad_norm" in curves_html(library_file, ROWS)
    (only,) = _svgs(curves_html(metrics=ROWS, shown=["grad_norm"]))
    assert "grad_norm" in [t.text for t in only.iter(f"{SVG}text")]
    assert "no evaluations" in curves_html()


def _px(layout: object, paper_y: float) -> float:
    """Pixels from the figure's top to a paper coordinate (0 at the bottom of the plot area)."""
    height, margin = layout.height, layout.margin  # type: ignore[attr-defined]
    return margin.t + (1 - paper_y) * (height - margin.t - margin.b)


@pytest.mark.parametrize(("skills", "metrics"), [(19, 8), (34, 3), (2, 0), (0, 6), (0, 0)])
def test_panels_are_sized_for_their_legends_and_empty_ones_take_no_room(
    skills: int, metrics: int
) -> None:
    from gameon_nb.widgets.curves import LEGEND_ROW

    rows = [{"step": 1.0, **{f"m{i}_loss": 1.0 for i in range(metrics)}}] if metrics else []
    curves = LearningCurves(metrics=rows, shown=[f"m{i}_loss" for i in range(metrics)])
    for i in range(skills):
        curves.append_success(f"stack skill number {i}", 1, 0.5)
    layout = curves.figure.layout
    titles = [a.text.split(" (")[0] for a in layout.annotations]
    assert titles == [
        *(["success rate per skill"] if skills or not metrics else []),
        *(["training metrics"] if metrics else []),
    ]
    assert layout.yaxis.visible == bool(skills or not metrics)
    assert layout.yaxis2.visible == bool(metrics)
    for axis, legend, entries in (
        (layout.yaxis, layout.legend, skills),
        (layout.yaxis2, layout.legend2, metrics),
    ):
        if not entries:
            continue
        top, bottom = _px(layout, axis.domain[1]), _px(layout, axis.domain[0])
        assert _px(layout, legend.y) == pytest.approx(top)  # beside its own panel, at its top
        assert legend.x > 1  # right of the plot area, never over it
        assert top + LEGEND_ROW * entries <= bottom + 1e-6, "the legend runs past its panel"
    if skills and metrics:  # the panels do not overlap
        assert layout.yaxis2.domain[1] < layout.yaxis.domain[0]


def test_a_stage_s_curves_are_static_where_no_one_watches_live(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gameon_nb.widgets.stages import CurvesPart

    part = CurvesPart(success={LIFT: [(1.0, 0.5)]}, metrics=ROWS)
    monkeypatch.setenv("GAMEON_FRONT_END", "live")
    assert isinstance(part.live(), LearningCurves)
    monkeypatch.setenv("GAMEON_FRONT_END", "headless")  # a batch run: no plotly bundle saved
    shown = part.live()
    assert not isinstance(shown, LearningCurves)
    assert "plotly" not in shown.data  # type: ignore[attr-defined]
    assert 'class="gameon-curves gameon-static"' in shown.data  # type: ignore[attr-defined]
