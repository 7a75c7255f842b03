"""`gameon batch NOTEBOOK --grid name=v1,v2`: one papermill run per point of a grid, every
point's parameters checked before any runs, and an index page of them all.

    >>> sweep = run_batch_sweep("notebooks/03_full_loop.ipynb", "runs/nb", [("preset", "tiny")],
    ...                         {"rounds": ["2", "4"], "seed": ["0", "1"]}, executor="ray")
    >>> [(p["name"], p["status"]) for p in sweep["points"]]   # [('rounds=2-seed=0', 'ok'), ...]
    >>> sweep_html(sweep)                                      # the table of runs/nb/index.html

Each point is a `run_batch` in its own sub-directory, named by `grid.label`: here one after
another, or as Ray tasks (`gameon_nb.executors`), under a bar of runs done, running and failed.
A point whose cell raises is 'failed' with the cell's error, and the others finish. Run again,
a point whose batch.json says it finished, with the same notebook and parameters, is kept
(`reused`: nothing of it is recomputed) and the others run again. The sweep's directory gets
sweep.json (what `run_batch_sweep` returns) and index.html: per point its grid values, status,
seconds, what its run reached (`run_headline`: rounds, library, the targets' latest success),
and links to its executed notebook and its report.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypedDict, cast
from urllib.parse import quote

from gameon_nb.atomic import atomic_write_text
from gameon_nb.batch import BatchRecord, resolve_parameters, run_batch
from gameon_nb.executors import Executor, Outcome, import_ray, run_all
from gameon_nb.grid import GridError, label, points
from gameon_nb.notebook_errors import BatchError, CellFailedError, ParameterError
from gameon_nb.records import Json
from gameon_nb.run.dir import RunDir, RunLock, RunStateError, SweepDir
from gameon_nb.widgets.markup import BOX, FAILURE, NEUTRAL, SUCCESS, chip, escape, html_table

__all__ = [
    "BatchSweep",
    "Headline",
    "PointFailedError",
    "SweepPoint",
    "run_batch_sweep",
    "run_headline",
    "sweep_html",
    "write_sweep_page",
]


class Headline(TypedDict):
    """What a point's run reached, read from its run directory."""

    rounds: int
    """Rounds finished."""
    stopped: str | None
    library: int
    """Skills the library holds: base and learned."""
    learned: int
    targets: dict[str, float]
    """Latest evaluated success of each target the run has evaluated."""
    target_success: float | None
    """Their mean (None: none evaluated yet)."""


class SweepPoint(TypedDict):
    """One point of a sweep: its values, how its run went, and where its files are."""

    name: str
    """The point's label, which is also its sub-directory."""
    grid: dict[str, str]
    """Its value of each grid name, as given."""
    parameters: dict[str, Json]
    """Everything injected into its notebook, checked."""
    status: Literal["checked", "ok", "failed"]
    reused: bool
    """Finished by an earlier sweep with the same parameters: kept, not run again."""
    error: str | None
    seconds: float | None
    executed: str | None
    """The executed notebook, relative to the sweep's directory (None: none written)."""
    report: str | None
    """Its HTML report, likewise."""
    headline: Headline | None
    """None for a notebook that makes no run (a domain tour) and before a point runs."""


class BatchSweep(TypedDict):
    """sweep.json: the notebook, the fixed parameters, the grid, and every point."""

    notebook: str
    run_dir: str
    given: dict[str, str]
    """The `-p` parameters every point shares."""
    grid: dict[str, list[str]]
    ok: int
    failed: int
    index: str | None
    """index.html (None for a check, which writes nothing)."""
    points: list[SweepPoint]


class PointFailedError(BatchError):
    """A point's notebook stopped at a cell that raised; the message is its record's error."""


_CELL_FAILED = f"{PointFailedError.__module__}.{PointFailedError.__qualname__}: "
"""How `executors` begins the error line of a PointFailedError (its type's full name)."""


@dataclass(frozen=True)
class _PointJob:
    """One point's `run_batch`, as a job for `executors.run_all`."""

    name: str
    notebook: str
    root: str
    parameters: tuple[tuple[str, str], ...]
    kernel: str
    cell_timeout: float | None


def _run_point(job: _PointJob) -> BatchRecord:
    """Run one point; its batch.json record. A failing cell raises PointFailedError with the
    record's one-line error, so the sweep's bar counts it failed and the others still run."""
    try:
        record = run_batch(
            job.notebook, job.root, job.parameters, kernel=job.kernel, progress=False,
            cell_timeout=job.cell_timeout,
        )  # fmt: skip
    except CellFailedError as error:
        written = _record(RunDir(job.root))
        raise PointFailedError(written["error"] if written else str(error)) from error
    return cast(BatchRecord, record)  # not check_only: the full record


