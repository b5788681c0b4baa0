"""Observation wrappers: the screen of Dict observations, and Gymnasium's image wrappers by name."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
from gymnasium.wrappers import GrayscaleObservation, ResizeObservation

from gym_wrappers.registry import EnvWrapperRegistry, env_name


@EnvWrapperRegistry.register()
class ScreenObservation(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """Keep only ``obs[key]`` of a Dict observation (VizDoom's ``screen``; game variables are dropped)."""

    def __init__(self, env: gym.Env, key: str = "screen") -> None:
        gym.utils.RecordConstructorArgs.__init__(self, key=key)
        super().__init__(env)
        if not isinstance(env.observation_space, gym.spaces.Dict) or key not in env.observation_space.spaces:
            raise ValueError(f"ScreenObservation: observation space {env.observation_space} has no '{key}' entry")
        self.key = key
        self.observation_space = env.observation_space.spaces[key]

    def observation(self, observation: dict[str, Any]) -> Any:
        return observation[self.key]


def _require_image(env: gym.Env, wrapper_name: str, rgb: bool = False) -> None:
    """Reject vector (non-image) observations before Gymnasium's image wrappers fail on them."""
    space = env.observation_space
    shape = getattr(space, "shape", None)
    is_image = (
        isinstance(space, gym.spaces.Box)
        and shape is not None
        and len(shape) in ((3,) if rgb else (2, 3))
        and (not rgb or shape[-1] == 3)
    )
    if is_image:
        return
    wanted = "RGB image observations (H x W x 3)" if rgb else "image observations (H x W or H x W x C)"
    got = f"shape {shape}" if isinstance(space, gym.spaces.Box) else str(space)
    raise ValueError(
        f"{wrapper_name} needs {wanted}, but {env_name(env)} observes {got}; use it on pixel envs "
        "(Atari rgb, VizDoom, retro) or after PixelObservationWrapper"
    )


@EnvWrapperRegistry.register("ResizeObservation")
class ResizeImage(ResizeObservation):
    """Gymnasium's ResizeObservation taking ``shape: [height, width]`` as YAML writes it."""

    def __init__(self, env: gym.Env, shape: list[int] | tuple[int, int]) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, shape=shape)  # before Gymnasium's record of its own args
        if len(shape) != 2 or min(shape) < 1:
            raise ValueError(f"ResizeObservation: shape must be [height, width] with both >= 1, got {list(shape)}")
        _require_image(env, "ResizeObservation")
        super().__init__(env, (int(shape[0]), int(shape[1])))


@EnvWrapperRegistry.register("GrayscaleObservation")
class GrayscaleImage(GrayscaleObservation):
    """Gymnasium's GrayscaleObservation, with a one-line error for observations that are not RGB images."""

    def __init__(self, env: gym.Env, keep_dim: bool = False) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, keep_dim=keep_dim)
        _require_image(env, "GrayscaleObservation", rgb=True)
        super().__init__(env, keep_dim=keep_dim)
