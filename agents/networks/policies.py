"""Policy networks: MLP or CNN body, actor-critic or policy-only, with an action head per space.

Action heads (``agents/networks/action_heads.py``) use plain tensor math rather than ``torch.distributions``
objects, which cost more than the network itself for small MLPs on the rollout hot path.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch
from gymnasium import spaces
from torch import nn
from torch.nn import functional

from agents.networks.action_heads import CategoricalHead, build_action_head
from agents.networks.activations import ACTIVATION_LAYERS
from agents.networks.cnn import NatureCNN
from agents.speed.numpy_inference import NumpyActor
from agents.speed.tanh_mlp import TanhMLP
from utils.config import Config
from utils.config_values import ConfigError


def _mlp(sizes: list[int], activation: str, out_gain: float, fused: bool = True) -> nn.Sequential:
    """Linear layers with orthogonal init; the last layer uses ``out_gain``; ``fused``: tanh MLPs run as one
    ``TanhMLP`` node (same weights and results as the plain ``nn.Sequential``)."""
    layers: list[nn.Module] = []
    for index, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        last = index == len(sizes) - 2
        linear = nn.Linear(n_in, n_out)
        nn.init.orthogonal_(linear.weight, out_gain if last else math.sqrt(2))
        nn.init.zeros_(linear.bias)
        layers.append(linear)
        if not last:
            layers.append(ACTIVATION_LAYERS[activation].layer())
    return TanhMLP(*layers) if fused and TanhMLP.fits(layers) else nn.Sequential(*layers)


def obs_input_size(space: spaces.Space) -> int:
    """Width of the flat network input for an observation space."""
    if isinstance(space, spaces.Discrete):
        return int(space.n)
    if isinstance(space, spaces.Box):
        return int(np.prod(space.shape))
    raise ConfigError(
        f"observation space {type(space).__name__} is not supported by the mlp policy; "
        "wrap it into a Box or Discrete space with env_wrappers"
    )


class MLPPolicy(nn.Module):
    """Separate actor and (optional) critic MLPs over a flattened observation (or shared CNN features)."""

    def __init__(self, obs_space: spaces.Space, action_space: spaces.Space, config: Config) -> None:
        super().__init__()
        self.discrete_obs = isinstance(obs_space, spaces.Discrete)
        self.action_head = build_action_head(action_space, config.valid_actions)
        n_actions = self.action_head.n_outputs
        self.cnn: NatureCNN | None = None
        if config.policy == "cnn":
            self.cnn = NatureCNN(obs_space)
            self.n_obs = self.cnn.out_features
            heads: list[int] = []  # the CNN's 512 features feed linear heads directly
        else:
            self.n_obs = obs_input_size(obs_space)
            heads = list(config.hidden_dims)
        fast = config.fast_paths == "auto"
        self.actor = _mlp([self.n_obs, *heads, n_actions], config.activation, 0.01, fast)
        self.critic = _mlp([self.n_obs, *heads, 1], config.activation, 1.0, fast) if config.uses_critic else None
        self.fast_actor: NumpyActor | None = None
        head = self.action_head
        numpy_ready = fast and self.cnn is None and not self.discrete_obs and NumpyActor.fits(self.actor)
        if numpy_ready and isinstance(head, CategoricalHead):
            self.fast_actor = NumpyActor(self.actor, self.critic, head)

    @property
    def has_critic(self) -> bool:
        """Whether a value head exists."""
        return self.critic is not None

    def encode(self, obs: torch.Tensor) -> torch.Tensor:
        """Flat float features: CNN features for images, one-hot for Discrete, flattened otherwise."""
        if self.cnn is not None:
            return self.cnn(obs)
        if self.discrete_obs:
            return functional.one_hot(obs.long().reshape(-1), self.n_obs).float()
        return obs.reshape(obs.shape[0], -1).float()

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """State values (zeros for a policy-only network)."""
        features = self.encode(obs)
        if self.critic is None:
            return torch.zeros(features.shape[0], device=features.device)
        return self.critic(features).squeeze(-1)

    @torch.no_grad()
    def act(
        self, obs: torch.Tensor, deterministic: bool = False, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Actions, their log-probabilities and state values for a batch of observations."""
        features = self.encode(obs)
        params = self.actor(features)
        actions = self.action_head.sample(params, deterministic, generator)
        log_prob, _ = self.action_head.log_prob_entropy(params, actions)
        values = self.critic(features).squeeze(-1) if self.critic is not None else torch.zeros_like(log_prob)
        return actions, log_prob, values

    def act_numpy(
        self, obs: np.ndarray, deterministic: bool = False, generator: torch.Generator | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``act`` on a NumPy batch, returning NumPy arrays; small CPU MLPs skip torch (``numpy_inference``)."""
        if self.fast_actor is not None and self.fast_actor.usable():
            return self.fast_actor.act(obs, deterministic, generator)
        device = next(self.actor.parameters()).device  # the first Linear's weight
        actions, log_probs, values = self.act(torch.as_tensor(obs, device=device), deterministic, generator)
        return actions.cpu().numpy(), log_probs.float().cpu().numpy(), values.float().cpu().numpy()  # bf16 autocast

    def evaluate(self, obs: torch.Tensor, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Log-probabilities of ``actions``, the policy entropy and values, with gradients."""
        features = self.encode(obs)
        log_prob, entropy = self.action_head.log_prob_entropy(self.actor(features), actions)
        if self.critic is None:
            return log_prob, entropy, torch.zeros_like(log_prob)
        return log_prob, entropy, self.critic(features).squeeze(-1)


def build_policy(obs_space: spaces.Space, action_space: spaces.Space, config: Config) -> MLPPolicy:
    """The policy network the config asks for."""
    return MLPPolicy(obs_space, action_space, config)
