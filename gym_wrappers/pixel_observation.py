"""Observe an env through its rendered frames instead of its state vector."""

from __future__ import annotations

import gymnasium as gym
from gymnasium.wrappers import AddRenderObservation

from gym_wrappers.registry import EnvWrapperRegistry


@EnvWrapperRegistry.register()
class PixelObservationWrapper(AddRenderObservation):
    """Replaces each observation with ``env.render()``, an HxWx3 uint8 image (e.g. 400x600x3 for CartPole).

    The env must be built with ``render_mode='rgb_array'`` (config:
    ``env_kwargs: {render_mode: rgb_array}``). ``pixels_only=False`` (state plus
    pixels as a Dict) is rejected because the framework's policies take a single
    array observation.
    """

    def __init__(self, env: gym.Env, pixels_only: bool = True) -> None:
        # recorded before AddRenderObservation records its own (render_only, ...), which this class does not take
        gym.utils.RecordConstructorArgs.__init__(self, pixels_only=pixels_only)
        if not pixels_only:
            raise ValueError(
                "PixelObservationWrapper: pixels_only=False (state + pixels Dict) is not supported by the policies; "
                "use pixels_only: true"
            )
        if env.render_mode != "rgb_array":
            raise ValueError(
                f"PixelObservationWrapper needs render_mode='rgb_array', got {env.render_mode!r}; "
                "set env_kwargs: {render_mode: rgb_array} in the config"
            )
        super().__init__(env, render_only=True)
        self.pixels_only = pixels_only
