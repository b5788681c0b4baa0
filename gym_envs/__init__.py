"""Custom Gymnasium environments; importing this package registers them."""

from __future__ import annotations

import gymnasium as gym

from gym_envs.bandit import (
    DEFAULT_ARM_MEANS,
    DEFAULT_EPISODE_LENGTH,
    MultiArmedBanditEnv,
)

BANDIT_ENV_ID = "Bandit-v0"
# Solved = 90% of the return from always pulling the best arm under default settings.
BANDIT_REWARD_THRESHOLD = 0.9 * DEFAULT_EPISODE_LENGTH * max(DEFAULT_ARM_MEANS)


def register_envs() -> None:
    """Register this package's environments with Gymnasium; safe to call repeatedly."""
    if BANDIT_ENV_ID in gym.registry:
        return
    gym.register(
        id=BANDIT_ENV_ID,
        entry_point="gym_envs.bandit:MultiArmedBanditEnv",
        reward_threshold=BANDIT_REWARD_THRESHOLD,
    )


register_envs()

__all__ = ["BANDIT_ENV_ID", "MultiArmedBanditEnv", "register_envs"]
