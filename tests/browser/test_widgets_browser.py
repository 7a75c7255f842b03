"""The gameon widgets in JupyterLab in Chromium, on the small bootstrap run.

RolloutViewer: frames render, scrubbing changes the frame (src and pixels) and reaches the
kernel, the kernel can seek, the camera switches, play advances, the segment timeline and the
reward lanes are there. JudgementCard and SkillLibraryView render, and the library's refresh
button makes the kernel read library.json again. LearningCurves (plotly's FigureWidget) draws
and takes appended rows live. One notebook serves all, run once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Locator, Page

from gameon_nb.data.store import EpisodeStore
from tests.browser.harness import DECODED, POLL_MS, JupyterLab, first_frame, pixels, write_notebook

pytestmark = pytest.mark.slow

EPISODE = 2  # two segments in the small run: the first succeeds, the second fails
NOTEBOOK = "widgets.ipynb"


@pytest.fixture(scope="module")
def page(lab_server: JupyterLab, small_run: Path) -> Iterator[Page]:
    """The widgets notebook, opened and run once for this module's tests."""
    write_notebook(
        lab_server.root / NOTEBOOK,
        [
            "from pathlib import Path\n"
            "from gameon_nb.data import EpisodeStore\n"
            "from gameon_nb.skills import SkillLibrary\n"
            "from gameon_nb.widgets import JudgementCard, RolloutViewer, SkillLibraryView\n"
            f"run = Path({str(small_run)!r})\n"
            f"viewer = RolloutViewer((run, {EPISODE}), verdicts=[True, True], width=256)\n"
            "viewer",
            "from gameon_nb.widgets import show_rollout\n"
            f"show_rollout(run, {EPISODE}, static=True, verdicts=[True, True])",
            f"episode = EpisodeStore(run / 'episodes').load({EPISODE})\n"
            "JudgementCard(episode.skills[1], episode.frames['experimenter'][-3:], True,\n"
            "              ground_truth=episode.segment_success()[1],\n"
            "              reasoning='the green block is over the blue one', backend='scripted')",
            "SkillLibrary.initial().save(Path('library.json'))\n"
            "library = SkillLibraryView(Path('library.json'))\n"
            "library",
            "from gameon_nb.widgets import LearningCurves\n"
            "curves = LearningCurves(Path('library.json'), [{'step': 1, 'critic_loss': 2.0}])\n"
            "curves",
        ],
    )
    opened = lab_server.open(NOTEBOOK)
    lab_server.run_all(opened)
    yield opened
    opened.context.close()


def test_rollout_viewer_renders_and_scrubs(lab: JupyterLab, page: Page, small_run: Path) -> None:
    episode = EpisodeStore(small_run / "episodes").load(EPISODE)
    assert episode.segment_success() == [True, False]
    viewer = page.locator(".gameon-rollout.gameon-live")
    viewer.wait_for(state="visible")
    frame, first_src, first_pixels = first_frame(page, viewer)

    segments = viewer.locator(".gameon-rollout-timeline .gameon-segment")
    assert segments.count() == 2
    assert [segments.nth(i).get_attribute("data-success") for i in range(2)] == ["true", "false"]
    assert [segments.nth(i).get_attribute("data-agreement") for i in range(2)] == [
        "agree",
        "disagree",
    ]
    assert viewer.locator("svg.gameon-rollout-rewards polyline").count() == 2

    # scrub into the second segment: another frame, the label and the kernel follow
    viewer.locator("input.gameon-rollout-slider").fill("150")
    page.wait_for_function(
        "img => img.dataset.step === '150'", arg=frame.element_handle(), polling=POLL_MS
    )
    page.wait_for_function(DECODED, arg=frame.element_handle(), polling=POLL_MS)
    assert frame.get_attribute("src") != first_src
    moved = np.abs(pixels(frame.screenshot()) - first_pixels).mean()
    assert moved > 1.0, f"scrubbing left the pixels nearly unchanged ({moved:.2f})"
    assert "step 150 / 200" in viewer.locator(".gameon-rollout-label").inner_text()
    assert "gameon-current" in (segments.nth(1).get_attribute("class") or "")
    index = episode.frame_steps.tolist().index(150)
    assert lab.execute(page, "print(viewer.index, viewer.step)").split() == [str(index), "150"]

    # and the kernel can move the front end
    lab.execute(page, "viewer.seek(50)")
    page.wait_for_function(
        "img => img.dataset.step === '50'", arg=frame.element_handle(), polling=POLL_MS
    )

    # switch camera: the small run's policy cameras are 32x32; the kernel hears of it
    viewer.locator("select.gameon-rollout-camera").select_option("front_left")
    page.wait_for_function(
        "img => img.naturalWidth === 32", arg=frame.element_handle(), polling=POLL_MS
    )
    assert lab.execute(page, "print(viewer.camera)").strip() == "front_left"

    # play advances the frame, pause stops it
    viewer.locator("button.gameon-rollout-play").click()
    page.wait_for_function(
        "img => Number(img.dataset.step) > 50", arg=frame.element_handle(), polling=POLL_MS
    )
    viewer.locator("button.gameon-rollout-play").click()

    viewer.locator("select.gameon-rollout-camera").select_option("experimenter")
    page.wait_for_function(
        "img => img.naturalWidth === 64", arg=frame.element_handle(), polling=POLL_MS
    )
    shot = lab.screenshot(page, "rollout_viewer")
    assert shot.stat().st_size > 10_000
    assert not lab.unexpected_console(), lab.console


