"""Static HTML of the studies around the loop: curricula compared, and how well a judge and an
analyst agree with the rules.

    >>> comparison_html("runs/cmp")                     # after compare_curricula("runs/cmp", ...)
    >>> agreement_html(judge_agreement(exp, store))     # accuracy, kappa, confusion matrix
    >>> analyst_html(analyst_agreement(exp, curves)); curves_gallery_html(curves[:8])

Charts are the widgets' SVG line charts; tables are plain HTML with inline styles, so all of it
shows in executed notebooks and reports with no kernel and no network.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gameon_nb.atomic import atomic_write_text
from gameon_nb.loop import events as ev
from gameon_nb.run.dir import CompareDir
from gameon_nb.widgets.curves import Series
from gameon_nb.widgets.judgement import judgement_html
from gameon_nb.widgets.markup import (
    BOX,
    FAILURE,
    GRID_CELL,
    NEUTRAL,
    SUCCESS,
    chip,
    escape,
    html_table,
)
from gameon_nb.widgets.svg import bar_chart_svg, line_chart_svg, svg_img

if TYPE_CHECKING:
    from gameon_nb.data.store import EpisodeStore
    from gameon_nb.experimenter.experimenter import Experimenter

__all__ = [
    "agreement_html",
    "analyst_html",
    "comparison_html",
    "comparison_series",
    "curves_gallery_html",
    "judge_examples_html",
    "show_html",
    "write_comparison_page",
]


def show_html(markup: str) -> None:
    """Display a piece of HTML (any `*_html` result).

    >>> show_html(comparison_html("runs/cmp"))
    """
    from IPython.display import HTML, display

    display(HTML(markup))  # type: ignore[no-untyped-call]


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, list):
        return escape(" ".join(str(v) for v in value) or "-")
    return "-" if value is None else escape(str(value))


def _cells(
    columns: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> tuple[list[str], list[list[str]]]:
    """(head, cells) of records for `html_table`: one column per key, values formatted.

    >>> html_table(*_cells(["run", "success/lift"], rows), "gameon-comparison-table", grid=True)
    """
    head = [escape(c.replace("success/", "")) for c in columns]
    return head, [[_cell(row.get(c)) for c in columns] for row in rows]


def comparison_series(root: Path | str, rows: Sequence[Mapping[str, Any]]) -> Series:
    """Mean success of the targets per round, one series per (curriculum, seed) run, from each
    run's evaluations (round 0 is the pretrained policy, the same for every curriculum).

    >>> comparison_series("runs/cmp", table["rows"])   # {"random (seed 0)": [(0, 0.0), ...]}
    """
    series: Series = {}
    for row in rows:
        run = CompareDir(root).run(row.get("run", f"{row['curriculum']}-seed{row['seed']}"))
        targets = run.load_config().loop.targets
        points = []
        for event in ev.EventLog(run.events_path).read(ev.Evaluated):
            rates = [event.results[t]["success"] for t in targets if t in event.results]
            if rates:
                points.append((float(event.round), float(np.mean(rates))))
        series[f"{row.get('arm', row['curriculum'])} (seed {row['seed']})"] = points
    return series


def write_comparison_page(root: Path | str, table: Mapping[str, Any] | None = None) -> Path:
    """compare.html: `comparison_html` as a page of its own, in the comparison's directory."""
    path = CompareDir(root).table("html")
    page = f"<!doctype html><meta charset='utf-8'><title>{Path(root).name}</title>"
    atomic_write_text(path, page + comparison_html(root, table))
    return path


