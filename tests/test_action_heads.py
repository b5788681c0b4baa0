"""Action heads: samples lie in the space, log-probabilities match closed forms, modes are deterministic."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from gymnasium import spaces

from agents.networks.action_heads import build_action_head


@pytest.mark.parametrize(
    "space",
    [spaces.Discrete(3), spaces.MultiDiscrete([2, 4]), spaces.MultiBinary(3), spaces.Box(-2.0, 2.0, (2,))],
)
def test_samples_sent_to_the_env_lie_in_the_space(space: spaces.Space) -> None:
    head = build_action_head(space)
    params = torch.randn(64, head.n_outputs) * 3
    with torch.no_grad():
        actions = head.sample(params, False, torch.Generator().manual_seed(0)).numpy()
    env_actions = head.to_env(actions.reshape(64, *space.shape))
    assert all(space.contains(a) for a in env_actions)


def test_multidiscrete_log_prob_is_the_sum_of_per_dimension_log_softmax() -> None:
    head = build_action_head(spaces.MultiDiscrete([2, 3]))
    params = torch.tensor([[0.0, 1.0, 2.0, 0.0, -1.0]])
    log_prob, _ = head.log_prob_entropy(params, torch.tensor([[1, 0]]))
    expected = math.log(math.e / (1 + math.e)) + math.log(math.e**2 / (math.e**2 + 1 + math.e**-1))
    assert log_prob.item() == pytest.approx(expected, rel=1e-5)


def _categorical_entropy(logits: list[float]) -> float:
    weights = [math.exp(logit) for logit in logits]
    probs = [w / sum(weights) for w in weights]
    return -sum(p * math.log(p) for p in probs)


def test_multidiscrete_entropy_is_the_sum_of_per_dimension_entropies() -> None:
    head = build_action_head(spaces.MultiDiscrete([3, 5]))
    uniform = torch.zeros(1, 8)
    peaked = torch.tensor([[0.0, 1.0, 2.0, 0.0, -1.0, 3.0, 0.5, -2.0]])
    _, entropy = head.log_prob_entropy(torch.cat([uniform, peaked]), torch.tensor([[0, 0], [2, 4]]))
    assert entropy[0].item() == pytest.approx(math.log(3) + math.log(5), rel=1e-5)
    expected = _categorical_entropy([0.0, 1.0, 2.0]) + _categorical_entropy([0.0, -1.0, 3.0, 0.5, -2.0])
    assert entropy[1].item() == pytest.approx(expected, rel=1e-5)


def test_bernoulli_log_prob_matches_closed_form() -> None:
    head = build_action_head(spaces.MultiBinary(2))
    params = torch.tensor([[0.0, 2.0]])
    log_prob, _ = head.log_prob_entropy(params, torch.tensor([[1, 0]]))
    assert log_prob.item() == pytest.approx(math.log(0.5) + math.log(1 - 1 / (1 + math.exp(-2))), rel=1e-5)


def test_gaussian_log_prob_and_entropy_match_normal_density() -> None:
    head = build_action_head(spaces.Box(-1.0, 1.0, (1,)))
    with torch.no_grad():
        head.log_std.fill_(math.log(0.5))
    log_prob, entropy = head.log_prob_entropy(torch.tensor([[0.2]]), torch.tensor([[0.7]]))
    density = math.exp(-0.5 * (0.5 / 0.5) ** 2) / (0.5 * math.sqrt(2 * math.pi))
    assert log_prob.item() == pytest.approx(math.log(density), rel=1e-5)
    assert entropy.item() == pytest.approx(0.5 * math.log(2 * math.pi * math.e * 0.25), rel=1e-5)


def test_gaussian_actions_are_clipped_only_for_the_env() -> None:
    head = build_action_head(spaces.Box(-1.0, 1.0, (1,)))
    assert head.to_env(np.array([[3.0], [-0.5]], dtype=np.float32)).tolist() == [[1.0], [-0.5]]


def test_deterministic_modes() -> None:
    params = torch.tensor([[0.1, 2.0, -1.0]])
    assert build_action_head(spaces.Discrete(3)).sample(params, True, None).tolist() == [1]
    assert build_action_head(spaces.MultiBinary(3)).sample(params, True, None).tolist() == [[1, 1, 0]]
    assert build_action_head(spaces.Box(-5.0, 5.0, (3,))).sample(params, True, None).tolist() == params.tolist()


def test_valid_actions_mask_the_others_out_of_sampling_and_entropy() -> None:
    head = build_action_head(spaces.Discrete(4), valid_actions=[1, 3])
    params = torch.tensor([[5.0, 0.0, 9.0, 0.0]] * 500)
    sampled = set(head.sample(params, False, torch.Generator().manual_seed(0)).tolist())
    assert sampled == {1, 3}
    assert head.sample(params[:1], True, None).tolist() == [1]
    log_prob, entropy = head.log_prob_entropy(params[:1], torch.tensor([3]))
    assert log_prob.item() == pytest.approx(math.log(0.5))
    assert entropy.item() == pytest.approx(math.log(2))


def test_valid_actions_outside_the_space_are_a_config_error() -> None:
    from utils.config_values import ConfigError

    with pytest.raises(ConfigError, match="valid_actions"):
        build_action_head(spaces.Discrete(2), valid_actions=[0, 5])
