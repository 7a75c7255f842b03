"""A notebook's interface: its one cell tagged `parameters`, read as typed declarations.

    >>> notebook_parameters("notebooks/00_quickstart.ipynb")["rounds"]
    Parameter(name='rounds', type='int', default=2, help='rounds of the loop')
    >>> parse_parameters_cell('seed: int = 0  # seed of the reset')["seed"].help
    'seed of the reset'

Each declaration is `name: type = literal  # help`, or the help in comment lines right above it
(which keeps long help within the cell's width); an unannotated `name = literal` takes its
default's type. Anything else in the cell (imports, calls, expressions) is a NotebookError:
the cell is read, never run.
"""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gameon_nb.notebook_errors import NotebookError

__all__ = [
    "Parameter",
    "notebook_parameters",
    "parameters_cell",
    "parse_parameters_cell",
    "read_notebook",
]


@dataclass(frozen=True)
class Parameter:
    """One assignment of a notebook's parameters cell."""

    name: str
    type: str
    """The annotation as written ('int', 'list[str]', ...), else the default's type name."""
    default: Any
    help: str = ""
    """The comment at the end of its line."""


def read_notebook(path: Path) -> Any:
    """The notebook at `path` (nbformat v4), or a NotebookError saying why not."""
    import nbformat

    if not path.is_file():
        raise NotebookError(f"no notebook at {path}")
    try:
        return nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    except (OSError, ValueError) as error:  # nbformat's read errors are ValueErrors
        raise NotebookError(f"{path} is not a readable notebook: {error}") from error


def parameters_cell(notebook: Any, where: str = "the notebook") -> str:
    """The source of the notebook's one cell tagged `parameters`."""
    tagged = [
        cell for cell in notebook.cells if "parameters" in cell.get("metadata", {}).get("tags", [])
    ]
    if len(tagged) != 1:
        raise NotebookError(
            f"{where} has {len(tagged)} cells tagged 'parameters'; a batch notebook needs one"
        )
    if tagged[0].cell_type != "code":
        raise NotebookError(f"the cell tagged 'parameters' in {where} is not a code cell")
    return str(tagged[0].source)


def _type_name(value: Any) -> str:
    if isinstance(value, list):
        inner = {type(v).__name__ for v in value}
        return f"list[{inner.pop()}]" if len(inner) == 1 else "list"
    return type(value).__name__


def _comments(source: str) -> dict[int, str]:
    """The comment on each line, by line number."""
    return {
        token.start[0]: token.string.lstrip("#").strip()
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    }


def _help(comments: dict[int, str], lines: list[str], line: int) -> str:
    """A declaration's help: its end-of-line comment, else the comment lines right above it."""
    if line in comments and not lines[line - 1].lstrip().startswith("#"):
        return comments[line]
    above: list[str] = []
    while line - 1 in comments and lines[line - 2].lstrip().startswith("#"):
        line -= 1
        above.insert(0, comments[line])
    return " ".join(above)


def _declaration(node: ast.stmt, where: str) -> tuple[str, str, ast.expr | None]:
    """Name, annotation ('' when none) and value of one statement of the cell."""
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id, ast.unparse(node.annotation), node.value
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
        if isinstance(target, ast.Name):
            return target.id, "", node.value
    raise NotebookError(
        f"{where}, line {node.lineno}: only `name: type = value` assignments belong there"
    )


def parse_parameters_cell(source: str, where: str = "the parameters cell") -> dict[str, Parameter]:
    """Every `name[: type] = literal  # help` of a parameters cell, in order."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise NotebookError(f"{where} is not valid Python: {error}") from error
    comments, lines = _comments(source), source.splitlines()
    out: dict[str, Parameter] = {}
    for node in tree.body:
        name, annotation, value = _declaration(node, where)
        if value is None:
            raise NotebookError(f"{where}: {name} has no default value")
        try:
            default = ast.literal_eval(value)
        except ValueError as error:
            raise NotebookError(f"{where}: the default of {name} is not a literal") from error
        kind = annotation or _type_name(default)
        out[name] = Parameter(name, kind, default, _help(comments, lines, node.lineno))
    return out


def notebook_parameters(path: Path | str) -> dict[str, Parameter]:
    """The parameters a notebook declares, by name.

    >>> notebook_parameters("notebooks/00_quickstart.ipynb")["rounds"].type
    'int'
    """
    path = Path(path)
    return parse_parameters_cell(
        parameters_cell(read_notebook(path), str(path)), f"the parameters cell of {path}"
    )
