"""HTML reports of executed notebooks in which every gameon widget shows as its static twin.

    >>> html = notebook_html(run.executed_notebook("00_quickstart"))   # self-contained, offline
    >>> run.notebook_report("00_quickstart").write_text(html)          # run = RunDir("runs/q")

nbconvert prefers a widget's live view whenever the notebook stores widget state (nbclient and
papermill store it by default), and that view needs the widget manager from a CDN. Here each
output that carries a `text/html` twin drops its widget view, and the widget state is left out,
so the report needs no network and no kernel.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

__all__ = ["WIDGET_VIEW", "notebook_html", "prefer_static"]

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


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

    >>> notebook_html("executed.ipynb")
    >>> notebook_html(node, keep_widget_state=True)   # other widgets' views, from a CDN
    """
    import nbformat
    from nbconvert import HTMLExporter

    node = (
        nbformat.read(Path(notebook), as_version=4)  # type: ignore[no-untyped-call]
        if isinstance(notebook, (str, Path))
        else notebook
    )
    html, _ = HTMLExporter().from_notebook_node(  # type: ignore[no-untyped-call]
        prefer_static(node, keep_widget_state=keep_widget_state)
    )
    return str(html)
