"""Named random streams draw exactly what the literal salts they replace drew."""

from __future__ import annotations

import numpy as np

from gameon_nb import streams

SALTS = {
    "BOOTSTRAP_EPISODE": 0xB007,
    "COLLECT_ACT": 0xAC7C,
    "COLLECT_NOISE": 0xC011,
    "COLLECT_SEEDS": 0xC0,
    "EVALUATE_ACT": 0xAC7E,
    "FINAL_EVALUATION": 0xF1E7,
    "JUDGE_SAMPLE": 0x1D6E,
    "PROPOSE": 0x9120,
    "RANDOM_CHAIN": 0x7A2D,
    "SCENE": 0x5CE7,
    "SYNTHETIC_CURVES": 0xC0FE,
    "TRAIN": 0x1EA2,
}


def test_every_salt_is_named_once_with_its_old_value() -> None:
    named = {n: getattr(streams, n) for n in streams.__all__ if n.isupper()}
    assert named == SALTS
    assert len(set(named.values())) == len(named)


def test_a_stream_draws_what_default_rng_of_its_parts_drew() -> None:
    for salt in SALTS.values():
        for parts in ([3, salt], [3, 2, salt], [3, 2, 5, salt]):
            expected = np.random.default_rng(parts).integers(2**31, size=4)
            assert streams.stream(*parts).integers(2**31, size=4).tolist() == expected.tolist()
    assert streams.stream(np.int64(3), 2, streams.SCENE).random() == (
        np.random.default_rng([3, 2, 0x5CE7]).random()
    )
