"""Observation and reward normalization whose statistics live in checkpoints.

Statistics are updated once per rollout (not per step) so that every
observation of a rollout is normalized with the same numbers, which keeps the
stored batch identical to what the policy saw.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from utils.config_values import ConfigError

EPSILON = 1e-8
CLIP = 10.0


class RunningMeanStd:
    """Mean and variance of a stream of arrays (parallel Welford/Chan update)."""

    def __init__(self, shape: tuple[int, ...] = ()) -> None:
        self.mean = np.zeros(shape, dtype=np.float64)
        self.var = np.ones(shape, dtype=np.float64)
        self.count = EPSILON

    def update(self, batch: np.ndarray) -> None:
        """Fold a batch (first axis = samples) into the statistics."""
        batch_mean = batch.mean(axis=0)
        batch_var = batch.var(axis=0)
        batch_count = batch.shape[0]
        delta = batch_mean - self.mean
        total = self.count + batch_count
        self.mean = self.mean + delta * batch_count / total
        m2 = self.var * self.count + batch_var * batch_count + delta**2 * self.count * batch_count / total
        self.var = m2 / total
        self.count = total

    def state(self) -> dict[str, np.ndarray]:
        """Arrays to save in a checkpoint."""
        return {"mean": self.mean, "var": self.var, "count": np.asarray(self.count)}

    def load(self, state: dict[str, np.ndarray]) -> None:
        """Restore statistics saved by ``state``."""
        self.mean = np.asarray(state["mean"], dtype=np.float64)
        self.var = np.asarray(state["var"], dtype=np.float64)
        self.count = float(state["count"])


class ObsNormalizer:
    """``rolling``: running mean/std; ``static``: map the space's bounds to [-1, 1]; ``False``: identity."""

    def __init__(self, mode: str | bool, space: spaces.Space) -> None:
        self.mode = mode
        self.rms: RunningMeanStd | None = None
        self.low: np.ndarray | None = None  # static: the space's bounds (both set, or neither)
        self.high: np.ndarray | None = None
        if mode not in ("rolling", "static"):
            return
        if not isinstance(space, spaces.Box):
            raise ConfigError(
                f"normalize_obs: {mode} needs Box observations, not {type(space).__name__}; set normalize_obs: false"
            )
        if mode == "rolling":
            self.rms = RunningMeanStd(space.shape)
        else:
            if not np.all(np.isfinite(space.low) & np.isfinite(space.high)):
                raise ConfigError("normalize_obs: static needs finite observation bounds; use normalize_obs: rolling")
            self.low = space.low.astype(np.float32)
            self.high = space.high.astype(np.float32)

    @property
    def active(self) -> bool:
        """Whether observations are changed at all."""
        return self.mode in ("rolling", "static")

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        """Normalized float32 observations (a batch or a stack of batches)."""
        if self.rms is not None:
            std = np.sqrt(self.rms.var + EPSILON)
            return np.clip((obs - self.rms.mean) / std, -CLIP, CLIP).astype(np.float32)
        if self.low is not None and self.high is not None:
            return (2.0 * (obs - self.low) / np.maximum(self.high - self.low, EPSILON) - 1.0).astype(np.float32)
        return obs

    def update(self, raw_obs: np.ndarray) -> None:
        """Fold a rollout's raw observations (steps, envs, ...) into the running stats."""
        if self.rms is not None:
            self.rms.update(raw_obs.reshape((-1, *self.rms.mean.shape)))

    def state(self) -> dict[str, np.ndarray]:
        """Arrays to save in a checkpoint (empty when there is nothing to restore)."""
        return self.rms.state() if self.rms is not None else {}

    def load(self, state: dict[str, np.ndarray]) -> None:
        """Restore running statistics."""
        if self.rms is not None and state:
            self.rms.load(state)


class RewardNormalizer:
    """Divide rewards by the running std of the discounted return (rewards keep their sign)."""

    def __init__(self, enabled: bool, n_envs: int, gamma: float) -> None:
        self.enabled = enabled
        self.gamma = gamma
        self.rms = RunningMeanStd(())
        self.discounted = np.zeros(n_envs, dtype=np.float64)

    def __call__(self, rewards: np.ndarray, dones: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Scaled rewards for a rollout of shape (steps, envs); updates the statistics first."""
        if not self.enabled:
            return rewards
        returns = np.empty_like(rewards, dtype=np.float64)
        for t in range(rewards.shape[0]):
            self.discounted = np.where(valid[t], self.discounted * self.gamma + rewards[t], self.discounted)
            returns[t] = self.discounted
            self.discounted = np.where(dones[t], 0.0, self.discounted)
        self.rms.update(returns[valid])
        scaled = rewards / np.sqrt(self.rms.var + EPSILON)
        return np.clip(scaled, -CLIP, CLIP).astype(np.float32)

    def state(self) -> dict[str, np.ndarray]:
        """Arrays to save in a checkpoint."""
        return {**self.rms.state(), "discounted": self.discounted}

    def load(self, state: dict[str, np.ndarray]) -> None:
        """Restore running statistics."""
        if state:
            self.rms.load(state)
            self.discounted = np.asarray(state["discounted"], dtype=np.float64)
