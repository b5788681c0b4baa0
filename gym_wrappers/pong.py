"""Pong-specific wrappers over the console RAM (use with ``obs_type: ram`` on ALE/Pong-v5).

RAM addresses (Atari 2600 Pong): 49 ball x, 54 ball y, 51 player (right, green) paddle y,
50 opponent paddle y. Positions are in screen units (0..255).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from gym_wrappers.registry import EnvWrapperRegistry, env_name, require_env_family
from gym_wrappers.reward_shaping import PotentialBasedRewardShaper

BALL_X, BALL_Y, PLAYER_Y, OPPONENT_Y = 49, 54, 51, 50


def _require_pong(env: gym.Env, wrapper_name: str) -> None:
    """Pong RAM addresses mean nothing elsewhere: reject other envs (and non-ALE ones, which have no RAM)."""
    require_env_family(env, wrapper_name, "ALE/Pong", "ALE/Pong-v5")
    base = env.unwrapped
    if getattr(base, "ale", None) is None and getattr(base, "_ale", None) is None:
        raise ValueError(f"{wrapper_name} reads the Atari RAM, but {env_name(env)} is not an ALE env")


def _ram(env: gym.Env) -> np.ndarray:
    base: Any = env.unwrapped  # an AtariEnv (.ale) or an OCAtari env (._ale): attributes gym.Env does not declare
    ale = getattr(base, "ale", None) or base._ale  # OCAtari (obs_type: objects) keeps the ALE as _ale
    return ale.getRAM()


@EnvWrapperRegistry.register()
class PongV5_FeatureExtractor(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """Six features from the RAM: ball x, ball y, ball dx, ball dy, player y, opponent y, scaled to [-1, 1]."""

    def __init__(self, env: gym.Env) -> None:
        gym.utils.RecordConstructorArgs.__init__(self)
        _require_pong(env, "PongV5_FeatureExtractor")
        super().__init__(env)
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (6,), np.float32)
        self.previous: np.ndarray | None = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        self.previous = None
        return super().reset(seed=seed, options=options)

    def observation(self, observation: Any) -> np.ndarray:
        ram = _ram(self.env).astype(np.float32)
        ball = np.array([ram[BALL_X], ram[BALL_Y]], dtype=np.float32)
        velocity = np.zeros(2, np.float32) if self.previous is None else ball - self.previous
        self.previous = ball
        features = np.concatenate([ball / 127.5 - 1.0, np.clip(velocity / 8.0, -1, 1), [ram[PLAYER_Y] / 127.5 - 1.0],
                                   [ram[OPPONENT_Y] / 127.5 - 1.0]])  # fmt: skip
        return features.astype(np.float32)


@EnvWrapperRegistry.register()
class PongV5_RewardShaper(PotentialBasedRewardShaper):
    """Potential-based shaping: Φ = -tracking_scale * |player paddle y - ball y| / 255 (keep the paddle on the ball)."""

    def __init__(self, env: gym.Env, tracking_scale: float = 1.0, gamma: float = 0.99) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, tracking_scale=tracking_scale, gamma=gamma)
        _require_pong(env, "PongV5_RewardShaper")
        super().__init__(env, gamma=gamma)
        self.tracking_scale = tracking_scale

    def potential(self, obs: Any) -> float:
        ram = _ram(self.env)
        return -self.tracking_scale * abs(float(ram[PLAYER_Y]) - float(ram[BALL_Y])) / 255.0
