"""Typed errors of the experimenter: what a VLM call can go wrong with, and how it is handled.

    >>> try: ledger.call(vlm, request, validate)
    ... except BudgetExceededError as error: print(error)   # the cap refused a call
    >>> VLMResponseError("no JSON object", kind="invalid_json").kind
    'invalid_json'

Faults of a reply (`VLMResponseError`) get one repair prompt; faults of the transport after the
retries (`VLMTransportError`), refusals by the budget and other API errors fall back to the scripted
decision. Configuration faults (`BackendConfigError`, `VLMAuthError`, `UnknownBackendError`,
`ReplayMissError` with no fallback) are raised: they need a person, not a fallback.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "BackendConfigError",
    "BudgetExceededError",
    "MissingDependencyError",
    "ReplayMissError",
    "ResponseFault",
    "TransientVLMError",
    "UnknownBackendError",
    "VLMApiError",
    "VLMAuthError",
    "VLMError",
    "VLMResponseError",
    "VLMTransportError",
]

ResponseFault = Literal[
    "invalid_json", "schema", "unknown_skill", "not_in_scene", "empty", "blocked", "invalid"
]


class VLMError(RuntimeError):
    """Base of the faults of one VLM call."""


class TransientVLMError(VLMError):
    """A fault worth retrying (429, 5xx, timeout, connection); raised by backends, retried by the
    ledger, and never seen by the loop."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class VLMTransportError(VLMError):
    """Transient faults that outlasted every retry."""


class VLMApiError(VLMError):
    """An API error that retrying cannot fix and a person need not (e.g. 400 Bad Request)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class VLMAuthError(VLMError):
    """The server refused the key or does not know the model (401, 403, 404): fix the config."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class VLMResponseError(VLMError):
    """A reply that cannot be used: invalid JSON, a schema violation, an unknown skill, an object
    that is not in the scene, an empty or a safety-blocked reply."""

    def __init__(self, message: str, kind: ResponseFault) -> None:
        super().__init__(message)
        self.kind: ResponseFault = kind


class BudgetExceededError(VLMError):
    """A call the budget cap refused before anything was sent."""


class ReplayMissError(VLMError):
    """The replay backend has no recorded answer for a request (and no fallback is named)."""


class UnknownBackendError(KeyError):
    """A backend name that is not in the registry; the message lists the known ones."""

    def __str__(self) -> str:
        return str(self.args[0])


class BackendConfigError(ValueError):
    """A backend that cannot be built as configured (no key, no replay log, ...)."""


class MissingDependencyError(ImportError):
    """An optional dependency a backend needs; the message names the pip install command."""
