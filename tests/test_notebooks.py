"""The notebooks: committed clean with one parameters cell, and every one executed by papermill
(through `run_batch`, as `gameon batch` runs them) with tiny parameters, its outputs checked.

One tiny loop run is made once (the quickstart's); the full-loop, comparison and judge notebooks
work on copies of it where they would otherwise repeat the same setup: 03 resumes the finished
run (same config), 04 resumes it as its experimenter-curriculum run and runs only 'random'
fresh, 05 judges its recorded segments.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
from pathlib import Path

import nbformat
import papermill
import pytest

from gameon_nb import GPU, EventLog, Experiment, RunConfig, notebook_config, override
from gameon_nb.batch import run_batch
from gameon_nb.known_parameters import CONFIG_PARAMETERS, check_declarations
from gameon_nb.parameters_cell import notebook_parameters, parameters_cell

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
NAMES = [p.stem for p in NOTEBOOKS]
TINY_LOOP = [
    ("preset", "tiny"),
    ("rounds", "1"),
    ("loop.eval_episodes", "1"),  # the round-0 evaluation of every base skill dominates setup
    ("loop.grow_min_episodes", "1"),  # at most eval_episodes, or no skill could join
    ("learner.eval_envs", "16"),
]
FAKE_KEY = "fake-gemini-key-for-the-notebook-tests-0123"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def notebook(name: str) -> Path:
    return REPO / "notebooks" / f"{name}.ipynb"


def outputs(path: Path) -> list[dict[str, object]]:
    """Every output of every code cell of an executed notebook."""
    node = nbformat.read(path, as_version=4)
    return [o for c in node.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def html_of(path: Path) -> str:
    return "".join(str(o.get("data", {}).get("text/html", "")) for o in outputs(path))  # type: ignore[attr-defined]


def text_of(path: Path) -> str:
    parts = []
    for o in outputs(path):
        parts.append(str(o.get("text", "")))
        parts.append(str(o.get("data", {}).get("text/plain", "")))  # type: ignore[attr-defined]
    return "".join(parts)


def copy_run(source: Path, target: Path) -> Path:
    """The run's own files (not the batch records of the notebook that made it)."""
    shutil.copytree(
        source, target, ignore=shutil.ignore_patterns("*.ipynb", "*.html", "batch.json")
    )
    return target


# -- the notebooks as source -------------------------------------------------------------------


