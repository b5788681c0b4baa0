"""The acting forward pass of small MLP policies, in NumPy.

Rollouts and evaluations call the policy once per vector step on a handful of observations. At that
size torch's per-operation dispatch is the whole cost: about 130-230 µs for one step of a 64x64
actor-critic on 8 observations here, against about 70 µs for the same math in NumPy. ``NumpyActor`` reads the policy's own parameter
tensors through zero-copy NumPy views, so it always sees the latest optimizer step, and returns
actions, their log-probabilities and values for categorical policies. Training stays in torch.

Sampling draws its uniforms from torch's generator (the given one, or the global one that checkpoints
save), so runs stay reproducible and resumable.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from agents.networks.action_heads import CategoricalHead
from agents.networks.activations import NUMPY_ACTIVATIONS
from agents.speed.cpu_float32 import speed_code_applies

Layers = list[tuple[np.ndarray, np.ndarray] | Callable[[np.ndarray], np.ndarray]]


def _layers(network: nn.Sequential) -> Layers:
    """(weight.T, bias) NumPy views per Linear, and the NumPy function per activation."""
    layers: Layers = []
    for module in network:
        if isinstance(module, nn.Linear):
            layers.append((module.weight.detach().numpy().T, module.bias.detach().numpy()))
        else:
            layers.append(NUMPY_ACTIVATIONS[type(module)])
    return layers


def _forward(layers: Layers, x: np.ndarray) -> np.ndarray:
    for layer in layers:
        if isinstance(layer, tuple):
            weight_t, bias = layer
            x = x @ weight_t + bias
        else:
            x = layer(x)
    return x


class NumpyActor:
    """Actions, log-probabilities and values of an MLP actor(-critic) with a categorical head."""

    def __init__(self, actor: nn.Sequential, critic: nn.Sequential | None, head: CategoricalHead) -> None:
        self.actor, self.critic, self.head = actor, critic, head
        self.params = [*actor.parameters(), *(critic.parameters() if critic is not None else ())]
        self._pointers: tuple[int, ...] = ()
        self._actor_layers: Layers = []
        self._critic_layers: Layers = []

    @staticmethod
    def fits(actor: nn.Sequential) -> bool:
        """Whether the network is made of Linear/Tanh/ReLU layers (the head must be a ``CategoricalHead``)."""
        return all(isinstance(m, (nn.Linear, *NUMPY_ACTIVATIONS)) for m in actor)

    def usable(self) -> bool:
        """Whether the speed code applies now (a GPU, bf16 or autocast policy acts in torch)."""
        return speed_code_applies(self.params[0])

    def _refresh(self) -> None:
        """Rebuild the views if a parameter tensor was replaced (moved, flattened, reloaded)."""
        pointers = tuple(p.data_ptr() for p in self.params)
        if pointers != self._pointers:
            self._actor_layers = _layers(self.actor)
            self._critic_layers = _layers(self.critic) if self.critic is not None else []
            self._pointers = pointers

    def act(
        self, obs: np.ndarray, deterministic: bool, generator: torch.Generator | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Same contract as ``MLPPolicy.act``, on NumPy arrays."""
        self._refresh()
        x = np.asarray(obs, dtype=np.float32).reshape(len(obs), -1)
        logits = _forward(self._actor_layers, x)
        if self.head.masked:
            logits = np.where(self.head.allowed.numpy(), logits, np.float32(-1e9))
        shifted = logits - logits.max(axis=-1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        if deterministic:
            actions = logits.argmax(axis=-1)
        else:
            cdf = np.cumsum(np.exp(log_probs), axis=-1)
            cdf /= cdf[:, -1:]
            uniform = torch.rand(len(x), generator=generator, dtype=torch.float64).numpy()
            actions = (uniform[:, None] >= cdf).sum(axis=-1)  # first bin whose cdf exceeds u: never a p=0 one
        chosen = log_probs[np.arange(len(x)), actions]
        values = _forward(self._critic_layers, x)[:, 0] if self.critic is not None else np.zeros_like(chosen)
        return actions, chosen, values
