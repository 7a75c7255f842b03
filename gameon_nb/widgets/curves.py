"""Learning curves: per-skill success over rounds and training metrics over steps, live or static.

    >>> curves = LearningCurves(library=run_dir); curves       # a plotly FigureWidget
    >>> for row in learner.fit(2000): curves.append(row)         # rows with a "step" key
    >>> curves_html(run_dir, metrics=rows)                       # SVG charts, no scripts

`LearningCurves` wraps a plotly `FigureWidget` (plotly's own front end, no CDN) and carries the
static twin in its display, like every gameon widget. Its two panels (success over rounds, metrics
over steps) are laid out for what they hold: a panel with nothing to plot takes no room, and each
panel is at least as tall as its legend, which sits beside it, so 19 skills' names neither overlap
the other panel's nor scroll. Metrics whose name holds "loss" start visible; the others are one
click away in the legend (their scales differ by orders).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gameon_nb.progress import front_end
from gameon_nb.widgets.base import MimeBundle
from gameon_nb.widgets.library_view import LibrarySource, load_library
from gameon_nb.widgets.markup import BOX, escape
from gameon_nb.widgets.svg import colour, dash, line_chart_svg, svg_img

__all__ = [
    "LearningCurves",
    "Series",
    "curves_html",
    "default_shown",
    "metric_series",
    "panel_layout",
    "show_curves",
    "success_series",
]

Series = dict[str, list[tuple[float, float]]]
"""Named (x, y) points: skill -> (round, success rate), or metric -> (step, value)."""

STEP = "step"
LEGEND_ROW = 19
"""Pixels per legend entry: a panel is at least this times its series tall."""
PANEL = {"success": 240, "metrics": 200}
"""Least height of each panel in pixels."""
GAP, TOP, BOTTOM = 80, 40, 50
"""Pixels between the panels (the upper one's axis title and the lower one's title), above and
below them."""


def _title(text: str, y: float) -> dict[str, Any]:
    """A panel's title, above its top left corner."""
    at = {"x": 0, "xref": "paper", "xanchor": "left", "y": y, "yref": "paper", "yanchor": "bottom"}
    return at | {"text": text, "showarrow": False, "font": {"size": 13}}


def panel_layout(skills: int, metrics: int) -> dict[str, Any]:
    """The plotly layout of the two panels for `skills` success and `metrics` metric series.

    >>> panel_layout(19, 0)["height"]          # one panel, tall enough for 19 legend entries
    """
    heights = {
        "success": max(PANEL["success"], LEGEND_ROW * skills + 10) if skills else 0,
        "metrics": max(PANEL["metrics"], LEGEND_ROW * metrics + 10) if metrics else 0,
    }
    if not any(heights.values()):
        heights["success"] = PANEL["success"]  # an empty chart still shows its axes
    gap = GAP if all(heights.values()) else 0
    plot = heights["success"] + gap + heights["metrics"]
    low = (heights["metrics"] + gap) / plot
    domains = {"success": [low, 1.0], "metrics": [0.0, heights["metrics"] / plot]}
    titles = {
        "success": "success rate per skill (click a name to hide it, double-click to isolate it)",
        "metrics": "training metrics (click a name to show or hide it)",
    }
    layout: dict[str, Any] = {
        "height": TOP + plot + BOTTOM,
        "margin": {"l": 50, "r": 10, "t": TOP, "b": BOTTOM},
        "template": "plotly_white",
        "showlegend": True,
        "annotations": [_title(titles[p], domains[p][1]) for p in heights if heights[p]],
    }
    for p, axis, legend in (("success", "", "legend"), ("metrics", "2", "legend2")):
        shown = bool(heights[p])
        layout[f"yaxis{axis}"] = {"domain": domains[p] if shown else [0.0, 0.0], "visible": shown}
        layout[f"xaxis{axis}"] = {"anchor": f"y{axis}", "visible": shown}
        layout[legend] = {
            "x": 1.02, "xanchor": "left", "y": domains[p][1], "yanchor": "top",
            "font": {"size": 11}, "tracegroupgap": 0, "visible": shown,
        }  # fmt: skip
    layout["xaxis"] |= {"title": {"text": "round"}, "dtick": 1}
    layout["yaxis"] |= {"range": [-0.02, 1.02]}
    layout["xaxis2"] |= {"title": {"text": "step"}}
    return layout


