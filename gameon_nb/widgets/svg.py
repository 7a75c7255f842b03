"""Small SVG charts for the static HTML twins: line charts, sparklines, per-segment reward lanes.

    >>> svg = line_chart_svg({"lift": [(0, 0.1), (1, 0.6)]}, y_range=(0, 1), title="success")
    >>> sparkline_svg([0.2, 0.5, 0.9])
    >>> svg_img(svg, "success per round")      # <img> with a data: URI, safe under sanitizers

Charts are returned as strings and shown through `<img src="data:image/svg+xml;...">`, which
every notebook front end and HTML sanitizer lets through; nothing here needs a browser script.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

from gameon_nb.widgets.encoding import data_uri

__all__ = [
    "PALETTE",
    "bar_chart_svg",
    "colour",
    "dash",
    "line_chart_svg",
    "nice_ticks",
    "reward_lanes_svg",
    "sparkline_svg",
    "svg_img",
]

PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
"""The categorical colours (plotly's and D3's default), shared with the front ends."""

_FONT = "font-family='sans-serif' font-size='11' fill='#444'"


DASHES = (("solid", ""), ("dash", "5 3"), ("dot", "1.5 2.5"))
"""Line styles of the palette's first, second and third rounds: (plotly's name, SVG dasharray),
so that series 11 and up (19 skills in a run's success chart) stay told apart."""


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def dash(index: int) -> tuple[str, str]:
    """The line style of series `index`: solid for the first ten, then dashed, then dotted."""
    return DASHES[index // len(PALETTE) % len(DASHES)]


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high], about `count` of them."""
    if not math.isfinite(low) or not math.isfinite(high):
        raise ValueError(f"tick range must be finite, got {low}, {high}")
    if high <= low:
        return [low]
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = first
    while value <= high + 1e-9 * step:
        ticks.append(round(value, 12))
        value += step
    return ticks


def _label(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e5 else f"{value:.2g}"


def _range(values: Sequence[float], fixed: tuple[float, float] | None) -> tuple[float, float]:
    if fixed is not None:
        return fixed
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return 0.0, 1.0
    low, high = min(finite), max(finite)
    if low == high:
        return low - 0.5, high + 0.5
    pad = 0.05 * (high - low)
    return low - pad, high + pad


def line_chart_svg(
    series: Mapping[str, Sequence[tuple[float, float]]],
    *,
    width: int = 480,
    height: int = 220,
    y_range: tuple[float, float] | None = None,
    title: str = "",
    x_label: str = "",
    markers: bool = True,
    integer_x: bool = False,
    legend: bool = True,
) -> str:
    """An SVG line chart of named (x, y) series, with axes, ticks and (optionally) a legend."""
    left, right, top, bottom = 44, 18, 22 if title else 10, 30
    legend_rows = len(series) if legend else 0
    legend_height = 14 * legend_rows
    plot_w, plot_h = width - left - right, height - top - bottom
    total_h = height + legend_height
    xs = [x for points in series.values() for x, _ in points]
    ys = [y for points in series.values() for _, y in points]
    x0, x1 = (min(xs), max(xs)) if xs else (0.0, 1.0)
    if x0 == x1:
        x0, x1 = x0 - 1, x1 + 1
    y0, y1 = _range(ys, y_range)

    def sx(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * plot_w

    def sy(y: float) -> float:
        return top + (1 - (y - y0) / (y1 - y0)) * plot_h

    parts = _canvas(width, total_h, title, left, plot_w, [(t, sy(t)) for t in nice_ticks(y0, y1)])
    x_ticks = nice_ticks(x0, x1, 6)
    if integer_x:
        x_ticks = [tick for tick in x_ticks if tick == int(tick)]
    for tick in x_ticks:
        x = sx(tick)
        parts.append(
            f"<text x='{x:.1f}' y='{top + plot_h + 14}' text-anchor='middle' {_FONT}>"
            f"{_label(tick)}</text>"
        )
    parts.append(
        f"<rect x='{left}' y='{top}' width='{plot_w}' height='{plot_h}' fill='none' stroke='#999'/>"
    )
    if x_label:
        parts.append(
            f"<text x='{left + plot_w / 2:.1f}' y='{top + plot_h + 27}' text-anchor='middle' "
            f"{_FONT}>{escape(x_label)}</text>"
        )
    for i, (name, points) in enumerate(series.items()):
        col, dashes = colour(i), dash(i)[1]
        style = f" stroke-dasharray='{dashes}'" if dashes else ""
        finite = [(x, y) for x, y in points if math.isfinite(y)]
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in finite)
        parts.append(
            f"<polyline points='{path}' fill='none' stroke='{col}' stroke-width='1.5'{style}/>"
        )
        if markers:
            parts.extend(
                f"<circle cx='{sx(x):.1f}' cy='{sy(y):.1f}' r='2.5' fill='{col}'/>"
                for x, y in finite
            )
        if not legend:
            continue
        ly = height + 14 * i + 4
        parts.append(
            f"<line x1='{left}' x2='{left + 10}' y1='{ly + 5}' y2='{ly + 5}' stroke='{col}' "
            f"stroke-width='2.5'{style}/>"
            f"<text x='{left + 14}' y='{ly + 9}' {_FONT}>{escape(name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def sparkline_svg(
    values: Sequence[float],
    *,
    width: int = 80,
    height: int = 20,
    y_range: tuple[float, float] = (0.0, 1.0),
    stroke: str = "#1f77b4",
) -> str:
    """A tiny line of `values` (e.g. a skill's success rates over evaluations)."""
    low, high = y_range
    n = len(values)

    def point(i: int, v: float) -> str:
        x = 2 + (i / (n - 1) if n > 1 else 0.5) * (width - 4)
        y = 2 + (1 - (min(max(v, low), high) - low) / (high - low)) * (height - 4)
        return f"{x:.1f},{y:.1f}"

    points = [point(i, v) for i, v in enumerate(values)]
    body = f"<polyline points='{' '.join(points)}' fill='none' stroke='{stroke}'/>" if n > 1 else ""
    last = (
        f"<circle cx='{points[-1].split(',')[0]}' cy='{points[-1].split(',')[1]}' r='2' "
        f"fill='{stroke}'/>"
        if points
        else ""
    )
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}'>"
        f"<line x1='0' x2='{width}' y1='{height - 2}' y2='{height - 2}' stroke='#ddd'/>"
        f"{body}{last}</svg>"
    )


