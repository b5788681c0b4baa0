"""Observation wrappers: the screen of Dict observations, and Gymnasium's image wrappers by name."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
from gymnasium.wrappers import GrayscaleObservation, ResizeObservation

from gym_wrappers.registry import EnvWrapperRegistry


@EnvWrapperRegistry.register()
class ScreenObservation(gym.ObservationWrapper):
    """Keep only ``obs[key]`` of a Dict observation (VizDoom's ``screen``; game variables are dropped)."""

    def __init__(self, env: gym.Env, key: str = "screen") -> None:
        super().__init__(env)
        if not isinstance(env.observation_space, gym.spaces.Dict) or key not in env.observation_space.spaces:
            raise ValueError(f"ScreenObservation: observation space {env.observation_space} has no '{key}' entry")
        self.key = key
        self.observation_space = env.observation_space.spaces[key]

    def observation(self, observation: dict[str, Any]) -> Any:
        return observation[self.key]


@EnvWrapperRegistry.register("ResizeObservation")
class ResizeImage(ResizeObservation):
    """Gymnasium's ResizeObservation taking ``shape: [height, width]`` as YAML writes it."""

    def __init__(self, env: gym.Env, shape: list[int] | tuple[int, int]) -> None:
        super().__init__(env, (int(shape[0]), int(shape[1])))


EnvWrapperRegistry.register("GrayscaleObservation")(GrayscaleObservation)
