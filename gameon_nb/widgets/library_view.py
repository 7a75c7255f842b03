"""The skill library at a glance: `SkillLibraryView` and its twin `library_html`.

    >>> view = SkillLibraryView("runs/a"); view   # a run directory, library.json or a library
    >>> view.refresh()                       # re-read the file (the view's button does too)
    >>> library_html(SkillLibrary.initial())

One row per skill: status, latest success rate, a sparkline of its success history, the data it
has (steps with reward 1) and the round it joined. The view keeps no state of its own: the
library file (or object) is the only copy, and `refresh` reads it again.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, TypedDict

import traitlets as t

from gameon_nb.run.dir import RunDir
from gameon_nb.skills.library import LibraryCorruptError, SkillLibrary
from gameon_nb.widgets.assets import asset_path
from gameon_nb.widgets.base import TwinWidget
from gameon_nb.widgets.markup import BOX, chip, escape
from gameon_nb.widgets.svg import sparkline_svg, svg_img

__all__ = [
    "STATUS_COLOUR",
    "LibrarySource",
    "SkillLibraryView",
    "library_html",
    "library_rows",
    "load_library",
    "show_library",
]

LibrarySource = SkillLibrary | Path | str
"""A library, its library.json, or a run directory holding library.json."""

STATUS_COLOUR = {"base": "#546e7a", "learned": "#2e7d32", "candidate": "#ef6c00"}


def library_path(source: Path | str) -> Path:
    path = Path(source)
    return RunDir(path).library_path if path.is_dir() else path


def load_library(source: LibrarySource) -> SkillLibrary:
    """The library itself, or read from library.json (or the run directory holding it)."""
    if isinstance(source, SkillLibrary):
        return source
    path = library_path(source)
    if not path.is_file():
        raise FileNotFoundError(f"no skill library at {path}")
    return SkillLibrary.load(path)


class LibraryRow(TypedDict):
    """One skill as the view and its twin show it (the front end reads these keys)."""

    skill: str
    status: str
    round_added: int | None
    success: float | None
    """The latest evaluated success."""
    episodes: int | None
    history: list[float]
    """Evaluated success per evaluation, oldest first (at `rounds`)."""
    rounds: list[int]
    reward_steps: int


def library_rows(library: SkillLibrary) -> list[LibraryRow]:
    """One row per skill, in library order: what the view and its twin show."""
    return [
        LibraryRow(
            skill=r.text, status=r.status, round_added=r.round_added, success=r.latest_success,
            episodes=int(r.success[-1]["episodes"]) if r.success else None,
            history=[float(s["rate"]) for s in r.success],
            rounds=[int(s["round"]) for s in r.success], reward_steps=r.reward_steps,
        )
        for r in library.records.values()
    ]  # fmt: skip


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{100 * rate:.0f}%"


def library_markup(rows: list[LibraryRow], source: str = "") -> str:
    """The static HTML of library rows (see `library_html`)."""
    cell = "padding:2px 8px;border-bottom:1px solid #eee;text-align:left"
    head = "".join(
        f'<th style="{cell};border-bottom:1px solid #999">{name}</th>'
        for name in ("skill", "status", "success", "history", "data (steps)", "round added")
    )
    body = "".join(
        f'<tr class="gameon-skill-row" data-status="{row["status"]}">'
        f'<td style="{cell}">{escape(row["skill"])}</td>'
        f'<td style="{cell}">{chip(row["status"], STATUS_COLOUR[row["status"]], "gameon-status")}'
        f"</td>"
        f'<td class="gameon-success-rate" style="{cell}">{_percent(row["success"])}'
        + (f' <span style="color:#888">of {row["episodes"]}</span>' if row["episodes"] else "")
        + f"</td>"
        f'<td style="{cell}">'
        + (
            svg_img(sparkline_svg(row["history"]), "success per evaluation", "gameon-sparkline")
            if row["history"]
            else ""
        )
        + f'</td><td style="{cell}">{row["reward_steps"]}</td>'
        f'<td style="{cell}">{"—" if row["round_added"] is None else row["round_added"]}</td>'
        "</tr>"
        for row in rows
    )
    counts = {s: sum(r["status"] == s for r in rows) for s in STATUS_COLOUR}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    where = f' · <span style="color:#888">{escape(source)}</span>' if source else ""
    return (
        f'<div class="gameon-library gameon-static" style="{BOX}">'
        f"<div><b>Skill library</b> · {len(rows)} skills ({summary}){where}</div>"
        f'<table style="border-collapse:collapse;font-size:12px"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def library_html(source: LibrarySource) -> str:
    """Static HTML of a skill library: a table with status chips and success sparklines.

    >>> library_html("runs/a")
    >>> library_html(SkillLibrary.initial())
    """
    where = "" if isinstance(source, SkillLibrary) else str(library_path(source))
    return library_markup(library_rows(load_library(source)), where)


class SkillLibraryView(TwinWidget):
    """A sortable table of the library, refreshable from its file; see the module docstring.

    >>> view = SkillLibraryView(run_dir); view          # run dir, library.json or a library
    >>> view.refresh()
    """

    _esm = asset_path("skill_library.js")
    _css = asset_path("skill_library.css")

    skills: t.List[LibraryRow] = t.List(t.Dict()).tag(sync=True)  # type: ignore[assignment]
    """One row per skill (see `library_rows`)."""
    source = t.Unicode("").tag(sync=True)
    """The library.json shown, or '' for a library object."""
    refreshed = t.Unicode("").tag(sync=True)
    """Local time of the last read."""
    error = t.Unicode("").tag(sync=True)
    """Why the last refresh failed ('' when it did not); the rows shown stay as they were."""

    def __init__(self, library: LibrarySource, **kwargs: Any) -> None:
        self._library = library if isinstance(library, SkillLibrary) else None
        where = "" if isinstance(library, SkillLibrary) else str(library_path(library))
        super().__init__(source=where, **kwargs)
        self.refresh(raise_errors=True)
        self.on_msg(self._on_message)

    def library(self) -> SkillLibrary:
        """The library as it is now (read again from the file when there is one)."""
        return self._library if self._library is not None else load_library(self.source)

    def refresh(self, raise_errors: bool = True) -> None:
        """Read the library again and show it; a failed read is shown, and raised if asked."""
        try:
            rows = library_rows(self.library())
        except (FileNotFoundError, LibraryCorruptError) as error:
            self.error = str(error)
            if raise_errors:
                raise
            return
        self.skills, self.error = rows, ""
        self.refreshed = time.strftime("%H:%M:%S")

    def _on_message(self, widget: Any, content: Any, buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "refresh":
            self.refresh(raise_errors=False)

    def to_html(self) -> str:
        return library_markup(list(self.skills), self.source)


def show_library(source: LibrarySource, *, static: bool = False) -> None:
    """Display a SkillLibraryView, or its static HTML with `static=True`.

    >>> show_library(run_dir)
    >>> show_library("runs/a", static=True)
    """
    from IPython.display import HTML, display

    shown = HTML(library_html(source)) if static else SkillLibraryView(source)  # type: ignore[no-untyped-call]
    display(shown)  # type: ignore[no-untyped-call]
