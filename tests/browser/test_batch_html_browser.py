"""What `gameon batch` leaves, in Chromium: the tiny quickstart's HTML report loads with no
network request and shows its progress as final text lines; its executed notebook, opened in
JupyterLab, shows no dead widget view, untrusted or trusted. And progress bars in a live
JupyterLab leave text lines, not views of closed widgets, through a save and a reload."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, Request, Route

from gameon_nb.batch import run_batch
from tests.browser.harness import POLL_MS, JupyterLab, write_notebook
from tests.test_notebooks import TINY_LOOP

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
NOT_FOUND = "model not found"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny quickstart run by `gameon batch`'s own function."""
    run_dir = tmp_path_factory.mktemp("batch") / "quickstart"
    run_batch(REPO / "notebooks" / "00_quickstart.ipynb", run_dir, TINY_LOOP)  # raises on failure
    return run_dir


def _body_text(page: Page) -> str:
    return str(page.evaluate("() => document.body.innerText"))


def test_the_batch_html_makes_no_network_request(lab: JupyterLab, quickstart: Path) -> None:
    html = quickstart / "00_quickstart.html"  # opened from the file, in the lab's Chromium
    requests: list[str] = []
    context = lab.browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def offline(route: Route, request: Request) -> None:  # fail fast rather than wait on one
        route.continue_() if request.url.startswith("file:") else route.abort()

    page.on("request", lambda r: requests.append(r.url))
    page.route("**/*", offline)
    try:
        page.goto(html.as_uri(), wait_until="load")
        page.wait_for_load_state("networkidle")
        assert requests == [html.as_uri()], requests
        assert not errors, errors
        assert page.locator(".gameon-stepper.gameon-static").count() == 1
        assert page.locator(".gameon-curves.gameon-static img.gameon-curve").count() >= 1
        text = _body_text(page)
        assert "rounds: 100%|██████████| 1/1" in text  # the loop's bar, ended at its total
        assert not re.search(r"\s0%\|", text)  # no bar left at its start
    finally:
        context.close()


def _notebook_text(page: Page) -> str:
    """The open notebook's text, off-screen cells included (JupyterLab skips drawing those)."""
    return str(page.evaluate("() => document.querySelector('.jp-Notebook').textContent"))


def test_the_executed_notebook_opens_without_dead_widgets(
    lab: JupyterLab, quickstart: Path
) -> None:
    executed = quickstart / "00_quickstart.ipynb"
    node = json.loads(executed.read_text())
    views = [
        o for c in node["cells"] for o in c.get("outputs", []) if WIDGET_VIEW in o.get("data", {})
    ]
    saved = node["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert views, "the skill library's live view is kept, with its state"
    assert all(o["data"][WIDGET_VIEW]["model_id"] in saved for o in views)
    shutil.copy(executed, lab.root / "executed.ipynb")
    page = lab.open("executed.ipynb")
    # untrusted, as any notebook from elsewhere: each widget shows its static twin
    page.locator(".gameon-library.gameon-static").first.wait_for(state="attached")
    text = _notebook_text(page)
    assert "rounds: 100%|██████████| 1/1" in text
    assert NOT_FOUND not in text
    # trusted: the widget views, from the state saved with them
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:trust'); }")  # no wait
    page.get_by_role("button", name="Trust").click()
    page.locator(".gameon-library.gameon-live").wait_for(state="attached")
    page.wait_for_timeout(3000)  # a missing model is reported after 2 s of waiting for it
    assert page.locator(".gameon-library.gameon-live").count() == len(views)
    assert NOT_FOUND not in _notebook_text(page)
    assert not lab.unexpected_console(), lab.console


BARS = """\
import time
from gameon_nb.progress import front_end, progress_bar
print(front_end())
with progress_bar(total=3, desc="outer", unit="round") as outer:
    for _ in range(3):
        for _ in progress_bar(range(4), desc="inner", leave=False):
            time.sleep(0.05)
        outer.update()
short = progress_bar(total=5, desc="cut short", leave=False)
short.update(2)
short.close()"""


def test_live_bars_leave_text_lines_through_a_reload(lab: JupyterLab) -> None:
    path = lab.root / "bars.ipynb"
    write_notebook(path, [BARS])
    page = lab.open("bars.ipynb")
    lab.run_all(page)
    output = page.locator(".jp-OutputArea-output")
    page.wait_for_function(
        "() => document.querySelector('.jp-Notebook').textContent.includes('outer: 100%')",
        polling=POLL_MS,
    )
    assert page.locator(".widget-progress, .jupyter-widgets").count() == 0  # replaced, closed
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function(
        "() => !window.jupyterapp.shell.currentWidget.context.model.dirty", polling=POLL_MS
    )
    outputs = json.loads(path.read_text())["cells"][0]["outputs"]
    assert outputs[0]["text"] == ["live\n"]
    assert not [o for o in outputs if WIDGET_VIEW in o.get("data", {})]
    lines = ["".join(o["data"]["text/plain"]) for o in outputs if o.get("data")]
    assert len(lines) == 2
    assert lines[0].startswith("outer: 100%|██████████| 3/3 ")
    assert lines[1].startswith("cut short:  40%|████      | 2/5 ")  # stopped short: kept
    assert sum(1 for o in outputs if o.get("data") == {}) == 3  # the inner bars: gone

    page.reload()
    lab.wait_idle(page, "bars.ipynb")
    output.first.wait_for(state="visible")
    page.wait_for_timeout(3000)  # a missing model is reported after 2 s of waiting for it
    text = _notebook_text(page)
    assert NOT_FOUND not in text
    assert "outer: 100%" in text
    assert "cut short:  40%" in text
    assert not lab.unexpected_console(), lab.console
