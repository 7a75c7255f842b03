"""What each stage of the loop produced, read back from a run's event log, live or as static HTML.

    >>> record = stage_record(run_dir, round=1, stage="collect")    # its events, last attempt
    >>> parts = stage_parts(run_dir, record)                         # what to show, in order
    >>> html = stage_section_html(run_dir, record)                   # the same with no kernel

One renderer per stage, looked up in `RENDERERS`: the proposed task with the scene image, the
decomposition, retrieval scores, the rollouts (RolloutViewer), the judge's verdicts
(JudgementCard), the training curves (LearningCurves), the evaluation, the analyst's verdicts, and
the library's change (SkillLibraryView). A part is shown live by `part.live()` (a widget, or HTML)
and statically by `part.html()`; the event log and the run directory stay the only copy.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

import numpy as np

from gameon_nb.loop import events as ev
from gameon_nb.loop.summaries import SetupSummary, StageSummary, TrainSummary
from gameon_nb.progress import front_end
from gameon_nb.run.dir import RunDir
from gameon_nb.widgets.curves import LearningCurves, Series, curves_markup, metric_series
from gameon_nb.widgets.encoding import data_uri
from gameon_nb.widgets.judgement import JudgementCard, judgement_html
from gameon_nb.widgets.library_view import SkillLibraryView, library_html
from gameon_nb.widgets.markup import (
    AGREEMENT_COLOUR,
    BOX,
    FAILURE,
    NEUTRAL,
    SUCCESS,
    chip,
    escape,
    html_table,
    outcome_colour,
)
from gameon_nb.widgets.rollout import (
    Rollout,
    RolloutViewer,
    judged_frames,
    prepare_rollout,
    rollout_markup,
)
from gameon_nb.widgets.verdicts import (
    Judgement,
    agreement,
    episode_verdicts,
    judgement_of,
    telling_verdict,
)

__all__ = [
    "RENDERERS",
    "SETUP",
    "CurvesPart",
    "HtmlPart",
    "JudgementPart",
    "LibraryPart",
    "RolloutPart",
    "StagePart",
    "StageRecord",
    "show_verdicts",
    "stage_parts",
    "stage_record",
    "stage_records",
    "stage_section_html",
]

E = TypeVar("E", bound=ev.Event)

SETUP = "setup"
"""The stage that runs once, before round 1 (its events carry round 0)."""


class StagePart(Protocol):
    """One piece of a stage's output: a live view and its static HTML."""

    def html(self) -> str: ...

    def live(self) -> object: ...


@dataclass(frozen=True)
class HtmlPart:
    """Plain HTML, the same live and static."""

    markup: str

    def html(self) -> str:
        return self.markup

    def live(self) -> object:
        from IPython.display import HTML

        return HTML(self.markup)  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class RolloutPart:
    """An episode: a RolloutViewer live, a filmstrip static."""

    rollout: Rollout
    max_frames: int = 8

    def html(self) -> str:
        return rollout_markup(self.rollout, max_frames=self.max_frames)

    def live(self) -> object:
        return RolloutViewer(self.rollout)


@dataclass(frozen=True)
class JudgementPart:
    """One judged skill execution: a JudgementCard live, its twin static."""

    skill: str
    frames: list[np.ndarray]
    verdict: Judgement
    ground_truth: bool
    labels: list[str]

    def html(self) -> str:
        return judgement_html(
            self.skill, self.frames, self.verdict, self.ground_truth, labels=self.labels,
            progress=False,
        )  # fmt: skip

    def live(self) -> object:
        return JudgementCard(
            self.skill, self.frames, self.verdict, self.ground_truth, labels=self.labels,
            progress=False,
        )  # fmt: skip


@dataclass(frozen=True)
class CurvesPart:
    """Success per skill over rounds and/or training metrics: LearningCurves live (its static
    twin where no one watches live, e.g. a stepper driven in a batch run: plotly's bundle would
    weigh megabytes in the saved notebook)."""

    success: Series = field(default_factory=dict)
    metrics: Sequence[Mapping[str, float]] = ()

    def html(self) -> str:
        return curves_markup(self.success, metric_series(self.metrics))

    def live(self) -> object:
        if front_end() == "headless":
            return HtmlPart(self.html()).live()
        curves = LearningCurves(metrics=self.metrics)
        for skill, points in self.success.items():
            for round_, rate in points:
                curves.append_success(skill, int(round_), rate)
        return curves


@dataclass(frozen=True)
class LibraryPart:
    """The run's skill library: a SkillLibraryView live (it can re-read the file)."""

    path: Path

    def html(self) -> str:
        return library_html(self.path)

    def live(self) -> object:
        return SkillLibraryView(self.path)


