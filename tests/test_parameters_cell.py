"""A notebook's parameters cell read as declarations: help at the line's end or above it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gameon_nb.notebook_errors import NotebookError
from gameon_nb.parameters_cell import notebook_parameters, parse_parameters_cell

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
WIDTH = 88
"""What a notebook shows without a horizontal scroll at JupyterLab's default width."""


def test_help_comes_from_the_line_end_or_the_comment_lines_above() -> None:
    cell = (
        "seed: int = 0  # seed of the reset\n"
        "# where the run is written; a run there with\n"
        "# the same config is resumed\n"
        'run_dir: str = "runs/a"\n'
        "\n"
        "rounds = 2\n"
    )
    found = parse_parameters_cell(cell)
    assert [(p.name, p.type, p.default, p.help) for p in found.values()] == [
        ("seed", "int", 0, "seed of the reset"),
        (
            "run_dir",
            "str",
            "runs/a",
            "where the run is written; a run there with the same config is resumed",
        ),
        ("rounds", "int", 2, ""),  # a blank line ends the comment above
    ]


def test_a_statement_that_is_not_a_declaration_is_an_error() -> None:
    with pytest.raises(NotebookError, match="line 2: only `name: type = value`"):
        parse_parameters_cell("# help\nprint('hi')\n")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_parameter_has_help_and_the_cell_fits_the_width(path: Path) -> None:
    parameters = notebook_parameters(path)
    assert parameters
    assert [p.name for p in parameters.values() if not p.help] == []
    cells = json.loads(path.read_text())["cells"]
    cell = next(c for c in cells if "parameters" in c["metadata"].get("tags", []))
    wide = [line for line in "".join(cell["source"]).splitlines() if len(line) > WIDTH]
    assert wide == [], f"{path.name}: lines run off the right edge"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_committed_without_outputs(path: Path) -> None:
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    assert [c for c in cells if c["outputs"] or c["execution_count"] is not None] == [], (
        f"{path.name} holds outputs: clear them (see the README's notebooks section)"
    )
