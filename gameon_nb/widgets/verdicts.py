"""A judge's verdict as the widgets show it, from a plain bool or any verdict-like object.

    >>> as_judgement(True).success, as_judgement(None).success       # (True, None)
    >>> as_judgement(verdict).reasoning        # any object with success, reasoning, backend, ...
    >>> agreement(True, False)                 # 'disagree'

The experimenter's own verdict type is read by attribute (success, reasoning, backend, fallback,
calls), so the widgets do not depend on the experimenter package.
"""

from __future__ import annotations

from collections.abc import Mapping, Sized
from dataclasses import dataclass
from typing import Literal

__all__ = ["Agreement", "Judgement", "agreement", "as_judgement", "fallback_text"]

Agreement = Literal["agree", "disagree", "unjudged", "no ground truth"]


@dataclass(frozen=True)
class Judgement:
    """What a judge said about one skill execution."""

    success: bool | None
    """The verdict; None when the judge gave none."""
    reasoning: str = ""
    """The judge's words for its verdict."""
    backend: str = ""
    """Which backend judged ('scripted', 'gemini', ...)."""
    fallback: str = ""
    """'fallback: why' when the scripted decision stood in for the model's, else ''."""
    calls: int | None = None
    """Model calls the verdict took (retries and repairs included), when known."""


def fallback_text(value: object) -> str:
    """A verdict's `fallback` (bool, reason or None) as the text shown: '' when there was none."""
    if value is None or value is False:
        return ""
    if value is True:
        return "fallback: the configured backend's reply was unusable"
    text = str(value)
    return text if text.startswith("fallback") else f"fallback: {text}"


def _calls(value: object) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Sized):
        return len(value)
    raise TypeError(f"a verdict's calls must be a count or a list of calls, got {value!r}")


def as_judgement(verdict: object) -> Judgement:
    """A Judgement from None, a bool, a mapping or an object with a `success` attribute."""
    if isinstance(verdict, Judgement):
        return verdict
    if verdict is None or isinstance(verdict, bool):
        return Judgement(verdict)
    names = ("success", "reasoning", "backend", "fallback", "calls")
    fields = (
        verdict
        if isinstance(verdict, Mapping)
        else {k: getattr(verdict, k) for k in names if hasattr(verdict, k)}
    )
    if "success" not in fields:
        raise TypeError(
            f"a verdict must be None, a bool, or have a 'success' field; got {type(verdict)!r}"
        )
    success = fields["success"]
    if success is not None and not isinstance(success, bool):
        raise TypeError(f"a verdict's success must be a bool or None, got {success!r}")
    return Judgement(
        success=success,
        reasoning=str(fields.get("reasoning") or ""),
        backend=str(fields.get("backend") or ""),
        fallback=fallback_text(fields.get("fallback")),
        calls=_calls(fields.get("calls")),
    )


def agreement(verdict: bool | None, truth: bool | None) -> Agreement:
    """How a verdict compares with the ground truth."""
    if verdict is None:
        return "unjudged"
    if truth is None:
        return "no ground truth"
    return "agree" if verdict == truth else "disagree"
