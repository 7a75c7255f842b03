"""Named random streams: each seeded choice of a run draws from its own stream.

    >>> rng = stream(seed, round, PROPOSE)                  # a numpy Generator
    >>> torch.Generator().manual_seed(stream_seed(seed, round, wave, COLLECT_ACT))

A stream is keyed by the run's seed, the indices that place the choice (round, wave, job ...) and
a salt that names what it is for, so adding a draw in one place never shifts the draws of another.
"""

from __future__ import annotations

import numpy as np

__all__ = ["COLLECT_ACT", "EVALUATE_ACT", "FINAL_EVALUATION", "stream", "stream_seed"]

COLLECT_ACT = 0xAC7C
"""The policy's own draws ('sample' and 'best_of' read-outs) while collecting, per wave."""
EVALUATE_ACT = 0xAC7E
"""The policy's own draws while evaluating, per round."""
FINAL_EVALUATION = 0xF1E7
"""The policy's own draws in a comparison's final evaluation of a run."""


def stream(*parts: int) -> np.random.Generator:
    """The numpy Generator of the stream keyed by `parts`."""
    return np.random.default_rng([int(p) for p in parts])


def stream_seed(*parts: int) -> int:
    """A 63-bit integer seed from the stream keyed by `parts` (for torch generators)."""
    return int(stream(*parts).integers(2**63 - 1))
