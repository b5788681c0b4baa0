"""Random no-op starts: the usual way to vary Atari episodes when sticky actions are off.

With ``repeat_action_probability: 0`` the ALE is deterministic, so every episode of a fixed
policy would be the same game. This wrapper plays 1..``noop_max`` no-op actions after each
reset, the count drawn from a generator seeded by the reset's ``seed``: seeded evaluation
episodes stay reproducible (``run_play.py --seed``), and unseeded resets keep drawing new counts.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from gym_wrappers.registry import EnvWrapperRegistry


@EnvWrapperRegistry.register()
class NoopStartWrapper(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """After each reset, take a random number (1..``noop_max``) of ``noop_action`` steps."""

    def __init__(self, env: gym.Env, noop_max: int = 30, noop_action: int = 0) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, noop_max=noop_max, noop_action=noop_action)
        super().__init__(env)
        if isinstance(noop_max, bool) or not isinstance(noop_max, int) or noop_max < 1:
            raise ValueError(f"NoopStartWrapper: noop_max must be an integer >= 1, got {noop_max!r}")
        if not env.action_space.contains(noop_action):
            raise ValueError(
                f"NoopStartWrapper: noop_action {noop_action!r} is not in the action space {env.action_space}"
            )
        self.noop_max = noop_max
        self.noop_action = noop_action
        self._counts = np.random.default_rng()
        self.last_noops = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict]:
        if seed is not None:
            self._counts = np.random.default_rng(seed)
        obs, info = self.env.reset(seed=seed, options=options)
        self.last_noops = int(self._counts.integers(1, self.noop_max + 1))
        for _ in range(self.last_noops):
            obs, _reward, terminated, truncated, info = self.env.step(self.noop_action)
            if terminated or truncated:
                obs, info = self.env.reset(options=options)
        return obs, info