def success_series(library: LibrarySource) -> Series:
    """Each evaluated skill's (round, success rate) points, in library order."""
    lib = load_library(library)
    return {
        text: [(float(s["round"]), float(s["rate"])) for s in record.success]
        for text, record in lib.records.items()
        if record.success
    }


def metric_series(rows: Iterable[Mapping[str, float]]) -> Series:
    """Training metric rows (each with a "step") as one (step, value) series per metric."""
    series: Series = {}
    for row in rows:
        if STEP not in row:
            raise KeyError(f"a metrics row needs a {STEP!r}; got keys {sorted(row)}")
        step = float(row[STEP])
        for name, value in row.items():
            if name != STEP:
                series.setdefault(name, []).append((step, float(value)))
    return series


def default_shown(names: Iterable[str]) -> list[str]:
    """Metrics shown at first: those named '*loss*', or all when none is."""
    names = list(names)
    return [n for n in names if "loss" in n] or names


def curves_markup(
    success: Series, metrics: Series, shown: Sequence[str] | None = None, *, width: int = 420
) -> str:
    """The static HTML of success and metric series (see `curves_html`)."""
    shown = default_shown(metrics) if shown is None else [m for m in shown if m in metrics]
    charts = []
    if success:
        svg = line_chart_svg(
            success,
            width=width,
            y_range=(0.0, 1.0),
            title="success rate",
            x_label="round",
            integer_x=True,
        )
        charts.append(svg_img(svg, "success rate per skill over rounds", "gameon-curve"))
    for name in shown:
        svg = line_chart_svg(
            {name: metrics[name]},
            width=width,
            height=160,
            title=name,
            x_label="step",
            markers=len(metrics[name]) <= 30,
            legend=False,
        )
        charts.append(svg_img(svg, f"{name} over training steps", "gameon-curve"))
    hidden = [m for m in metrics if m not in shown]
    note = (
        f'<div style="font-size:11px;color:#888">also logged: {escape(", ".join(hidden))}</div>'
        if hidden
        else ""
    )
    body = "".join(charts) or "<i>no evaluations or training metrics yet</i>"
    return (
        f'<div class="gameon-curves gameon-static" style="{BOX}">'
        f'<div style="display:flex;flex-wrap:wrap;gap:8px">{body}</div>{note}</div>'
    )


def curves_html(
    library: LibrarySource | None = None,
    metrics: Iterable[Mapping[str, float]] | None = None,
    *,
    shown: Sequence[str] | None = None,
    width: int = 420,
) -> str:
    """Static HTML of learning curves: success per skill over rounds, metrics over steps.

    >>> curves_html(run_dir)                                   # success from library.json
    >>> curves_html(metrics=learner.fit(500), shown=["critic_loss", "bc_loss"])

    Charts are SVG images inline; `shown` picks the metrics drawn (default: the '*loss*' ones).
    """
    success = success_series(library) if library is not None else {}
    return curves_markup(success, metric_series(metrics or []), shown, width=width)


