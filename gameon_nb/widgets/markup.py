"""HTML pieces shared by the static twins: escaping, chips and badges with inline styles.

    >>> chip("success", "#2e7d32")            # '<span class="gameon-chip" ...>success</span>'
    >>> outcome_text(True), outcome_text(None)  # ('success', '—')

Inline styles only: notebook front ends sanitize `<style>` blocks and scripts away, not these.
"""

from __future__ import annotations

from html import escape

from gameon_nb.widgets.verdicts import Agreement

__all__ = [
    "AGREEMENT_COLOUR",
    "BOX",
    "DISAGREE",
    "FAILURE",
    "NEUTRAL",
    "SUCCESS",
    "chip",
    "escape",
    "outcome_colour",
    "outcome_text",
]

SUCCESS = "#2e7d32"
FAILURE = "#c62828"
NEUTRAL = "#757575"
DISAGREE = "#ffd54f"
"""Marks where the judge disagrees with the ground truth (on green and red alike)."""
AGREEMENT_COLOUR: dict[Agreement, str] = {
    "agree": SUCCESS,
    "disagree": FAILURE,
    "unjudged": NEUTRAL,
    "no ground truth": NEUTRAL,
}
BOX = "font-family:sans-serif;font-size:13px;color:#222;line-height:1.4"
"""Style of every twin's outer box."""


def outcome_text(value: bool | None) -> str:
    return "—" if value is None else ("success" if value else "failure")


def outcome_colour(value: bool | None) -> str:
    return NEUTRAL if value is None else (SUCCESS if value else FAILURE)


def chip(text: str, background: str, css_class: str = "gameon-chip", **data: str) -> str:
    """A small rounded label; `data` become data-* attributes (underscores as dashes)."""
    attrs = "".join(f' data-{k.replace("_", "-")}="{escape(v)}"' for k, v in data.items())
    return (
        f'<span class="{css_class}"{attrs} style="display:inline-block;padding:1px 7px;'
        f"border-radius:9px;background:{background};color:white;font-size:12px;"
        f'white-space:nowrap">{escape(text)}</span>'
    )