def reward_lanes_svg(
    lanes: Sequence[tuple[str, Sequence[float], tuple[int, int]]],
    steps: int,
    *,
    width: int = 480,
    lane_height: int = 28,
) -> str:
    """One lane per segment: its skill's reward at every step, the segment's own steps shaded."""
    height = lane_height * len(lanes)
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}'>",
        f"<rect x='0' y='0' width='{width}' height='{height}' fill='white'/>",
    ]
    scale = width / max(steps, 1)
    for i, (label, rewards, (start, end)) in enumerate(lanes):
        col = colour(i)
        top = i * lane_height
        low, high = top + lane_height - 3, top + 14
        parts.append(
            f"<rect x='{start * scale:.1f}' y='{top + 1}' width='{(end - start) * scale:.1f}' "
            f"height='{lane_height - 2}' fill='{col}' fill-opacity='0.12'/>"
        )
        points = []
        for t, r in enumerate(rewards):
            y = low + (high - low) * min(max(r, 0.0), 1.0)
            points.append(f"{t * scale:.1f},{y:.1f} {(t + 1) * scale:.1f},{y:.1f}")
        parts.append(
            f"<polyline points='{' '.join(points)}' fill='none' stroke='{col}' "
            "stroke-width='1.5'/>"
            f"<text x='3' y='{top + 12}' {_FONT}>{escape(label)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart_svg(
    groups: Mapping[str, Mapping[str, tuple[float, float, float] | None]],
    *,
    width: int = 560,
    height: int = 240,
    y_range: tuple[float, float] = (0.0, 1.0),
    title: str = "",
) -> str:
    """Grouped bars: per group (x axis), one bar per series of (mean, low, high); None is no bar.

    >>> bar_chart_svg({"stacks": {"experimenter": (0.6, 0.4, 0.8), "none": (0.2, 0.1, 0.3)}})

    The whisker spans (low, high), e.g. the smallest and largest value over seeds.
    """
    names = list(dict.fromkeys(n for bars in groups.values() for n in bars))
    left, right, top, bottom = 44, 18, 22 if title else 10, 30
    legend_height = 14 * len(names)
    plot_w, plot_h = width - left - right, height - top - bottom
    total_h = height + legend_height
    y0, y1 = y_range

    def sy(y: float) -> float:
        return top + (1 - (min(max(y, y0), y1) - y0) / (y1 - y0)) * plot_h

    parts = _canvas(width, total_h, title, left, plot_w, [(t, sy(t)) for t in nice_ticks(y0, y1)])
    slot = plot_w / max(len(groups), 1)
    bar = slot * 0.8 / max(len(names), 1)
    for g, (group, bars) in enumerate(groups.items()):
        x_group = left + g * slot + slot * 0.1
        parts.append(
            f"<text x='{left + (g + 0.5) * slot:.1f}' y='{top + plot_h + 14}' "
            f"text-anchor='middle' {_FONT}>{escape(group)}</text>"
        )
        for i, name in enumerate(names):
            value = bars.get(name)
            if value is None:
                continue
            mean, low, high = value
            x = x_group + i * bar
            parts.append(
                f"<rect x='{x:.1f}' y='{sy(mean):.1f}' width='{bar * 0.9:.1f}' "
                f"height='{sy(y0) - sy(mean):.1f}' fill='{colour(i)}'>"
                f"<title>{escape(name)} · {escape(group)}: {mean:.2f} ({low:.2f}-{high:.2f})"
                "</title></rect>"
                f"<line x1='{x + bar * 0.45:.1f}' x2='{x + bar * 0.45:.1f}' y1='{sy(low):.1f}' "
                f"y2='{sy(high):.1f}' stroke='#333'/>"
            )
    parts.append(
        f"<rect x='{left}' y='{top}' width='{plot_w}' height='{plot_h}' fill='none' stroke='#999'/>"
    )
    for i, name in enumerate(names):
        ly = height + 14 * i + 4
        parts.append(
            f"<rect x='{left}' y='{ly}' width='10' height='10' fill='{colour(i)}'/>"
            f"<text x='{left + 14}' y='{ly + 9}' {_FONT}>{escape(name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def svg_img(svg: str, alt: str, css_class: str = "") -> str:
    """An <img> showing `svg` from a data: URI."""
    uri = data_uri(svg.encode(), "image/svg+xml")
    cls = f" class='{escape(css_class)}'" if css_class else ""
    return f"<img{cls} src='{uri}' alt='{escape(alt)}' title='{escape(alt)}'>"


def _canvas(
    width: int,
    height: int,
    title: str,
    left: float,
    plot_w: float,
    y_ticks: list[tuple[float, float]],
) -> list[str]:
    """The opening of a chart: the svg element, a white ground, the title, and a grid line and
    label at each (value, y) of `y_ticks`."""
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}'>",
        f"<rect x='0' y='0' width='{width}' height='{height}' fill='white'/>",
    ]
    if title:
        parts.append(f"<text x='{left}' y='14' {_FONT} font-weight='bold'>{escape(title)}</text>")
    for tick, y in y_ticks:
        parts.append(
            f"<line x1='{left}' x2='{left + plot_w}' y1='{y:.1f}' y2='{y:.1f}' stroke='#eee'/>"
            f"<text x='{left - 4}' y='{y + 4:.1f}' text-anchor='end' {_FONT}>{_label(tick)}</text>"
        )
    return parts
