"""`gameon batch --grid`: one papermill run per point, every point checked before any runs, a
failing point reported by name while the others finish, a second sweep running only what did not
finish, the index page linking every run, and the same sweep on Ray."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from gameon_nb.batch_sweep import run_batch_sweep, run_headline, sweep_html
from gameon_nb.cli import main
from gameon_nb.executors import LOCAL_OBJECT_STORE
from gameon_nb.grid import parse_grid
from gameon_nb.notebook_errors import ParameterError
from gameon_nb.skills.library import SkillLibrary

TARGET = "stack the red block on the blue block"
CELLS = (
    "from pathlib import Path\n"
    "with open(Path(run_dir) / 'ran.txt', 'a') as counter:\n"
    "    counter.write('ran\\n')",
    "if x == 2 and y == 'b' and not (Path(run_dir) / 'fixed').exists():\n"
    "    raise ValueError('planned failure')",
    # a run's files, as the loop leaves them, for the headline
    "from gameon_nb.run.dir import RunDir\n"
    "from gameon_nb.run.state import RunState\n"
    "from gameon_nb.skills.library import SkillLibrary\n"
    "run = RunDir(run_dir)\n"
    "SkillLibrary.initial().save(run.library_path)\n"
    "run.save_state(RunState(round=x, next='done', stopped='budget'))\n"
    f"result = {{'success': x / 4, 'successes': x, 'episodes': 4, 'ci95': [0.0, 1.0]}}\n"
    f"run.write_json(run.evaluation(x), {{{TARGET!r}: result}})",
)
BASE_SKILLS = len(SkillLibrary.initial().available())
GRID = {"x": ["1", "2"], "y": ["a", "b"]}
FAILED = r"cell 3 \(execution count \d+\) raised ValueError: planned failure"
NAMES = ["x=1-y=a", "x=1-y=b", "x=2-y=a", "x=2-y=b"]


@pytest.fixture
def notebook(tmp_path: Path) -> Path:
    node = nbformat.v4.new_notebook()
    node.metadata["kernelspec"] = {"name": "python3", "display_name": "P", "language": "python"}
    first = nbformat.v4.new_code_cell('run_dir: str = "."\nx: int = 0\ny: str = "a"\nz: int = 0')
    first.metadata["tags"] = ["parameters"]
    node.cells = [first, *(nbformat.v4.new_code_cell(c) for c in CELLS)]
    path = tmp_path / "probe.ipynb"
    nbformat.write(node, path)
    return path


def ran(root: Path) -> dict[str, int]:
    """How many times each point's notebook started."""
    return {p.parent.name: len(p.read_text().splitlines()) for p in root.glob("*/ran.txt")}


def test_a_grid_runs_every_point_and_a_second_sweep_only_what_did_not_finish(
    notebook: Path, tmp_path: Path
) -> None:
    root = tmp_path / "sweep"
    sweep = run_batch_sweep(notebook, root, [("z", "7")], GRID, progress=False)
    assert [p["name"] for p in sweep["points"]] == NAMES
    assert [p["status"] for p in sweep["points"]] == ["ok", "ok", "ok", "failed"]
    assert (sweep["ok"], sweep["failed"]) == (3, 1)
    failed = sweep["points"][3]
    assert re.fullmatch(FAILED, failed["error"] or "")
    assert failed["headline"] is None  # it stopped before writing a run
    first = sweep["points"][0]
    assert first["grid"] == {"x": "1", "y": "a"}
    assert first["parameters"] == {"z": 7, "x": 1, "y": "a", "run_dir": str(root / NAMES[0])}
    assert first["headline"] == {
        "rounds": 1, "stopped": "budget", "library": BASE_SKILLS, "learned": 0,
        "targets": {TARGET: 0.25}, "target_success": 0.25,
    }  # fmt: skip
    assert json.loads((root / "sweep.json").read_text()) == sweep
    assert ran(root) == dict.fromkeys(NAMES, 1)

    page = (root / "index.html").read_text()
    assert sweep["index"] == str(root / "index.html")
    for name in NAMES:  # every executed notebook and report, linked relatively
        for suffix in ("ipynb", "html"):
            assert f'href="{name}/probe.{suffix}"' in page
            assert (root / name / f"probe.{suffix}").is_file()
    head = re.findall(r"<th[^>]*>([^<]*)</th>", page)
    assert head[:4] == ["run", "x", "y", "status"]
    assert {"rounds done", "library", "targets (mean)", TARGET} <= set(head)
    assert head[-2:] == ["notebook", "report"]
    assert "planned failure" in page
    assert "fixed parameters: z=7" in page
    assert page.startswith("<!doctype html>")
    assert "<script" not in page  # self-contained

    (root / NAMES[3] / "fixed").touch()
    again = run_batch_sweep(notebook, root, [("z", "7")], GRID, progress=False)
    assert [p["status"] for p in again["points"]] == ["ok"] * 4
    assert [p["reused"] for p in again["points"]] == [True, True, True, False]
    assert ran(root) == {**dict.fromkeys(NAMES[:3], 1), NAMES[3]: 2}  # nothing finished reran
    fixed = again["points"][3]["headline"]
    assert fixed is not None
    assert fixed["targets"] == {TARGET: 0.5}
    assert again["points"][0]["seconds"] == first["seconds"]  # the first sweep's record

    changed = run_batch_sweep(notebook, root, [("z", "8")], {"x": ["1"]}, progress=False)
    assert changed["points"][0]["reused"] is False  # other parameters: run again
    assert ran(root)["x=1"] == 1


