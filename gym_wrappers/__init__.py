"""Env wrappers selectable from config; importing this package registers them all."""

from gym_wrappers import cartpole_reward_shaper, observations  # noqa: F401 (registers wrappers)
from gym_wrappers.registry import (
    EnvWrapperRegistry,
    UnknownWrapperError,
    apply_wrappers,
)
from gym_wrappers.reward_shaping import PotentialBasedRewardShaper

__all__ = [
    "EnvWrapperRegistry",
    "PotentialBasedRewardShaper",
    "UnknownWrapperError",
    "apply_wrappers",
]
