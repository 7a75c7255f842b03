"""Notebook parameters and papermill batch runs: what `gameon batch` and the notebooks share.

    >>> config = notebook_config(preset="tiny", overrides=["loop.rounds=1"])   # in a notebook
    >>> resolve_parameters("notebooks/00_quickstart.ipynb", [("rounds", "2")])   # validated
    >>> run_batch("notebooks/00_quickstart.ipynb", "runs/q", [("preset", "tiny")])

A notebook's interface is its one cell tagged `parameters`: `name: type = default  # help`.
`resolve_parameters` checks every `-p name value` against that cell before anything runs: an
unknown name is an error listing the known ones, a value is parsed by the declared type ("rounds
expects int"), `section.field` names become config overrides, and the resulting config (preset,
named fields, overrides) is built with `gameon_nb.config.override`, exactly as the notebook will
build it with `notebook_config`. Names or values that look like secrets are refused: keys come
from the environment only, and never reach a notebook, a log or a run directory.

`run_batch` executes with papermill (kernel python3), and leaves in the run directory the
executed notebook (partial when a cell fails), an HTML report of it with every widget shown as
its static twin, and batch.json: parameters, versions, device, git revision, status.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import platform
import re
import subprocess
import time
import tokenize
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gameon_nb.atomic import atomic_write_text
from gameon_nb.config import ConfigError, RunConfig, override, to_dict

if TYPE_CHECKING:
    from gameon_nb.experimenter.experimenter import Experimenter
    from gameon_nb.loop.experiment import Experiment

__all__ = [
    "CONFIG_PARAMETERS",
    "KEY_VARIABLES",
    "BatchError",
    "CellFailedError",
    "NotebookError",
    "Parameter",
    "ParameterError",
    "choose_backend",
    "config_assignments",
    "ensure_episodes",
    "environment_record",
    "notebook_config",
    "notebook_experimenter",
    "notebook_parameters",
    "parse_value",
    "resolve_parameters",
    "run_batch",
    "start_experiment",
]

CONFIG_PARAMETERS = ("preset", "overrides", "rounds", "seed", "experimenter", "curriculum")
"""Notebook parameters that shape the run's config; `notebook_config` takes them by these names."""

NAMED_FIELDS = {"rounds": "loop.rounds", "seed": "seed", "curriculum": "loop.curriculum"}
"""Named parameters and the config field each sets."""

KEY_VARIABLES = ("GEMINI_API_KEY", "GOOGLE_API_KEY", "OPENAI_API_KEY")
"""Where API keys live: the environment, read by the backends themselves."""

SECRET_NAME = re.compile(r"key|token|secret|passw|credential", re.IGNORECASE)
SECRET_VALUE = re.compile(
    r"AIza[0-9A-Za-z_\-]{30,}|sk-[0-9A-Za-z_\-]{20,}|gh[pousr]_[0-9A-Za-z]{30,}|ya29\.[0-9A-Za-z_\-]{20,}"
)


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


# -- the parameters cell -----------------------------------------------------------------------


@dataclass(frozen=True)
class Parameter:
    """One assignment of a notebook's parameters cell."""

    name: str
    type: str
    """The annotation as written ('int', 'list[str]', ...), else the default's type name."""
    default: Any
    help: str = ""
    """The comment at the end of its line."""


def _read_notebook(path: Path) -> Any:
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


