"""`LoopStepper`: the experiment loop one button per stage, each stage's output shown below.

    >>> stepper = LoopStepper(Experiment("runs/a", config)); stepper     # or LoopStepper("runs/a")
    >>> stepper.step(); stepper.run_to("train"); stepper.run_round()     # what the buttons do
    >>> stepper_html("runs/a")                  # the static twin, from the run's event log

A button per stage ('setup', then the nine stages of a round) shows which stage is next; a click
runs the stages up to that one (the next stage alone when it is the next). While a stage runs
every button is disabled, a progress bar shows the stage and its elapsed time, and the stage's
own tqdm bars appear under it. When a stage ends its output is rendered from the event log (see
`gameon_nb.widgets.stages`): the task and the scene, the decomposition and retrieval scores, a
RolloutViewer, the judge's verdicts, the training curves, the evaluation, the analyst's verdicts
and the library's change. The rounds before the shown one stay above it, each collapsed (static
HTML), so setup's output and every earlier round's remain reachable. A failing stage shows its
traceback in the widget and leaves the experiment where it was: the next click resumes that
stage, as `Experiment.resume` would.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import ipywidgets  # type: ignore[import-untyped]  # no stubs; pyproject has no override yet
import traitlets as t

from gameon_nb.loop import events as ev
from gameon_nb.loop.experiment import STAGES, Experiment
from gameon_nb.loop.summaries import StageSummary
from gameon_nb.run.dir import RunDir
from gameon_nb.widgets.assets import asset_path
from gameon_nb.widgets.base import MimeBundle, TwinWidget
from gameon_nb.widgets.markup import BOX, FAILURE, chip, escape
from gameon_nb.widgets.stages import (
    SETUP,
    StageRecord,
    show_verdicts,
    stage_parts,
    stage_records,
    stage_section_html,
)

__all__ = [
    "ALL_STAGES",
    "LoopStepper",
    "StageError",
    "StepperControls",
    "button_states",
    "earlier_rounds_html",
    "show_stepper",
    "stepper_html",
]

ALL_STAGES = (SETUP, *STAGES)
"""Every button of the stepper, in order."""

STATE_MARK = {"done": "✓", "next": "▶", "todo": ""}
BORDER = {"done": "#bbb", "next": "#1565c0", "todo": "#bbb"}
BACKGROUND = {"done": "#f1f8e9", "next": "#e3f2fd", "todo": "#fff"}


class StageError(RuntimeError):
    """A stage that raised; the message holds the stage and the original error."""


def button_states(next_stage: str) -> list[dict[str, str]]:
    """Each stage's button: 'done' before the next stage in this round, 'next', or 'todo'.

    >>> [b["state"] for b in button_states("collect")][:6]
    ['done', 'done', 'done', 'done', 'next', 'todo']
    """
    if next_stage == "done":
        return [{"stage": s, "state": "done"} for s in ALL_STAGES]
    if next_stage not in ALL_STAGES:
        raise ValueError(f"unknown stage {next_stage!r}; known: {[*ALL_STAGES, 'done']}")
    here = ALL_STAGES.index(next_stage)
    return [
        {"stage": s, "state": "done" if i < here else ("next" if i == here else "todo")}
        for i, s in enumerate(ALL_STAGES)
    ]


def shown_round(records: Sequence[StageRecord]) -> int | None:
    """The round of the latest stage attempt (setup is round 0), or None before any."""
    return records[-1].round if records else None


def stages_of_round(records: Sequence[StageRecord], round: int) -> list[StageRecord]:
    """The attempts of one round, in the order the stages run."""
    return [r for r in records if r.round == round]


def stepper_markup(
    next_stage: str,
    round: int,
    sections: Sequence[str],
    *,
    error: str = "",
    stopped: str = "",
    source: str = "",
) -> str:
    """The static HTML of a stepper: the stage bar, an error if any, then each section."""
    bar = "".join(
        f'<span class="gameon-stepper-stage" data-stage="{b["stage"]}" data-state="{b["state"]}" '
        f'style="display:inline-block;padding:2px 8px;margin:0 3px 3px 0;border-radius:4px;'
        f'border:1px solid {BORDER[b["state"]]};background:{BACKGROUND[b["state"]]}">'
        f"{STATE_MARK[b['state']]} {b['stage']}</span>"
        for b in button_states(next_stage)
    )
    where = (
        f"finished: {escape(stopped)}"
        if next_stage == "done"
        else (f"next: <b>{next_stage}</b>" + (f" (round {round})" if next_stage != SETUP else ""))
    )
    error_box = (
        f'<div style="margin:4px 0">{chip("stage failed", FAILURE)}</div>'
        f'<pre class="gameon-stepper-error" style="color:{FAILURE};white-space:pre-wrap;'
        f'font-size:11px;border:1px solid {FAILURE};padding:4px">{escape(error)}</pre>'
        if error
        else ""
    )
    origin = f' · <span style="color:#888">{escape(source)}</span>' if source else ""
    return (
        f'<div class="gameon-stepper gameon-static" style="{BOX}">'
        f"<div><b>Loop stepper</b> · {where}{origin}</div>"
        f'<div class="gameon-stepper-bar" style="margin:4px 0">{bar}</div>{error_box}'
        + "".join(sections)
        + "</div>"
    )


def earlier_rounds_html(
    run: RunDir, events: Sequence[ev.Event], before: int, cache: dict[int, str] | None = None
) -> str:
    """The rounds before `before` (setup is round 0), newest first, each folded into one
    collapsed <details> of its static stage outputs (kept in `cache` by round: a finished
    round's output does not change)."""
    records = stage_records(events)
    cache = {} if cache is None else cache
    for round in {r.round for r in records if r.round < before} - set(cache):
        name = "setup" if round == 0 else f"round {round}"
        sections = [stage_section_html(run, r, events) for r in stages_of_round(records, round)]
        cache[round] = (
            f'<details class="gameon-stepper-round" data-round="{round}" style="margin:4px 0">'
            f'<summary style="cursor:pointer;color:#555">{name} (click to open)</summary>'
            + "".join(sections)
            + "</details>"
        )
    return "".join(cache[r] for r in sorted(cache, reverse=True) if r < before)


def stepper_html(run_dir: Path | str, round: int | None = None, earlier: bool = True) -> str:
    """Static HTML of a run as the stepper shows it: the stage bar and one round's stage outputs,
    with the rounds before it collapsed above them (unless `earlier` is False).

    >>> stepper_html("runs/a")              # the round of the latest stage (setup: round 0)
    >>> stepper_html("runs/a", round=1, earlier=False)

    Read from events.jsonl and state.json only, so it shows in reports and untrusted notebooks.
    """
    run = RunDir(run_dir)
    if not run.config_path.exists():
        raise FileNotFoundError(f"{run.root} holds no run (no config.json)")
    state = run.load_state()
    events = ev.EventLog(run.events_path).read()
    records = stage_records(events)
    chosen = shown_round(records) if round is None else round
    sections = [
        stage_section_html(run, r, events)
        for r in ([] if chosen is None else stages_of_round(records, chosen))
    ]
    if earlier and chosen is not None:
        sections.insert(0, earlier_rounds_html(run, events, chosen))
    return stepper_markup(
        state.next, state.round, sections, stopped=state.stopped or "", source=str(run.root)
    )


class StepperControls(TwinWidget):
    """The stage buttons, the progress bar and the error panel of a LoopStepper (its front end
    is widgets/loop_stepper.js); the kernel side of every click is `LoopStepper`."""

    _esm = asset_path("loop_stepper.js")
    _css = asset_path("loop_stepper.css")

    buttons = t.List(t.Dict()).tag(sync=True)
    """{"stage", "state"} per stage; state is 'done', 'next' or 'todo'."""
    next_stage = t.Unicode(SETUP).tag(sync=True)
    round = t.Int(0).tag(sync=True)
    """The round the next stage belongs to."""
    shown_round = t.Int(None, allow_none=True).tag(sync=True)
    """The round whose stage outputs are shown (None before any stage ran)."""
    running = t.Unicode("").tag(sync=True)
    """The stage running now, '' when idle."""
    queue = t.List(t.Unicode()).tag(sync=True)
    """Stages still to run after `running` for the current click."""
    error = t.Unicode("").tag(sync=True)
    """Traceback of the last failed stage ('' when the last attempt succeeded)."""
    stopped = t.Unicode("").tag(sync=True)
    """Why the run stopped, once it is done."""
    timings = t.Dict().tag(sync=True)
    """Stage -> seconds, for the shown round's finished stages."""
    source = t.Unicode("").tag(sync=True)
    """The run directory."""
    handled = t.Int(0).tag(sync=True)
    """Id of the last request handled; the front end keeps buttons disabled until it catches up."""

    def to_html(self) -> str:
        return stepper_markup(
            self.next_stage if self.next_stage else SETUP,
            self.round,
            [],
            error=self.error,
            stopped=self.stopped,
            source=self.source,
        )


def _in_kernel() -> bool:
    from IPython import get_ipython

    return getattr(get_ipython(), "kernel", None) is not None


def _close(obj: object) -> None:
    """Close a live part's widget (LearningCurves holds a plotly FigureWidget)."""
    widget = getattr(obj, "figure", obj)
    if isinstance(widget, ipywidgets.Widget):
        widget.close()


class LoopStepper(ipywidgets.VBox):  # type: ignore[misc]
    """Stage buttons over an Experiment, with each stage's output; see the module docstring.

    >>> stepper = LoopStepper(exp); stepper                # display it; click 'setup'
    >>> stepper.run_to("collect")                          # the same as clicking 'collect'
    >>> stepper.error                                      # the last failure's traceback, or ''
    """

    def __init__(
        self,
        experiment: Experiment | Path | str,
        *,
        progress: bool = True,
        raise_errors: bool = False,
        **kwargs: Any,
    ) -> None:
        self.experiment = (
            experiment if isinstance(experiment, Experiment) else Experiment.resume(experiment)
        )
        self.progress = progress
        """Show each stage's tqdm bars while it runs."""
        self.raise_errors = raise_errors
        """Also raise a stage's error from `step`/`run_to`/`run_round` (clicks never raise)."""
        self.controls = StepperControls(source=str(self.experiment.rundir.root))
        self.progress_area = ipywidgets.Output(layout={"margin": "0 0 4px 0"})
        """Where a running stage's tqdm bars appear; cleared when it ends."""
        self.history = ipywidgets.HTML()
        """The rounds before the shown one, each a collapsed <details> of its static outputs."""
        self.output = ipywidgets.Output()
        """The stage outputs of the shown round."""
        self._live: list[object] = []
        self._shown: int | None = None
        self._folded: dict[int, str] = {}
        super().__init__([self.controls, self.progress_area, self.history, self.output], **kwargs)
        self.add_class("gameon-stepper-box")
        self.controls.on_msg(self._on_message)
        self._refresh()
        self._show_existing()

    # -- state ---------------------------------------------------------------------------------

    @property
    def next_stage(self) -> str:
        return self.experiment.next_stage

    @property
    def error(self) -> str:
        """Traceback of the last failed stage, '' if the last attempt succeeded."""
        return str(self.controls.error)

    @property
    def running(self) -> str:
        return str(self.controls.running)

    def _records(self) -> tuple[list[ev.Event], list[StageRecord]]:
        events = self.experiment.events.read()
        return events, stage_records(events)

    def _refresh(self) -> None:
        exp = self.experiment
        with self.controls.hold_sync():
            self.controls.next_stage = exp.next_stage
            self.controls.round = exp.round
            self.controls.buttons = button_states(exp.next_stage)
            self.controls.stopped = exp.state.stopped or ""
            self.controls.shown_round = self._shown

    # -- output --------------------------------------------------------------------------------

    def _clear_output(self) -> None:
        for obj in self._live:
            _close(obj)
        self._live = []
        self.output.outputs = ()
        self.controls.timings = {}

    def _append(self, obj: object) -> None:
        self.output.append_display_data(obj)

    def _render(self, record: StageRecord, events: list[ev.Event]) -> None:
        """Append one stage attempt's output (a new round clears the previous round's)."""
        from gameon_nb.widgets.stages import HtmlPart, section_header

        if record.finished is None:
            return  # a failed attempt: its traceback is in the error panel
        if record.round != self._shown:
            self._clear_output()
            self._shown = record.round
            self.history.value = earlier_rounds_html(
                self.experiment.rundir, events, record.round, self._folded
            )
        self._append(
            HtmlPart(
                f'<div class="gameon-stage" data-stage="{record.stage}" '
                f'data-round="{record.round}" style="{BOX}">{section_header(record)}</div>'
            ).live()
        )
        for part in stage_parts(self.experiment.rundir, record, events):
            shown = part.live()
            self._live.append(shown)
            self._append(shown)
        show_verdicts(self._live, events)  # the judge's word reaches the viewers shown before it
        self.controls.timings = {**self.controls.timings, record.stage: record.finished.seconds}

    def _show_existing(self) -> None:
        """A stepper on a resumed run shows the latest round's outputs, read from the log."""
        events, records = self._records()
        latest = shown_round(records)
        if latest is None:
            return
        for record in stages_of_round(records, latest):
            self._render(record, events)
        self._refresh()

    # -- running -------------------------------------------------------------------------------

    def plan(self, stage: str) -> list[str]:
        """The stages a click on `stage` runs: from the next stage up to it, in this round."""
        if stage not in ALL_STAGES:
            raise ValueError(f"unknown stage {stage!r}; known: {list(ALL_STAGES)}")
        nxt = self.next_stage
        if nxt == "done":
            return []
        here, there = ALL_STAGES.index(nxt), ALL_STAGES.index(stage)
        return list(ALL_STAGES[here : there + 1])

    def _run_one(self, stage: str) -> StageSummary | None:
        exp = self.experiment
        if exp.next_stage != stage:
            raise RuntimeError(
                f"expected to run {stage!r}, but the next stage is {exp.next_stage!r}"
            )
        self.controls.running = stage
        self.controls.error = ""
        before = exp.progress
        exp.progress = self.progress
        summary: StageSummary | None = None
        failure: BaseException | None = None
        try:
            # Output swallows (and prints) what escapes its block, so catch inside it
            with self.progress_area:
                try:
                    summary = exp.step()
                except (Exception, KeyboardInterrupt) as error:
                    failure = error
        finally:
            exp.progress = before
            if _in_kernel():  # outside a kernel there is nothing to clear (and it would print)
                self.progress_area.clear_output()
            self.controls.running = ""
        if failure is not None:
            what = "interrupted" if isinstance(failure, KeyboardInterrupt) else "failed"
            self.controls.error = (
                f"stage {stage!r} of round {exp.round} {what}; the next click resumes it\n\n"
                + "".join(traceback.format_exception(failure))
            )
            self._refresh()
            if self.raise_errors:
                raise StageError(
                    f"stage {stage!r} of round {exp.round} {what}: {failure!r}"
                ) from failure
            return None
        self._show_attempt(stage)
        self._refresh()
        return summary

    def _show_attempt(self, stage: str) -> None:
        """Render the latest attempt at `stage`; a renderer that fails is shown as an error."""
        events, records = self._records()
        attempt = next((r for r in reversed(records) if r.stage == stage), None)
        if attempt is None:
            return
        try:
            self._render(attempt, events)
        except Exception as error:  # a display bug must not hide that the stage itself ran
            self.controls.error = (
                f"stage {stage!r} ran, but its output could not be shown\n\n"
                + "".join(traceback.format_exception(error))
            )
            if self.raise_errors:
                raise

    def _run(self, stages: list[str]) -> StageSummary | None:
        summary = None
        for i, stage in enumerate(stages):
            self.controls.queue = stages[i + 1 :]
            try:
                summary = self._run_one(stage)
            finally:
                if self.controls.error:
                    self.controls.queue = []
            if self.controls.error:
                return None
        self.controls.queue = []
        return summary

    def step(self) -> StageSummary | None:
        """Run the next stage; its summary, or None when it failed (the error is shown)."""
        if self.next_stage == "done":
            raise RuntimeError(f"the run in {self.experiment.rundir.root} is done")
        return self._run([self.next_stage])

    def run_to(self, stage: str) -> StageSummary | None:
        """Run every stage from the next one up to `stage` (a click on its button)."""
        stages = self.plan(stage)
        if not stages:
            raise RuntimeError(f"the run in {self.experiment.rundir.root} is done")
        return self._run(stages)

    def run_round(self) -> StageSummary | None:
        """Run the rest of this round (setup first, if it has not run), as its button does."""
        if self.next_stage == SETUP and self.step() is None:
            return None
        if self.next_stage == "done":
            return None
        return self.run_to(STAGES[-1])

    def _on_message(self, widget: Any, content: Any, buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        actions: dict[str, Callable[[], object]] = {
            "run": lambda: self.run_to(str(content.get("stage"))),
            "round": self.run_round,
        }
        action = actions.get(str(content.get("type")))
        try:
            if action is not None and not self.running and self.next_stage != "done":
                action()
        except StageError:
            pass  # shown in the widget already; raised only for calls from code
        except ValueError as error:  # a message naming no stage: say so where the user looks
            self.controls.error = f"cannot run {content.get('stage')!r}: {error}"
        finally:
            self.controls.handled = int(content.get("request", self.controls.handled))

    def close(self) -> None:
        self._clear_output()
        self.controls.close()
        self.progress_area.close()
        self.history.close()
        self.output.close()
        super().close()

    # -- static twin ---------------------------------------------------------------------------

    def to_html(self) -> str:
        """The static twin: the stage bar, the last error, the shown round's stage outputs."""
        events, records = self._records()
        sections = (
            []
            if self._shown is None
            else [
                stage_section_html(self.experiment.rundir, r, events)
                for r in stages_of_round(records, self._shown)
            ]
        )
        return stepper_markup(
            self.next_stage,
            self.experiment.round,
            [self.history.value, *sections],
            error=self.error,
            stopped=self.controls.stopped,
            source=self.controls.source,
        )

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_mimebundle_(self, **kwargs: Any) -> MimeBundle | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        return {**data, "text/html": self.to_html()}, metadata

    def __repr__(self) -> str:
        return f"LoopStepper({str(self.experiment.rundir.root)!r}, next={self.next_stage!r})"


def show_stepper(
    source: Experiment | Path | str, *, static: bool = False, **kwargs: Any
) -> LoopStepper | None:
    """Display a LoopStepper (and return it), or the static twin of a run with `static=True`.

    >>> stepper = show_stepper(exp)
    >>> show_stepper("runs/a", static=True, round=1)
    """
    from IPython.display import HTML, display

    if static:
        root = source.rundir.root if isinstance(source, Experiment) else source
        display(HTML(stepper_html(root, **kwargs)))  # type: ignore[no-untyped-call]
        return None
    stepper = LoopStepper(source, **kwargs)
    display(stepper)  # type: ignore[no-untyped-call]
    return stepper
