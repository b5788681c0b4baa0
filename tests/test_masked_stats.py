"""Masked statistics ignore reset steps (weight 0) exactly."""

import torch

from agents.base import masked_mean, masked_standardize, mean_weights


def test_masked_mean_is_the_mean_of_the_valid_entries() -> None:
    values = torch.tensor([1.0, 100.0, 3.0, 5.0])
    valid = torch.tensor([1.0, 0.0, 1.0, 1.0])
    assert masked_mean(values, mean_weights(valid)).item() == 3.0
    assert masked_mean(values, mean_weights(torch.zeros(4))).item() == 0.0  # no valid entry: 0, not NaN


def test_masked_standardize_uses_only_valid_entries() -> None:
    values = torch.tensor([1.0, -50.0, 3.0, 5.0])
    weights = mean_weights(torch.tensor([1.0, 0.0, 1.0, 1.0]))
    standardized = masked_standardize(values, weights)
    valid = standardized[[0, 2, 3]]
    assert abs(valid.mean().item()) < 1e-6
    assert abs(valid.pow(2).mean().sqrt().item() - 1.0) < 1e-5
