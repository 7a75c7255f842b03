"""How well an experimenter's judge and analyst agree with the rules: accuracy, kappa, confusion.

    >>> judge_agreement(exp, RunDir("runs/a").store(), segments=50)
    {'count': 50, 'accuracy': 0.92, 'kappa': 0.81, 'confusion': {...}, 'fallbacks': 0, ...}
    >>> analyst_agreement(exp, synthetic_curves(seed=0, per_kind=5))

The judge is scored against the ground-truth predicates of recorded segments, the analyst
against rule-labelled curves (synthetic ones, or real ones from a run's library). The scripted
backend reads the same ground truth and rules, so it scores 1.0: it is the reference.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TypedDict

from gameon_nb.data.store import EpisodeStore
from gameon_nb.experimenter.contexts import CurveContext, Image, JudgeContext
from gameon_nb.experimenter.curves import SyntheticCurve, label_curve
from gameon_nb.experimenter.experimenter import Experimenter
from gameon_nb.experimenter.ledger import Usage
from gameon_nb.skills.library import SkillLibrary

__all__ = [
    "Agreement",
    "AnalystReport",
    "Confusion",
    "JudgeReport",
    "Segment",
    "agreement",
    "analyst_agreement",
    "cohen_kappa",
    "judge_agreement",
    "library_curves",
    "recorded_segments",
]


class Confusion(TypedDict):
    """Counts of truth by prediction."""

    true_positive: int
    false_positive: int
    false_negative: int
    true_negative: int


class Agreement(TypedDict):
    """`agreement()`: how far predictions agree with the truth (None: nothing to compare)."""

    count: int
    accuracy: float | None
    kappa: float | None
    confusion: Confusion


class JudgeReport(Agreement):
    """`judge_agreement()`: the judge's agreement, who judged, its fallbacks and its spending."""

    backend: str
    model: str
    fallbacks: int
    usage: Usage


class AnalystReport(TypedDict):
    """`analyst_agreement()`: per flag, all four flags at once, and per curve kind."""

    count: int
    exact: float | None
    """Share of curves with all four flags right."""
    by_flag: dict[str, Agreement]
    by_kind: dict[str, float]
    fallbacks: int


@dataclass(frozen=True, eq=False)
class Segment:
    """One executed skill of a stored episode: its frames and the predicate's verdict."""

    episode: int
    index: int
    skill: str
    frames: list[Image]
    ground_truth: bool


def recorded_segments(
    store: EpisodeStore, camera: str = "experimenter", limit: int | None = None
) -> Iterator[Segment]:
    """Segments of the store's episodes in id order, with the camera's frames from each segment's
    first to its last state; episodes without that camera's frames are skipped."""
    count = 0
    for episode_id in store.ids():
        if limit is not None and count >= limit:
            return
        if camera not in store.meta(episode_id).get("cameras", []):
            continue
        episode = store.load(episode_id)
        truths = episode.segment_success()
        for index, skill in enumerate(episode.skills):
            if limit is not None and count >= limit:
                return
            frames, _ = episode.segment_frames(camera, index)
            if not frames:
                continue
            yield Segment(episode_id, index, skill, frames, truths[index])
            count += 1


def cohen_kappa(truth: Sequence[bool], predicted: Sequence[bool]) -> float | None:
    """Cohen's kappa of two binary raters; None where chance agreement is 1 (one class only)."""
    if len(truth) != len(predicted):
        raise ValueError(f"{len(truth)} labels but {len(predicted)} predictions")
    n = len(truth)
    if n == 0:
        return None
    observed = sum(t == p for t, p in zip(truth, predicted, strict=True)) / n
    p_true, p_pred = sum(truth) / n, sum(predicted) / n
    chance = p_true * p_pred + (1 - p_true) * (1 - p_pred)
    if chance >= 1.0:
        return None
    return (observed - chance) / (1 - chance)


def agreement(truth: Sequence[bool], predicted: Sequence[bool]) -> Agreement:
    """Count, accuracy, Cohen's kappa and the confusion matrix (truth by prediction)."""
    pairs = list(zip(truth, predicted, strict=True))
    n = len(pairs)
    kappa = cohen_kappa(truth, predicted)
    return {
        "count": n,
        "accuracy": round(sum(t == p for t, p in pairs) / n, 4) if n else None,
        "kappa": None if kappa is None else round(kappa, 4),
        "confusion": {
            "true_positive": sum(t and p for t, p in pairs),
            "false_positive": sum(p and not t for t, p in pairs),
            "false_negative": sum(t and not p for t, p in pairs),
            "true_negative": sum(not t and not p for t, p in pairs),
        },
    }


def judge_agreement(
    experimenter: Experimenter,
    store: EpisodeStore,
    segments: int | None = None,
    camera: str = "experimenter",
) -> JudgeReport:
    """The judge's own verdicts on recorded segments against their ground-truth predicates.

    Verdicts the scripted fallback gave in the judge's place (it reads the ground truth) are
    counted under "fallbacks" and left out of the agreement, which is None with no verdict of
    the judge's own."""
    truth, predicted, fallbacks = [], [], 0
    backend, model, _ = experimenter.role_config("judge")
    for segment in recorded_segments(store, camera, segments):
        verdict = experimenter.judge_success(
            JudgeContext(segment.skill, segment.frames, segment.ground_truth)
        )
        if verdict.fallback:
            fallbacks += 1
            continue
        truth.append(segment.ground_truth)
        predicted.append(verdict.success)
    return JudgeReport(
        backend=backend,
        model=model,
        **agreement(truth, predicted),
        fallbacks=fallbacks,
        usage=experimenter.usage(),
    )


def library_curves(library: SkillLibrary, threshold: float = 0.8) -> list[SyntheticCurve]:
    """The measured curves of a run's skills (two evaluations or more), rule-labelled."""
    out = []
    for text, record in library.records.items():
        if len(record.success) >= 2:
            curve = [dict(p) for p in record.success]
            label = label_curve(curve, threshold)
            out.append(SyntheticCurve("real", curve, threshold, label, skill=text))
    return out


def analyst_agreement(
    experimenter: Experimenter, curves: Sequence[SyntheticCurve]
) -> AnalystReport:
    """The analyst's four flags on rule-labelled curves: agreement per flag, all four at once, and
    per curve kind, over the analyst's own verdicts (fallbacks to the rules counted apart)."""
    flags = ("learned", "converged", "add_to_library", "keep_training")
    truth: dict[str, list[bool]] = {f: [] for f in flags}
    predicted: dict[str, list[bool]] = {f: [] for f in flags}
    exact: dict[str, list[bool]] = {}
    fallbacks = 0
    for item in curves:
        verdict = experimenter.analyse_progress(
            CurveContext(item.skill, item.curve, item.threshold)
        )
        if verdict.fallback:  # the rules answered for the analyst: not its agreement
            fallbacks += 1
            continue
        label = item.label.flags()
        got = verdict.to_json()
        for f in flags:
            truth[f].append(label[f])
            predicted[f].append(bool(got[f]))
        exact.setdefault(item.kind, []).append(all(label[f] == got[f] for f in flags))
    every = [x for kind in exact.values() for x in kind]
    return {
        "count": len(curves) - fallbacks,
        "exact": round(sum(every) / len(every), 4) if every else None,
        "by_flag": {f: agreement(truth[f], predicted[f]) for f in flags},
        "by_kind": {k: round(sum(v) / len(v), 4) for k, v in exact.items()},
        "fallbacks": fallbacks,
    }