@dataclass(frozen=True)
class StageRecord:
    """The events of one attempt at one stage of one round."""

    round: int
    stage: str
    events: list[ev.Event]
    """Events between its stage_started and stage_finished (both excluded)."""
    finished: ev.StageFinished | None = None
    """None while the stage runs, or when its attempt was cut short."""

    def of(self, kind: type[E]) -> list[E]:
        """Its events of one type."""
        return [e for e in self.events if isinstance(e, kind)]

    @property
    def summary(self) -> StageSummary:
        """What the stage returned (empty while it runs or when it was cut short)."""
        return self.finished.summary if self.finished is not None else cast(StageSummary, {})


def _root(run: RunDir | Path | str) -> RunDir:
    return run if isinstance(run, RunDir) else RunDir(run)


def stage_records(events: Sequence[ev.Event]) -> list[StageRecord]:
    """Every stage attempt in a log, oldest first. A stage resumed after a crash is one record
    with the events of both attempts: episodes stored before the crash are skipped on resume,
    so their events are only in the first attempt's part of the log. An attempt cut short and
    never resumed is the last record, with `finished` None.

    >>> records = stage_records(EventLog(run.events_path).read())
    >>> [(r.round, r.stage) for r in records if r.finished is None]   # cut short
    """
    records: list[StageRecord] = []
    current: tuple[int, str] | None = None
    buffer: list[ev.Event] = []
    carried: dict[tuple[int, str], list[ev.Event]] = {}
    for event in events:
        if isinstance(event, ev.StageStarted):
            key = (event.round, event.stage)
            if current is not None:  # the previous attempt never finished (a crash)
                carried[current] = buffer
            current = key
            buffer = list(carried.pop(key, [])) if event.resumed else []
        elif isinstance(event, ev.StageFinished):
            if current is None or (event.round, event.stage) != current:
                continue  # a log cut mid-stage and continued elsewhere: nothing to attach
            records = [r for r in records if (r.round, r.stage) != current]
            records.append(StageRecord(event.round, event.stage, buffer, event))
            current, buffer = None, []
        elif current is not None:
            buffer.append(event)
    if current is not None:
        records.append(StageRecord(current[0], current[1], buffer, None))
    return records


def stage_record(
    run: RunDir | Path | str, round: int, stage: str, events: Sequence[ev.Event] | None = None
) -> StageRecord | None:
    """The last attempt at `stage` in `round` (setup is round 0), or None if it never started.

    >>> stage_record(run_dir, 1, "judge").of(JudgeAgreement)
    """
    log = events if events is not None else ev.EventLog(_root(run).events_path).read()
    found = [r for r in stage_records(log) if (r.round, r.stage) == (round, stage)]
    return found[-1] if found else None


# -- small pieces ------------------------------------------------------------------------------


def _mark(value: bool | None) -> str:
    text = "—" if value is None else ("✓" if value else "✗")
    return f'<span style="color:{outcome_colour(value)};font-weight:bold">{text}</span>'


def _backend(backend: str, fallback: object = False) -> str:
    out = chip(backend or "?", "#546e7a", "gameon-backend") if backend else ""
    if fallback:
        out += " " + chip("fallback to scripted", "#ef6c00", "gameon-fallback")
    return out


def _reasoning(text: str) -> str:
    if not text:
        return ""
    return (
        '<blockquote class="gameon-reasoning" style="margin:4px 0;padding:2px 8px;'
        f'border-left:3px solid #ccc;color:#444;white-space:pre-wrap">{escape(text)}</blockquote>'
    )


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def _evaluation_table(results: Mapping[str, Mapping[str, Any]]) -> str:
    rows = [
        [
            escape(skill),
            f'<span class="gameon-eval-rate">{_rate(r.get("success"))}</span>',
            str(r.get("episodes", "—")),
            "[{:.2f}, {:.2f}]".format(*r["ci95"]) if r.get("ci95") else "—",
        ]
        for skill, r in results.items()
    ]
    return html_table(["skill", "success", "episodes", "95% interval"], rows, "gameon-evaluation")


def _success_until(events: Sequence[ev.Event], round: int) -> Series:
    """Each evaluated skill's (round, success) up to `round`, from the evaluated events."""
    series: Series = {}
    for event in events:
        if isinstance(event, ev.Evaluated) and event.round <= round:
            for skill, result in event.results.items():
                series.setdefault(skill, []).append((float(event.round), float(result["success"])))
    return series


