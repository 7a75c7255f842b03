"""The learner's losses against values computed by hand on tiny tensors."""

from __future__ import annotations

import math

import pytest
import torch

from gameon_nb.learner import losses as L

CENTRES = torch.tensor([-1.0, 0.0, 1.0])


def test_two_hot_splits_between_neighbours_and_keeps_the_mean() -> None:
    got = L.two_hot(torch.tensor([0.25, -1.0, 1.0, 0.0, 1.5]), CENTRES)
    want = torch.tensor(
        [[0, 0.75, 0.25], [1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]], dtype=torch.float32
    )
    assert torch.allclose(got, want)
    assert torch.allclose((got * CENTRES).sum(-1), torch.tensor([0.25, -1, 1, 0, 1]))


def test_categorical_projection_by_hand() -> None:
    support = torch.tensor([0.0, 0.5, 1.0])
    # 0.25 splits evenly between atoms 0 and 1; 1.2 is clipped onto the top atom
    got = L.categorical_projection(torch.tensor([[0.25, 1.2]]), torch.tensor([[0.5, 0.5]]), support)
    assert torch.allclose(got, torch.tensor([[0.25, 0.25, 0.5]]))
    # a TD target r + gamma * z with r = 0, gamma = 0.5 shrinks the distribution toward 0
    probs = torch.tensor([[0.2, 0.3, 0.5]])
    got = L.categorical_projection(0.0 + 0.5 * support[None], probs, support)
    assert torch.allclose(got, torch.tensor([[0.35, 0.65, 0.0]]))
    # a terminal (discount 0) with reward 1 puts everything on 1
    got = L.categorical_projection(1.0 + 0.0 * support[None], probs, support)
    assert torch.allclose(got, torch.tensor([[0.0, 0.0, 1.0]]))


def test_cross_entropy_by_hand() -> None:
    got = L.cross_entropy(torch.zeros(1, 2), torch.tensor([[1.0, 0.0]]))
    assert got.item() == pytest.approx(math.log(2))


def test_improvement_weights_are_softmax_of_q_over_eta() -> None:
    w = L.improvement_weights(torch.tensor([[0.0, 0.1]]), eta=0.1)
    e = math.e
    assert w[0].tolist() == pytest.approx([1 / (1 + e), e / (1 + e)])
    # a colder temperature puts all the weight on the best sample
    assert L.improvement_weights(torch.tensor([[0.0, 0.1]]), eta=1e-4)[0, 1].item() == 1.0


def test_improvement_loss_by_hand() -> None:
    logp = torch.log(torch.tensor([[0.5, 0.25]]))
    got = L.improvement_loss(logp, torch.tensor([[0.2, 0.8]]))
    assert got.item() == pytest.approx(0.2 * math.log(2) + 0.8 * math.log(4))


def test_bc_loss_by_hand_and_masked() -> None:
    logits = torch.zeros(2, 1, 3)  # uniform over three bins
    actions = torch.tensor([[0.25], [1.0]])
    assert L.bc_loss(logits, actions, torch.tensor([1.0, 1.0]), CENTRES).item() == pytest.approx(
        math.log(3)
    )
    # only the second pair is a demonstration: its loss alone, averaged over one
    logits[1, 0] = torch.tensor([0.0, 0.0, math.log(2)])  # p(bin 2) = 1/2
    got = L.bc_loss(logits, actions, torch.tensor([0.0, 1.0]), CENTRES)
    assert got.item() == pytest.approx(math.log(2))
    assert L.bc_loss(logits, actions, torch.zeros(2), CENTRES).item() == 0.0


def test_policy_loss_extremes() -> None:
    bc, improvement = torch.tensor(2.0), torch.tensor(5.0)
    assert L.policy_loss(bc, improvement, bc_weight=1.0).item() == 2.0
    assert L.policy_loss(bc, improvement, bc_weight=0.0).item() == 5.0
    assert L.policy_loss(bc, improvement, bc_weight=0.25).item() == pytest.approx(4.25)
