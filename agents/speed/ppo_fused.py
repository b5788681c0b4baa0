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

The math runs as a TorchScript graph recorded from ``FusedPPOGradients.gradients`` at the first minibatch
(``recorded``): the same aten operations in the same order, so the same numbers, but ~100 operations cost
the graph interpreter about 1 µs each instead of ~5 µs through Python and the dispatcher; a minibatch of 256
went from ~1.3 to ~0.9 ms here. ``torch.jit.trace`` is deprecated in favour of ``torch.compile``, which would
import ``torch._dynamo`` and need a C++ compiler and seconds of compilation; if a torch release drops tracing,
the same function runs eagerly.

Where it does not apply (other heads or activations, CNNs, replay, autocast, GPUs) ``PPO`` falls back to
autograd. ``tests/test_ppo_fused.py`` checks the gradients against autograd's for every option it covers.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, TypeVar, cast

import torch
from torch.nn import functional

from agents.base import masked_standardize, mean_weights
from agents.networks.action_heads import CategoricalHead
from agents.networks.policies import MLPPolicy
from agents.speed.cpu_float32 import speed_code_applies
from agents.speed.flat_params import clip_by_norm
from agents.speed.tanh_mlp import TanhMLP, tanh_mlp_backward, tanh_mlp_forward
from utils.config import Config

