"""`gameon batch` and the notebook-parameter helpers: parameters checked against the notebook's
parameters cell and the RunConfig before anything runs, secrets refused, a run recorded, and a
failing cell leaving the partial notebook; the kernel headless (progress bars as final text
lines, curves as their static twin), the HTML with no CDN script, files with the umask's modes."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill
import pytest

from gameon_nb import (
    TINY,
    RunConfig,
    choose_backend,
    config_assignments,
    notebook_config,
    override,
    start_experiment,
)
from gameon_nb.batch import resolve_parameters, run_batch
from gameon_nb.cli import main
from gameon_nb.known_parameters import CONFIG_PARAMETERS, KNOWN_PARAMETERS
from gameon_nb.loop.experiment import BUDGET_SPENT, Experiment
from gameon_nb.notebook_errors import NotebookError, ParameterError
from gameon_nb.parameter_values import parse_value
from gameon_nb.parameters_cell import Parameter, notebook_parameters
from gameon_nb.progress import FRONT_END_VARIABLE, front_end, progress_bar
from gameon_nb.run.dir import RunStateError

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "notebooks" / "00_quickstart.ipynb"

PARAMETERS = """\
run_dir: str = "runs/x"  # where it goes
rounds: int = 2  # rounds of the loop
rate: float = 0.5
verbose: bool = False  # say more
names: list[str] = ["a", "b"]  # some names
seeds: list[int] = [0, 1]
overrides: list[str] = []
fail = True  # unannotated: the default's type
"""


def write(path: Path, parameters: str, *cells: str) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    first = nbformat.v4.new_code_cell(parameters)
    first.metadata["tags"] = ["parameters"]
    notebook.cells = [first, *(nbformat.v4.new_code_cell(c) for c in cells)]
    nbformat.write(notebook, path)
    return path


@pytest.fixture
def notebook(tmp_path: Path) -> Path:
    return write(
        tmp_path / "probe.ipynb",
        PARAMETERS,
        "print('before', rounds, names)",
        "if fail:\n    raise ValueError('planned failure')",
        "print('after')",
    )


def test_the_parameters_cell_is_the_interface(notebook: Path) -> None:
    declared = notebook_parameters(notebook)
    assert list(declared) == [
        "run_dir",
        "rounds",
        "rate",
        "verbose",
        "names",
        "seeds",
        "overrides",
        "fail",
    ]
    assert declared["rounds"] == Parameter("rounds", "int", 2, "rounds of the loop")
    assert declared["names"].type == "list[str]"
    assert declared["names"].default == ["a", "b"]
    assert declared["fail"].type == "bool"
    assert set(declared) == set(papermill.inspect_notebook(str(notebook)))


def test_notebooks_without_one_parameters_cell_are_refused(tmp_path: Path) -> None:
    plain = nbformat.v4.new_notebook()
    plain.cells = [nbformat.v4.new_code_cell("x = 1")]
    nbformat.write(plain, tmp_path / "none.ipynb")
    with pytest.raises(NotebookError, match="0 cells tagged 'parameters'"):
        notebook_parameters(tmp_path / "none.ipynb")
    write(tmp_path / "code.ipynb", "import os\nx = os.getcwd()")
    with pytest.raises(NotebookError, match="only `name: type = value`"):
        notebook_parameters(tmp_path / "code.ipynb")
    with pytest.raises(NotebookError, match="no notebook"):
        notebook_parameters(tmp_path / "missing.ipynb")


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        ("int", "3", 3),
        ("float", "0.25", 0.25),
        ("float", "2", 2.0),
        ("bool", "false", False),
        ("bool", "True", True),
        ("str", "tiny", "tiny"),
        ("str", "[1]", "[1]"),
        ("list[str]", '["loop.rounds=1", "seed=3"]', ["loop.rounds=1", "seed=3"]),
        ("list[int]", "[0, 1]", [0, 1]),
    ],
)
def test_values_are_parsed_by_the_declared_type(kind: str, text: str, value: object) -> None:
    assert parse_value(Parameter("p", kind, None), text) == value


@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [
        ("int", "abc", "rounds expects int, got 'abc'"),
        ("int", "1.5", "rounds expects int, got '1.5'"),
        ("float", "fast", "rounds expects float, got 'fast'"),
        ("bool", "maybe", "rounds expects bool, got 'maybe' (true or false)"),
        ("list[str]", "random", "rounds expects a JSON list of str"),
        ("list[int]", '["a"]', "rounds expects int, got"),
        ("dict[str, int]", "{}", "batch cannot parse"),
    ],
)
def test_wrong_types_are_clear_errors(kind: str, text: str, message: str) -> None:
    with pytest.raises(ParameterError, match=re.escape(message)):
        parse_value(Parameter("rounds", kind, None), text)


def test_names_are_checked_against_the_cell_and_the_config(tmp_path: Path) -> None:
    got = resolve_parameters(
        QUICKSTART, [("rounds", "3"), ("loop.envs", "2"), ("preset", "tiny")], run_dir=tmp_path
    )
    assert got == {
        "rounds": 3,
        "preset": "tiny",
        "overrides": ["loop.envs=2"],
        "run_dir": str(tmp_path.resolve()),
    }
    with pytest.raises(ParameterError) as unknown:
        resolve_parameters(QUICKSTART, [("no_such_param", "1")])
    assert str(unknown.value).startswith("unknown parameter 'no_such_param' for 00_quickstart")
    assert "known: run_dir, preset, rounds, overrides" in str(unknown.value)
    with pytest.raises(ParameterError, match=r"config: 'loop\.no_field' is not a config field"):
        resolve_parameters(QUICKSTART, [("loop.no_field", "1")])
    with pytest.raises(ParameterError, match=r"config: loop\.rounds: expected int"):
        resolve_parameters(QUICKSTART, [("loop.rounds", '"two"')])
    with pytest.raises(
        ParameterError, match="unknown preset 'huge'; known: demo, study, tiny, gpu"
    ):
        resolve_parameters(QUICKSTART, [("preset", "huge")])
    with pytest.raises(ParameterError, match=re.escape("an override is 'section.field=value'")):
        resolve_parameters(QUICKSTART, [("overrides", '["loop.rounds"]')])
    with pytest.raises(ParameterError, match="given twice"):
        resolve_parameters(QUICKSTART, [("rounds", "1"), ("rounds", "2")])
    with pytest.raises(ParameterError, match="run_dir is set by --run-dir"):
        resolve_parameters(QUICKSTART, [("run_dir", "elsewhere")], run_dir=tmp_path)
    tour = REPO / "notebooks" / "01_domain_tour.ipynb"
    with pytest.raises(ParameterError, match="unknown curricula"):
        resolve_parameters(
            REPO / "notebooks" / "04_compare_curricula.ipynb",
            [("curricula", '["random", "lucky"]')],
        )
    assert resolve_parameters(tour, [("seed", "4")]) == {"seed": 4}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("api_key", "x"),
        ("GEMINI_API_KEY", "x"),
        ("token", "x"),
        ("db_password", "x"),
        ("experimenter.secret", "x"),
        ("preset", "AIza" + "x" * 35),
        ("overrides", '["experimenter.gemini_api_key=abc"]'),
    ],
)
def test_secrets_are_refused(name: str, value: str) -> None:
    with pytest.raises(ParameterError, match=r"refused: .*(secret|API key)"):
        resolve_parameters(QUICKSTART, [(name, value)])


def test_a_key_from_the_environment_is_refused_as_a_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "not-a-real-key-123")
    with pytest.raises(ParameterError, match=r"holds \$GEMINI_API_KEY"):
        resolve_parameters(QUICKSTART, [("preset", "not-a-real-key-123")])


def test_choose_backend() -> None:
    assert choose_backend("auto", {}) == "scripted"
    assert choose_backend("auto", {"GEMINI_API_KEY": "k"}) == "gemini"
    assert choose_backend("gemini", {"GOOGLE_API_KEY": "k"}) == "gemini"
    with pytest.raises(ParameterError, match="export GEMINI_API_KEY"):
        choose_backend("gemini", {})
    with pytest.raises(ParameterError, match="known: auto, gemini, openai, scripted, replay"):
        choose_backend("claude", {})


def test_notebook_config_is_the_preset_then_named_then_overrides() -> None:
    config = notebook_config(preset="tiny", overrides=["loop.envs=1"], rounds=1, seed=3)
    assert config == override(RunConfig(), [*TINY, "loop.rounds=1", "seed=3", "loop.envs=1"])
    assert config_assignments(overrides=["loop.rounds=5"], rounds=1)[-1] == "loop.rounds=5"
    assert notebook_config().loop.rounds == RunConfig().loop.rounds
    with pytest.raises(ParameterError, match=re.escape("list of section.field=value")):
        config_assignments(overrides="loop.rounds=1")


def test_each_known_parameter_is_declared_once() -> None:
    assert CONFIG_PARAMETERS == (
        "preset",
        "rounds",
        "seed",
        "curriculum",
        "experimenter",
        "overrides",
    )
    assert {"run_dir", "curricula", "backend"} <= set(KNOWN_PARAMETERS) - set(CONFIG_PARAMETERS)
    assert config_assignments(curriculum="random", seed=2, rounds=None) == [
        "seed=2",
        "loop.curriculum=random",
    ]
    assert config_assignments(experimenter="scripted") == ["experimenter.backend=scripted"]
    for name in CONFIG_PARAMETERS:  # each one reaches the config through notebook_config
        known = KNOWN_PARAMETERS[name]
        assert known.shapes_config
        assert known.check is None
    with pytest.raises(
        ParameterError, match="'curricula' is not a config parameter; known: preset"
    ):
        notebook_config(curricula=["random"])


def test_a_known_parameter_declared_with_another_type_is_refused(tmp_path: Path) -> None:
    odd = write(tmp_path / "odd.ipynb", 'rounds: str = "2"  # rounds, as text')
    with pytest.raises(NotebookError, match=r"declares rounds: str; rounds is int"):
        resolve_parameters(odd, [])
    code = main(["batch", str(odd), "--run-dir", str(tmp_path / "run"), "--check"])
    assert code == 2


def test_start_experiment_resumes_the_same_config_only(tmp_path: Path) -> None:
    config = notebook_config(preset="tiny", rounds=1)
    first = start_experiment(tmp_path, config, progress=False)
    first.rundir.save_state(first.state)  # as after a first stage
    again = start_experiment(tmp_path, config, progress=False)
    assert again.next_stage == "setup"
    with pytest.raises(RunStateError, match=r"another config \(loop\.rounds: 1 vs 2"):
        start_experiment(tmp_path, notebook_config(preset="tiny", rounds=2))


def test_gameon_batch_rejects_bad_parameters_before_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "run"
    cases = {
        ("rounds", "abc"): "gameon batch: rounds expects int, got 'abc'",
        ("no_such_param", "1"): "gameon batch: unknown parameter 'no_such_param'",
        ("api_token", "1"): "gameon batch: refused: 'api_token' looks like a secret",
    }
    for (name, value), message in cases.items():
        code = main(["batch", str(QUICKSTART), "--run-dir", str(run_dir), "-p", name, value])
        err = capsys.readouterr().err
        assert code == 2
        assert err.startswith(message), err
    assert "known: run_dir, preset, rounds, overrides" in main_err(run_dir, capsys)
    assert not run_dir.exists()  # nothing ran, nothing was written


def main_err(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> str:
    main(["batch", str(QUICKSTART), "--run-dir", str(run_dir), "-p", "no_such_param", "1"])
    return capsys.readouterr().err


def test_the_gameon_command_itself(tmp_path: Path) -> None:
    gameon = Path(sys.executable).with_name("gameon")
    done = subprocess.run(
        [str(gameon), "batch", str(QUICKSTART), "--run-dir", str(tmp_path), "-p", "rounds", "abc"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "gameon batch: rounds expects int, got 'abc'"
    checked = subprocess.run(
        [
            str(gameon),
            "batch",
            str(QUICKSTART),
            "--run-dir",
            str(tmp_path),
            "--check",
            "--json",
            "-p",
            "loop.envs",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["parameters"]["overrides"] == ["loop.envs=2"]


def test_a_failed_cell_leaves_the_partial_notebook(
    notebook: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "failed"
    code = main(["batch", str(notebook), "--run-dir", str(run_dir), "-p", "names", '["x"]'])
    err = capsys.readouterr().err
    assert code == 1
    assert "raised ValueError: planned failure" in err
    executed = run_dir / "probe.ipynb"
    assert f"the executed notebook up to that cell is {executed}" in err
    cells = [c for c in nbformat.read(executed, as_version=4).cells if c.cell_type == "code"]
    injected = next(c for c in cells if "injected-parameters" in c.metadata.get("tags", []))
    assert 'names = ["x"]' in injected.source
    printed = next(c for c in cells if c.source.startswith("print('before'"))
    assert printed.outputs[0]["text"] == "before 2 ['x']\n"
    failed = next(c for c in cells if "planned failure" in c.source)
    assert failed.outputs[-1]["output_type"] == "error"
    assert cells[-1].execution_count is None  # never ran
    record = json.loads((run_dir / "batch.json").read_text())
    assert record["status"] == "failed"
    assert "ValueError: planned failure" in record["error"]
    assert "planned failure" in (run_dir / "probe.html").read_text()


def test_a_batch_run_is_recorded(notebook: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "ok"
    record = run_batch(notebook, run_dir, [("fail", "false"), ("rounds", "5")], progress=False)
    assert record["status"] == "ok"
    assert record["parameters"] == {"fail": False, "rounds": 5, "run_dir": str(run_dir.resolve())}
    assert set(record["versions"]) >= {"python", "torch", "mujoco", "gameon_nb", "papermill"}
    assert all(record["versions"][k] for k in ("python", "torch", "mujoco", "papermill"))
    assert record["device"]["kind"] in ("cpu", "cuda")
    revision = record["git"]["revision"]
    assert revision is None or re.fullmatch(r"[0-9a-f]{40}", revision)
    assert json.loads((run_dir / "batch.json").read_text()) == record
    executed = nbformat.read(run_dir / "probe.ipynb", as_version=4)
    assert executed.cells[-1].outputs[0]["text"] == "after\n"
    assert "after" in (run_dir / "probe.html").read_text()
    text = json.dumps(record)
    assert "API_KEY" not in text  # nothing of the environment beyond versions and device


# -- what a batch run leaves -------------------------------------------------------------------

HEADLESS_CELLS = (
    "from pathlib import Path\n"
    "from gameon_nb.atomic import atomic_write_text\n"
    "from gameon_nb.progress import front_end, progress_bar\n"
    "from gameon_nb.widgets import show_curves\n"
    "atomic_write_text(Path(run_dir) / 'written.json', '{}')\n"
    "print(front_end())",
    "for _ in progress_bar(range(3), desc='work', unit='ep'):\n"
    "    inner = progress_bar(total=2, desc='inner', leave=False)\n"
    "    inner.update(2)\n"
    "    inner.close()",
    "show_curves(metrics=[{'step': 1, 'critic_loss': 2.0}, {'step': 2, 'critic_loss': 1.0}])",
)


def test_a_batch_kernel_is_headless(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JPY_SESSION_NAME", "as if `gameon batch` ran from a notebook's `!`")
    monkeypatch.delenv(FRONT_END_VARIABLE, raising=False)
    notebook = write(tmp_path / "headless.ipynb", 'run_dir: str = "."', *HEADLESS_CELLS)
    run_dir = tmp_path / "run"
    mask = os.umask(0o027)
    try:
        run_batch(notebook, run_dir, progress=False)
    finally:
        os.umask(mask)
    assert FRONT_END_VARIABLE not in os.environ  # set for the kernel only
    executed = nbformat.read(run_dir / "headless.ipynb", as_version=4)
    out = [c.outputs for c in executed.cells if c.cell_type == "code"][2:]  # after run_dir
    assert out[0] == [nbformat.v4.new_output("stream", name="stdout", text="headless\n")]
    [line] = out[1]  # the finished inner bars leave nothing
    assert line["name"] == "stdout"
    assert re.fullmatch(
        r"work: 100%\|██████████\| 3/3 \[00:00<00:00, +[\d.]+ep/s\]\n", line["text"]
    )
    [curves] = out[2]
    assert set(curves["data"]) == {"text/html", "text/plain"}  # the static twin, no plotly
    assert 'class="gameon-curves gameon-static"' in curves["data"]["text/html"]
    assert "widgets" not in executed.metadata
    html = (run_dir / "headless.html").read_text()
    assert "<script src=" not in html  # neither require.js nor MathJax from a CDN
    assert "work: 100%" in html
    for name in ("headless.ipynb", "headless.html", "batch.json", "written.json"):
        assert stat.S_IMODE((run_dir / name).stat().st_mode) == 0o640, name  # 0666 less umask


def test_progress_bars_by_front_end(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(FRONT_END_VARIABLE, raising=False)
    assert front_end() == "terminal"  # no kernel here
    monkeypatch.setenv(FRONT_END_VARIABLE, "lab")
    with pytest.raises(ValueError, match="GAMEON_FRONT_END is one of live, headless, terminal"):
        front_end()
    monkeypatch.setenv(FRONT_END_VARIABLE, "headless")
    with progress_bar(total=4, desc="done", unit="ep", leave=False) as bar:
        bar.update(4)  # finished, leave=False: nothing
    with progress_bar(total=4, desc="cut", unit="ep", leave=False) as bar:
        bar.update(1)  # stopped short: its line stays, whatever leave says
    for _ in progress_bar(range(2), desc="disabled", disable=True):
        pass
    for _ in progress_bar([], desc="empty"):
        pass  # counted nothing
    out, err = capsys.readouterr()
    assert err == ""
    [line] = out.splitlines()
    assert line.startswith("cut:  25%|██▌       | 1/4 [00:00<00:00, ")


def test_the_rounds_bar_ends_at_its_total(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def advance(self: Experiment) -> None:  # each stage done at once, as its grow would end
        stage = self.next_stage
        if stage == "grow" and self.round >= self.config.loop.rounds:
            self.state.stopped = BUDGET_SPENT
        self._advance(stage)

    monkeypatch.setattr(Experiment, "step", advance)
    monkeypatch.setenv(FRONT_END_VARIABLE, "headless")
    exp = Experiment(tmp_path, notebook_config(preset="tiny", rounds=2), progress=True)
    exp.run()
    assert capsys.readouterr().out.startswith("rounds: 100%|██████████| 2/2 [")
    exp.run(rounds=3)  # the budget raised: one more round, counted from the two done
    assert capsys.readouterr().out.startswith("rounds: 100%|██████████| 3/3 [")
    exp.close()
