"""RolloutViewer in JupyterLab in Chromium: frames render, scrubbing changes the frame and
reaches the kernel, the camera switches, play advances, and the segment timeline is there."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gameon_nb.data.store import EpisodeStore
from tests.browser.harness import JupyterLab, write_notebook

pytestmark = pytest.mark.slow

DECODED = "img => img.complete && img.naturalWidth > 0"
EPISODE = 2  # two segments in the small run: the first succeeds, the second fails


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def test_rollout_viewer_renders_and_scrubs(lab: JupyterLab, small_run: Path) -> None:
    episode = EpisodeStore(small_run / "episodes").load(EPISODE)
    assert episode.segment_success() == [True, False]
    write_notebook(
        lab.root / "rollout.ipynb",
        [
            "from pathlib import Path\n"
            "from gameon_nb.widgets import RolloutViewer\n"
            f"viewer = RolloutViewer((Path({str(small_run)!r}), {EPISODE}), "
            "verdicts=[True, True], width=256)\n"
            "viewer",
        ],
    )
    page = lab.open("rollout.ipynb")
    lab.run_all(page)

    viewer = page.locator(".gameon-rollout.gameon-live")
    viewer.wait_for(state="visible")
    frame = viewer.locator("img.gameon-rollout-frame")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0 && img.src.startsWith('blob:')",
        arg=frame.element_handle(),
    )
    first_src, first_pixels = frame.get_attribute("src"), _pixels(frame.screenshot())
    assert frame.get_attribute("data-step") == "0"
    assert first_pixels.std() > 5, "the frame is blank"

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
    page.wait_for_function("img => img.dataset.step === '150'", arg=frame.element_handle())
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=frame.element_handle()
    )
    assert frame.get_attribute("src") != first_src
    moved = np.abs(_pixels(frame.screenshot()) - first_pixels).mean()
    assert moved > 1.0, f"scrubbing left the pixels nearly unchanged ({moved:.2f})"
    assert "step 150 / 200" in viewer.locator(".gameon-rollout-label").inner_text()
    assert "gameon-current" in (segments.nth(1).get_attribute("class") or "")
    index = episode.frame_steps.tolist().index(150)
    assert lab.execute(page, "print(viewer.index, viewer.step)").split() == [str(index), "150"]

    # and the kernel can move the front end
    lab.execute(page, "viewer.seek(50)")
    page.wait_for_function("img => img.dataset.step === '50'", arg=frame.element_handle())

    # switch camera: the small run's policy cameras are 32x32; the kernel hears of it
    viewer.locator("select.gameon-rollout-camera").select_option("front_left")
    page.wait_for_function("img => img.naturalWidth === 32", arg=frame.element_handle())
    assert lab.execute(page, "print(viewer.camera)").strip() == "front_left"

    # play advances the frame, pause stops it
    viewer.locator("button.gameon-rollout-play").click()
    page.wait_for_function("img => Number(img.dataset.step) > 50", arg=frame.element_handle())
    viewer.locator("button.gameon-rollout-play").click()

    viewer.locator("select.gameon-rollout-camera").select_option("experimenter")
    page.wait_for_function("img => img.naturalWidth === 64", arg=frame.element_handle())
    shot = lab.screenshot(page, "rollout_viewer")
    assert shot.stat().st_size > 10_000
    errors = [line for line in lab.console if "gameon" in line or "anywidget" in line]
    assert not errors, errors