T = TypeVar("T")
# what ``FusedPPOGradients`` returns per minibatch: ``loss_stats``' names, in its order
# and the gradients' norm before clipping, which says ``BaseAgent._optimize`` has none left to do
STATISTICS = ("loss_total", "loss_policy", "loss_value", "entropy", "approx_kl", "clip_fraction", "grad_norm")
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
        # weight, bias of every actor layer, then of every critic layer: the order ``FlatParameters`` lays them out
        self.params = [tensor for layer in (*self.actor, *self.critic) for tensor in (layer.weight, layer.bias)]
        self.normalize_advantages = config.normalize_advantages
        self.clip_range_vf = config.clip_range_vf
        self.max_grad_norm = config.max_grad_norm
        self._inputs_of: dict[str, torch.Tensor] | None = None  # the batch ``_cached_inputs`` were computed from
        self._cached_inputs: tuple[torch.Tensor, ...] = ()
        self._graphs: dict[bool, Callable[..., tuple[torch.Tensor, torch.Tensor]]] = {}  # by "ent_coef may be > 0"
        self._flat_key: tuple[int, ...] = ()  # the gradient views' addresses ``_flat_view`` was made for
        self._flat_view: torch.Tensor | None = None

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
        """PPO's loss statistics for ``batch`` and the gradients' norm; every actor and critic parameter's ``.grad``
        is overwritten in place (the views ``FlatParameters`` attached) with its gradient, clipped."""
        inputs = self.graph_inputs(batch, clip_range, vf_coef, ent_coef)
        entropy_term = bool(ent_coef)
        graph = self._graphs.get(entropy_term)
        if graph is None:

            def ppo_gradients(
                data: tuple[torch.Tensor, ...], coefs: torch.Tensor, params: tuple[torch.Tensor, ...]
            ) -> tuple[torch.Tensor, torch.Tensor]:
                return self.gradients(data, coefs, params, entropy_term)

            graph = self._graphs[entropy_term] = recorded(ppo_gradients, inputs)
        grads, stats = graph(*inputs)
        self._write(grads)
        return dict(zip(STATISTICS, stats.unbind(), strict=True))

    def graph_inputs(
        self, batch: dict[str, torch.Tensor], clip_range: float, vf_coef: float, ent_coef: float
    ) -> tuple[tuple[torch.Tensor, ...], torch.Tensor, tuple[torch.Tensor, ...]]:
        """``gradients``' arguments (but ``entropy_term``) for ``batch`` and the coefficients."""
        features, weights, chosen, advantages = self._inputs(batch)
        data = (features, weights, chosen, advantages, batch["log_probs"], batch["returns"], batch["values"])
        # the clip bounds computed in Python floats, then rounded once to float32, as torch does with scalar bounds
        coefs = torch.tensor([1 - clip_range, 1 + clip_range, clip_range, vf_coef, ent_coef])
        return data, coefs, tuple(self.params)

    def gradients(
        self,
        data: tuple[torch.Tensor, ...],
        coefs: torch.Tensor,
        params: tuple[torch.Tensor, ...],
        entropy_term: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The math: every parameter's gradient, concatenated in ``self.params`` order and clipped to
        ``max_grad_norm``, and the ``STATISTICS``.
        ``data``: features, mean weights, chosen actions (a column), advantages, old log-probabilities, returns
        and old values; ``coefs``: 1 - clip range, 1 + clip range, clip range, vf_coef, ent_coef; ``params``:
        ``self.params``' tensors.
        ``entropy_term``: whether ent_coef may be non-zero (its gradient is skipped otherwise)."""
        features, weights, chosen, advantages, old_log_probs, returns, old_values = data
        low, high, clip_range, vf_coef, ent_coef = coefs.unbind()
        split = 2 * len(self.actor)
        actor_weights, actor_biases = params[0:split:2], params[1:split:2]
        critic_weights, critic_biases = params[split::2], params[split + 1 :: 2]
        raw_logits, actor_inputs = tanh_mlp_forward(features, actor_weights, actor_biases)
        value_out, critic_inputs = tanh_mlp_forward(features, critic_weights, critic_biases)
        values = value_out.squeeze(-1)

        log_probs = functional.log_softmax(self.head.masked_logits(raw_logits), dim=-1)
        probs = log_probs.exp()
        log_prob = log_probs.gather(-1, chosen).squeeze(-1)
        entropy = -(probs * log_probs).sum(-1)

        log_ratio = log_prob - old_log_probs
        ratio = log_ratio.exp()
        unclipped = ratio * advantages
        clipped = ratio.clamp(low, high) * advantages
        value_terms, value_grad = self._value_terms_and_grad(values, returns, old_values, weights)

        # d loss / d log pi(a), then d loss / d logits
        log_prob_grad = torch.where(unclipped <= clipped, unclipped, 0.0).mul_(weights).neg_()
        logits_grad = probs * log_prob_grad.unsqueeze(-1)
        logits_grad.neg_().scatter_add_(-1, chosen, log_prob_grad.unsqueeze(-1))
        if entropy_term:
            logits_grad.add_(probs * (log_probs + entropy.unsqueeze(-1)) * (ent_coef * weights).unsqueeze(-1))
        if self.head.masked:
            logits_grad.masked_fill_(~self.head.allowed, 0.0)
        actor_grads = tanh_mlp_backward(logits_grad, actor_inputs, actor_weights)
        critic_grads = tanh_mlp_backward(value_grad.mul_(vf_coef).unsqueeze(-1), critic_inputs, critic_weights)
        layer_grads = [pair for w, b, _ in (actor_grads, critic_grads) for pair in zip(w, b, strict=True)]
        grads = torch.cat([grad.reshape(-1) for pair in layer_grads for grad in pair])
        grad_norm = clip_by_norm(grads, self.max_grad_norm)

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
        return grads, torch.stack([loss, policy_loss, value_loss, entropy_mean, approx_kl, clip_fraction, grad_norm])

    def _write(self, grads: torch.Tensor) -> None:
        """Copy the concatenated gradients into the parameters' ``.grad``: one copy into the flat gradient when
        they are its consecutive views in ``self.params`` order (as ``FlatParameters`` lays them out)."""
        views = [param.grad for param in self.params]
        assert all(view is not None for view in views)  # FlatParameters' views, attached per call
        key = tuple(cast(torch.Tensor, view).data_ptr() for view in views)
        if key != self._flat_key:
            self._flat_key, self._flat_view = key, _consecutive(cast(list[torch.Tensor], views))
        if self._flat_view is not None:
            self._flat_view.copy_(grads)
            return
        for view, chunk in zip(views, grads.split([param.numel() for param in self.params]), strict=True):
            cast(torch.Tensor, view).copy_(chunk.view_as(view))

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
        self, values: torch.Tensor, returns: torch.Tensor, old_values: torch.Tensor, weights: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The value loss's per-sample terms (their weighted mean is the loss) and its gradient with respect to
        each value (before ``vf_coef``)."""
        error = values - returns
        if self.clip_range_vf is None:
            return error * error, error.mul(2.0).mul_(weights)
        delta = values - old_values
        clipped_error = old_values + delta.clamp(-self.clip_range_vf, self.clip_range_vf) - returns
        plain, clipped = error * error, clipped_error * clipped_error
        plain_grad = 2.0 * error
        clipped_grad = torch.where(delta.abs() <= self.clip_range_vf, 2.0 * clipped_error, 0.0)
        grad = torch.where(plain > clipped, plain_grad, clipped_grad)
        grad = torch.where(plain == clipped, (plain_grad + clipped_grad) / 2, grad)
        return torch.maximum(plain, clipped), grad.mul_(weights)


def _consecutive(views: list[torch.Tensor]) -> torch.Tensor | None:
    """One 1-D view over ``views`` when they are contiguous and follow each other in one storage, else None."""
    first = views[0]
    storage, position = first.untyped_storage().data_ptr(), first.data_ptr()
    for view in views:
        if not view.is_contiguous() or view.data_ptr() != position or view.untyped_storage().data_ptr() != storage:
            return None
        position += view.numel() * view.element_size()
    total = sum(view.numel() for view in views)
    return torch.as_strided(first, (total,), (1,))


def recorded(function: Callable[..., T], example_inputs: tuple[Any, ...]) -> Callable[..., T]:
    """``function`` recorded once as a TorchScript graph (``torch.jit.trace``) on ``example_inputs``, or
    ``function`` itself where tracing is unavailable. The graph runs the same aten operations in the same order
    (so the same numbers) with ~1 µs of interpreter overhead per operation instead of Python's and the
    dispatcher's ~5 µs. Python branches are taken once, at recording: ``function`` may branch only on what is
    fixed for the graph's life (options, layer sizes), never on tensor values."""
    trace = getattr(torch.jit, "trace", None)
    if trace is None:
        return function
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecated in favour of torch.compile, which needs a compiler and ~2 s
        try:
            return cast(Callable[..., T], trace(function, example_inputs, check_trace=False))
        except (RuntimeError, TypeError, ValueError):  # a torch that can no longer trace: the eager function
            return function
