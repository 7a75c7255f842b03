"""Transport faults as the SDKs surface them: the httpx2 (and httpx) exceptions worth a retry."""

from __future__ import annotations

import importlib

__all__ = ["RETRY_STATUS", "transient_transport_errors"]

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
"""HTTP statuses worth a retry: timeouts, conflicts, rate limits and server errors."""


def transient_transport_errors() -> tuple[type[BaseException], ...]:
    """Timeouts, connection and protocol errors of whichever of httpx2 / httpx is installed.

    google-genai 3.x and openai 3.x speak through httpx2 (a fork of httpx under another name,
    whose exceptions are not httpx's); older releases through httpx.
    """
    found: list[type[BaseException]] = []
    for name in ("httpx2", "httpx"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        for attr in ("TimeoutException", "NetworkError", "RemoteProtocolError"):
            cls = getattr(module, attr, None)
            if isinstance(cls, type) and issubclass(cls, BaseException):
                found.append(cls)
    return tuple(found)