def _record(run: RunDir) -> BatchRecord | None:
    """The run's batch.json, or None when there is none or it cannot be read."""
    try:
        record: BatchRecord = json.loads(run.batch_record.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return record if isinstance(record, dict) else None


def run_headline(root: Path | str) -> Headline | None:
    """Rounds finished, library size and the targets' latest success of the run in `root`, read
    without its lock; None where no run is (no state.json) or its files cannot be read.

    >>> run_headline("runs/nb/rounds=2")     # {'rounds': 2, 'library': 9, 'targets': {...}, ...}
    """
    run = RunDir(root)
    if not run.state_path.is_file():
        return None
    from gameon_nb.loop.experiment import round_table

    try:
        state, library, config = run.load_state(), run.library(), run.load_config()
        latest = run.latest_evaluation() or {}
    except (RunStateError, ValueError):  # damaged or another version's: no headline, no crash
        return None
    targets = {t: latest[t]["success"] for t in config.loop.targets if t in latest}
    learned = sum(r.status == "learned" for r in library.records.values())
    return {
        "rounds": len(round_table(state, library)),
        "stopped": state.stopped,
        "library": len(library.available()),
        "learned": learned,
        "targets": targets,
        "target_success": round(sum(targets.values()) / len(targets), 4) if targets else None,
    }


def _plan(
    source: Path, root: Path, given: Sequence[tuple[str, str]], grid: Mapping[str, Sequence[str]]
) -> list[SweepPoint]:
    """Every point named and its parameters checked, before anything runs."""
    both = sorted(set(grid) & {name for name, _ in given})
    if both:
        raise ParameterError(f"{', '.join(both)} given with -p and in --grid: give each once")
    planned: dict[str, SweepPoint] = {}
    for point in points(grid):
        name = label(point)
        if name in planned:
            raise GridError(f"two points of the grid share the directory name {name!r}")
        try:
            place = SweepDir(root).point(name).root
            values = resolve_parameters(source, [*given, *point.items()], run_dir=place)
        except ParameterError as error:
            raise ParameterError(f"point {name}: {error}") from error
        planned[name] = {
            "name": name, "grid": point, "parameters": values, "status": "checked",
            "reused": False, "error": None, "seconds": None, "executed": None, "report": None,
            "headline": None,
        }  # fmt: skip
    return list(planned.values())


def _finished(point: SweepPoint, source: Path, root: Path) -> BatchRecord | None:
    """The point's record, if an earlier sweep ran it to the end with the same parameters."""
    record = _record(SweepDir(root).point(point["name"]))
    if record is None or record.get("status") != "ok" or record.get("notebook") != str(source):
        return None
    return record if record.get("parameters") == point["parameters"] else None


def _relative(path: Path, root: Path) -> str | None:
    return path.relative_to(root).as_posix() if path.is_file() else None


def _ran(point: SweepPoint, outcome: Outcome[BatchRecord], run: RunDir) -> SweepPoint:
    """The point with how its job went: ok, or failed with the job's one-line error."""
    if outcome.value is not None:
        return {**point, "status": "ok", "seconds": outcome.value["seconds"]}
    error = outcome.error or "its job returned nothing"
    seconds: float | None = round(outcome.seconds, 1)
    if error.startswith(_CELL_FAILED):  # a cell raised: its record, written just now, has more
        error, record = error.removeprefix(_CELL_FAILED), _record(run)
        seconds = record["seconds"] if record else None
    return {**point, "status": "failed", "error": error, "seconds": seconds}


def _with_files(point: SweepPoint, run: RunDir, stem: str, root: Path) -> SweepPoint:
    """The point with the links to its executed notebook and report, and its run's headline."""
    executed, report = run.executed_notebook(stem), run.notebook_report(stem)
    return {**point, "executed": _relative(executed, root), "report": _relative(report, root),
            "headline": run_headline(run.root)}  # fmt: skip


def run_batch_sweep(
    notebook: Path | str,
    run_dir: Path | str,
    given: Sequence[tuple[str, str]],
    grid: Mapping[str, Sequence[str]],
    *,
    kernel: str = "python3",
    progress: bool = True,
    cell_timeout: float | None = None,
    check_only: bool = False,
    executor: Executor = "local",
    address: str | None = None,
) -> BatchSweep:
    """Run `notebook` once per point of `grid` (see the module docstring); what sweep.json holds.

    >>> run_batch_sweep(nb, "runs/s", [], {"rounds": ["2", "x"]})  # ParameterError, nothing run
    >>> run_batch_sweep(nb, "runs/s", [], {"rounds": ["2", "4"]}, check_only=True)  # checked

    Every point's parameters are checked (a bad value, or a name both given and in the grid, is a
    ParameterError) before any directory is made; `check_only` stops there.
    """
    source, root = Path(notebook).resolve(), Path(run_dir).resolve()
    planned = _plan(source, root, given, grid)
    sweep: BatchSweep = {
        "notebook": str(source), "run_dir": str(root), "given": dict(given),
        "grid": {name: list(values) for name, values in grid.items()}, "ok": 0, "failed": 0,
        "index": None, "points": planned,
    }  # fmt: skip
    if check_only:
        return sweep
    kept = {p["name"]: r for p in planned if (r := _finished(p, source, root)) is not None}
    jobs = [
        _PointJob(p["name"], str(source), str(SweepDir(root).point(p["name"]).root),
                 (*given, *p["grid"].items()), kernel, cell_timeout)
        for p in planned if p["name"] not in kept
    ]  # fmt: skip
    if jobs and executor == "ray":
        import_ray()  # a RayMissingError now, before the sweep's directory is made
    with RunLock(root):  # one sweep at a time writes here
        desc = source.stem + (f" ({len(kept)} finished before)" if kept else "")
        outcomes = run_all(
            _run_point, jobs, [j.name for j in jobs], executor, address, progress, desc
        ) if jobs else []  # fmt: skip
        by_name = {o.name: o for o in outcomes}
        finished: list[SweepPoint] = []
        for point in planned:
            name = point["name"]
            run = SweepDir(root).point(name)
            how: SweepPoint = (
                {**point, "status": "ok", "reused": True, "seconds": kept[name]["seconds"]}
                if name in kept else _ran(point, by_name[name], run)
            )  # fmt: skip
            finished.append(_with_files(how, run, source.stem, root))
        sweep["points"] = finished
        sweep["ok"] = sum(p["status"] == "ok" for p in finished)
        sweep["failed"] = len(finished) - sweep["ok"]
        sweep["index"] = str(SweepDir(root).index)
        write_sweep_page(root, sweep)
    return sweep


def write_sweep_page(root: Path | str, sweep: BatchSweep) -> Path:
    """index.html (`sweep_html` as a page of its own) and sweep.json, in the sweep's directory."""
    out = SweepDir(root)
    atomic_write_text(out.record, json.dumps(sweep, indent=1))
    path = out.index
    title = f"{Path(sweep['notebook']).stem}: {out.root.name}"
    page = f"<!doctype html><meta charset='utf-8'><title>{escape(title)}</title>"
    atomic_write_text(path, page + sweep_html(sweep))
    return path


def _link(relative: str | None) -> str:
    if relative is None:
        return "-"
    return f'<a href="{escape(quote(relative, safe="/=,+"))}">{escape(Path(relative).name)}</a>'


def _number(value: float | int | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    return str(value) if isinstance(value, int) else f"{value:.{digits}f}"


def _status(point: SweepPoint) -> str:
    colour = {"ok": SUCCESS, "failed": FAILURE}.get(point["status"], NEUTRAL)
    cell = chip(point["status"], colour, run=point["name"])
    if point["reused"]:
        cell += f' <span style="color:{NEUTRAL}">(finished before)</span>'
    if point["error"]:
        error = escape(point["error"])
        cell += f' <span class="gameon-sweep-error" style="color:{FAILURE}">{error}</span>'
    return cell


def sweep_html(sweep: BatchSweep) -> str:
    """The table of a sweep: one row per point, its grid values, status (with the error of a
    failed one), seconds, headline, and relative links to its executed notebook and report.

    >>> sweep_html(run_batch_sweep(nb, "runs/s", [], {"seed": ["0", "1"]}))
    """
    runs = sweep["points"]
    lines = [h for p in runs if (h := p["headline"]) is not None]
    targets = list(dict.fromkeys(t for h in lines for t in h["targets"]))
    results = ["rounds done", "library", "learned", "targets (mean)", *targets] if lines else []
    head = [escape(h) for h in ["run", *sweep["grid"], "status", "seconds", *results]]
    rows = []
    for p in runs:
        h = p["headline"]
        reached = (
            [_number(h["rounds"]), _number(h["library"]), _number(h["learned"]),
             _number(h["target_success"]), *(_number(h["targets"].get(t)) for t in targets)]
            if h else ["-"] * len(results)
        )  # fmt: skip
        rows.append([
            escape(p["name"]), *(escape(p["grid"][n]) for n in sweep["grid"]), _status(p),
            _number(p["seconds"], 1), *reached, _link(p["executed"]), _link(p["report"]),
        ])  # fmt: skip
    fixed = ", ".join(f"{escape(k)}={escape(v)}" for k, v in sweep["given"].items()) or "none"
    summary = (
        f"<p>{escape(Path(sweep['notebook']).name)}: {len(runs)} runs, {sweep['ok']} ok, "
        f"{sweep['failed']} failed; fixed parameters: {fixed}</p>"
    )
    table = html_table([*head, "notebook", "report"], rows, "gameon-sweep-table", grid=True)
    return f'<div class="gameon-sweep" style="{BOX}">{summary}{table}</div>'