# -- one renderer per stage --------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What a renderer may read: the run directory and the whole event log."""

    run: RunDir
    events: list[ev.Event]


Renderer = Callable[[Context, StageRecord], list[StagePart]]


def _setup(ctx: Context, record: StageRecord) -> list[StagePart]:
    summary = cast(SetupSummary, record.summary)
    boot, train = summary.get("bootstrap"), summary.get("train")
    lines = []
    if boot:
        lines.append(
            f"bootstrap data: {boot['episodes']} scripted episodes, "
            f"{boot['steps']} steps, skill success {_rate(boot['segment_success'])}"
        )
    if train:
        losses = ", ".join(f"{k} {v}" for k, v in train.items() if k not in ("steps", "rows"))
        lines.append(f"pretraining: {train['steps']} updates · {escape(losses)}")
    parts: list[StagePart] = [
        HtmlPart("".join(f"<div>{line}</div>" for line in lines) or "<i>no summary</i>")
    ]
    evaluated = record.of(ev.Evaluated)
    if evaluated:
        parts.append(HtmlPart("<div><b>round-0 evaluation</b></div>"))
        parts.append(HtmlPart(_evaluation_table(evaluated[-1].results)))
    metrics = [e.metrics for e in record.of(ev.TrainingProgress)]
    if metrics:
        parts.append(CurvesPart(metrics=metrics))
    return parts


def _propose(ctx: Context, record: StageRecord) -> list[StagePart]:
    proposed = record.of(ev.TaskProposed)
    if not proposed:
        return [HtmlPart("<i>no task was proposed</i>")]
    e = proposed[-1]
    image = ctx.run.file(e.image) if e.image else None
    picture = ""
    if image is not None and image.is_file():
        mime = mimetypes.guess_type(image.name)[0] or "image/png"
        picture = (
            f'<img class="gameon-scene" src="{data_uri(image.read_bytes(), mime)}" '
            'alt="the scene the proposer saw"'
            ' style="width:240px;height:auto;display:block;border:1px solid #ddd">'
        )
    return [
        HtmlPart(
            f'<div style="display:flex;gap:12px;align-items:flex-start">{picture}<div>'
            f'<div>task: <b class="gameon-task" style="font-size:15px">{escape(e.task)}</b></div>'
            f"<div>proposer: {_backend(e.backend, e.fallback)}</div>{_reasoning(e.reasoning)}"
            "</div></div>"
        )
    ]


def _decompose(ctx: Context, record: StageRecord) -> list[StagePart]:
    found = record.of(ev.TaskDecomposed)
    if not found:
        return [HtmlPart("<i>no decomposition</i>")]
    e = found[-1]
    steps = "".join(f'<li class="gameon-step">{escape(s)}</li>' for s in e.steps)
    return [
        HtmlPart(
            f"<div>task: <b>{escape(e.task)}</b> · decomposer: {_backend(e.backend, e.fallback)}"
            f'</div><ol class="gameon-steps" style="margin:4px 0">{steps}</ol>'
            f"{_reasoning(e.reasoning)}"
        )
    ]


def _retrieve(ctx: Context, record: StageRecord) -> list[StagePart]:
    found = record.of(ev.SkillsRetrieved)
    if not found:
        return [HtmlPart("<i>nothing retrieved</i>")]
    e = found[-1]
    rows = []
    for step, r in zip(e.steps, e.retrievals, strict=True):
        got = (
            escape(r.skill)
            if r.skill
            else chip("missing skill", FAILURE, "gameon-missing")
            + (f" <span style='color:#888'>{escape(r.reason)}</span>" if r.reason else "")
        )
        others = ", ".join(f"{escape(c['skill'])} {c['score']:.2f}" for c in r.candidates[:3])
        rows.append([escape(step), got, f"{r.score:.3f}", others])
    plan = " → ".join(escape(s) for s in e.plan) or "<i>nothing to execute</i>"
    return [
        HtmlPart(
            html_table(
                ["step", "library skill", "score", "nearest candidates"], rows, "gameon-retrieval"
            )
            + f'<div>plan: <span class="gameon-plan">{plan}</span></div>'
            + (
                f"<div>missing-skill requests: {escape(', '.join(e.missing))}</div>"
                if e.missing
                else ""
            )
        )
    ]


