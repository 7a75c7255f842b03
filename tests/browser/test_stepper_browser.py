"""02_step_by_step in JupyterLab in Chromium: the LoopStepper clicked through setup and a whole
round of the TINY preset. Checks that the next stage is highlighted, that the buttons are disabled
and a progress bar runs while a stage runs, that each stage's output appears, that the proposed
task shows, and that the RolloutViewer of the collected episodes shows frames and scrubs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
import pytest
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook
from playwright.sync_api import Page

from gameon_nb.loop import STAGES
from tests.browser.harness import DECODED, POLL_MS, JupyterLab, first_frame, pixels

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = "02_step_by_step.ipynb"
STAGE_TIMEOUT_MS = 300_000  # setup on a busy 2-core machine
BUTTONS = "button.gameon-stepper-stage"
STAGE_DONE = (
    "stage => document.querySelector(`button.gameon-stepper-stage[data-stage=${stage}]`)"
    ".dataset.state === 'done' && document.querySelector('.gameon-stepper-progress').hidden"
)


def test_stepper_runs_a_round_in_jupyterlab(lab: JupyterLab, tmp_path: Path) -> None:
    source = load_notebook_node(str(REPO / "notebooks" / NOTEBOOK))  # as papermill reads it
    parameters = {
        "run_dir": str(tmp_path / "run"),
        "preset": "tiny",
        "rounds": 1,
        "overrides": ["loop.eval_episodes=1", "learner.eval_envs=16"],
        "steps": 0,
    }
    nbformat.write(parameterize_notebook(source, parameters), lab.root / NOTEBOOK)
    page = lab.open(NOTEBOOK)
    lab.run_all(page)
    stepper = page.locator(".gameon-stepper.gameon-live")
    stepper.wait_for(state="visible")
    buttons = stepper.locator(BUTTONS)
    assert buttons.count() == 10
    progress = stepper.locator(".gameon-stepper-progress")

    for stage in ("setup", *STAGES):
        button = stepper.locator(f'{BUTTONS}[data-stage="{stage}"]')
        assert button.get_attribute("data-state") == "next", stage
        button.click()
        if stage == "setup":  # long enough to watch it run
            assert page.evaluate(
                f"() => [...document.querySelectorAll('{BUTTONS}')].every(b => b.disabled)"
            )
            page.wait_for_function(
                "el => el.textContent.startsWith('running setup')",
                arg=progress.locator(".gameon-stepper-progress-text").element_handle(),
                polling=POLL_MS,
            )
            assert progress.is_visible()
        page.wait_for_function(STAGE_DONE, arg=stage, timeout=STAGE_TIMEOUT_MS, polling=POLL_MS)
        section = page.locator(f'.gameon-stage[data-stage="{stage}"]')
        section.wait_for(state="attached")
        assert not stepper.locator(".gameon-stepper-error-box").is_visible()
        if stage == "propose":
            task = page.locator(".gameon-task").first
            task.wait_for(state="visible")
            wanted = lab.execute(page, "print(exp.this_round.task)").strip()
            assert task.inner_text() == wanted
            assert page.locator("img.gameon-scene").first.is_visible()
        if stage == "collect":
            check_rollout(lab, page)

    assert "finished: round budget spent" in stepper.locator(".gameon-stepper-status").inner_text()
    assert all(buttons.nth(i).is_disabled() for i in range(10))
    shown = [page.locator(".gameon-stage").nth(i).get_attribute("data-stage") for i in range(9)]
    assert shown == list(STAGES)
    assert page.locator(".gameon-judgement.gameon-live").count() == 1
    assert page.locator(".gameon-library.gameon-live").count() == 1
    assert lab.execute(page, "print(exp.next_stage, stepper.error == '')").split() == [
        "done",
        "True",
    ]
    stepper.scroll_into_view_if_needed()
    shot = lab.screenshot(page, "loop_stepper_round")
    assert shot.stat().st_size > 20_000
    assert not lab.unexpected_console(), lab.console


def check_rollout(lab: JupyterLab, page: Page) -> None:
    """The collected episode's viewer shows a frame, and scrubbing shows another."""
    viewer = page.locator(".gameon-rollout.gameon-live").first
    viewer.wait_for(state="visible")
    frame, first_src, first_pixels = first_frame(page, viewer)
    steps = int(viewer.locator("input.gameon-rollout-slider").get_attribute("max") or 0)
    assert steps > 10
    viewer.locator("input.gameon-rollout-slider").fill(str(steps))
    page.wait_for_function(
        f"img => img.dataset.step === '{steps}'", arg=frame.element_handle(), polling=POLL_MS
    )
    page.wait_for_function(DECODED, arg=frame.element_handle(), polling=POLL_MS)
    assert frame.get_attribute("src") != first_src
    moved = np.abs(pixels(frame.screenshot()) - first_pixels).mean()
    assert moved > 0.5, f"scrubbing left the pixels nearly unchanged ({moved:.2f})"
    lab.screenshot(page, "loop_stepper_rollout", full_page=False)