class LearningCurves:
    """Live learning curves in a plotly FigureWidget; see the module docstring.

    >>> curves = LearningCurves(run_dir); curves               # shows the widget
    >>> curves.append({"step": 100, "critic_loss": 0.7}); curves.update(library=run_dir)
    """

    def __init__(
        self,
        library: LibrarySource | None = None,
        metrics: Iterable[Mapping[str, float]] | None = None,
        *,
        shown: Sequence[str] | None = None,
    ) -> None:
        import plotly.graph_objects as go

        self.figure: Any = go.FigureWidget(layout=panel_layout(0, 0))
        """The plotly FigureWidget; put it in ipywidgets layouts as any widget."""
        self.success: Series = {}
        self.metrics: Series = {}
        self.shown = list(shown) if shown is not None else None
        self.update(library=library, metrics=metrics)

    def update(
        self,
        library: LibrarySource | None = None,
        metrics: Iterable[Mapping[str, float]] | None = None,
    ) -> None:
        """Replace the success curves (from a library) and/or the metrics (from rows)."""
        if library is not None:
            self.success = success_series(library)
        if metrics is not None:
            self.metrics = metric_series(metrics)
        self._draw()

    def append(self, *rows: Mapping[str, float]) -> None:
        """Add training metric rows (each with a "step") and redraw the metrics."""
        for name, points in metric_series(rows).items():
            self.metrics.setdefault(name, []).extend(points)
        self._draw()

    def append_success(self, skill: str, round: int, rate: float) -> None:
        """Add one evaluation of `skill` and redraw the success curves."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"a success rate is in [0, 1], got {rate}")
        self.success.setdefault(skill, []).append((float(round), float(rate)))
        self._draw()

    def shown_metrics(self) -> list[str]:
        return default_shown(self.metrics) if self.shown is None else list(self.shown)

    def _draw(self) -> None:
        traces = {(tr.legend or "legend", tr.name): tr for tr in self.figure.data}
        shown = set(self.shown_metrics())
        # colours by position within each panel, as in the static twin
        wanted = [
            ("legend", name, points, "", True, i)
            for i, (name, points) in enumerate(self.success.items())
        ]
        wanted += [
            ("legend2", name, points, "2", name in shown, i)
            for i, (name, points) in enumerate(self.metrics.items())
        ]
        layout = panel_layout(len(self.success), len(self.metrics))
        # the titles on their own: plotly.js refuses one relayout that sets a list and an item
        titles = layout.pop("annotations")
        if [(a.text, a.y) for a in self.figure.layout.annotations] != [
            (t["text"], t["y"]) for t in titles
        ]:
            self.figure.layout.annotations = titles
        with self.figure.batch_update():
            self.figure.update_layout(layout)
            for legend, name, points, axis, visible, i in wanted:
                xs = [x for x, _ in points]
                ys = [y if math.isfinite(y) else None for _, y in points]
                trace = traces.get((legend, name))
                if trace is None:
                    self.figure.add_scatter(
                        x=xs,
                        y=ys,
                        name=name,
                        legend=legend,
                        mode="lines" if axis else "lines+markers",
                        visible=True if visible else "legendonly",
                        line={"color": colour(i), "dash": dash(i)[0]},
                        marker={"color": colour(i)},
                        xaxis=f"x{axis}",
                        yaxis=f"y{axis}",
                    )
                else:
                    trace.x, trace.y = xs, ys

    def to_html(self) -> str:
        """The static twin (SVG charts) of what is plotted now."""
        return curves_markup(self.success, self.metrics, self.shown_metrics())

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_mimebundle_(self, **kwargs: Any) -> MimeBundle:
        bundle = self.figure._repr_mimebundle_(**kwargs)
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        return {"text/plain": repr(self), **data, "text/html": self.to_html()}, metadata

    def __repr__(self) -> str:
        return f"LearningCurves({len(self.success)} skills, {len(self.metrics)} metrics)"


def show_curves(
    library: LibrarySource | None = None,
    metrics: Iterable[Mapping[str, float]] | None = None,
    *,
    static: bool | None = None,
    **kwargs: Any,
) -> None:
    """Display LearningCurves, or their static HTML with `static=True`.

    >>> show_curves(run_dir, metrics=rows)
    >>> show_curves(run_dir, static=True)

    By default the static HTML where no one watches the kernel (papermill, `gameon batch`: see
    `gameon_nb.progress.front_end`), since the executed notebook would save plotly's 5 MB
    bundle with the widget; a `height` is then left out (LearningCurves' only).
    """
    from IPython.display import HTML, display

    if static is None:
        static = front_end() == "headless"
    if static:
        kwargs.pop("height", None)
    shown = (
        HTML(curves_html(library, metrics, **kwargs))  # type: ignore[no-untyped-call]
        if static
        else LearningCurves(library, metrics, **kwargs)
    )
    display(shown)  # type: ignore[no-untyped-call]
