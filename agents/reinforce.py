"""REINFORCE (Williams 1992): Monte Carlo policy gradient, optionally with a value baseline."""

from __future__ import annotations

import numpy as np
import torch

from agents.base import BaseAgent, loss_stats, masked_mean, masked_standardize, mean_weights
from utils.returns import compute_mc_returns
from utils.rollouts import Rollout


class Reinforce(BaseAgent):
    """Policy gradient on Monte Carlo returns (``policy_targets: returns``) or advantages."""

    def compute_targets(self, rollout: Rollout) -> tuple[np.ndarray, np.ndarray]:
        returns = compute_mc_returns(
            rollout.rewards,
            rollout.values,
            rollout.terminated,
            rollout.truncated,
            rollout.valid,
            rollout.last_values,
            self.config.gamma,
            self.config.returns_type,
        )
        if self.config.policy_targets == "advantages":
            return returns - rollout.values, returns
        return returns, returns

    def loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        config, weights = self.config, mean_weights(batch["weights"])
        log_prob, entropy, values = self.policy.evaluate(batch["obs"], batch["actions"])

        targets = batch["advantages"]
        if config.normalize_advantages:
            targets = masked_standardize(targets, weights)
        policy_loss = -masked_mean(log_prob * targets, weights)

        value_loss = (
            masked_mean((values - batch["returns"]) ** 2, weights) if self.policy.has_critic else torch.zeros(())
        )
        entropy_mean = masked_mean(entropy, weights)
        loss = policy_loss + self.hparams_now["vf_coef"] * value_loss - self.hparams_now["ent_coef"] * entropy_mean

        with torch.no_grad():
            log_ratio = log_prob - batch["log_probs"]
            approx_kl = masked_mean(log_ratio.exp() - 1 - log_ratio, weights)
        return loss, loss_stats(loss, policy_loss, value_loss, entropy_mean, approx_kl=approx_kl)
