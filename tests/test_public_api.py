"""The package's public surface: what the notebooks and the README import, from `gameon_nb` and
`gameon_nb.widgets` only, cheap to import and every name of `__all__` there."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

import gameon_nb
import gameon_nb.widgets

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
PUBLIC = {"gameon_nb": gameon_nb, "gameon_nb.widgets": gameon_nb.widgets}


def python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_import_line_of_the_readme_works() -> None:
    python("import gameon_nb as g; g.Experiment; g.RunConfig; g.show_rollout")


@pytest.mark.parametrize("module", ["gameon_nb", "gameon_nb.widgets"])
def test_importing_the_package_does_not_import_torch(module: str) -> None:
    loaded = python(f"import sys, {module}; print(sorted({{'torch'}} & set(sys.modules)))")
    assert loaded == "[]"


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_every_public_name_resolves(name: str) -> None:
    module = PUBLIC[name]
    assert len(set(module.__all__)) == len(module.__all__)
    for attribute in module.__all__:
        assert getattr(module, attribute) is not None, attribute
    lazy = {n for names in module._LAZY.values() for n in names}  # type: ignore[attr-defined]
    assert lazy <= set(module.__all__), lazy - set(module.__all__)
    assert set(module.__all__) <= set(dir(module))
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        module.no_such_name  # noqa: B018


def test_the_notebook_api_is_at_the_top() -> None:
    for name in (
        "notebook_config",
        "config_assignments",
        "start_experiment",
        "ensure_episodes",
        "notebook_experimenter",
        "choose_backend",
        "write_report",
        "show_rollout",
        "show_curves",
        "show_library",
        "show_stepper",
        "LoopStepper",
        "PRESETS",
        "RunDir",
        "EventLog",
    ):
        assert name in gameon_nb.__all__, name
    config = gameon_nb.notebook_config(preset="tiny", rounds=1)
    assert config == gameon_nb.override(gameon_nb.RunConfig(), [*gameon_nb.TINY, "loop.rounds=1"])


def _imports(source: str) -> Iterator[tuple[int, str, str]]:
    """(line, module, name) of every import of a cell; name '' for `import module`."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, ""
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            for alias in node.names:
                yield node.lineno, module, alias.name


def _private_uses(source: str) -> Iterator[tuple[int, str]]:
    """`gameon_nb.<name>` attributes of a cell that are not public names."""
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "gameon_nb"
            and node.attr not in gameon_nb.__all__
        ):
            yield node.lineno, f"gameon_nb.{node.attr}"


def notebook_problems(path: Path) -> list[str]:
    problems = []
    node = nbformat.read(path, as_version=4)
    for index, cell in enumerate(node.cells):
        if cell.cell_type != "code":
            continue
        where = f"{path.name} cell {index}"
        for line, module, name in _imports(cell.source):
            package = module.split(".")[0]
            if module.startswith(".") or (package == "gameon_nb" and module not in PUBLIC):
                problems.append(f"{where} line {line}: imports from {module}")
            elif module in PUBLIC and name and name not in PUBLIC[module].__all__:
                problems.append(f"{where} line {line}: {name} is not public in {module}")
        problems += [
            f"{where} line {line}: uses {name}" for line, name in _private_uses(cell.source)
        ]
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebooks_import_only_the_public_surface(path: Path) -> None:
    assert notebook_problems(path) == []


def test_the_import_check_catches_submodules(tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "from pathlib import Path\nimport pandas as pd\nimport gameon_nb\n"
            "from gameon_nb import notebook_config\nfrom gameon_nb.widgets import show_html"
        ),
        nbformat.v4.new_code_cell("from gameon_nb.loop import events as ev"),
        nbformat.v4.new_code_cell("import gameon_nb.report\nfrom gameon_nb import loop"),
        nbformat.v4.new_code_cell("gameon_nb.loop.presets.GPU"),
    ]
    path = tmp_path / "probe.ipynb"
    nbformat.write(notebook, path)
    assert notebook_problems(path) == [
        "probe.ipynb cell 1 line 1: imports from gameon_nb.loop",
        "probe.ipynb cell 2 line 1: imports from gameon_nb.report",
        "probe.ipynb cell 2 line 2: loop is not public in gameon_nb",
        "probe.ipynb cell 3 line 1: uses gameon_nb.loop",
    ]
