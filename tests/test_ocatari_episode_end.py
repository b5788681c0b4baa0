"""OCAtariEpisodeEnd takes game over from the console, not from OCAtari's flag order."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from gym_wrappers.ocatari_episode_end import OCAtariEpisodeEnd
from gym_wrappers.pong import _ram


class _Console:
    def __init__(self) -> None:
        self.over = False

    def game_over(self) -> bool:
        return self.over

    def getRAM(self) -> np.ndarray:  # the ALE spells it so
        return np.arange(128, dtype=np.uint8)


class _SwappedFlagsEnv(gym.Env):
    """Steps like OCAtari 2.2: (obs, reward, truncated, terminated, info), the ALE kept as ``_ale``."""

    observation_space = gym.spaces.Box(0, 1, (2,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, flags: tuple[bool, bool], game_over: bool) -> None:
        self.flags = flags
        self._ale = _Console()
        self._ale.over = game_over

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        return np.zeros(2, np.float32), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        return np.zeros(2, np.float32), 1.0, self.flags[0], self.flags[1], {}


def _step(flags: tuple[bool, bool], game_over: bool) -> tuple[bool, bool]:
    env = OCAtariEpisodeEnd(_SwappedFlagsEnv(flags, game_over))
    env.reset()
    _, reward, terminated, truncated, _ = env.step(0)
    assert reward == 1.0
    return terminated, truncated


def test_a_finished_game_is_terminated_whichever_flag_ocatari_set() -> None:
    assert _step((True, False), game_over=True) == (True, False)
    assert _step((False, True), game_over=True) == (True, False)


def test_an_episode_cut_short_while_the_game_goes_on_is_truncated() -> None:
    assert _step((True, False), game_over=False) == (False, True)
    assert _step((False, False), game_over=False) == (False, False)


def test_pong_ram_reads_reach_the_console_inside_ocatari() -> None:
    assert _ram(_SwappedFlagsEnv((False, False), False))[54] == 54
