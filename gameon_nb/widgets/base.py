"""`TwinWidget`: an anywidget that also carries its static HTML twin in every display.

    >>> class Card(TwinWidget):
    ...     def to_html(self) -> str: return "<p>card</p>"
    >>> Card()._repr_mimebundle_()[0]["text/html"]     # '<p>card</p>'

A live front end renders the widget view; nbconvert without widget state, an untrusted notebook
or any viewer without the widget manager falls back to the `text/html` beside it.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import anywidget

__all__ = ["MimeBundle", "TwinWidget"]

MimeBundle: TypeAlias = tuple[dict[str, object], dict[str, object]]
"""IPython's display pair: (mime type -> data, mime type -> metadata)."""


class TwinWidget(anywidget.AnyWidget):
    """Base of the gameon widgets; subclasses give `to_html()`, the pure static rendering."""

    def to_html(self) -> str:
        """Self-contained HTML of what the widget shows now (no scripts, no server)."""
        raise NotImplementedError(f"{type(self).__name__} must define to_html()")

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_mimebundle_(self, **kwargs: Any) -> MimeBundle | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, metadata = bundle
        return {**data, "text/html": self.to_html()}, metadata
