"""What goes wrong with a notebook's parameters or its batch run, as exceptions.

    >>> notebook_config(preset="huge")        # ParameterError: unknown preset 'huge'; known: ...
    >>> notebook_parameters("plain.ipynb")    # NotebookError: ... 0 cells tagged 'parameters'
    >>> run_batch(nb, "runs/x")               # CellFailedError: cell 3 ... raised ValueError: ...

`gameon batch` exits with 2 on a ParameterError or NotebookError (nothing ran) and with 1 on a
CellFailedError (the partial notebook and its report were written).
"""

from __future__ import annotations

from pathlib import Path

from gameon_nb.config import ConfigError

__all__ = ["BatchError", "CellFailedError", "NotebookError", "ParameterError"]


class BatchError(Exception):
    """A batch run that cannot start or did not finish."""


class ParameterError(BatchError, ConfigError):
    """A parameter that does not fit the notebook or the config: unknown, mistyped or secret."""


class NotebookError(BatchError):
    """A notebook without exactly one parseable cell tagged `parameters`, or that cannot be read."""


class CellFailedError(BatchError):
    """A cell raised; the executed notebook up to that cell and its report were still written."""

    def __init__(self, message: str, executed: Path, report: Path | None) -> None:
        super().__init__(message)
        self.executed = executed
        self.report = report
