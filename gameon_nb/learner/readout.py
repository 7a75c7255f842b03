"""Read-outs: how one action is read off the factorised categorical policy (and the critic).

    >>> probs = torch.softmax(logits, -1)                  # (B, D, bins)
    >>> expected(probs, centres)                           # 'mean': (B, D)
    >>> options = policy_modes(probs, centres)             # (B, 2**D, D): each dim's modes
    >>> pick_by_critic(options, q_values(options))         # 'critic': the modes the critic prefers

A per-dimension mean is smooth and precise where the policy is unimodal, but it averages a
bimodal decision away: a gripper that is 80% "keep closed" and 20% "open" reads as closed, so a
held block is never released even where the critic prefers opening. 'critic' keeps the mean
inside each mode of each dimension and lets the critic choose between the modes; 'best_of' lets it
choose among policy samples (and the mean). Pure functions over tensors, tested on hand-built
distributions.
"""

from __future__ import annotations

from typing import Literal, get_args

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "READOUTS",
    "Readout",
    "expected",
    "most_likely",
    "pick_by_critic",
    "policy_modes",
    "sampled",
]

Readout = Literal["mean", "mode", "sample", "critic", "best_of"]
READOUTS: tuple[str, ...] = get_args(Readout)

MODE_FLOOR = 0.02
"""Bins below this probability separate one mode of a dimension from the next."""
MODE_MASS = 0.1
"""Least mass a second mode needs to be offered to the critic."""


def expected(probs: Tensor, centres: Tensor) -> Tensor:
    """(B, D) expected bin value per dimension of (B, D, bins) probabilities."""
    return (probs * centres).sum(-1)


def most_likely(probs: Tensor, centres: Tensor) -> Tensor:
    """(B, D) the most probable bin of each dimension."""
    return centres[probs.argmax(-1)]


def sampled(probs: Tensor, centres: Tensor, count: int, generator: torch.Generator) -> Tensor:
    """(B, count, D) actions drawn from the factorised categorical, on the CPU from `generator`."""
    b, d, bins = probs.shape
    flat = probs.reshape(-1, bins).float().cpu()
    picks = torch.multinomial(flat, count, replacement=True, generator=generator)
    return centres[picks.to(centres.device).view(b, d, count).transpose(1, 2)]


def policy_modes(probs: Tensor, centres: Tensor) -> Tensor:
    """(B, 2**D, D) every combination of the two heaviest modes of each dimension.

    A mode is a run of neighbouring bins of at least MODE_FLOOR probability, read as its mean
    bin value. A dimension whose second mode holds less than MODE_MASS offers its first mode
    twice, and one with no run of MODE_MASS (a flat distribution) offers its plain mean, so a
    unimodal policy yields the mean read-out in every candidate.
    """
    b, d, bins = probs.shape
    on = probs >= MODE_FLOOR
    starts = on & ~F.pad(on, (1, 0))[..., :-1]
    run = torch.cumsum(starts.long(), -1) * on  # 1.. per run, 0 off
    member = F.one_hot(run, bins + 1)[..., 1:].to(probs.dtype)  # (B, D, bins, runs)
    mass = (probs[..., None] * member).sum(-2)  # (B, D, runs)
    centre = (probs[..., None] * centres[:, None] * member).sum(-2) / mass.clamp_min(1e-12)
    top_mass, top = mass.topk(2, dim=-1)
    first, second = centre.gather(-1, top).unbind(-1)
    first = torch.where(top_mass[..., 0] >= MODE_MASS, first, expected(probs, centres))
    second = torch.where(top_mass[..., 1] >= MODE_MASS, second, first)
    options = torch.stack([first, second], dim=-1)  # (B, D, 2)
    combos = torch.arange(2**d, device=probs.device)
    bits = (combos[:, None] >> torch.arange(d, device=probs.device)) & 1  # (2**D, D)
    index = bits.T[None].expand(b, -1, -1)  # (B, D, 2**D)
    return options.gather(-1, index).transpose(1, 2)


def pick_by_critic(candidates: Tensor, q: Tensor) -> Tensor:
    """(B, D) the candidate (B, M, D) of highest value q (B, M); ties go to the first."""
    best = q.argmax(-1)
    return candidates[torch.arange(len(candidates)), best]
