"""HTML reports of executed notebooks in which every gameon widget shows as its static twin.

    >>> html = notebook_html(run.executed_notebook("00_quickstart"))   # self-contained, offline
    >>> run.notebook_report("00_quickstart").write_text(html)          # run = RunDir("runs/q")

nbconvert prefers a widget's live view whenever the notebook stores widget state (nbclient and
papermill store it by default), and that view needs the widget manager from a CDN. Here each
output that carries a `text/html` twin drops its widget view, and the widget state is left out;
the page also leaves out the scripts nbconvert's lab template loads from CDNs (require.js, for
widget managers and old JavaScript outputs; MathJax, for LaTeX in Markdown, which our notebooks
do not use; mermaid, for diagrams), so the report makes no network request and needs no kernel.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

__all__ = ["OFFLINE_TEMPLATE", "WIDGET_VIEW", "notebook_html", "prefer_static"]

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
OFFLINE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""
"""nbconvert's lab template less the blocks that load scripts from CDNs."""


def prefer_static(notebook: Any, *, keep_widget_state: bool = False) -> Any:
    """A copy of a notebook node whose widget outputs with an HTML twin keep only the twin."""
    node = copy.deepcopy(notebook)
    for cell in node.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data and "text/html" in data:
                del data[WIDGET_VIEW]
    if not keep_widget_state:
        node.metadata.pop("widgets", None)
    return node


def notebook_html(notebook: Any | Path | str, *, keep_widget_state: bool = False) -> str:
    """nbconvert's HTML of an executed notebook (node or path), widgets shown as static twins.

    >>> notebook_html("executed.ipynb")                # self-contained: no network request
    >>> notebook_html(node, keep_widget_state=True)   # other widgets' views, from a CDN
    """
    import nbformat
    from nbconvert import HTMLExporter

    node = (
        nbformat.read(Path(notebook), as_version=4)  # type: ignore[no-untyped-call]
        if isinstance(notebook, (str, Path))
        else notebook
    )
    template = {} if keep_widget_state else {"raw_template": OFFLINE_TEMPLATE}
    exporter = HTMLExporter(template_name="lab", **template)  # type: ignore[no-untyped-call]
    html, _ = exporter.from_notebook_node(prefer_static(node, keep_widget_state=keep_widget_state))
    return str(html)
