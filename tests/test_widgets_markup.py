"""The one table helper and the one data: URI helper of the static twins."""

from __future__ import annotations

import base64

from gameon_nb.widgets.encoding import data_uri
from gameon_nb.widgets.markup import html_table
from gameon_nb.widgets.svg import svg_img

TABLE = '<table{cls} style="border-collapse:collapse;font-size:12px;margin:4px 0">'


def test_a_table_ruled_between_rows() -> None:
    cell = "padding:2px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top"
    assert html_table(["a", "b"], [["1", "<i>2</i>"]], "gameon-x") == (
        TABLE.format(cls=' class="gameon-x"')
        + f'<thead><tr><th style="{cell};border-bottom:1px solid #999">a</th>'
        f'<th style="{cell};border-bottom:1px solid #999">b</th></tr></thead>'
        f'<tbody><tr><td style="{cell}">1</td><td style="{cell}"><i>2</i></td></tr></tbody></table>'
    )
    assert html_table(["a"], []).startswith(TABLE.format(cls=""))


def test_a_grid_table() -> None:
    cell = "padding:2px 8px;border:1px solid #ddd;text-align:left"
    assert html_table(["a"], [["1"], ["2"]], "gameon-y", grid=True) == (
        TABLE.format(cls=' class="gameon-y"')
        + f'<thead><tr><th style="{cell};background:#f5f5f5">a</th></tr></thead><tbody>'
        f'<tr><td style="{cell}">1</td></tr><tr><td style="{cell}">2</td></tr></tbody></table>'
    )


def test_data_uri_of_bytes_and_of_an_svg() -> None:
    assert data_uri(b"\x89PNG", "image/png") == "data:image/png;base64,iVBORw=="
    svg = "<svg>é</svg>"
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")
    assert svg_img(svg, "a chart") == f"<img src='{uri}' alt='a chart' title='a chart'>"


def test_the_domain_tour_names_a_skills_kind_as_the_library_does() -> None:
    from gameon_nb.sim.env import make_env
    from gameon_nb.skills.library import SkillLibrary
    from gameon_nb.widgets.domain import predicate_table

    env = make_env()
    env.reset(seed=0)
    table = predicate_table(env.scene_state())
    env.close()
    library = SkillLibrary.initial()
    assert dict(zip(table.skill, table.kind, strict=True)) == {
        text: record.status for text, record in library.records.items()
    }