def test_every_point_is_checked_before_anything_runs(notebook: Path, tmp_path: Path) -> None:
    root = tmp_path / "sweep"
    with pytest.raises(ParameterError, match=r"^point x=c-y=a: x expects int, got 'c'"):
        run_batch_sweep(notebook, root, [], {"x": ["2", "c"], "y": ["a", "b"]}, progress=False)
    with pytest.raises(ParameterError, match=r"^x given with -p and in --grid: give each once"):
        run_batch_sweep(notebook, root, [("x", "1")], {"x": ["2"]}, progress=False)
    with pytest.raises(ParameterError, match="unknown parameter 'w'"):
        run_batch_sweep(notebook, root, [], {"w": ["2"]}, progress=False)
    checked = run_batch_sweep(notebook, root, [], GRID, check_only=True)
    assert [p["status"] for p in checked["points"]] == ["checked"] * 4
    assert checked["points"][3]["parameters"] == {"x": 2, "y": "b", "run_dir": str(root / NAMES[3])}
    assert checked["index"] is None
    assert not root.exists()  # nothing ran, nothing was written


def test_a_notebook_that_makes_no_run_has_no_headline(notebook: Path, tmp_path: Path) -> None:
    assert run_headline(tmp_path) is None
    (tmp_path / "state.json").write_text("{not json")
    assert run_headline(tmp_path) is None  # damaged: no headline rather than a crash
    sweep = run_batch_sweep(notebook, tmp_path / "tour", [], {"x": ["0"]}, check_only=True)
    head = re.findall(r"<th[^>]*>([^<]*)</th>", sweep_html(sweep))
    assert head == ["run", "x", "status", "seconds", "notebook", "report"]


def gameon(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gameon_nb.cli", "batch", *args],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_the_command_exits_1_when_a_point_failed_and_2_for_a_bad_grid(
    notebook: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "cli"
    done = gameon(str(notebook), "--run-dir", str(root), "--grid", "x=2", "--grid", "y=a,b")
    assert done.returncode == 1, done.stderr
    assert re.search(r"probe: 100%.* 2/2 .*running 0, failed 1", done.stderr)  # the sweep's bar
    assert "gameon batch: x=2-y=b failed: cell 3 (execution count" in done.stderr
    assert "raised ValueError: planned failure" in done.stderr
    assert f"index: {root / 'index.html'}\n" in done.stdout
    bad = gameon(str(notebook), "--run-dir", str(tmp_path / "bad"), "--grid", "x=1,two")
    assert bad.returncode == 2
    assert bad.stderr.strip() == "gameon batch: point x=two: x expects int, got 'two'"

    again = ["batch", str(notebook), "--run-dir", str(root), "--grid", "x=2", "--grid", "y=a,b"]
    assert main([*again, "--json"]) == 1
    points = json.loads(capsys.readouterr().out)["points"]
    assert [(p["status"], p["reused"]) for p in points] == [("ok", True), ("failed", False)]
    assert main(["batch", str(notebook), "--run-dir", str(tmp_path / "bad"), "--grid", "x"]) == 2
    assert "--grid takes name=v1,v2" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


@pytest.mark.slow
def test_the_same_sweep_on_ray(notebook: Path, tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    root = tmp_path / "ray"
    ray.init(
        num_cpus=2, object_store_memory=LOCAL_OBJECT_STORE, include_dashboard=False,
        log_to_driver=False, configure_logging=False,
    )  # fmt: skip
    try:
        sweep = run_batch_sweep(
            notebook, root, [], parse_grid(["x=1,2", "y=a,b"]), progress=False,
            executor="ray",
        )  # fmt: skip
    finally:
        ray.shutdown()
    assert [(p["name"], p["status"]) for p in sweep["points"]] == list(
        zip(NAMES, ["ok", "ok", "ok", "failed"], strict=True)
    )
    assert re.fullmatch(FAILED, sweep["points"][3]["error"] or "")  # as on the local executor
    assert sweep["points"][2]["parameters"] == {"x": 2, "y": "a", "run_dir": str(root / NAMES[2])}
    assert [(p["headline"] or {}).get("rounds") for p in sweep["points"]] == [1, 1, 2, None]
    assert ran(root) == dict.fromkeys(NAMES, 1)
