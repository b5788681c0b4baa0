"""Advantages and returns over a rollout of shape (steps, envs): GAE and Monte Carlo.

Rollouts come from envs with next-step autoreset: after an episode ends at step
``t`` the observation at ``t + 1`` is the episode's final observation and that
step is a reset step (``valid`` is False, its action was ignored). So the value
stored at ``t + 1`` is V(final observation), exactly what bootstrapping a
truncated episode needs, and ``dones[t]`` cuts every chain at episode ends.
"""

from __future__ import annotations

import numpy as np


def _next_values(values: np.ndarray, last_values: np.ndarray) -> np.ndarray:
    """V(s_{t+1}) for every step: the next stored value, or the value after the rollout."""
    return np.concatenate([values[1:], last_values[None]], axis=0)


def compute_gae(
    rewards: np.ndarray,
    values: np.ndarray,
    terminated: np.ndarray,
    truncated: np.ndarray,
    last_values: np.ndarray,
    gamma: float,
    gae_lambda: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Generalized advantage estimates and value targets (advantages + values).

    Terminated steps do not bootstrap; truncated steps bootstrap from V(final obs).
    """
    next_values = _next_values(values, last_values)
    not_terminated = 1.0 - terminated.astype(np.float32)
    continues = 1.0 - (terminated | truncated).astype(np.float32)
    deltas = rewards + gamma * next_values * not_terminated - values
    advantages = np.zeros_like(rewards, dtype=np.float32)
    running = np.zeros(rewards.shape[1], dtype=np.float32)
    for t in range(rewards.shape[0] - 1, -1, -1):
        running = deltas[t] + gamma * gae_lambda * continues[t] * running
        advantages[t] = running
    return advantages, advantages + values


def compute_mc_returns(
    rewards: np.ndarray,
    values: np.ndarray,
    terminated: np.ndarray,
    truncated: np.ndarray,
    valid: np.ndarray,
    last_values: np.ndarray,
    gamma: float,
    returns_type: str = "mc:rtg",
) -> np.ndarray:
    """Discounted Monte Carlo returns.

    ``mc:rtg``: reward-to-go from each step. ``mc:episode``: every step of an
    episode gets the return from the episode's first step in this rollout.
    Episodes cut by a time limit or by the rollout's end bootstrap from the
    value head (zeros for a policy-only network).
    """
    next_values = _next_values(values, last_values)
    returns = np.zeros_like(rewards, dtype=np.float32)
    running = last_values.astype(np.float32)
    for t in range(rewards.shape[0] - 1, -1, -1):
        cut = np.where(truncated[t], next_values[t], 0.0)
        following = np.where(terminated[t] | truncated[t], cut, running)
        running = rewards[t] + gamma * following
        returns[t] = running
    if returns_type == "mc:rtg":
        return returns
    if returns_type != "mc:episode":
        raise ValueError(f"returns_type {returns_type!r} is not mc:rtg or mc:episode")
    episode_returns = np.zeros_like(returns)
    current = returns[0].copy()
    for t in range(returns.shape[0]):
        starts = np.ones_like(valid[0]) if t == 0 else ~valid[t - 1]
        current = np.where(starts, returns[t], current)
        episode_returns[t] = current
    return episode_returns


def explained_variance(predicted: np.ndarray, targets: np.ndarray) -> float:
    """1 - Var(targets - predicted) / Var(targets); NaN when the targets are constant."""
    variance = float(np.var(targets))
    if variance == 0.0:
        return float("nan")
    return 1.0 - float(np.var(targets - predicted)) / variance
