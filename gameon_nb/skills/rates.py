"""Success rates with their uncertainty: Wilson intervals and changes beyond the noise.

    >>> wilson_interval(8, 10)                        # (0.49, 0.94): the 95% score interval
    >>> significant_change(0.5, 12, 0.75, 12)         # 0.07: the rise beyond one standard error

An evaluation of 12 episodes has a standard deviation near 0.14 at a rate of 0.5, so the change
between two evaluations is mostly noise unless it is large; curricula and reports read rates
through these.
"""

from __future__ import annotations

import math

__all__ = ["significant_change", "wilson_interval"]


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a success rate (the whole [0, 1] for no trials)."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def significant_change(before: float, n_before: int, after: float, n_after: int) -> float:
    """`after - before` shrunk toward 0 by one standard error of the difference.

    The rates are smoothed by one pseudo-success and one pseudo-failure for the error, so two
    perfect or two empty evaluations still carry some noise.
    """

    def variance(p: float, n: int) -> float:
        smoothed = (p * n + 1) / (n + 2)
        return smoothed * (1 - smoothed) / max(n, 1)

    change = after - before
    error = math.sqrt(variance(before, n_before) + variance(after, n_after))
    return math.copysign(max(abs(change) - error, 0.0), change)
