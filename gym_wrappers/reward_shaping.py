"""Potential-based reward shaping (Ng, Harada & Russell, 1999)."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym


class PotentialBasedRewardShaper(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Adds F = scale * (gamma * Φ(s') - Φ(s)) to each reward; subclasses define Φ.

    Shaping of this form leaves the optimal policy unchanged. Φ of a terminal state
    is 0 (on ``terminated``), but a truncated episode keeps Φ(s_T) because the state
    is not terminal, only cut off. Every step's ``info`` carries the unshaped
    ``env_reward`` (kept from an inner shaper if stacked) and the ``shaping_reward``
    (summed over stacked shapers), so metrics can report the env's real return.

    A subclass records its own constructor arguments (``RecordConstructorArgs.__init__``) before
    calling this one, so its ``env.spec`` entry rebuilds the subclass; the first record wins.
    """

    def __init__(self, env: gym.Env, gamma: float = 0.99, scale: float = 1.0) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, gamma=gamma, scale=scale)
        super().__init__(env)
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"gamma must be in [0, 1], got {gamma}")
        self.gamma = float(gamma)
        self.scale = float(scale)
        self._last_potential = 0.0

    def potential(self, obs: Any) -> float:
        """Return Φ(obs): higher for states closer to the goal."""
        raise NotImplementedError

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Reset the env and remember Φ(s0) for the first shaping term."""
        obs, info = self.env.reset(seed=seed, options=options)
        self._last_potential = self.potential(obs)
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Step the env and add the shaping term to its reward."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        next_potential = 0.0 if terminated else self.potential(obs)
        shaping = self.scale * (self.gamma * next_potential - self._last_potential)
        self._last_potential = next_potential
        info = dict(info)
        info.setdefault("env_reward", float(reward))
        info["shaping_reward"] = float(info.get("shaping_reward", 0.0)) + shaping
        return obs, float(reward) + shaping, terminated, truncated, info
