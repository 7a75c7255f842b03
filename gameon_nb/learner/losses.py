"""The learner's losses, as small pure functions over tensors (tested against hand-computed values).

    >>> target = categorical_projection(values, probs, support)      # TD target onto the atoms
    >>> critic = cross_entropy(critic_logits, target)
    >>> w = improvement_weights(q_samples, eta=0.05)                 # softmax(Q / eta)
    >>> loss = policy_loss(bc_loss(logits, actions, mask), improvement_loss(logp, w), bc_weight)

After PAC (Springenberg et al., 2024): a distributional categorical critic trained by cross-entropy
to the projected n-step target, and a policy that mixes behaviour cloning with a KL-regularised
improvement step toward the sampled actions reweighted by softmax(Q / eta).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "bc_loss",
    "categorical_projection",
    "cross_entropy",
    "improvement_loss",
    "improvement_weights",
    "policy_loss",
    "two_hot",
]


def two_hot(values: Tensor, centres: Tensor) -> Tensor:
    """(..., bins) weights on the two bins around each value, so that their mean is the value."""
    values = values.clamp(float(centres[0]), float(centres[-1]))
    upper = torch.searchsorted(centres, values.contiguous()).clamp(1, len(centres) - 1)
    lower = upper - 1
    span = centres[upper] - centres[lower]
    w_upper = (values - centres[lower]) / span
    out = torch.zeros(*values.shape, len(centres), dtype=values.dtype, device=values.device)
    out.scatter_(-1, lower.unsqueeze(-1), (1 - w_upper).unsqueeze(-1))
    out.scatter_add_(-1, upper.unsqueeze(-1), w_upper.unsqueeze(-1))
    return out


def categorical_projection(values: Tensor, probs: Tensor, support: Tensor) -> Tensor:
    """Project the distribution with mass `probs` (B, K) on `values` (B, K) onto `support` (A,).

    The C51 projection: each value's mass is split between its two neighbouring atoms in
    proportion to closeness; values outside the support go to the end atoms.
    """
    v_min, v_max = float(support[0]), float(support[-1])
    atoms = len(support)
    delta = (v_max - v_min) / (atoms - 1)
    position = (values.clamp(v_min, v_max) - v_min) / delta  # (B, K), in [0, atoms - 1]
    lower = position.floor().long()
    upper = position.ceil().long()
    w_upper = position - lower.to(position.dtype)
    w_lower = 1.0 - w_upper
    out = torch.zeros(values.shape[0], atoms, dtype=probs.dtype, device=probs.device)
    out.scatter_add_(1, lower, probs * w_lower)
    out.scatter_add_(1, upper, probs * w_upper)  # lower == upper puts all the mass there
    return out


def cross_entropy(logits: Tensor, target: Tensor) -> Tensor:
    """Mean over the batch of -sum target * log softmax(logits)."""
    return -(target * F.log_softmax(logits, dim=-1)).sum(-1).mean()


def bc_loss(logits: Tensor, actions: Tensor, mask: Tensor, centres: Tensor) -> Tensor:
    """Behaviour cloning of continuous `actions` (B, D) by a factorised categorical (B, D, bins).

    Targets are two-hot over the bin centres; the cross-entropy is summed over action dimensions
    and averaged over the pairs with `mask` 1 (zero when no pair is a demonstration).
    """
    target = two_hot(actions, centres)
    per_pair = -(target * F.log_softmax(logits, dim=-1)).sum((-1, -2))
    return (per_pair * mask).sum() / mask.sum().clamp_min(1.0)


def improvement_weights(q: Tensor, eta: float) -> Tensor:
    """softmax(Q / eta) over the sampled actions (last axis): the non-parametric improved policy
    q(a|s) proportional to prior(a|s) exp(Q(s, a) / eta), for actions sampled from the prior."""
    return torch.softmax(q / eta, dim=-1)


def improvement_loss(log_probs: Tensor, weights: Tensor) -> Tensor:
    """Weighted maximum likelihood of sampled actions: -mean_b sum_j w_bj log pi(a_bj | s_b)."""
    return -(weights.detach() * log_probs).sum(-1).mean()


def policy_loss(bc: Tensor, improvement: Tensor, bc_weight: float) -> Tensor:
    """bc_weight * behaviour cloning + (1 - bc_weight) * policy improvement."""
    return bc_weight * bc + (1.0 - bc_weight) * improvement
