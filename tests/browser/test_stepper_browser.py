"""02_step_by_step in JupyterLab in Chromium: the LoopStepper clicked through setup and a whole
round of the TINY preset. Checks that the next stage is highlighted, that the buttons are disabled
and a progress bar runs while a stage runs, that each stage's output appears, that the proposed
task shows, and that the RolloutViewer of the collected episodes shows frames and scrubs; and that
once the judge has spoken that viewer shows its verdicts, with every skill's name readable."""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
import pytest
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook
from playwright.sync_api import Page

from gameon_nb.loop import STAGES, TINY
from tests.browser.harness import (
    DECODED,
    POLL_MS,
    JupyterLab,
    first_frame,
    pixels,
    write_notebook,
)

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
    shown = page.evaluate(
        "() => [...document.querySelectorAll('.gameon-stage')]"
        ".filter(e => !e.closest('details')).map(e => e.dataset.stage)"
    )
    assert shown == list(STAGES)
    # setup's output is still there, folded above the round's; a click opens it
    folded = page.locator('details.gameon-stepper-round[data-round="0"]')
    assert folded.count() == 1
    assert folded.get_attribute("open") is None
    setup = folded.locator('.gameon-stage[data-stage="setup"]')
    assert not setup.is_visible()
    folded.locator("summary").click()
    setup.wait_for(state="visible")
    assert folded.locator(".gameon-evaluation").count() == 1
    # with every stage done (and timed) the buttons still fit on one row
    tops = {round(buttons.nth(i).bounding_box()["y"]) for i in range(10)}  # type: ignore[index]
    assert len(tops) == 1, f"the stage buttons wrap onto {len(tops)} rows"
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


JUDGED = "judged.ipynb"
LAYOUT = "layout.ipynb"
SEGMENTS = ".gameon-rollout-timeline .gameon-segment"
CLIPPED = "el => el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1"


def test_after_the_judge_stage_the_viewer_shows_its_verdicts(
    lab: JupyterLab, tmp_path: Path
) -> None:
    """A click on 'judge' runs setup to judge; the collect stage's viewer, shown before the judge
    ran, then carries the judge's verdicts on its segments and in its detail line. Another
    viewer, of a bootstrap episode with short segments, shows each skill's name whole."""
    run = tmp_path / "run"
    sets = [*TINY, "loop.rounds=1", "loop.eval_episodes=1", "learner.eval_envs=16"]
    write_notebook(
        lab.root / JUDGED,
        [
            "from gameon_nb.config import RunConfig, override\n"
            "from gameon_nb.loop import Experiment\n"
            "from gameon_nb.widgets import LoopStepper\n"
            f"exp = Experiment({str(run)!r}, override(RunConfig(), {sets!r}))\n"
            "stepper = LoopStepper(exp)\n"
            "stepper",
        ],
    )
    page = lab.open(JUDGED)
    lab.run_all(page)
    stepper = page.locator(".gameon-stepper.gameon-live")
    stepper.locator(f'{BUTTONS}[data-stage="judge"]').click()
    page.wait_for_function(STAGE_DONE, arg="judge", timeout=STAGE_TIMEOUT_MS, polling=POLL_MS)
    page.locator('.gameon-stage[data-stage="judge"]').wait_for(state="attached")
    assert not stepper.locator(".gameon-stepper-error-box").is_visible()

    viewer = page.locator(".gameon-rollout.gameon-live")
    assert viewer.count() == 1  # the collect stage's: the judge stage shows a card, no viewer
    segments = viewer.locator(SEGMENTS)
    page.wait_for_function(  # the timeline is drawn anew when the verdicts arrive: query it
        "() => (els => els.length > 0 && els.every(el => el.dataset.verdict !== 'none'))("
        f"[...document.querySelectorAll('.gameon-rollout.gameon-live {SEGMENTS}')])",
        polling=POLL_MS,
    )
    words = lab.execute(
        page,
        "from gameon_nb.widgets.verdicts import episode_verdicts\n"
        "viewer = next(w for w in stepper._live if type(w).__name__ == 'RolloutViewer')\n"
        "judged = episode_verdicts(exp.events.read(), viewer.episode_id, len(viewer.segments))\n"
        "print(*[str(j.success).lower() for j in judged])\n"
        "print(*[('agree' if j.success == s['success'] else 'disagree')\n"
        "        for j, s in zip(judged, viewer.segments)])",
    ).splitlines()
    verdicts, agreements = words[0].split(), words[1].split()
    assert [segments.nth(i).get_attribute("data-verdict") for i in range(segments.count())] == (
        verdicts
    )
    assert [segments.nth(i).get_attribute("data-agreement") for i in range(segments.count())] == (
        agreements
    )
    marks = {"true": "✓", "false": "✗"}
    assert segments.first.locator(".gameon-verdict").inner_text() == f"judge {marks[verdicts[0]]}"
    detail = viewer.locator(".gameon-rollout-detail").inner_text()
    assert "not judged" not in detail
    assert f"judge {'success' if verdicts[0] == 'true' else 'failure'}" in detail
    viewer.scroll_into_view_if_needed()
    lab.screenshot(page, "loop_stepper_judged_rollout", full_page=False)

    # a narrow viewer of the bootstrap episode with the most segments (the narrowest first)
    write_notebook(
        lab.root / LAYOUT,
        [
            "import ipywidgets\n"
            "from gameon_nb.run.dir import RunDir\n"
            "from gameon_nb.widgets import RolloutViewer\n"
            f"store = RunDir({str(run)!r}).store()\n"
            "episodes = [store.load(i, frames=False) for i in store.ids()]\n"
            "def narrowest(e): return min(b - a for a, b in e.segments) / e.steps\n"
            "chosen = max(episodes, key=lambda e: (len(e.segments), -narrowest(e)))\n"
            "viewer = RolloutViewer((store, chosen.id), width=320)\n"
            "ipywidgets.Box([viewer], layout={'width': '360px'})  # as beside another",
        ],
    )
    other = lab.open(LAYOUT)
    lab.run_all(other)
    timeline = other.locator(".gameon-rollout.gameon-live .gameon-rollout-timeline")
    timeline.wait_for(state="visible")
    track = timeline.bounding_box()
    assert track is not None
    blocks = timeline.locator(".gameon-segment")
    checked = []
    for i in range(blocks.count()):
        box = blocks.nth(i).bounding_box()
        assert box is not None
        if box["width"] < 80:  # too narrow for any name: its title and the detail line say it
            continue
        skill = blocks.nth(i).locator(".gameon-segment-skill")
        for part in (blocks.nth(i), skill, blocks.nth(i).locator(".gameon-verdict")):
            assert not part.evaluate(CLIPPED), f"{skill.inner_text()!r} cut short in {box}"
        checked.append(box["width"] / track["width"])
    assert checked
    assert min(checked) < 0.4, "no short segment to check"
    lab.screenshot(other, "rollout_segment_labels", full_page=False)
    assert not lab.unexpected_console(), lab.console
