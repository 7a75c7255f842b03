"""TensorBoard event files of a run, written from its events as the loop runs.

    >>> sink = TensorBoardSink(run.tb_dir, past=EventLog(run.events_path).read())
    >>> sink.write(event)            # every event the loop emits; scalars only where they mean one
    >>> rebuild(run_dir)             # `gameon tensorboard --run-dir R`: tb/ again from events.jsonl
    $ tensorboard --logdir runs      # every run, side by side with one's other experiments

Scalars (the step axis in brackets): `learner/<metric>` for each training row (learner updates);
`success/<skill>` for each evaluated skill, `round/mean_success`, `round/task_success` (the
share of a round's episodes in which its task came true) and `round/library_size` (rounds). The
event log stays the record: tb/ is rewritten from it when a run is opened, one value per tag and
step (the last logged), so a training stage resumed from its last checkpoint, which logs again
the rows after that checkpoint, shows each step once from its next opening on. TensorBoard is an
optional extra
(`pip install 'gameon_nb[tensorboard]'`); without it the loop writes no tb/ and says so once.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, cast

from gameon_nb.loop import events as ev
from gameon_nb.loop.summaries import CollectSummary, GrowSummary, SetupSummary

__all__ = ["TensorBoardSink", "available", "rebuild", "scalars"]

Scalar = tuple[str, float, int]
"""(tag, value, step)."""


def available() -> bool:
    """Whether the `tensorboard` package (which torch's writer needs) is installed."""
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        return False
    return True


def scalars(event: ev.Event) -> Iterator[Scalar]:
    """The scalars one event stands for (none for most kinds)."""
    if isinstance(event, ev.TrainingProgress):
        step = int(event.metrics.get("step", 0))
        for name, value in event.metrics.items():
            if name != "step":
                yield f"learner/{name}", float(value), step
    elif isinstance(event, ev.Evaluated):
        rates = [float(r["success"]) for r in event.results.values()]
        for skill, result in event.results.items():
            yield f"success/{skill}", float(result["success"]), event.round
        if rates:
            yield "round/mean_success", sum(rates) / len(rates), event.round
    elif isinstance(event, ev.StageFinished):
        if event.stage == "collect":
            rate = cast(CollectSummary, event.summary).get("task_success")
            if rate is not None:
                yield "round/task_success", float(rate), event.round
        if event.stage in ("setup", "grow"):
            size = cast(SetupSummary | GrowSummary, event.summary).get("library_size")
            if size is not None:  # older logs lack it
                yield "round/library_size", float(size), event.round


class TensorBoardSink:
    """Writes the scalars of events to `logdir`; `past` events are written first, into a fresh
    `logdir` (whatever was there is replaced)."""

    def __init__(self, logdir: Path | str, past: Iterable[ev.Event] = ()) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.logdir = Path(logdir)
        shutil.rmtree(self.logdir, ignore_errors=True)
        self._writer: Any = SummaryWriter(str(self.logdir), flush_secs=30)
        latest: dict[tuple[str, int], tuple[float, float]] = {}  # the last value of each point
        for event in past:
            for tag, value, step in scalars(event):
                latest.pop((tag, step), None)
                latest[tag, step] = (value, event.time)
        for (tag, step), (value, time) in latest.items():
            self._writer.add_scalar(tag, value, step, walltime=time)
        self._writer.flush()

    def write(self, event: ev.Event, flush: bool = True) -> None:
        """Add the event's scalars; flushed at the end of every stage, so `tensorboard` sees a
        round as soon as it is over."""
        for tag, value, step in scalars(event):
            self._writer.add_scalar(tag, value, step, walltime=event.time)
        if flush and isinstance(event, ev.StageFinished):
            self._writer.flush()

    def close(self) -> None:
        self._writer.close()


def open_sink(logdir: Path, events: ev.EventLog) -> TensorBoardSink | None:
    """A sink over the run's past events, or None (with one warning) without TensorBoard."""
    if not available():
        warnings.warn(
            "TensorBoard is not installed, so this run writes no tb/ "
            "(pip install 'gameon_nb[tensorboard]'; loop.tensorboard=false silences this)",
            stacklevel=3,
        )
        return None
    return TensorBoardSink(logdir, past=events.read())


def rebuild(run_dir: Path | str) -> Path:
    """Write the run's tb/ afresh from its event log; the directory written."""
    from gameon_nb.run.dir import RunDir

    run = RunDir(run_dir)
    if not run.events_path.exists():
        raise FileNotFoundError(f"{run.events_path} not found: {run_dir} holds no run")
    TensorBoardSink(run.tb_dir, past=ev.EventLog(run.events_path).read()).close()
    return run.tb_dir