def comparison_html(root: Path | str, table: Mapping[str, Any] | None = None) -> str:
    """The table of `compare_curricula` (read from root/compare.json unless given): per run and
    per curriculum over seeds; charts of the final success of each composite group and of the
    library's size per round under each curriculum, and of the targets' success per round.

    >>> comparison_html("runs/cmp")
    """
    root = Path(root)
    if table is None:
        path = CompareDir(root).table("json")
        if not path.is_file():
            raise FileNotFoundError(f"no {path}: run compare_curricula({str(root)!r}, ...) first")
        table = json.loads(path.read_text())
    rows, columns = list(table["rows"]), list(table["columns"])
    summary = list(table.get("summary", []))
    groups = [g for g in ("stacks", "next to", "towers") if any(g in e for e in summary)]
    bars = bar_chart_svg(
        {
            g: {
                e["curriculum"]: None if e[g] is None else (e[g]["mean"], e[g]["min"], e[g]["max"])
                for e in summary
            }
            for g in groups
        },
        title="final success of the composite skills (mean over seeds; whiskers: min-max)",
    )
    sizes = line_chart_svg(
        {e["curriculum"]: list(enumerate(e["library_size"], start=1)) for e in summary},
        width=560, height=220, title="skills in the library after each round (mean over seeds)",
        x_label="round", integer_x=True,
    )  # fmt: skip
    chart = line_chart_svg(
        comparison_series(root, rows),
        width=560,
        height=260,
        y_range=(0.0, 1.0),
        title="mean success of the targets",
        x_label="round",
        integer_x=True,
    )
    summary_columns = ["curriculum", "seeds", *groups, "learned", "task_success", "library_size"]
    summary_rows = [
        {
            c: f"{e[c]['mean']:.2f} ({e[c]['min']:.2f}-{e[c]['max']:.2f})"
            if isinstance(e.get(c), Mapping)
            else e.get(c)
            for c in summary_columns
        }
        for e in summary
    ]
    charts = [
        svg_img(bars, "final success of the composite skills per curriculum", "gameon-curve")
        if summary
        else "",
        svg_img(sizes, "library size per round per curriculum", "gameon-curve") if summary else "",
        svg_img(chart, "mean success of the targets per round, per curriculum", "gameon-curve"),
    ]
    summary_table = (
        html_table(*_cells(summary_columns, summary_rows), "gameon-comparison-summary", grid=True)
        if summary
        else ""
    )
    return (
        f'<div class="gameon-comparison gameon-static" style="{BOX}">'
        f"{summary_table}{''.join(charts)}"
        f"{html_table(*_cells(columns, rows), 'gameon-comparison-table', grid=True)}"
        '<div style="font-size:11px;color:#666">per curriculum: mean (min-max) over seeds · skill '
        "columns: the final evaluation of the targets and every composite, the same resets for "
        "every run · stacks, next to, towers: their mean · library_size: after each round · "
        "distinct_tasks, sequence_entropy_bits: diversity of the collected data · stack_pairs: "
        "stacks that occurred in it, whatever was practised</div></div>"
    )


def _rate_chip(label: str, value: float | None) -> str:
    if value is None:
        return chip(f"{label} n/a", NEUTRAL)
    colour = SUCCESS if value >= 0.8 else (FAILURE if value < 0.5 else NEUTRAL)
    return chip(f"{label} {value:.2f}", colour)


def _confusion(confusion: Mapping[str, int]) -> str:
    def cell(key: str, good: bool) -> str:
        colour = "#e8f5e9" if good else "#ffebee"
        style = f"{GRID_CELL};background:{colour};text-align:center"
        return f'<td style="{style}">{confusion[key]}</td>'

    return (
        '<table class="gameon-confusion" style="border-collapse:collapse;font-size:12px">'
        f'<tr><th style="{GRID_CELL}"></th><th style="{GRID_CELL}">judged success</th>'
        f'<th style="{GRID_CELL}">judged failure</th></tr>'
        f'<tr><th style="{GRID_CELL}">truly succeeded</th>{cell("true_positive", True)}'
        f"{cell('false_negative', False)}</tr>"
        f'<tr><th style="{GRID_CELL}">truly failed</th>{cell("false_positive", False)}'
        f"{cell('true_negative', True)}</tr></table>"
    )


def agreement_html(report: Mapping[str, Any], title: str = "Judge vs ground truth") -> str:
    """A judge's agreement report: count, accuracy, Cohen's kappa, confusion matrix, fallbacks.

    >>> agreement_html(judge_agreement(exp, store, segments=40))
    """
    who = " · ".join(str(report[k]) for k in ("backend", "model") if report.get(k))
    return (
        f'<div class="gameon-agreement-report gameon-static" style="{BOX}">'
        f"<div><b>{escape(title)}</b>{' · ' + escape(who) if who else ''} · "
        f"{report.get('count', 0)} verdicts of its own "
        f"{_rate_chip('accuracy', report.get('accuracy'))} "
        f"{_rate_chip('kappa', report.get('kappa'))}"
        f" · fallbacks {report.get('fallbacks', 0)} (the scripted judge answered; not counted)"
        "</div>"
        f"{_confusion(report['confusion'])}</div>"
    )


