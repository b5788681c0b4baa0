"""Env wrappers selectable from config; importing this package registers them all."""

from gym_wrappers import (  # noqa: F401 (registers wrappers)
    action_remapper,
    cartpole_reward_shaper,
    discrete_encoder,
    mountaincar_reward_shaper,
    noop_start,
    observations,
    pixel_observation,
    pong,
    vizdoom_reward_shaper,
)
from gym_wrappers.registry import (
    EnvWrapperRegistry,
    UnknownWrapperError,
    WrapperError,
    apply_wrappers,
)
from gym_wrappers.reward_shaping import PotentialBasedRewardShaper

__all__ = [
    "EnvWrapperRegistry",
    "PotentialBasedRewardShaper",
    "UnknownWrapperError",
    "WrapperError",
    "apply_wrappers",
]
