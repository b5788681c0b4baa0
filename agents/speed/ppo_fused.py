"""PPO's minibatch gradient in closed form, for tanh-MLP actor-critics with a categorical head on the CPU.

``PPO.loss`` (agents/ppo.py) is the definition; this module computes the same loss and writes the same
gradients straight into the parameters' ``.grad``, without building an autograd graph. For the small
networks of classic-control PPO (64x64, minibatches of 256) an update is bound by per-op costs, and the
graph (~60 nodes: the loss terms, the masked means, the head, two MLPs) is about a third of a minibatch's
~1.3 ms. Written out, the gradient is a handful of tensor ops per term:

- policy term: d/d log pi(a) of -mean(min(r A, clip(r) A)) is -w r A where the unclipped side is the
  minimum, 0 where the clipped side is (torch splits ties in half; both halves are r A there);
- d log pi(a)/d logits = onehot(a) - p; the entropy bonus adds ent_coef * w * p * (log p + H);
- value term: 2 vf_coef * w * (v - R), or with ``clip_range_vf`` the larger of the two squared errors
  (ties split in half, as torch does);
- through each MLP with ``tanh_mlp_backward``.

Where it does not apply (other heads or activations, CNNs, replay, autocast, GPUs) ``PPO`` falls back to
autograd. ``tests/test_ppo_fused.py`` checks the gradients against autograd's for every option it covers.
"""

from __future__ import annotations

from typing import cast

import torch
from torch.nn import functional

from agents.base import loss_stats, masked_standardize, mean_weights
from agents.networks.action_heads import CategoricalHead
from agents.networks.policies import MLPPolicy
from agents.speed.cpu_float32 import speed_code_applies
from agents.speed.tanh_mlp import TanhMLP, tanh_mlp_backward, tanh_mlp_forward
from utils.config import Config

ANY = object()  # an option whose every value this module implements
# Every config field PPO.loss reads, and the values this module implements for it: a config with another value
# (or a new loss option missing here: tests/test_ppo_fused.py reads PPO.loss to check) trains through autograd.
LOSS_OPTIONS: dict[str, object] = {
    "normalize_advantages": ANY,
    "clip_range_vf": ANY,
    "clip_range": ANY,  # scheduled: passed to each call
    "vf_coef": ANY,
    "ent_coef": ANY,
    "replay_ratio": 0.0,  # replayed minibatches carry importance weights this module does not implement
    "replay_is_clip": ANY,  # read only for replayed minibatches, which never come here (replay_ratio: 0)
}


