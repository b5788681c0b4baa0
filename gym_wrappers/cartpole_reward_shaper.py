"""Potential-based shaping for CartPole-v1 that rewards an upright, centred pole."""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym

from gym_wrappers.registry import EnvWrapperRegistry, require_env_family
from gym_wrappers.reward_shaping import PotentialBasedRewardShaper

# CartPole-v1 terminates when |θ| exceeds 12° or |x| exceeds 2.4.
CARTPOLE_ANGLE_LIMIT = 12 * 2 * math.pi / 360
CARTPOLE_POSITION_LIMIT = 2.4


@EnvWrapperRegistry.register()
class CartPoleV1_RewardShaper(PotentialBasedRewardShaper):
    """Shapes CartPole-v1 with Φ(s) = -a·|θ|/θ_limit - p·|x|/x_limit.

    ``a`` is ``angle_reward_scale`` and ``p`` is ``position_reward_scale``; the limits
    are CartPole's termination bounds (12°, 2.4), so each term lies in about [-1, 0].
    Φ peaks at 0 with the pole upright and the cart centred, so moving toward that
    state earns a positive shaping reward.
    """

    def __init__(
        self,
        env: gym.Env,
        angle_reward_scale: float = 1.0,
        position_reward_scale: float = 0.0,
        gamma: float = 0.99,
    ) -> None:
        gym.utils.RecordConstructorArgs.__init__(
            self, angle_reward_scale=angle_reward_scale, position_reward_scale=position_reward_scale, gamma=gamma
        )
        require_env_family(env, "CartPoleV1_RewardShaper", "CartPole", "CartPole-v1")
        obs_shape = env.observation_space.shape
        if obs_shape != (4,):
            raise ValueError(f"CartPoleV1_RewardShaper needs CartPole's 4-dim observation, got {obs_shape}")
        super().__init__(env, gamma=gamma)
        self.angle_reward_scale = float(angle_reward_scale)
        self.position_reward_scale = float(position_reward_scale)

    def potential(self, obs: Any) -> float:
        """Return Φ: 0 when upright and centred, lower as the pole tilts or the cart drifts."""
        cart_position, _, pole_angle, _ = (float(v) for v in obs)
        angle_term = self.angle_reward_scale * abs(pole_angle) / CARTPOLE_ANGLE_LIMIT
        position_term = self.position_reward_scale * abs(cart_position) / CARTPOLE_POSITION_LIMIT
        return -angle_term - position_term
