"""An executed notebook of widgets, exported by nbconvert, shows frames, verdicts and curves."""

from __future__ import annotations

import base64
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbclient import NotebookClient

from gameon_nb.widgets import notebook_html
from gameon_nb.widgets.encoding import decode_image

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.mark.slow
def test_html_report_without_a_kernel(small_run: Path, tmp_path: Path) -> None:
    cells = [
        "from pathlib import Path\n"
        "from gameon_nb.skills import SkillLibrary\n"
        "from gameon_nb.data import EpisodeStore\n"
        "from gameon_nb.widgets import JudgementCard, LearningCurves, RolloutViewer, "
        "SkillLibraryView\n"
        f"run = Path({str(small_run)!r})\n"
        "library = SkillLibrary.initial()\n"
        "library.record_success('lift the red block', 1, 0.5, 10)\n"
        "library.save(Path('library.json'))",
        "RolloutViewer((run, 2), verdicts=[True, False], progress=False)",
        "episode = EpisodeStore(run / 'episodes').load(2)\n"
        "JudgementCard(episode.skills[1], episode.frames['experimenter'][-2:], True, "
        "ground_truth=episode.segment_success()[1], reasoning='stacked, I think')",
        "SkillLibraryView(Path('library.json'))",
        "rows = [{'step': 1, 'loss': 2.0}, {'step': 2, 'loss': 1.5}]\n"
        "LearningCurves(Path('library.json'), rows)",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    NotebookClient(notebook, timeout=120, resources={"metadata": {"path": str(tmp_path)}}).execute()

    outputs = [cell.outputs[0]["data"] for cell in notebook.cells[1:]]
    assert all(WIDGET_VIEW in data and "text/html" in data for data in outputs)

    assert "widgets" in notebook.metadata  # nbclient stored the widget state, as papermill does
    path = tmp_path / "executed.ipynb"
    nbformat.write(notebook, path)
    html = notebook_html(path)
    assert "unpkg.com" not in html  # no widget manager from a CDN
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "widgets_report.html").write_text(html)
    soup = BeautifulSoup(html, "html.parser")
    rollout = soup.select_one(".gameon-rollout.gameon-static")
    assert rollout is not None
    frames = rollout.select(".gameon-filmstrip img")
    assert len(frames) >= 3
    assert decode_image(base64.b64decode(frames[0]["src"].split(",", 1)[1])).shape == (48, 64, 3)
    assert [s["data-agreement"] for s in rollout.select(".gameon-segment")] == ["agree", "agree"]
    card = soup.select_one(".gameon-judgement.gameon-static")
    assert card is not None
    assert card["data-agreement"] == "disagree"
    assert len(card.select(".gameon-frames img")) == 2
    assert "stacked, I think" in card.get_text()
    assert len(soup.select(".gameon-library tr.gameon-skill-row")) == 34
    assert len(soup.select(".gameon-curves img.gameon-curve")) == 2  # success, loss
