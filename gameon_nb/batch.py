"""`gameon batch`: a notebook's parameters checked before anything runs, then the notebook run
with papermill and recorded.

    >>> resolve_parameters("notebooks/00_quickstart.ipynb", [("rounds", "2")])   # validated
    >>> run_batch("notebooks/00_quickstart.ipynb", "runs/q", [("preset", "tiny")])
    >>> environment_record()["device"]["kind"]          # 'cuda' or 'cpu'

`resolve_parameters` checks every `-p name value` against the notebook's parameters cell
(`gameon_nb.parameters_cell`): an unknown name is an error listing the known ones, a value is
parsed by the declared type ("rounds expects int"), `section.field` names become config
overrides, and the resulting config is built with `notebook_config`, exactly as the notebook
will build it. Names or values that look like secrets are refused (`gameon_nb.api_keys`).

`run_batch` executes with papermill (kernel python3), and leaves in the run directory the
executed notebook (partial when a cell fails), an HTML report of it with every widget shown as
its static twin and no network request, and batch.json: parameters, versions, device, git
revision, status. Its kernel runs with GAMEON_FRONT_END=headless (`gameon_nb.progress`): each
progress bar leaves one final text line rather than a widget, and learning curves are saved as
their static twin rather than with plotly's bundle.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any, Literal, NotRequired, TypedDict

from gameon_nb.api_keys import refuse_secrets
from gameon_nb.atomic import atomic_write_text
from gameon_nb.config import ConfigError
from gameon_nb.known_parameters import CONFIG_PARAMETERS, check_declarations, check_values
from gameon_nb.notebook import notebook_config
from gameon_nb.notebook_errors import BatchError, CellFailedError, NotebookError, ParameterError
from gameon_nb.parameter_values import parse_value
from gameon_nb.parameters_cell import Parameter, notebook_parameters
from gameon_nb.progress import FRONT_END_VARIABLE
from gameon_nb.records import Json
from gameon_nb.run.dir import RunDir, RunLock

__all__ = [
    "BatchCheck",
    "BatchError",
    "BatchRecord",
    "CellFailedError",
    "DeviceRecord",
    "EnvironmentRecord",
    "GitRecord",
    "NotebookError",
    "ParameterError",
    "environment_record",
    "resolve_parameters",
    "run_batch",
]

# -- the parameters of a run -------------------------------------------------------------------


def _unknown(name: str, declared: Mapping[str, Parameter], notebook: str) -> ParameterError:
    known = ", ".join(declared)
    if "." in name:
        return ParameterError(
            f"{name!r} is a config field, but {notebook} takes no overrides list; "
            f"its parameters: {known}"
        )
    hint = (
        " (or a config field as section.field, e.g. loop.rounds)" if "overrides" in declared else ""
    )
    return ParameterError(f"unknown parameter {name!r} for {notebook}; known: {known}{hint}")


def _given_values(
    notebook: str,
    declared: Mapping[str, Parameter],
    given: Sequence[tuple[str, str]],
    run_dir_given: bool,
) -> dict[str, Json]:
    """The `-p name value` pairs parsed: declared names by their type, `section.field` names
    appended to `overrides`."""
    values: dict[str, Json] = {}
    dotted: list[str] = []
    seen: set[str] = set()
    for name, text in given:
        refuse_secrets(name, text)
        if name in seen:
            raise ParameterError(f"{name} is given twice")
        seen.add(name)
        if "." in name and "overrides" in declared:
            dotted.append(f"{name}={text}")
        elif name not in declared:
            raise _unknown(name, declared, notebook)
        elif name == "run_dir" and run_dir_given:
            raise ParameterError("run_dir is set by --run-dir; give only that")
        else:
            values[name] = parse_value(declared[name], text)
    if dotted:
        overrides = values.get("overrides", declared["overrides"].default)
        assert isinstance(overrides, list)  # check_declarations: overrides is a list[str]
        values["overrides"] = [*overrides, *dotted]
    return values


def _check_config(effective: Mapping[str, Json]) -> None:
    """Build the config the notebook will build; its errors as ParameterErrors."""
    shaping = {k: effective[k] for k in CONFIG_PARAMETERS if k in effective}
    if not shaping:
        return
    try:
        notebook_config(**shaping)
    except ParameterError:
        raise
    except ConfigError as error:
        raise ParameterError(f"config: {error}") from error


def resolve_parameters(
    notebook: Path | str,
    given: Sequence[tuple[str, str]],
    *,
    run_dir: Path | str | None = None,
) -> dict[str, Json]:
    """The parameters to inject into `notebook`, every one checked; see the module docstring.

    >>> resolve_parameters("notebooks/00_quickstart.ipynb", [("rounds", "2"), ("loop.envs", "1")])
    {'rounds': 2, 'overrides': ['loop.envs=1'], 'run_dir': ...}
    """
    path = Path(notebook)
    declared = notebook_parameters(path)
    check_declarations(declared, f"the parameters cell of {path}")
    values = _given_values(path.name, declared, given, run_dir is not None)
    if run_dir is not None and "run_dir" in declared:
        values["run_dir"] = str(Path(run_dir).resolve())
    effective = {name: values.get(name, p.default) for name, p in declared.items()}
    check_values(effective)
    _check_config(effective)
    return values


# -- the record of a run -----------------------------------------------------------------------


class GitRecord(TypedDict):
    """The checkout gameon_nb runs from; `why` in place of the rest when there is none."""

    revision: str | None
    dirty: NotRequired[bool]
    """Tracked files differ from the revision."""
    repo: NotRequired[str]
    why: NotRequired[str]


class DeviceRecord(TypedDict):
    """The device torch would use: the first GPU's name, count and CUDA, else the CPU's cores."""

    kind: Literal["cuda", "cpu"]
    name: str
    count: NotRequired[int]
    cuda: NotRequired[str | None]
    cores: NotRequired[int | None]


class EnvironmentRecord(TypedDict):
    """What a batch run ran on (see `environment_record`)."""

    versions: dict[str, str | None]
    """Distribution -> installed version (None: not installed)."""
    device: DeviceRecord
    platform: str
    git: GitRecord


class BatchCheck(TypedDict):
    """What `run_batch(..., check_only=True)` returns: the parameters, checked."""

    notebook: str
    run_dir: str
    parameters: dict[str, Json]


class BatchRecord(BatchCheck, EnvironmentRecord):
    """batch.json: what `gameon batch` ran, on what, and how it went."""

    notebook_sha256: str
    executed: str
    """The executed notebook (partial when a cell failed)."""
    report: str | None
    """Its HTML report (None until written)."""
    kernel: str
    status: Literal["running", "ok", "failed"]
    error: str | None
    started: str
    """Local time, ISO 8601 with the zone."""
    seconds: float | None


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _git(repo: Path) -> GitRecord:
    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=20, check=True
        )
        return done.stdout.strip()

    try:
        revision = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        return {"revision": None, "why": f"not a git checkout or git missing ({error})"}
    return {"revision": revision, "dirty": dirty, "repo": str(repo)}


def _device() -> DeviceRecord:
    import torch

    if torch.cuda.is_available():
        return {
            "kind": "cuda",
            "name": torch.cuda.get_device_name(0),
            "count": torch.cuda.device_count(),
            "cuda": torch.version.cuda,
        }
    return {
        "kind": "cpu",
        "name": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
    }


def environment_record() -> EnvironmentRecord:
    """Versions (python, torch, mujoco, gameon_nb, papermill, ...), device and git revision.

    >>> environment_record()["device"]["kind"]       # 'cuda' or 'cpu'
    """
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for dist in ("gameon_nb", "torch", "mujoco", "papermill", "nbclient", "ipykernel", "numpy"):
        versions[dist] = _version(dist)
    return {
        "versions": versions,
        "device": _device(),
        "platform": platform.platform(),
        "git": _git(Path(__file__).resolve().parents[1]),
    }


def _failure(error: BaseException) -> str:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(error, PapermillExecutionError):
        return (
            f"cell {error.cell_index} (execution count {error.exec_count}) raised "
            f"{error.ename}: {error.evalue}"
        )
    return f"execution stopped: {type(error).__name__}: {error}"


# -- running -----------------------------------------------------------------------------------


@contextmanager
def _headless_kernels() -> Iterator[None]:
    """Kernels started meanwhile (they inherit this environment) know no one watches them."""
    before = os.environ.get(FRONT_END_VARIABLE)
    os.environ[FRONT_END_VARIABLE] = "headless"
    try:
        yield
    finally:
        if before is None:
            del os.environ[FRONT_END_VARIABLE]
        else:
            os.environ[FRONT_END_VARIABLE] = before


def _execute(
    source: Path, executed: Path, values: Mapping[str, Json], root: Path, **options: Any
) -> BaseException | None:
    """Run the notebook with papermill; the error that stopped it, if one did."""
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    try:
        with _headless_kernels():
            papermill.execute_notebook(
                str(source), str(executed), parameters=values, cwd=str(root), **options
            )
    except (PapermillExecutionError, CellTimeoutError, DeadKernelError) as error:
        return error
    return None


def _cell_failed(record: BatchRecord, record_path: Path, written: Path | None) -> CellFailedError:
    executed = Path(record["executed"])
    partial = executed if executed.is_file() else None
    return CellFailedError(
        f"{Path(record['notebook']).name}: {record['error']}; the executed notebook up to that "
        f"cell is {partial or '(not written)'}"
        + (f", its report {written}" if written else "")
        + f", the record {record_path}",
        executed,
        written,
    )


def run_batch(
    notebook: Path | str,
    run_dir: Path | str,
    parameters: Sequence[tuple[str, str]] = (),
    *,
    kernel: str = "python3",
    progress: bool = True,
    cell_timeout: float | None = None,
    check_only: bool = False,
) -> BatchRecord | BatchCheck:
    """Validate, execute with papermill, and record; the batch.json record is returned.

    >>> run_batch("notebooks/03_full_loop.ipynb", "runs/full", [("rounds", "12")])
    >>> run_batch(nb, "runs/x", [("rounds", "abc")])   # ParameterError: rounds expects int ...

    A failing cell raises CellFailedError after the partial executed notebook, its HTML report
    and batch.json (status 'failed') are written. `check_only` validates and returns the
    parameters (a BatchCheck) without running anything.
    """
    from gameon_nb.widgets.report import notebook_html

    source = Path(notebook).resolve()
    root = Path(run_dir).resolve()
    values = resolve_parameters(source, parameters, run_dir=root)
    if check_only:
        return {"notebook": str(source), "run_dir": str(root), "parameters": values}
    run = RunDir(root)
    probe = RunLock(root).acquire()  # fail now, naming the holder, if another process writes here
    probe.release()  # the notebook's kernel takes the lock for the run itself
    executed, report = run.executed_notebook(source.stem), run.notebook_report(source.stem)
    record: BatchRecord = {
        "notebook": str(source),
        "notebook_sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
        "executed": str(executed),
        "report": str(report),
        "run_dir": str(root),
        "parameters": values,
        "kernel": kernel,
        "status": "running",
        "error": None,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seconds": None,
        **environment_record(),
    }
    record_path = run.batch_record
    atomic_write_text(record_path, json.dumps(record, indent=1))
    started = time.perf_counter()
    failure = _execute(
        source,
        executed,
        values,
        root,
        kernel_name=kernel,
        progress_bar=progress,
        execution_timeout=cell_timeout,
    )
    record["seconds"] = round(time.perf_counter() - started, 1)
    written: Path | None = None
    if executed.is_file():
        atomic_write_text(report, notebook_html(executed))
        written = report
    record["status"] = "failed" if failure else "ok"
    record["report"] = str(written) if written else None
    if failure is not None:
        record["error"] = _failure(failure)
    atomic_write_text(record_path, json.dumps(record, indent=1))
    if failure is not None:
        raise _cell_failed(record, record_path, written) from failure
    return record