class FusedPPOGradients:
    """Computes PPO's loss and fills the policy's parameter gradients, for the case described above."""

    def __init__(self, policy: MLPPolicy, config: Config) -> None:
        assert self.fits(policy, config)
        assert isinstance(policy.actor, TanhMLP) and isinstance(policy.critic, TanhMLP)
        assert isinstance(policy.action_head, CategoricalHead)
        self.policy = policy
        self.head = policy.action_head
        self.actor = policy.actor.linears()
        self.critic = policy.critic.linears()
        self.actor_weights = [layer.weight for layer in self.actor]
        self.actor_biases = [layer.bias for layer in self.actor]
        self.critic_weights = [layer.weight for layer in self.critic]
        self.critic_biases = [layer.bias for layer in self.critic]
        self.normalize_advantages = config.normalize_advantages
        self.clip_range_vf = config.clip_range_vf
        self._inputs_of: dict[str, torch.Tensor] | None = None  # the batch ``_cached_inputs`` were computed from
        self._cached_inputs: tuple[torch.Tensor, ...] = ()

    @staticmethod
    def fits(policy: MLPPolicy, config: Config) -> bool:
        """Whether the network and options are the ones this module covers."""
        return (
            policy.cnn is None
            and isinstance(policy.actor, TanhMLP)
            and isinstance(policy.critic, TanhMLP)
            and isinstance(policy.action_head, CategoricalHead)
            and all(value is ANY or getattr(config, name) == value for name, value in LOSS_OPTIONS.items())
        )

    def usable(self) -> bool:
        """Whether the speed code applies now (``agents/speed/cpu_float32.py``)."""
        return speed_code_applies(self.actor[0].weight)

    @torch.no_grad()
    def __call__(
        self, batch: dict[str, torch.Tensor], clip_range: float, vf_coef: float, ent_coef: float
    ) -> dict[str, torch.Tensor]:
        """PPO's loss statistics for ``batch``; every actor and critic parameter's ``.grad`` is overwritten in
        place (the views ``FlatParameters`` attached)."""
        features, weights, chosen, advantages = self._inputs(batch)
        raw_logits, actor_inputs = tanh_mlp_forward(features, self.actor_weights, self.actor_biases)
        value_out, critic_inputs = tanh_mlp_forward(features, self.critic_weights, self.critic_biases)
        values = value_out.squeeze(-1)

        log_probs = functional.log_softmax(self.head.masked_logits(raw_logits), dim=-1)
        probs = log_probs.exp()
        log_prob = log_probs.gather(-1, chosen).squeeze(-1)
        entropy = -(probs * log_probs).sum(-1)

        log_ratio = log_prob - batch["log_probs"]
        ratio = log_ratio.exp()
        unclipped = ratio * advantages
        clipped = ratio.clamp(1 - clip_range, 1 + clip_range) * advantages
        value_terms, value_grad = self._value_terms_and_grad(values, batch, weights)

        # d loss / d log pi(a), then d loss / d logits
        log_prob_grad = torch.where(unclipped <= clipped, unclipped, 0.0).mul_(weights).neg_()
        logits_grad = probs * log_prob_grad.unsqueeze(-1)
        logits_grad.neg_().scatter_add_(-1, chosen, log_prob_grad.unsqueeze(-1))
        if ent_coef:
            logits_grad.add_(probs * (log_probs + entropy.unsqueeze(-1)) * (ent_coef * weights).unsqueeze(-1))
        if self.head.masked:
            logits_grad.masked_fill_(~self.head.allowed, 0.0)
        tanh_mlp_backward(logits_grad, actor_inputs, self.actor_weights, self._grad_views(self.actor))
        value_grad = value_grad.mul_(vf_coef).unsqueeze(-1)
        tanh_mlp_backward(value_grad, critic_inputs, self.critic_weights, self._grad_views(self.critic))

        # every statistic is a weighted mean of one per-sample term: one (terms x samples) @ weights product
        ratio_minus_one = ratio - 1
        terms = torch.stack(
            [
                torch.minimum(unclipped, clipped),
                value_terms,
                entropy,
                ratio_minus_one - log_ratio,  # approx_kl
                (ratio_minus_one.abs() > clip_range).float(),  # clip_fraction
            ]
        )
        policy_sum, value_loss, entropy_mean, approx_kl, clip_fraction = (terms @ weights).unbind()
        policy_loss = -policy_sum
        loss = policy_loss + vf_coef * value_loss - ent_coef * entropy_mean
        return loss_stats(loss, policy_loss, value_loss, entropy_mean, approx_kl=approx_kl, clip_fraction=clip_fraction)

    def _inputs(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
        """What the loss needs from ``batch`` before the networks run: features, ``mean_weights``, the chosen
        actions as an index column and the (normalized) advantages. None of it depends on the parameters, so
        when an epoch is one minibatch (the same ``batch`` object every epoch) it is computed once."""
        if self._inputs_of is batch:
            return self._cached_inputs
        weights = mean_weights(batch["weights"])
        advantages = batch["advantages"]
        if self.normalize_advantages:
            advantages = masked_standardize(advantages, weights)
        chosen = batch["actions"].long().unsqueeze(-1)
        self._inputs_of, self._cached_inputs = batch, (self.policy.encode(batch["obs"]), weights, chosen, advantages)
        return self._cached_inputs

    def _value_terms_and_grad(
        self, values: torch.Tensor, batch: dict[str, torch.Tensor], weights: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The value loss's per-sample terms (their weighted mean is the loss) and its gradient with respect to
        each value (before ``vf_coef``)."""
        error = values - batch["returns"]
        if self.clip_range_vf is None:
            return error * error, error.mul(2.0).mul_(weights)
        old = batch["values"]
        delta = values - old
        clipped_error = old + delta.clamp(-self.clip_range_vf, self.clip_range_vf) - batch["returns"]
        plain, clipped = error * error, clipped_error * clipped_error
        plain_grad = 2.0 * error
        clipped_grad = torch.where(delta.abs() <= self.clip_range_vf, 2.0 * clipped_error, 0.0)
        grad = torch.where(plain > clipped, plain_grad, clipped_grad)
        grad = torch.where(plain == clipped, (plain_grad + clipped_grad) / 2, grad)
        return torch.maximum(plain, clipped), grad.mul_(weights)

    @staticmethod
    def _grad_views(layers: list[torch.nn.Linear]) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Each layer's weight and bias ``.grad``: the views into the flat gradient the backward writes into."""
        weights = [layer.weight.grad for layer in layers]
        biases = [layer.bias.grad for layer in layers]
        assert all(grad is not None for grad in (*weights, *biases))  # FlatParameters' views, attached per call
        return cast(list[torch.Tensor], weights), cast(list[torch.Tensor], biases)
