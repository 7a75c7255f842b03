"""Rules that read a learning curve, and seeded synthetic curves to test readers against.

    >>> label_curve([{"round": 1, "rate": 0.9, "episodes": 20}, ...], threshold=0.8)
    CurveLabel(learned=True, converged=True, add_to_library=True, keep_training=False, ...)
    >>> curves = synthetic_curves(seed=0, per_kind=5)   # rising, converged, noisy_plateau, collapse

The rules are the scripted analyst and the reference the VLM analyst is scored against. A rate of
n episodes is binomial, so "flat" means flat within about three binomial standard deviations.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

from gameon_nb.experimenter.contexts import CurvePoint
from gameon_nb.records import JsonObject
from gameon_nb.streams import SYNTHETIC_CURVES, stream

__all__ = ["CURVE_KINDS", "CurveLabel", "SyntheticCurve", "label_curve", "synthetic_curves"]

WINDOW = 3
"""Latest evaluations that decide convergence."""
MIN_BAND = 0.1
"""Least spread of rates over the window that still counts as flat."""
MAX_SLOPE = 0.05
"""Largest rate change per round, fitted over the window, that still counts as flat."""
LEARNED_SLACK = 0.1
"""How far below the threshold one of the last two rates may dip for a skill to count learned."""
COLLAPSE_DROP = 0.3
"""A fall from the peak this large, after having passed the threshold, is a collapse."""

CurveKind = Literal["rising", "converged", "noisy_plateau", "collapse", "real"]
"""Shapes of synthetic curves; "real" marks a curve measured in a run."""
CURVE_KINDS: tuple[CurveKind, ...] = ("rising", "converged", "noisy_plateau", "collapse")


@dataclass(frozen=True)
class CurveLabel:
    """What the rules read from a curve, and why."""

    learned: bool
    converged: bool
    add_to_library: bool
    keep_training: bool
    reason: str

    def flags(self) -> dict[str, bool]:
        return {k: v for k, v in asdict(self).items() if isinstance(v, bool)}


def _binomial_sd(rate: float, episodes: float) -> float:
    return math.sqrt(max(rate * (1 - rate), 0.05) / max(episodes, 1.0))


def label_curve(curve: Sequence[CurvePoint], threshold: float) -> CurveLabel:
    """Read a curve of {"round", "rate", "episodes"} points (oldest first) by rule.

    learned: the mean of the last two rates reaches `threshold` and neither is more than
    LEARNED_SLACK below it. converged: WINDOW points whose spread and fitted slope are within
    noise. collapse: a peak past the threshold then a drop of COLLAPSE_DROP. add_to_library:
    learned. keep_training: not converged.
    """
    rates = [float(p["rate"]) for p in curve]
    if not rates:
        return CurveLabel(False, False, False, True, "no evaluations yet")
    episodes = [float(p.get("episodes", 1.0)) for p in curve]
    last2 = rates[-2:]
    peak = max(rates)
    if peak >= threshold and rates[-1] <= peak - COLLAPSE_DROP:
        reason = f"collapse: peaked at {peak:.2f}, now {rates[-1]:.2f}"
        return CurveLabel(False, False, False, True, reason)
    learned = (
        len(last2) == 2 and sum(last2) / 2 >= threshold and min(last2) >= threshold - LEARNED_SLACK
    )
    converged, flat = False, ""
    if len(rates) >= WINDOW:
        window = np.array(rates[-WINDOW:])
        rounds = np.array([float(p["round"]) for p in curve[-WINDOW:]])
        mean = float(window.mean())
        noise = 3 * _binomial_sd(mean, float(np.mean(episodes[-WINDOW:])))
        spread = float(window.max() - window.min())
        slope = float(np.polyfit(rounds, window, 1)[0]) if np.ptp(rounds) > 0 else 0.0
        converged = spread <= max(MIN_BAND, noise) and abs(slope) <= max(MAX_SLOPE, noise / 2)
        flat = f"spread {spread:.2f}, slope {slope:+.3f}/round over the last {WINDOW}"
    where = "past" if rates[-1] >= threshold else "below"
    if converged:
        reason = f"{'learned and ' * learned}flat {where} the threshold at {rates[-1]:.2f} ({flat})"
    elif len(rates) < WINDOW:  # too short to call flat or moving
        evaluations = f"{len(rates)} evaluation{'s' * (len(rates) > 1)}"
        reason = (
            f"{where} the threshold at {rates[-1]:.2f} after {evaluations}; "
            f"{WINDOW} are needed to call it flat"
        )
    else:
        moved = f"{rates[-WINDOW]:.2f} to {rates[-1]:.2f} over the last {WINDOW}"
        reason = f"{where} the threshold and still moving: {moved}"
    return CurveLabel(learned, converged, learned, not converged, reason)


@dataclass(frozen=True)
class SyntheticCurve:
    """A curve (generated, or measured in a run), its kind and its rule label."""

    kind: CurveKind
    curve: list[dict[str, float]]
    threshold: float
    label: CurveLabel
    skill: str = "stack the red block on the blue block"
    """The skill the curve is shown as (synthetic curves borrow one)."""

    def to_json(self) -> JsonObject:
        return {
            "kind": self.kind,
            "skill": self.skill,
            "curve": self.curve,
            "threshold": self.threshold,
            "label": asdict(self.label),
        }


def _true_rates(kind: CurveKind, rounds: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(rounds, dtype=np.float64)
    if kind == "rising":  # a sigmoid whose midpoint is in the last rounds: still on the way up
        mid, top = rng.uniform(0.6, 0.8) * rounds, rng.uniform(0.8, 1.0)
        return top / (1 + np.exp(-(t - mid) / rng.uniform(0.6, 1.0)))
    if kind == "converged":  # up early, then flat near the top for the last half
        mid, top = rng.uniform(0.15, 0.35) * rounds, rng.uniform(0.9, 0.98)
        return top / (1 + np.exp(-(t - mid) / 0.6))
    if kind == "noisy_plateau":
        return np.full(rounds, rng.uniform(0.3, 0.6))
    peak_at = int(rng.integers(max(3, rounds // 3), rounds // 2 + 1))  # collapse: up, then down
    up = 0.95 / (1 + np.exp(-(t - peak_at / 2) / 0.3))
    return np.where(t <= peak_at, up, np.maximum(0.95 - 0.35 * (t - peak_at), 0.05))


def synthetic_curves(
    seed: int = 0,
    per_kind: int = 5,
    rounds: int = 8,
    episodes: int = 20,
    threshold: float = 0.8,
    kinds: Sequence[CurveKind] = CURVE_KINDS,
) -> list[SyntheticCurve]:
    """`per_kind` curves of each kind: true rates by shape, measured as binomial(episodes)."""
    rng = stream(seed, SYNTHETIC_CURVES)
    out = []
    for kind in kinds:
        for _ in range(per_kind):
            true = np.clip(_true_rates(kind, rounds, rng), 0.0, 1.0)
            rates = rng.binomial(episodes, true) / episodes
            curve = [
                {"round": float(r + 1), "rate": float(rate), "episodes": float(episodes)}
                for r, rate in enumerate(rates)
            ]
            out.append(SyntheticCurve(kind, curve, threshold, label_curve(curve, threshold)))
    return out
