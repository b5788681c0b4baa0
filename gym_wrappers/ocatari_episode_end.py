"""OCAtari's episode-end flags, read from the console itself.

OCAtari 2.2 returns ``(obs, reward, truncated, terminated, info)`` from ``step``: the two flags
swapped relative to Gymnasium. A lost or won game then looks like a time-limit cut, and the value
of the final state gets bootstrapped as if play went on. This wrapper does not trust the order:
``terminated`` is the ALE's own ``game_over()``, and anything else that ended the episode is a
truncation, so it stays right whichever order an OCAtari release uses.
"""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym


class OCAtariEpisodeEnd(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """``terminated`` when the game is over, ``truncated`` for any other end of episode."""

    def __init__(self, env: gym.Env) -> None:
        gym.utils.RecordConstructorArgs.__init__(self)
        super().__init__(env)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, first_flag, second_flag, info = self.env.step(action)
        ended = bool(first_flag or second_flag)
        ocatari: Any = self.env.unwrapped  # OCAtari's env (untyped), which keeps the ALE as _ale
        terminated = ended and bool(ocatari._ale.game_over())
        return obs, reward, terminated, ended and not terminated, info
