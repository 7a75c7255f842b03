"""Named random streams: each seeded choice of a run draws from its own stream.

    >>> rng = stream(seed, round, PROPOSE)                  # a numpy Generator
    >>> torch.Generator().manual_seed(stream_seed(seed, round, wave, COLLECT_ACT))

A stream is keyed by the run's seed, the indices that place the choice (round, wave, job ...) and
a salt that names what it is for, so adding a draw in one place never shifts the draws of another.
Every salt is named here, once; the values never change, or a run's draws would.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "BOOTSTRAP_EPISODE",
    "COLLECT_ACT",
    "COLLECT_NOISE",
    "COLLECT_SEEDS",
    "EVALUATE_ACT",
    "FINAL_EVALUATION",
    "JUDGE_SAMPLE",
    "PROPOSE",
    "RANDOM_CHAIN",
    "SCENE",
    "SYNTHETIC_CURVES",
    "TRAIN",
    "stream",
    "stream_seed",
]

COLLECT_ACT = 0xAC7C
"""The policy's own draws ('sample' and 'best_of' read-outs) while collecting, per wave."""
EVALUATE_ACT = 0xAC7E
"""The policy's own draws while evaluating, per round."""
FINAL_EVALUATION = 0xF1E7
"""The policy's own draws in a comparison's final evaluation of a run."""

SCENE = 0x5CE7
"""The reset seed of the scene the proposer is shown, per round: `stream(seed, round, SCENE)`."""
COLLECT_SEEDS = 0xC0
"""The reset seeds of a round's collection jobs: `stream(seed, round, COLLECT_SEEDS)`."""
COLLECT_NOISE = 0xC011
"""A collection job's Gaussian exploration noise: `stream(seed, round, job, COLLECT_NOISE)`."""
JUDGE_SAMPLE = 0x1D6E
"""Which executions of a round the judge is asked about (`loop.judge_fraction`):
`stream(seed, round, JUDGE_SAMPLE)`."""
PROPOSE = 0x9120
"""The scripted proposer's tie-break among equally scored tasks: `stream(seed, round, PROPOSE)`."""
RANDOM_CHAIN = 0x7A2D
"""The chain of the 'random' curriculum: `stream(seed, round, RANDOM_CHAIN)`."""
BOOTSTRAP_EPISODE = 0xB007
"""A bootstrap episode's chain, reset seed, noise and sabotage:
`stream(seed, index, BOOTSTRAP_EPISODE)`."""
TRAIN = 0x1EA2
"""The learner's numpy draws while training (which rows make a batch): `stream(seed, TRAIN)`."""
SYNTHETIC_CURVES = 0xC0FE
"""The synthetic learning curves the analyst is checked on: `stream(seed, SYNTHETIC_CURVES)`."""


def stream(*parts: int) -> np.random.Generator:
    """The numpy Generator of the stream keyed by `parts`.

    >>> stream(seed, round, RANDOM_CHAIN).integers(4)   # equals default_rng([seed, round, salt])
    """
    return np.random.default_rng([int(p) for p in parts])


def stream_seed(*parts: int) -> int:
    """A 63-bit integer seed from the stream keyed by `parts` (for torch generators).

    >>> torch.Generator().manual_seed(stream_seed(seed, round, EVALUATE_ACT))
    """
    return int(stream(*parts).integers(2**63 - 1))