def _collect(ctx: Context, record: StageRecord) -> list[StagePart]:
    collected = record.of(ev.EpisodeCollected)
    if not collected:
        return [HtmlPart("<i>no episodes: nothing in the plan could be executed</i>")]
    rows = [
        [
            str(e.episode),
            "<br>".join(
                f"{_mark(ok)} {escape(s)}" for s, ok in zip(e.skills, e.outcomes, strict=True)
            ),
            _mark(e.task_success),
            str(e.steps),
        ]
        for e in collected
    ]
    known = [e.task_success for e in collected if e.task_success is not None]
    task = collected[0].task_skill or "every step"
    came_true = (
        f"<div>the task ({escape(task)}) came true in "
        + chip(f"{sum(known)}/{len(known)}", SUCCESS if sum(known) else FAILURE, "gameon-task")
        + " episodes</div>"
        if known
        else ""
    )
    parts: list[StagePart] = [
        HtmlPart(
            f"<div>{len(collected)} episodes (ground truth per skill, and of the task):</div>"
            + came_true
            + html_table(["episode", "skills", "task", "steps"], rows, "gameon-episodes")
        )
    ]
    first = collected[0].episode
    store = ctx.run.store()
    if first in store.ids():
        episode = store.load(first)
        verdicts = episode_verdicts(ctx.events, first, len(episode.segments))
        parts.append(RolloutPart(prepare_rollout(episode, verdicts=verdicts, progress=False)))
    return parts


def _judge(ctx: Context, record: StageRecord) -> list[StagePart]:
    found = record.of(ev.JudgeAgreement)
    if not found:
        return [HtmlPart("<i>nothing judged</i>")]
    e = found[-1]
    if not e.verdicts:
        return [HtmlPart(f"<div>judge {escape(e.backend)}: no segment sampled for judging</div>")]
    rows = []
    for v in e.verdicts:
        agree = agreement(v["verdict"], v["truth"])
        rows.append(
            [
                f"{v['episode']} / {'task' if v['segment'] is None else v['segment']}",
                escape(v["skill"]),
                _mark(v["truth"]),
                _mark(v["verdict"]),
                chip(agree, AGREEMENT_COLOUR[agree], "gameon-badge", agreement=agree),
                escape(v.get("reasoning", "")),
            ]
        )
    share = e.agreement
    colour = (
        NEUTRAL
        if share is None
        else SUCCESS
        if e.agree == e.real
        else (FAILURE if share < 0.5 else NEUTRAL)
    )
    fell = (
        f"; {e.fallbacks} fallback verdicts of the scripted judge not counted"
        if e.fallbacks
        else ""
    )
    parts: list[StagePart] = [
        HtmlPart(
            f"<div>judge {_backend(e.backend)} agrees with the ground truth on "
            + chip(f"{e.agree}/{e.real}" if e.real else "n/a", colour, "gameon-agreement")
            + f" of its own verdicts{fell}</div>"
            + html_table(
                ["episode / segment", "skill", "truth", "judge", "", "reasoning"],
                rows,
                "gameon-verdicts",
            )
        )
    ]
    shown = telling_verdict(e.verdicts)
    store = ctx.run.store()
    if int(shown["episode"]) in store.ids():
        episode = store.load(int(shown["episode"]))
        view = ctx.run.load_config().sim.view_camera
        if view in episode.frames:
            segment = None if shown["segment"] is None else int(shown["segment"])
            frames, labels = judged_frames(episode, view, segment)
            verdict = judgement_of(shown)
            parts.append(JudgementPart(shown["skill"], frames, verdict, shown["truth"], labels))
    return parts


def _train(ctx: Context, record: StageRecord) -> list[StagePart]:
    summary = cast(TrainSummary, record.summary)
    metrics = [e.metrics for e in record.of(ev.TrainingProgress)]
    numbers = ", ".join(
        f"{k} {v}" for k, v in summary.items() if k not in ("steps", "rows") and v is not None
    )
    text = (
        f"<div>learner at update {summary.get('steps', '?')}, trained on "
        f"{summary.get('rows', '?')} transitions (every step relabelled for every known skill)"
        + (f" · {escape(numbers)}" if numbers else "")
        + "</div>"
    )
    return [HtmlPart(text), CurvesPart(metrics=metrics)] if metrics else [HtmlPart(text)]


def _evaluate(ctx: Context, record: StageRecord) -> list[StagePart]:
    found = record.of(ev.Evaluated)
    if not found:
        return [HtmlPart("<i>nothing evaluated</i>")]
    results = found[-1].results
    history = _success_until(ctx.events, record.round)
    return [
        HtmlPart(_evaluation_table(results)),
        CurvesPart(success={skill: history[skill] for skill in results if skill in history}),
    ]


FLAGS = ("learned", "converged", "add_to_library", "keep_training")