def analyst_html(report: Mapping[str, Any]) -> str:
    """An analyst's agreement report: per flag, all four flags at once, and per curve kind.

    >>> analyst_html(analyst_agreement(exp, synthetic_curves(seed=0)))
    """
    flags = [
        {"flag": flag, "accuracy": r["accuracy"], "kappa": r["kappa"], **r["confusion"]}
        for flag, r in report["by_flag"].items()
    ]
    kind_columns = ["kind", "all four flags right"]
    kinds = [{"kind": k, "all four flags right": v} for k, v in report["by_kind"].items()]
    columns = [
        "flag",
        "accuracy",
        "kappa",
        "true_positive",
        "false_positive",
        "false_negative",
        "true_negative",
    ]
    by_flag = html_table(*_cells(columns, flags), "gameon-analyst-flags", grid=True)
    by_kind = html_table(*_cells(kind_columns, kinds), "gameon-analyst-kinds", grid=True)
    return (
        f'<div class="gameon-analyst-report gameon-static" style="{BOX}">'
        f"<div><b>Analyst vs the rules</b> · {report['count']} curves judged by the analyst "
        f"{_rate_chip('all four flags', report.get('exact'))} · fallbacks "
        f"{report.get('fallbacks', 0)} (the rules answered; not counted)</div>"
        f"{by_flag}{by_kind}</div>"
    )


def curves_gallery_html(curves: Sequence[Any], width: int = 260) -> str:
    """Small charts of labelled curves (SyntheticCurve), each titled by its kind and rule label.

    >>> curves_gallery_html(synthetic_curves(seed=0, per_kind=2))
    """
    charts = []
    for item in curves:
        points = [(float(p["round"]), float(p["rate"])) for p in item.curve]
        flags = item.label.flags()
        said = ", ".join(name.replace("_", " ") for name, on in flags.items() if on) or "nothing"
        svg = line_chart_svg(
            {
                item.kind: points,
                "threshold": [(points[0][0], item.threshold), (points[-1][0], item.threshold)],
            },
            width=width,
            height=150,
            y_range=(0.0, 1.0),
            title=f"{item.kind}: {said}",
            integer_x=True,
            legend=False,
        )
        charts.append(svg_img(svg, f"{item.kind} curve; the rules say {said}", "gameon-curve"))
    return (
        f'<div class="gameon-curve-gallery gameon-static" style="{BOX};display:flex;'
        f'flex-wrap:wrap;gap:6px">{"".join(charts)}</div>'
    )


def judge_examples_html(
    experimenter: Experimenter,
    store: EpisodeStore,
    *,
    camera: str = "experimenter",
    count: int = 4,
    scan: int = 40,
) -> str:
    """JudgementCards (static) of the judge on recorded segments: of the first `scan` segments,
    those it gets wrong first, then the others, `count` in all. Verdicts come through the
    experimenter's ledger, so segments judged before are answered from its cache.

    >>> judge_examples_html(experimenter, RunDir("runs/a").store(), count=3)
    """
    from gameon_nb.experimenter.contexts import JudgeContext
    from gameon_nb.experimenter.evaluation import recorded_segments

    judged = []
    for segment in recorded_segments(store, camera, scan):
        context = JudgeContext(segment.skill, segment.frames, segment.ground_truth)
        judged.append((segment, experimenter.judge_success(context)))
    judged.sort(key=lambda pair: pair[1].success == pair[0].ground_truth)
    cards = [
        judgement_html(
            segment.skill,
            [segment.frames[0], segment.frames[-1]],
            verdict,
            segment.ground_truth,
            labels=[f"episode {segment.episode}: first", "last"],
        )
        for segment, verdict in judged[:count]
    ]
    return (
        f'<div class="gameon-judge-examples gameon-static" style="{BOX}">'
        + ("".join(cards) or "<i>no recorded segments with frames of that camera</i>")
        + "</div>"
    )
