"""Potential-based shaping for VizDoom envs over the game variables (health, ammo, ...)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from gym_wrappers.registry import EnvWrapperRegistry, env_name
from gym_wrappers.reward_shaping import PotentialBasedRewardShaper


@EnvWrapperRegistry.register()
class VizDoom_RewardShaper(PotentialBasedRewardShaper):
    """Shapes a VizDoom env with Φ = gamevariable_scale · Σ wᵢ·gᵢ over its game variables gᵢ.

    ``weights`` (default all 1) sets each variable's sign and size, in the order the
    scenario's config lists them (e.g. VizdoomBasic-v1 has only AMMO2). The variables
    are read from the DoomGame (``env.unwrapped.game``), not from the observation,
    because the framework reduces VizDoom's Dict observation to its screen
    (``ScreenObservation``) before applying ``env_wrappers``; so the shaper works in
    any position of the ``env_wrappers`` list. Φ is 0 when the game has no state.
    """

    def __init__(
        self,
        env: gym.Env,
        gamevariable_scale: float = 0.01,
        gamma: float = 0.99,
        weights: list[float] | None = None,
    ) -> None:
        gym.utils.RecordConstructorArgs.__init__(
            self, gamevariable_scale=gamevariable_scale, gamma=gamma, weights=weights
        )
        game = getattr(env.unwrapped, "game", None)
        if game is None or not hasattr(game, "get_available_game_variables_size"):
            raise ValueError(
                f"VizDoom_RewardShaper is written for VizDoom envs (Vizdoom*), not {env_name(env)}; "
                "remove it from env_wrappers"
            )
        super().__init__(env, gamma=gamma)
        self.game = game
        self.gamevariable_scale = float(gamevariable_scale)
        self.weights = None if weights is None else np.asarray(weights, dtype=np.float64)
        n_variables = int(game.get_available_game_variables_size())
        if self.weights is not None and self.weights.shape != (n_variables,):
            raise ValueError(
                f"VizDoom_RewardShaper: weights has {self.weights.size} entries but the game has {n_variables} variables"
            )

    def potential(self, obs: Any) -> float:
        """Return Φ of the game's current state; ``obs`` is unused (it may be only the screen)."""
        state = self.game.get_state()
        if state is None or state.game_variables is None:
            return 0.0
        variables = np.asarray(state.game_variables, dtype=np.float64)
        weighted = variables if self.weights is None else variables * self.weights
        return self.gamevariable_scale * float(weighted.sum())