def _analyse(ctx: Context, record: StageRecord) -> list[StagePart]:
    found = record.of(ev.ProgressAnalysed)
    if not found:
        return [HtmlPart("<i>no curve to read yet</i>")]
    rows = []
    for e in found:
        v = e.verdict
        flags = [_mark(bool(v.get(flag))) for flag in FLAGS]
        by = _backend(str(v.get("backend", "")), v.get("fallback"))
        rows.append([escape(e.skill), *flags, by, escape(str(v.get("reasoning", "")))])
    head = ["skill", "learned", "converged", "add", "keep training", "analyst", "reasoning"]
    return [HtmlPart(html_table(head, rows, "gameon-analysis"))]


def _grow(ctx: Context, record: StageRecord) -> list[StagePart]:
    added = record.of(ev.SkillAdded)
    disagreements = record.of(ev.GrowthDisagreement)
    stopped = record.of(ev.RunStopped)
    lines = [
        f'<div class="gameon-added">{chip("learned", SUCCESS)} {escape(e.skill)}: candidate → '
        f"learned at {_rate(e.success)} over {e.episodes} episodes"
        + ("" if e.analyst_agreed else " (by measurement alone)")
        + "</div>"
        for e in added
    ]
    lines += [
        f"<div>{escape(e.skill)}: measurement says {'yes' if e.measured else 'no'}, the analyst "
        f"{'yes' if e.analyst else 'no'}: not added</div>"
        for e in disagreements
    ]
    if not added:
        lines.insert(0, '<div class="gameon-added">the library did not change this round</div>')
    lines += [f"<div><b>the run stopped:</b> {escape(e.reason)}</div>" for e in stopped]
    parts: list[StagePart] = [HtmlPart("".join(lines))]
    if ctx.run.library_path.is_file():
        parts.append(LibraryPart(ctx.run.library_path))
    return parts


RENDERERS: dict[str, Renderer] = {
    SETUP: _setup,
    "propose": _propose,
    "decompose": _decompose,
    "retrieve": _retrieve,
    "collect": _collect,
    "judge": _judge,
    "train": _train,
    "evaluate": _evaluate,
    "analyse": _analyse,
    "grow": _grow,
}
"""Stage name -> what to show of it."""


def stage_parts(
    run: RunDir | Path | str, record: StageRecord, events: Sequence[ev.Event] | None = None
) -> list[StagePart]:
    """What to show of one stage attempt; an unknown stage lists the known ones.

    >>> [part.html() for part in stage_parts(run_dir, record)]
    >>> [part.live() for part in stage_parts(run_dir, record)]      # widgets, in a kernel
    """
    if record.stage not in RENDERERS:
        raise KeyError(f"no renderer for stage {record.stage!r}; known: {list(RENDERERS)}")
    root = _root(run)
    log = list(events) if events is not None else ev.EventLog(root.events_path).read()
    return RENDERERS[record.stage](Context(root, log), record)


def show_verdicts(shown: Iterable[object], events: Sequence[ev.Event]) -> None:
    """Give every RolloutViewer among `shown` the judge's verdicts `events` hold on its episode:
    the stepper calls it after each stage, so the collect stage's viewer, rendered before the
    judge ran, shows the judge's word once it has spoken.

    >>> show_verdicts(stepper._live, EventLog(run.events_path).read())
    """
    for widget in shown:
        if isinstance(widget, RolloutViewer) and widget.episode_id is not None:
            verdicts = episode_verdicts(events, widget.episode_id, len(widget.segments))
            widget.set_verdicts(verdicts)


def section_header(record: StageRecord) -> str:
    """'round 1 · collect · 6.5 s' with the outcome of the attempt."""
    where = "setup" if record.stage == SETUP else f"round {record.round} · {record.stage}"
    state = f"{record.finished.seconds:.1f} s" if record.finished is not None else "did not finish"
    return (
        f'<div class="gameon-stage-head" style="font-weight:bold;margin:8px 0 2px;'
        f'border-bottom:1px solid #ddd">{escape(where)} '
        f'<span style="font-weight:normal;color:#888">· {state}</span></div>'
    )


def stage_section_html(
    run: RunDir | Path | str, record: StageRecord, events: Sequence[ev.Event] | None = None
) -> str:
    """Static HTML of one stage attempt: a header, then each part's HTML.

    >>> stage_section_html(run_dir, stage_record(run_dir, 1, "collect"))
    """
    body = "".join(p.html() for p in stage_parts(run, record, events))
    return (
        f'<div class="gameon-stage" data-stage="{record.stage}" data-round="{record.round}" '
        f'style="{BOX}">{section_header(record)}{body}</div>'
    )
