"""Read-outs on hand-built policy distributions: a bimodal gripper must release under 'critic'
and 'best_of' where the critic prefers opening, and the mean read-out is the one that cannot."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gameon_nb.learner import readout as R

CENTRES = torch.linspace(-1.0, 1.0, 21)
OPEN, CLOSE = 0, 20  # bins of grip -1 (open) and +1 (close)


def distribution(gripper_open: float, motion_bin: int = 12) -> torch.Tensor:
    """(1, 5, 21): each motion dim peaked at `motion_bin`; the gripper split open/close."""
    probs = torch.zeros(1, 5, 21)
    probs[0, :4, motion_bin] = 0.6
    probs[0, :4, motion_bin - 1] = 0.2
    probs[0, :4, motion_bin + 1] = 0.2
    probs[0, 4, OPEN], probs[0, 4, CLOSE] = gripper_open, 1 - gripper_open
    return probs


def prefers_open(candidates: torch.Tensor) -> torch.Tensor:
    """A critic that values opening the gripper (grip < 0) at 0.9 and closing at 0.6."""
    return torch.where(candidates[..., 4] < 0, 0.9, 0.6)


def test_the_mean_averages_a_bimodal_gripper_to_closed() -> None:
    probs = distribution(gripper_open=0.17)
    mean = R.expected(probs, CENTRES)[0]
    assert mean[4].item() == pytest.approx(0.17 * -1 + 0.83 * 1)  # 0.66: the fingers stay shut
    assert mean[:4] == pytest.approx(torch.full((4,), CENTRES[12].item()))
    assert R.most_likely(probs, CENTRES)[0, 4].item() == 1.0  # the mode is "closed" too


def test_policy_modes_offer_both_gripper_modes_and_the_mean_of_each_motion() -> None:
    candidates = R.policy_modes(distribution(gripper_open=0.17), CENTRES)[0]
    assert candidates.shape == (32, 5)
    assert set(candidates[:, 4].tolist()) == {-1.0, 1.0}
    # a unimodal dimension offers its mean in every candidate
    assert torch.allclose(candidates[:, :4], torch.full((32, 4), CENTRES[12].item()))


def test_the_critic_read_out_releases_where_the_critic_prefers_opening() -> None:
    probs = distribution(gripper_open=0.17)
    candidates = R.policy_modes(probs, CENTRES)
    action = R.pick_by_critic(candidates, prefers_open(candidates))[0]
    assert action[4].item() == -1.0
    assert action[:4] == pytest.approx(torch.full((4,), CENTRES[12].item()))
    # and keeps the block where the critic prefers closing
    closing = -prefers_open(candidates)
    assert R.pick_by_critic(candidates, closing)[0, 4].item() == 1.0


def test_a_second_mode_below_the_floor_is_not_offered() -> None:
    candidates = R.policy_modes(distribution(gripper_open=0.05), CENTRES)[0]
    assert set(candidates[:, 4].tolist()) == {1.0}


def test_a_flat_dimension_reads_as_its_mean() -> None:
    probs = distribution(gripper_open=0.5)
    probs[0, 0] = 1 / 21  # every bin under the floor of a mode's mass
    candidates = R.policy_modes(probs, CENTRES)[0]
    assert torch.allclose(candidates[:, 0], torch.zeros(32), atol=1e-6)


def test_best_of_samples_releases_and_sampling_draws_from_the_generator() -> None:
    probs = distribution(gripper_open=0.17).expand(64, -1, -1)
    draws = R.sampled(probs, CENTRES, 16, torch.Generator().manual_seed(0))
    assert draws.shape == (64, 16, 5)
    opened = (draws[..., 4] < 0).float().mean().item()
    assert 0.1 < opened < 0.25  # about the policy's 17%
    action = R.pick_by_critic(draws, prefers_open(draws))
    assert (action[:, 4] < 0).float().mean().item() > 0.9  # 1 - 0.83**16 of the states
    again = R.sampled(probs, CENTRES, 16, torch.Generator().manual_seed(0))
    assert torch.equal(draws, again)


def test_ties_go_to_the_first_candidate() -> None:
    candidates = torch.tensor(np.arange(12, dtype=np.float32).reshape(1, 3, 4))
    assert torch.equal(R.pick_by_critic(candidates, torch.zeros(1, 3))[0], candidates[0, 0])