def parse_parameters_cell(source: str, where: str = "the parameters cell") -> dict[str, Parameter]:
    """Every `name[: type] = literal  # help` of a parameters cell, in order."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise NotebookError(f"{where} is not valid Python: {error}") from error
    comments: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0]] = token.string.lstrip("#").strip()
    out: dict[str, Parameter] = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name, annotation, value = node.target.id, ast.unparse(node.annotation), node.value
        elif (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            name, annotation, value = node.targets[0].id, "", node.value
        else:
            raise NotebookError(
                f"{where}, line {node.lineno}: only `name: type = value` assignments belong there"
            )
        if value is None:
            raise NotebookError(f"{where}: {name} has no default value")
        try:
            default = ast.literal_eval(value)
        except ValueError as error:
            raise NotebookError(f"{where}: the default of {name} is not a literal") from error
        out[name] = Parameter(
            name, annotation or _type_name(default), default, comments.get(node.lineno, "")
        )
    return out


def notebook_parameters(path: Path | str) -> dict[str, Parameter]:
    """The parameters a notebook declares, by name.

    >>> notebook_parameters("notebooks/00_quickstart.ipynb")["rounds"].type
    'int'
    """
    path = Path(path)
    return parse_parameters_cell(
        parameters_cell(_read_notebook(path), str(path)), f"the parameters cell of {path}"
    )


# -- values ------------------------------------------------------------------------------------

_BOOLS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _scalar(kind: str, value: Any, name: str, text: str) -> Any:
    """`value` (already JSON-decoded, or the raw text) as `kind`, or a clear error."""
    expects = f"{name} expects {kind}, got {text!r}"
    if kind == "str":
        return value if isinstance(value, str) else text
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if str(value).lower() in _BOOLS:
            return _BOOLS[str(value).lower()]
        raise ParameterError(f"{expects} (true or false)")
    if kind == "int":
        if isinstance(value, bool):
            raise ParameterError(expects)
        try:
            return int(str(value), 10)
        except ValueError:
            raise ParameterError(expects) from None
    if kind == "float":
        if isinstance(value, bool):
            raise ParameterError(expects)
        try:
            return float(str(value))
        except ValueError:
            raise ParameterError(expects) from None
    raise ParameterError(f"{name} has type {kind!r}, which batch cannot parse; use a literal type")


def parse_value(parameter: Parameter, text: str) -> Any:
    """A command-line value as the parameter's declared type.

    >>> parse_value(Parameter("rounds", "int", 2), "3")
    3
    >>> parse_value(Parameter("overrides", "list[str]", []), '["loop.rounds=1"]')
    ['loop.rounds=1']
    """
    kind = parameter.type.replace(" ", "")
    match = re.fullmatch(r"(?:list|List)(?:\[(\w+)\])?", kind)
    if match:
        try:
            items = json.loads(text)
        except json.JSONDecodeError:
            items = None
        if not isinstance(items, list):
            raise ParameterError(
                f"{parameter.name} expects a JSON list{f' of {match[1]}' if match[1] else ''}, "
                f'e.g. \'["a", "b"]\', got {text!r}'
            )
        inner = match[1]
        return items if inner is None else [_scalar(inner, v, parameter.name, text) for v in items]
    if kind in ("Any", "object", "NoneType"):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    return _scalar(kind, text, parameter.name, text)


def _refuse_secrets(name: str, text: str) -> None:
    if SECRET_NAME.search(name):
        raise ParameterError(
            f"refused: {name!r} looks like a secret; keys are never parameters. Set "
            f"{' or '.join(KEY_VARIABLES[:2])} in the environment instead (the gemini backend "
            "reads it there, and it never reaches the notebook, the log or the run directory)"
        )
    from_env = [v for v in KEY_VARIABLES if os.environ.get(v) and os.environ[v] in text]
    if from_env or SECRET_VALUE.search(text):
        where = f" (it holds ${from_env[0]})" if from_env else ""
        raise ParameterError(
            f"refused: the value of {name!r} looks like an API key{where}; keys are never "
            "parameters, they are read from the environment"
        )


# -- the config the notebook will build --------------------------------------------------------


def choose_backend(name: str, environ: Mapping[str, str] | None = None) -> str:
    """The experimenter backend for `name`: 'auto' is gemini when a key is set, else scripted;
    'gemini' without a key is an error that says where the key goes.

    >>> choose_backend("scripted"), choose_backend("auto", {})
    ('scripted', 'scripted')
    """
    from gameon_nb.experimenter.backends import BACKENDS

    env = os.environ if environ is None else environ
    has_key = any(env.get(v) for v in KEY_VARIABLES[:2])
    if name == "auto":
        return "gemini" if has_key else "scripted"
    if name not in BACKENDS:
        raise ParameterError(
            f"unknown experimenter backend {name!r}; known: auto, {', '.join(BACKENDS)}"
        )
    if name == "gemini" and not has_key:
        raise ParameterError(
            "the gemini experimenter needs an API key in the environment: export GEMINI_API_KEY "
            "(or GOOGLE_API_KEY) before starting Jupyter or `gameon batch`; it is never a "
            "parameter. Use experimenter='auto' to fall back to the scripted experimenter"
        )
    return name


def config_assignments(
    preset: str = "",
    overrides: Sequence[str] = (),
    *,
    rounds: int | None = None,
    seed: int | None = None,
    experimenter: str | None = None,
    curriculum: str | None = None,
) -> list[str]:
    """The `section.field=value` list of a notebook's config: the preset's, then the named
    parameters', then `overrides` (last wins).

    >>> config_assignments("tiny", ["loop.envs=1"], rounds=1)[-2:]
    ['loop.rounds=1', 'loop.envs=1']
    """
    from gameon_nb.loop.presets import PRESETS

    if preset and preset not in PRESETS:
        raise ParameterError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)} (or '')")
    if isinstance(overrides, str):
        raise ParameterError(f"overrides is a list of section.field=value, got {overrides!r}")
    sets = list(PRESETS[preset]) if preset else []
    named = {"rounds": rounds, "seed": seed, "curriculum": curriculum}
    sets += [f"{NAMED_FIELDS[k]}={v}" for k, v in named.items() if v is not None]
    if experimenter is not None:
        sets.append(f"experimenter.backend={choose_backend(experimenter)}")
    for item in overrides:
        if not isinstance(item, str) or "=" not in item:
            raise ParameterError(f"an override is 'section.field=value', got {item!r}")
        _refuse_secrets(item.partition("=")[0], item)
    return [*sets, *overrides]


def notebook_config(
    preset: str = "",
    overrides: Sequence[str] = (),
    *,
    rounds: int | None = None,
    seed: int | None = None,
    experimenter: str | None = None,
    curriculum: str | None = None,
) -> RunConfig:
    """The RunConfig of a notebook's parameters (see `config_assignments`), validated.

    >>> config = notebook_config(preset="tiny", rounds=1)
    >>> config = notebook_config(overrides=["sim.view_size=[360,480]"])
    """
    sets = config_assignments(
        preset,
        overrides,
        rounds=rounds,
        seed=seed,
        experimenter=experimenter,
        curriculum=curriculum,
    )
    return override(RunConfig(), sets)


def _differences(a: Any, b: Any, prefix: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [
            d
            for k in sorted(set(a) | set(b))
            for d in _differences(a.get(k), b.get(k), f"{prefix}{k}.")
        ]
    return [] if a == b else [f"{prefix.rstrip('.')}: {json.dumps(a)} vs {json.dumps(b)}"]


def start_experiment(
    run_dir: Path | str, config: RunConfig, *, progress: bool = True
) -> Experiment:
    """A new Experiment in `run_dir`, or the run there resumed when its config is this one; a
    run with another config is an error naming the differences (choose another run_dir).

    >>> exp = start_experiment("runs/quickstart", notebook_config(preset="demo"))
    """
    from gameon_nb.loop.experiment import Experiment
    from gameon_nb.loop.rundir import RunDir, RunStateError

    run = RunDir(run_dir)
    if run.state_path.exists():
        saved = to_dict(run.load_config())
        diff = _differences(saved, to_dict(config))
        if diff:
            raise RunStateError(
                f"{run.root} holds a run with another config ({'; '.join(diff[:5])}"
                f"{' ...' if len(diff) > 5 else ''}, saved vs asked); choose another run_dir "
                "or delete that one"
            )
        return Experiment.resume(run.root, progress=progress)
    return Experiment(run.root, config, progress=progress)


def ensure_episodes(run_dir: Path | str, config: RunConfig, *, progress: bool = True) -> RunConfig:
    """The config of the episodes in `run_dir`: a run's own saved config when it has one, else
    `config`, with which the bootstrap data set is written first if the store is empty.

    >>> config = ensure_episodes("runs/judge_eval", notebook_config(preset="demo"))
    """
    from gameon_nb.data.bootstrap import bootstrap
    from gameon_nb.loop.rundir import RunDir

    run = RunDir(run_dir)
    if run.config_path.exists():
        config = run.load_config()
    if not len(run.store()):
        run.root.mkdir(parents=True, exist_ok=True)
        bootstrap(run.root, config, progress=progress)
        if not run.config_path.exists():
            run.save_config(config)
    return config


def notebook_experimenter(
    config: RunConfig,
    backend: str,
    root: Path | str,
    roles: Sequence[str] = ("judge", "analyst"),
) -> Experimenter:
    """An Experimenter whose `roles` use `backend` ('auto', 'gemini', 'scripted', ...), with its
    call log and cache in `root` (never the key: backends read it from the environment).

    >>> judge = notebook_experimenter(config, "auto", run_dir / "judge_eval")
    """
    import dataclasses

    from gameon_nb.experimenter.experimenter import Experimenter

    chosen = choose_backend(backend)
    settings = config.experimenter
    for role in roles:
        own = dataclasses.replace(getattr(settings, role), backend=chosen)
        settings = dataclasses.replace(settings, **{role: own})
    return Experimenter(settings, Path(root), seed=config.seed)


# -- validating a batch run --------------------------------------------------------------------


def _check_curricula(value: Any) -> None:
    from gameon_nb.loop.curricula import CURRICULA

    unknown = [c for c in value if c not in CURRICULA]
    if unknown:
        raise ParameterError(f"unknown curricula {unknown}; known: {', '.join(CURRICULA)}")


def _check_backend(value: Any) -> None:
    choose_backend(str(value))


VALIDATORS: dict[str, Callable[[Any], None]] = {
    "curricula": _check_curricula,
    "backend": _check_backend,
}
"""Extra checks of parameters by name, beyond their type and the config they build."""


def resolve_parameters(
    notebook: Path | str,
    given: Sequence[tuple[str, str]],
    *,
    run_dir: Path | str | None = None,
) -> dict[str, Any]:
    """The parameters to inject into `notebook`, every one checked; see the module docstring.

    >>> resolve_parameters("notebooks/00_quickstart.ipynb", [("rounds", "2"), ("loop.envs", "1")])
    {'rounds': 2, 'overrides': ['loop.envs=1'], 'run_dir': ...}
    """
    path = Path(notebook)
    declared = notebook_parameters(path)
    known = ", ".join(declared)
    values: dict[str, Any] = {}
    dotted: list[str] = []
    seen: set[str] = set()
    for name, text in given:
        _refuse_secrets(name, text)
        if name in seen:
            raise ParameterError(f"{name} is given twice")
        seen.add(name)
        if "." in name:
            if "overrides" not in declared:
                raise ParameterError(
                    f"{name!r} is a config field, but {path.name} takes no overrides list; "
                    f"its parameters: {known}"
                )
            dotted.append(f"{name}={text}")
        elif name not in declared:
            raise ParameterError(
                f"unknown parameter {name!r} for {path.name}; known: {known}"
                + (
                    " (or a config field as section.field, e.g. loop.rounds)"
                    if "overrides" in declared
                    else ""
                )
            )
        elif name == "run_dir" and run_dir is not None:
            raise ParameterError("run_dir is set by --run-dir; give only that")
        else:
            values[name] = parse_value(declared[name], text)
    if dotted:
        values["overrides"] = [*values.get("overrides", declared["overrides"].default), *dotted]
    if run_dir is not None and "run_dir" in declared:
        values["run_dir"] = str(Path(run_dir).resolve())
    effective = {name: values.get(name, p.default) for name, p in declared.items()}
    for name, check in VALIDATORS.items():
        if name in effective:
            check(effective[name])
    shaping = {k: effective[k] for k in CONFIG_PARAMETERS if k in effective}
    if shaping:
        try:
            notebook_config(**shaping)
        except ParameterError:
            raise
        except ConfigError as error:
            raise ParameterError(f"config: {error}") from error
    return values


# -- running -----------------------------------------------------------------------------------


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _git(repo: Path) -> dict[str, Any]:
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


def environment_record() -> dict[str, Any]:
    """Versions (python, torch, mujoco, gameon_nb, papermill, ...), device and git revision.

    >>> environment_record()["device"]["kind"]       # 'cuda' or 'cpu'
    """
    import torch

    versions: dict[str, str | None] = {"python": platform.python_version()}
    for dist in ("gameon_nb", "torch", "mujoco", "papermill", "nbclient", "ipykernel", "numpy"):
        versions[dist] = _version(dist)
    if torch.cuda.is_available():
        device = {
            "kind": "cuda",
            "name": torch.cuda.get_device_name(0),
            "count": torch.cuda.device_count(),
            "cuda": torch.version.cuda,
        }
    else:
        device = {
            "kind": "cpu",
            "name": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
        }
    return {
        "versions": versions,
        "device": device,
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


def run_batch(
    notebook: Path | str,
    run_dir: Path | str,
    parameters: Sequence[tuple[str, str]] = (),
    *,
    kernel: str = "python3",
    progress: bool = True,
    cell_timeout: float | None = None,
    check_only: bool = False,
) -> dict[str, Any]:
    """Validate, execute with papermill, and record; the batch.json record is returned.

    >>> run_batch("notebooks/03_full_loop.ipynb", "runs/full", [("rounds", "12")])
    >>> run_batch(nb, "runs/x", [("rounds", "abc")])   # ParameterError: rounds expects int ...

    A failing cell raises CellFailedError after the partial executed notebook, its HTML report
    and batch.json (status 'failed') are written. `check_only` validates and returns the
    parameters without running anything.
    """
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    from gameon_nb.widgets.report import notebook_html

    source = Path(notebook).resolve()
    root = Path(run_dir).resolve()
    values = resolve_parameters(source, parameters, run_dir=root)
    if check_only:
        return {"notebook": str(source), "run_dir": str(root), "parameters": values}
    root.mkdir(parents=True, exist_ok=True)
    executed = root / f"{source.stem}.ipynb"
    report = root / f"{source.stem}.html"
    record: dict[str, Any] = {
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
    record_path = root / "batch.json"
    atomic_write_text(record_path, json.dumps(record, indent=1))
    started = time.perf_counter()
    failure: BaseException | None = None
    try:
        papermill.execute_notebook(
            str(source),
            str(executed),
            parameters=values,
            kernel_name=kernel,
            cwd=str(root),
            progress_bar=progress,
            execution_timeout=cell_timeout,
        )
    except (PapermillExecutionError, CellTimeoutError, DeadKernelError) as error:
        failure = error
    record["seconds"] = round(time.perf_counter() - started, 1)
    written: Path | None = None
    if executed.is_file():
        atomic_write_text(report, notebook_html(executed))
        written = report
    record.update(status="failed" if failure else "ok", report=str(written) if written else None)
    if failure is not None:
        record["error"] = _failure(failure)
    atomic_write_text(record_path, json.dumps(record, indent=1))
    if failure is not None:
        partial = executed if executed.is_file() else None
        raise CellFailedError(
            f"{source.name}: {record['error']}; the executed notebook up to that cell is "
            f"{partial or '(not written)'}"
            + (f", its report {written}" if written else "")
            + f", the record {record_path}",
            executed,
            written,
        ) from failure
    return record