def test_there_are_six_notebooks() -> None:
    assert NAMES == [
        "00_quickstart",
        "01_domain_tour",
        "02_step_by_step",
        "03_full_loop",
        "04_compare_curricula",
        "05_judge_and_analyst",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_notebooks_are_clean_source(path: Path) -> None:
    node = nbformat.read(path, as_version=4)
    nbformat.validate(node)
    assert node.metadata["kernelspec"]["name"] == "python3"
    assert node.metadata["kernelspec"]["language"] == "python"
    assert "widgets" not in node.metadata
    tagged = [c for c in node.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    code = [c for c in node.cells if c.cell_type == "code"]
    assert code[0] is tagged[0], "the parameters cell is the first code cell"
    for cell in code:
        assert cell.outputs == []
        assert cell.execution_count is None
        assert len(cell.source.splitlines()) <= 25, "logic belongs in the package"
        assert not re.search(r"os\.environ|getenv|API_KEY\s*=", cell.source)
        ast.parse(cell.source)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_parameters_are_typed_and_papermill_sees_them(path: Path) -> None:
    declared = notebook_parameters(path)
    source = parameters_cell(nbformat.read(path, as_version=4))
    assert all(isinstance(node, ast.AnnAssign) for node in ast.parse(source).body), (
        "every parameter has a type annotation"
    )
    assert list(papermill.inspect_notebook(str(path))) == list(declared)
    check_declarations(declared, path.name)  # known parameters have their declared types
    assert {"preset", "overrides"} & set(declared), "CI needs preset or overrides to run it tiny"
    body = "".join(c.source for c in nbformat.read(path, as_version=4).cells[2:])
    for name in set(CONFIG_PARAMETERS) & set(declared):
        assert re.search(rf"\b{name}\b", body), f"{name} is declared but not used"
    config = notebook_config(
        **{
            k: declared[k].default
            for k in CONFIG_PARAMETERS
            if k in declared and k != "experimenter"
        }
    )
    assert config.experimenter.backend == "scripted"


def test_the_full_loop_defaults_are_the_gpu_preset(tmp_path: Path) -> None:
    declared = notebook_parameters(notebook("03_full_loop"))
    assert declared["preset"].default == "gpu"
    assert declared["overrides"].default == []
    rounds = declared["rounds"].default
    config = notebook_config(preset="gpu", rounds=rounds)
    assert config == override(RunConfig(), [*GPU, f"loop.rounds={rounds}"])
    assert config.learner.trunk == "perceiver"
    assert config.learner.pixels
    assert declared["experimenter"].default == "auto"
    Experiment(tmp_path, config).close()  # the loop accepts the combination (nothing runs)


def test_the_step_by_step_notebook_switches_to_gemini_by_a_parameter() -> None:
    declared = notebook_parameters(notebook("02_step_by_step"))
    assert declared["experimenter"].default == "scripted"
    assert "gemini" in declared["experimenter"].help
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GEMINI_API_KEY", FAKE_KEY)
        assert notebook_config(experimenter="gemini").experimenter.backend == "gemini"
        assert notebook_config(experimenter="auto").experimenter.backend == "gemini"
        env.delenv("GEMINI_API_KEY")
        env.delenv("GOOGLE_API_KEY", raising=False)
        assert notebook_config(experimenter="auto").experimenter.backend == "scripted"


# -- the notebooks executed --------------------------------------------------------------------


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """00_quickstart with the tiny preset and one round: the one loop run of this module."""
    run_dir = tmp_path_factory.mktemp("nb") / "quickstart"
    record = run_batch(notebook("00_quickstart"), run_dir, TINY_LOOP, progress=False)
    assert record["status"] == "ok"
    return run_dir


def test_quickstart_runs_the_loop_and_writes_the_report(quickstart: Path) -> None:
    report = quickstart / "report" / "index.html"
    assert report.is_file()
    page = report.read_text()
    assert "<video" in page
    assert "data:video/mp4;base64," in page
    state = json.loads((quickstart / "state.json").read_text())
    assert state["next"] == "done"
    executed = quickstart / "00_quickstart.ipynb"
    html = html_of(executed)
    assert 'class="gameon-stepper gameon-static"' in html
    assert re.findall(r'data-stage="(\w+)" data-round="1"', html)[-1] == "grow"
    assert 'class="gameon-library gameon-static"' in html
    assert "gameon-curves" in html
    assert str(report) in text_of(executed)
    assert "<video" not in (quickstart / "00_quickstart.html").read_text()  # widgets as twins
    assert "gameon-rollout gameon-static" in (quickstart / "00_quickstart.html").read_text()


def test_quickstart_outputs_are_light_and_end_as_text(quickstart: Path) -> None:
    executed = quickstart / "00_quickstart.ipynb"
    assert executed.stat().st_size < 1_000_000  # 5.4 MB with plotly's bundle in widget state
    shown = outputs(executed)
    views = [o for o in shown if WIDGET_VIEW in o.get("data", {})]  # type: ignore[operator]
    assert views, "the skill library is kept as a widget, with its twin"
    assert all("text/html" in o["data"] for o in views)  # type: ignore[operator]  # no bar views
    text = text_of(executed)
    assert re.search(r"rounds: 100%\|██████████\| 1/1 \[", text)  # ended at its total
    assert re.search(r"bootstrap: 100%\|██████████\| (\d+)/\1 \[", text)
    assert not re.search(r"\s0%\|", text)  # no bar left at its start
    assert 'class="gameon-curves gameon-static"' in html_of(executed)  # not plotly's widget
    page = (quickstart / "00_quickstart.html").read_text()
    assert "<script src=" not in page  # nothing from a CDN (the browser test records requests)
    assert "rounds: 100%" in page


def test_domain_tour_shows_the_scene_and_the_skills(tmp_path: Path) -> None:
    run_dir = tmp_path / "tour"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GEMINI_API_KEY", FAKE_KEY)  # present in the kernel's environment ...
        run_batch(
            notebook("01_domain_tour"),
            run_dir,
            [("overrides", '["sim.view_size=[48,64]"]')],
            progress=False,
        )
    executed = run_dir / "01_domain_tour.ipynb"
    html = html_of(executed)
    images = re.findall(r'<img src="data:image/png;base64,', html)
    assert len(images) >= 4 + 3  # four cameras, three frames of the action
    for camera in ("experimenter", "front_left", "front_right", "top"):
        assert f">{camera}</figcaption>" in html
    assert "gameon-rollout gameon-static" in html  # the scripted episodes, as filmstrips
    text = text_of(executed)
    assert "'stack the red block on the blue block': True" in text
    assert "tower built: True" in text
    assert any(WIDGET_VIEW in o.get("data", {}) for o in outputs(executed))  # type: ignore[attr-defined]
    for path in (executed, run_dir / "01_domain_tour.html", run_dir / "batch.json"):
        assert FAKE_KEY not in path.read_text()  # ... and in none of what the run leaves


def test_step_by_step_shows_the_stepper(tmp_path: Path) -> None:
    run_dir = tmp_path / "steps"
    run_batch(notebook("02_step_by_step"), run_dir, [*TINY_LOOP, ("steps", "0")], progress=False)
    executed = run_dir / "02_step_by_step.ipynb"
    shown = [o for o in outputs(executed) if WIDGET_VIEW in o.get("data", {})]  # type: ignore[attr-defined]
    assert len(shown) == 1
    twin = str(shown[0]["data"]["text/html"])  # type: ignore[index]
    assert 'class="gameon-stepper gameon-static"' in twin
    assert 'data-stage="setup" data-state="next"' in twin
    assert "experimenter: scripted" in text_of(executed)


def test_full_loop_notebook_on_a_finished_run(quickstart: Path, tmp_path: Path) -> None:
    run_dir = copy_run(quickstart, tmp_path / "full")
    before = len(EventLog(run_dir / "events.jsonl").read())
    run_batch(
        notebook("03_full_loop"),
        run_dir,
        [*TINY_LOOP, ("experimenter", "scripted")],
        progress=False,
    )
    assert len(EventLog(run_dir / "events.jsonl").read()) == before  # resumed, nothing rerun
    executed = run_dir / "03_full_loop.ipynb"
    text = text_of(executed)
    assert "loop.rounds=1" in text
    assert "loop.eval_episodes=1" in text
    assert re.search(
        r"judge agreement with ground truth: \d+/\d+ of its own verdicts \(\d+ fallbacks to "
        r"the scripted judge not counted\)",
        text,
    )
    usage = re.search(
        r"\{'calls': \d+,\s+'requests': \d+,[\s\S]*?'by_role': \{", text
    )  # the ledger's
    assert usage, text[-2000:]
    assert (run_dir / "report" / "index.html").is_file()
    assert 'class="gameon-stepper gameon-static"' in html_of(executed)


def test_compare_notebook_writes_its_table(quickstart: Path, tmp_path: Path) -> None:
    root = tmp_path / "compare"
    copy_run(quickstart, root / "experimenter-seed0")
    run_batch(
        notebook("04_compare_curricula"),
        root,
        [*TINY_LOOP, ("curricula", '["experimenter", "random"]'), ("seeds", "[0]")],
        progress=False,
    )
    table = json.loads((root / "compare.json").read_text())
    assert [(r["curriculum"], r["seed"]) for r in table["rows"]] == [
        ("experimenter", 0),
        ("random", 0),
    ]
    assert "success/stack the red block on the blue block" in table["columns"]
    assert (root / "compare.csv").read_text().startswith("arm,run,curriculum,seed,")
    markdown = (root / "compare.md").read_text()
    assert markdown.startswith("| arm | run | curriculum | seed |")
    executed = root / "04_compare_curricula.ipynb"
    html = html_of(executed)
    assert 'class="gameon-comparison-table"' in html
    assert "gameon-curve" in html  # the success-over-rounds chart
    assert markdown in text_of(executed)
    assert json.loads((root / "random-seed0" / "state.json").read_text())["next"] == "done"


def test_judge_and_analyst_notebook(quickstart: Path, tmp_path: Path) -> None:
    run_dir = copy_run(quickstart, tmp_path / "judged")
    run_batch(
        notebook("05_judge_and_analyst"),
        run_dir,
        [("backend", "scripted"), ("segments", "12"), ("curves_per_kind", "2")],
        progress=False,
    )
    result = json.loads((run_dir / "judge_eval" / "scripted" / "agreement.json").read_text())
    assert result["judge"]["count"] == 12
    assert result["judge"]["accuracy"] == 1.0  # the scripted judge is the reference
    assert result["analyst"]["count"] == 8
    assert result["analyst"]["exact"] == 1.0
    html = html_of(run_dir / "05_judge_and_analyst.ipynb")
    assert 'class="gameon-agreement-report gameon-static"' in html
    assert 'class="gameon-judgement gameon-static"' in html
    assert 'class="gameon-analyst-report gameon-static"' in html
    assert 'class="gameon-curve-gallery gameon-static"' in html
