"""Potential-based shaping for MountainCar-v0 that rewards the car's mechanical energy."""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym

from gym_wrappers.registry import EnvWrapperRegistry, require_env_family
from gym_wrappers.reward_shaping import PotentialBasedRewardShaper


@EnvWrapperRegistry.register()
class MountainCarV0_RewardShaper(PotentialBasedRewardShaper):
    """Shapes MountainCar-v0 with Φ(x, v) = p·sin(3x)/3 + k·v²/2, an energy-like potential.

    ``p`` is ``position_scale`` (potential energy: the track's height is sin(3x)) and
    ``k`` is ``velocity_scale`` (kinetic energy). Gaining height or speed raises Φ,
    so the shaping rewards swinging higher each time, which is how the car gets out
    of the valley. MountainCar's gravity is 0.0025, so ``velocity_scale = 400 *
    position_scale`` makes Φ the exact mechanical energy, conserved when coasting;
    the default (10) weights height more, since speeds stay below 0.07.
    """

    def __init__(
        self,
        env: gym.Env,
        velocity_scale: float = 10.0,
        position_scale: float = 1.0,
        gamma: float = 0.99,
    ) -> None:
        gym.utils.RecordConstructorArgs.__init__(
            self, velocity_scale=velocity_scale, position_scale=position_scale, gamma=gamma
        )
        require_env_family(env, "MountainCarV0_RewardShaper", "MountainCar", "MountainCar-v0")
        obs_shape = env.observation_space.shape
        if obs_shape != (2,):
            raise ValueError(f"MountainCarV0_RewardShaper needs MountainCar's 2-dim observation, got {obs_shape}")
        super().__init__(env, gamma=gamma)
        self.velocity_scale = float(velocity_scale)
        self.position_scale = float(position_scale)

    def potential(self, obs: Any) -> float:
        """Return Φ: higher when the car is higher up the track or moving faster."""
        position, velocity = (float(v) for v in obs)
        height_term = self.position_scale * math.sin(3.0 * position) / 3.0
        speed_term = self.velocity_scale * velocity * velocity / 2.0
        return height_term + speed_term