def test_a_static_twin_beside_a_live_viewer_shows_its_frames(lab: JupyterLab, page: Page) -> None:
    # the live viewer's stylesheet once laid every .gameon-segment on the page out absolutely,
    # full height: the static twin below it was one solid green or red box
    page.locator(".gameon-rollout.gameon-live").wait_for(state="visible")
    twin = page.locator(".gameon-rollout.gameon-static")
    twin.scroll_into_view_if_needed()
    images = twin.locator(".gameon-filmstrip img")
    assert images.count() >= 2
    _decoded(page, images)
    timeline = twin.locator(".gameon-timeline").bounding_box()
    assert timeline is not None
    segments = twin.locator(".gameon-timeline .gameon-segment")
    assert segments.count() == 2
    for i in range(2):
        box = segments.nth(i).bounding_box()
        assert box is not None
        assert timeline["y"] - 1 <= box["y"], f"segment {i} {box} above its timeline {timeline}"
        bottom = timeline["y"] + timeline["height"] + 1
        assert box["y"] + box["height"] <= bottom, f"segment {i} {box} below its timeline"
    for i in range(images.count()):  # what is on screen is the frame, not a box over it
        shot = pixels(images.nth(i).screenshot())
        assert shot.std() > 5.0, f"filmstrip frame {i} is one flat colour ({shot.std():.1f})"
    lab.screenshot(page, "live_and_static_rollout", full_page=False)
    assert not lab.unexpected_console(), lab.console


def _decoded(page: Page, images: Locator) -> None:
    for i in range(images.count()):
        page.wait_for_function(DECODED, arg=images.nth(i).element_handle(), polling=POLL_MS)


def test_judgement_card_and_library_view(lab: JupyterLab, page: Page) -> None:
    card = page.locator(".gameon-judgement.gameon-live")
    card.wait_for(state="visible")
    images = card.locator(".gameon-frames img")
    assert images.count() == 3
    _decoded(page, images)
    badge = card.locator(".gameon-badge")
    assert badge.get_attribute("data-agreement") == "disagree"
    assert "disagrees" in badge.inner_text()
    assert card.locator(".gameon-verdict").inner_text() == "success"
    assert card.locator(".gameon-truth").inner_text() == "failure"
    assert "green block is over the blue" in card.locator(".gameon-reasoning").inner_text()
    before = images.first.bounding_box()
    images.first.click()  # enlarges
    after = images.first.bounding_box()
    assert before is not None
    assert after is not None
    assert after["width"] > 2 * before["width"]

    library = page.locator(".gameon-library.gameon-live")
    library.wait_for(state="visible")
    rows = library.locator("tr.gameon-skill-row")
    assert rows.count() == 34
    lab.execute(
        page,
        "lib = SkillLibrary.load(Path('library.json'))\n"
        "lib.record_success('lift the red block', 1, 0.75, 8)\n"
        "lib.save(Path('library.json'))",
    )
    assert library.locator(".gameon-success-rate").count() == 0  # not until a refresh
    library.locator("button.gameon-library-refresh").click()
    rate = library.locator(".gameon-success-rate")
    rate.wait_for()
    assert rate.inner_text().strip() == "75%"
    assert library.locator("svg.gameon-sparkline").count() == 1
    library.locator("th", has_text="success").click()  # sort: the evaluated skill first
    assert "lift the red block" in rows.first.inner_text()

    library.scroll_into_view_if_needed()
    lab.screenshot(page, "judgement_card_and_library", full_page=False)
    assert not lab.unexpected_console(), lab.console


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


TRACES = "() => document.querySelector('.js-plotly-plot').data.map(d => [d.name, d.x.length])"


def test_learning_curves_update_live(lab: JupyterLab, page: Page) -> None:
    plot = page.locator(".js-plotly-plot")
    plot.wait_for(state="visible")
    assert page.evaluate(TRACES) == [["critic_loss", 1]]
    lab.execute(
        page,
        "curves.append({'step': 2, 'critic_loss': 1.0}, {'step': 3, 'critic_loss': 0.5})\n"
        "curves.append_success('lift the red block', 1, 0.6)",
    )
    page.wait_for_function(f"() => ({TRACES})().length === 2", polling=POLL_MS)
    assert sorted(page.evaluate(TRACES)) == [["critic_loss", 3], ["lift the red block", 1]]

    # as many skills as a demo run evaluates: no legend over a plot area or over the other legend
    lab.execute(
        page,
        "from gameon_nb.skills import all_skills\n"
        "for skill in all_skills()[:19]:\n"
        "    curves.append_success(skill.text, 1, 0.5)",
    )
    page.wait_for_function(f"() => ({TRACES})().length === 20", polling=POLL_MS)
    plot.scroll_into_view_if_needed()
    page.wait_for_timeout(500)  # plotly lays the legends out after the traces
    legends = [
        plot.locator(f"g.infolayer > g.{name}").bounding_box() for name in ("legend", "legend2")
    ]
    areas = [plot.locator("rect.nsewdrag").nth(i).bounding_box() for i in range(2)]
    boxes = [b for b in [*legends, *areas] if b is not None]
    assert len(boxes) == 4
    for i, legend in enumerate(boxes[:2]):
        for j, other in enumerate(boxes):
            if j != i:
                assert not _overlap(legend, other), f"legend {i} overlaps box {j}: {boxes}"
    lab.screenshot(page, "learning_curves", full_page=False)
    assert not lab.unexpected_console(), lab.console
