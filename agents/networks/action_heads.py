"""Action distributions for each Gymnasium action space, written as plain tensor math.

Each head turns the actor's raw outputs into actions, their log-probabilities and the entropy:
Discrete -> categorical, MultiDiscrete -> one categorical per dimension, MultiBinary -> independent
Bernoullis, Box -> diagonal Gaussian with a learned, state-independent log-std (actions are clipped
to the bounds only when sent to the env, so log-probabilities stay exact).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from gymnasium import spaces
from torch import nn
from torch.nn import functional

from utils.config_values import ConfigError


class ActionHead(nn.Module):
    """Maps actor outputs to a distribution over one action space."""

    n_outputs: int
    action_dtype: type = np.int64

    def __init__(self, space: spaces.Space) -> None:
        super().__init__()
        self.space = space

    def sample(self, params: torch.Tensor, deterministic: bool, generator: torch.Generator | None) -> torch.Tensor:
        """Actions for a batch (the mode when ``deterministic``)."""
        raise NotImplementedError

    def log_prob_entropy(self, params: torch.Tensor, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-sample log-probability of ``actions`` and entropy of the distribution."""
        raise NotImplementedError

    def to_env(self, actions: np.ndarray) -> np.ndarray:
        """Actions in the form the env accepts."""
        return actions.astype(self.space.dtype, copy=False)


class CategoricalHead(ActionHead):
    """Discrete(n), optionally restricted to ``valid_actions`` (the others get probability 0)."""

    allowed: torch.Tensor  # buffer: which actions ``valid_actions`` permits

    def __init__(self, space: spaces.Discrete, valid_actions: list[int] | None = None) -> None:
        super().__init__(space)
        self.n_outputs = int(space.n)
        self.masked = valid_actions is not None
        allowed = torch.zeros(self.n_outputs, dtype=torch.bool)
        allowed[list(range(self.n_outputs)) if valid_actions is None else valid_actions] = True
        self.register_buffer("allowed", allowed, persistent=False)  # derived from config, not saved

    def masked_logits(self, params: torch.Tensor) -> torch.Tensor:
        """The network outputs with disallowed actions (``valid_actions``) at a large negative logit."""
        # a large finite logit, not -inf: probability 0 without NaN gradients through p * log p
        return params.masked_fill(~self.allowed, -1e9) if self.masked else params

    def sample(self, params: torch.Tensor, deterministic: bool, generator: torch.Generator | None) -> torch.Tensor:
        logits = self.masked_logits(params)
        if deterministic:
            return logits.argmax(dim=-1)
        return torch.multinomial(functional.softmax(logits, dim=-1), 1, generator=generator).squeeze(-1)

    def log_prob_entropy(self, params: torch.Tensor, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        log_probs = functional.log_softmax(self.masked_logits(params), dim=-1)
        chosen = log_probs.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)
        return chosen, -(log_probs.exp() * log_probs).sum(-1)


class MultiCategoricalHead(ActionHead):
    """MultiDiscrete(nvec): one independent categorical per dimension."""

    def __init__(self, space: spaces.MultiDiscrete) -> None:
        super().__init__(space)
        self.sizes = [int(n) for n in np.asarray(space.nvec).reshape(-1)]
        self.n_outputs = sum(self.sizes)

    def sample(self, params: torch.Tensor, deterministic: bool, generator: torch.Generator | None) -> torch.Tensor:
        parts = []
        for logits in params.split(self.sizes, dim=-1):
            if deterministic:
                parts.append(logits.argmax(dim=-1))
            else:
                parts.append(torch.multinomial(functional.softmax(logits, -1), 1, generator=generator).squeeze(-1))
        return torch.stack(parts, dim=-1)

    def log_prob_entropy(self, params: torch.Tensor, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        log_prob = entropy = params.new_zeros(())  # 0-dim zero: the sums keep params' dtype and device
        for dim, logits in enumerate(params.split(self.sizes, dim=-1)):
            log_probs = functional.log_softmax(logits, dim=-1)
            log_prob = log_prob + log_probs.gather(-1, actions[:, dim].long().unsqueeze(-1)).squeeze(-1)
            entropy = entropy - (log_probs.exp() * log_probs).sum(-1)
        return log_prob, entropy


class BernoulliHead(ActionHead):
    """MultiBinary(n): independent on/off per entry."""

    def __init__(self, space: spaces.MultiBinary) -> None:
        super().__init__(space)
        self.n_outputs = int(np.prod(space.shape))

    def sample(self, params: torch.Tensor, deterministic: bool, generator: torch.Generator | None) -> torch.Tensor:
        probs = torch.sigmoid(params)
        return (probs > 0.5).long() if deterministic else torch.bernoulli(probs, generator=generator).long()

    def log_prob_entropy(self, params: torch.Tensor, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        log_p, log_not_p = functional.logsigmoid(params), functional.logsigmoid(-params)
        taken = actions.float()
        log_prob = (taken * log_p + (1 - taken) * log_not_p).sum(-1)
        entropy = -(log_p.exp() * log_p + log_not_p.exp() * log_not_p).sum(-1)
        return log_prob, entropy


class GaussianHead(ActionHead):
    """Box(low, high): diagonal Gaussian, mean from the actor, learned log-std."""

    space: spaces.Box
    action_dtype = np.float32

    def __init__(self, space: spaces.Box) -> None:
        super().__init__(space)
        self.n_outputs = int(np.prod(space.shape))
        self.log_std = nn.Parameter(torch.zeros(self.n_outputs))
        self.low, self.high = space.low.reshape(-1), space.high.reshape(-1)

    def sample(self, params: torch.Tensor, deterministic: bool, generator: torch.Generator | None) -> torch.Tensor:
        if deterministic:
            return params
        noise = torch.randn(params.shape, generator=generator, device=params.device)
        return params + noise * self.log_std.exp()

    def log_prob_entropy(self, params: torch.Tensor, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        log_std = self.log_std.expand_as(params)
        z = (actions.reshape(params.shape) - params) / log_std.exp()
        log_prob = (-0.5 * z**2 - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)
        entropy = (log_std + 0.5 + 0.5 * math.log(2 * math.pi)).sum(-1)
        return log_prob, entropy

    def to_env(self, actions: np.ndarray) -> np.ndarray:
        clipped = np.clip(actions.reshape(actions.shape[0], -1), self.low, self.high)
        return clipped.reshape(actions.shape[0], *self.space.shape).astype(self.space.dtype)


def build_action_head(space: spaces.Space, valid_actions: list[int] | None = None) -> ActionHead:
    """The head for ``space``, or a one-line error naming an unsupported space."""
    if valid_actions is not None:
        if not isinstance(space, spaces.Discrete):
            raise ConfigError(f"valid_actions: needs a Discrete action space, not {space}; remove valid_actions")
        bad = [a for a in valid_actions if not 0 <= a < space.n]
        if bad or not valid_actions:
            raise ConfigError(f"valid_actions: {valid_actions} must be non-empty actions in 0..{space.n - 1}")
    if isinstance(space, spaces.Discrete):
        return CategoricalHead(space, valid_actions)
    if isinstance(space, spaces.MultiDiscrete):
        return MultiCategoricalHead(space)
    if isinstance(space, spaces.MultiBinary):
        return BernoulliHead(space)
    if isinstance(space, spaces.Box) and np.all(np.isfinite(space.low)) and np.all(np.isfinite(space.high)):
        return GaussianHead(space)
    raise ConfigError(
        f"action space {space} is not supported; supported: Discrete, MultiDiscrete, MultiBinary, bounded Box"
    )
