"""What rollouts and evaluations need of a policy, as a type (``agents.networks.policies.MLPPolicy`` is one).

A protocol rather than an import: ``utils`` sits below ``agents`` and never imports it.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch


class ActionConverter(Protocol):
    """The part of an action head the env loop uses."""

    @property
    def action_dtype(self) -> type:
        """NumPy dtype of the action buffer."""
        ...

    def to_env(self, actions: np.ndarray) -> np.ndarray:
        """Actions in the form the env accepts."""
        ...


class ActingPolicy(Protocol):
    """A policy that acts on NumPy observations and values torch ones; ``train``/``eval`` as in ``nn.Module``."""

    training: bool

    @property
    def action_head(self) -> ActionConverter:
        """Converts sampled actions for the env."""
        ...

    def act_numpy(
        self, obs: np.ndarray, deterministic: bool = False, generator: torch.Generator | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Actions, their log-probabilities and state values for a NumPy batch."""
        ...

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """State values for a batch."""
        ...

    def train(self, mode: bool = True) -> object:
        """Training mode on or off."""
        ...

    def eval(self) -> object:
        """Evaluation mode."""
        ...
