"""A judge's verdict as the widgets show it, from a plain bool or any verdict-like object.

    >>> as_judgement(True).success, as_judgement(None).success       # (True, None)
    >>> as_judgement(verdict).reasoning        # any object with success, reasoning, backend, ...
    >>> agreement(True, False)                 # 'disagree'
    >>> episode_verdicts(EventLog(run.events_path).read(), 7, 2)   # [Judgement(True, ...), None]

The experimenter's own verdict type is read by attribute (success, reasoning, backend, fallback,
calls), so the widgets do not depend on the experimenter package. What the loop's judge said is
in the run's event log; `episode_verdicts` gives one episode's, per skill segment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Sized
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # the loop's modules import torch: loaded where events are read
    from gameon_nb.loop.events import Event
    from gameon_nb.loop.summaries import JudgedExecution

__all__ = [
    "Agreement",
    "Judgement",
    "agreement",
    "as_judgement",
    "episode_verdicts",
    "executions_judged",
    "fallback_text",
    "judgement_of",
    "telling_verdict",
]

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


def judgement_of(judged: JudgedExecution) -> Judgement:
    """The Judgement of one execution the loop's judge judged (an event's verdict)."""
    return Judgement(
        judged["verdict"],
        str(judged.get("reasoning") or ""),
        str(judged.get("backend") or ""),
        fallback_text(judged.get("fallback")),
    )


def telling_verdict(verdicts: Sequence[JudgedExecution]) -> JudgedExecution:
    """The one of a judge stage's verdicts worth showing: the first that disagrees with the
    ground truth, else the first."""
    return next((v for v in verdicts if v["verdict"] != v["truth"]), verdicts[0])


def executions_judged(events: Iterable[Event]) -> dict[tuple[int, int | None], JudgedExecution]:
    """Every execution the judge judged in a log, by (episode, segment); segment None is the
    task. A later verdict on the same execution (a judge stage run again) replaces the earlier.

    >>> executions_judged(EventLog(run.events_path).read())[(7, 0)]["verdict"]
    """
    from gameon_nb.loop.events import JudgeAgreement  # loaded already: the events are its

    return {
        (int(v["episode"]), None if v["segment"] is None else int(v["segment"])): v
        for e in events
        if isinstance(e, JudgeAgreement)
        for v in e.verdicts
    }


def episode_verdicts(
    events: Iterable[Event], episode: int, segments: int
) -> list[Judgement | None]:
    """The judge's word on each of an episode's `segments` skill segments, None where it did not
    judge: what `RolloutViewer(..., verdicts=)` takes.

    >>> episode_verdicts(EventLog(run.events_path).read(), 7, 2)   # [Judgement(True, ...), None]
    >>> viewer.set_verdicts(episode_verdicts(events, viewer.episode_id, len(viewer.segments)))
    """
    shown: list[Judgement | None] = [None] * segments
    for (judged_episode, segment), judged in executions_judged(events).items():
        if judged_episode != episode or segment is None:
            continue
        if not 0 <= segment < segments:
            raise ValueError(
                f"the log judged segment {segment} of episode {episode}, which has {segments}"
            )
        shown[segment] = judgement_of(judged)
    return shown
