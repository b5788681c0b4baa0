"""PPO (Schulman et al. 2017): clipped surrogate, GAE, clipped value loss, entropy bonus."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch

from agents.base import BaseAgent, loss_stats, masked_mean, masked_standardize, mean_weights
from agents.ppo_replay import ReplayBuffer
from agents.speed.ppo_fused import FusedPPOGradients
from utils.config import Config
from utils.returns import compute_gae
from utils.rollouts import Rollout


class PPO(BaseAgent):
    """Proximal Policy Optimization with an actor-critic policy, optionally with replay (``replay_ratio``)."""

    scheduled = (*BaseAgent.scheduled, "clip_range")

    def __init__(self, config: Config, train_env: gym.vector.VectorEnv) -> None:
        super().__init__(config, train_env)
        # the same gradients as loss() + backward(), written out for small tanh MLPs (agents/speed/ppo_fused.py)
        fits = config.fast_paths == "auto" and FusedPPOGradients.fits(self.policy, config)
        self.fused = FusedPPOGradients(self.policy, config) if fits else None
        # PPO+replay: earlier rollouts' transitions, importance-weighted in loss() (off by default)
        self.replay = ReplayBuffer(config.replay_buffer_size) if config.replay_ratio > 0 else None
        self.replay_credit = 0.0

    def compute_gradients(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        if self.fused is None or not self.fused.usable():
            return super().compute_gradients(batch)
        self.flat_params.zero_grad()  # re-attaches the flat gradient views if anything replaced them
        hparams = self.hparams_now
        return self.fused(batch, hparams["clip_range"], hparams["vf_coef"], hparams["ent_coef"])

    # --- replay hooks (BaseAgent calls them; all no-ops without replay) ---
    def extra_minibatches(self) -> list[dict[str, torch.Tensor]]:
        """``replay_ratio`` replayed minibatches per on-policy minibatch (fractions accumulate)."""
        if self.replay is None or self.replay.size == 0:
            return []
        self.replay_credit += self.config.replay_ratio
        count, self.replay_credit = int(self.replay_credit), self.replay_credit % 1.0
        size = min(self.config.minibatch_size, self.replay.size)
        return [self.replay.sample(size, self.rng, self.device) for _ in range(count)]

    def after_update(self, data: dict[str, torch.Tensor]) -> None:
        """Store the rollout for replay once its own update is done."""
        if self.replay is not None:
            self.replay.add(data)

    def extra_state(self) -> dict[str, np.ndarray]:
        """Replay buffer arrays to checkpoint."""
        if self.replay is None:
            return {}
        return {**self.replay.state(), "replay.credit": np.asarray(self.replay_credit)}

    def load_extra_state(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore the replay buffer."""
        if self.replay is not None:
            self.replay.load(arrays)
            self.replay_credit = float(arrays.get("replay.credit", 0.0))

    def compute_targets(self, rollout: Rollout) -> tuple[np.ndarray, np.ndarray]:
        return compute_gae(
            rollout.rewards,
            rollout.values,
            rollout.terminated,
            rollout.truncated,
            rollout.last_values,
            self.config.gamma,
            self.config.gae_lambda,
        )

    def loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        config, weights = self.config, mean_weights(batch["weights"])
        clip_range = self.hparams_now["clip_range"]
        log_prob, entropy, values = self.policy.evaluate(batch["obs"], batch["actions"])

        advantages = batch["advantages"]
        if config.normalize_advantages:
            advantages = masked_standardize(advantages, weights)

        log_ratio = log_prob - batch["log_probs"]
        ratio = log_ratio.exp()
        if "off_policy" in batch:  # replayed data: cap the importance weight against the behaviour policy
            ratio = ratio.clamp(max=config.replay_is_clip)
        surrogate = torch.min(ratio * advantages, ratio.clamp(1 - clip_range, 1 + clip_range) * advantages)
        policy_loss = -masked_mean(surrogate, weights)

        value_error = (values - batch["returns"]) ** 2
        if config.clip_range_vf is not None:
            old = batch["values"]
            clipped = old + (values - old).clamp(-config.clip_range_vf, config.clip_range_vf)
            value_error = torch.max(value_error, (clipped - batch["returns"]) ** 2)
        value_loss = masked_mean(value_error, weights)

        entropy_mean = masked_mean(entropy, weights)
        loss = policy_loss + self.hparams_now["vf_coef"] * value_loss - self.hparams_now["ent_coef"] * entropy_mean

        with torch.no_grad():
            approx_kl = masked_mean(ratio - 1 - log_ratio, weights)
            clip_fraction = masked_mean(((ratio - 1).abs() > clip_range).float(), weights)
        return loss, loss_stats(
            loss, policy_loss, value_loss, entropy_mean, approx_kl=approx_kl, clip_fraction=clip_fraction
        )
