"""An executed notebook of widgets, exported by nbconvert, shows frames, verdicts and curves; the
run report (report.py) shows the judge's verdicts on its rollout and a video one can watch."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbclient import NotebookClient

from gameon_nb.config import RunConfig, override
from gameon_nb.loop import TINY, Experiment
from gameon_nb.loop import events as ev
from gameon_nb.report import report_html
from gameon_nb.run.dir import RunDir
from gameon_nb.widgets import notebook_html
from gameon_nb.widgets.encoding import decode_image
from gameon_nb.widgets.verdicts import episode_verdicts

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


@pytest.fixture(scope="module")
def judged_run(tmp_path_factory: pytest.TempPathFactory) -> RunDir:
    """A one-round TINY run: its judge judged every execution."""
    root = tmp_path_factory.mktemp("judged_run")
    exp = Experiment(root, override(RunConfig(), [*TINY, "loop.rounds=1", "loop.eval_episodes=1"]))
    exp.progress = False
    try:
        exp.run()
    finally:
        exp.close()
    return RunDir(root)


def test_the_reports_rollout_carries_the_judges_verdicts(judged_run: RunDir) -> None:
    soup = BeautifulSoup(report_html(judged_run.root), "html.parser")
    rollout = soup.select_one(".gameon-rollout.gameon-static")
    assert rollout is not None
    episode_id = int(re.findall(r"Episode (\d+)", rollout.get_text())[0])
    episode = judged_run.store().load(episode_id, frames=False)
    events = ev.EventLog(judged_run.events_path).read()
    logged = episode_verdicts(events, episode_id, len(episode.segments))
    judged = [j for j in logged if j is not None]
    assert len(judged) == len(logged)  # TINY judges every execution
    segments = rollout.select(".gameon-segment")
    assert [s["data-verdict"] for s in segments] == [str(j.success).lower() for j in judged]
    assert all(s["data-agreement"] in ("agree", "disagree") for s in segments)
    assert "judge —" not in rollout.get_text()
    # the judge card names its frames by step, as the notebook's widgets do
    card = soup.select_one(".gameon-judgement.gameon-static")
    assert card is not None
    captions = [c.get_text() for c in card.select("figcaption")]
    assert captions[0].startswith("step 0 / ")
    assert all(re.fullmatch(r"step \d+ / \d+", c) for c in captions)


def test_the_reports_video_is_large_and_long_enough_to_watch(judged_run: RunDir) -> None:
    import mediapy

    from gameon_nb.report import _ffmpeg_ready

    soup = BeautifulSoup(report_html(judged_run.root), "html.parser")
    video = soup.select_one("video")
    assert video is not None
    assert int(video["width"]) >= 480
    assert "loop" in video.attrs
    data = base64.b64decode(video.select_one("source")["src"].split(",", 1)[1])
    path = judged_run.root / "video.mp4"
    path.write_bytes(data)
    _ffmpeg_ready()
    frames = mediapy.read_video(path)
    assert frames.shape[2] >= 240  # as rendered for people: the tiny preset once made 64x48
    config = judged_run.load_config()
    episode_id = int(re.findall(r"episode (\d+), real time", soup.get_text())[0])
    steps = judged_run.store().load(episode_id, frames=False).steps
    seconds = len(frames) / frames.metadata.fps
    assert seconds >= steps / config.sim.control_hz  # real time at least, the end state held
