"""NoopStartWrapper: seeded, bounded no-op starts that survive an episode ending during them."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
import pytest

from gym_wrappers import apply_wrappers
from gym_wrappers.noop_start import NoopStartWrapper


class _Counter(gym.Env):
    """Observation = steps since reset; ends after ``length`` steps; records every action."""

    observation_space = gym.spaces.Box(0, 1000, (1,), np.float32)
    action_space = gym.spaces.Discrete(3)

    def __init__(self, length: int = 1000) -> None:
        self.length = length
        self.t = 0
        self.actions: list[int] = []
        self.resets = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.t = 0
        self.resets += 1
        return np.array([0.0], np.float32), {}

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        self.t += 1
        self.actions.append(int(action))
        return np.array([self.t], np.float32), 0.0, self.t >= self.length, False, {}


def test_reset_plays_between_one_and_noop_max_noops_and_returns_the_last_observation() -> None:
    env = NoopStartWrapper(_Counter(), noop_max=5, noop_action=1)
    counts = set()
    for seed in range(60):
        obs, _ = env.reset(seed=seed)
        assert 1 <= env.last_noops <= 5
        assert obs[0] == env.last_noops
        counts.add(env.last_noops)
    assert counts == {1, 2, 3, 4, 5}
    assert set(env.unwrapped.actions) == {1}


def test_same_seed_gives_same_noops_and_unseeded_resets_keep_varying() -> None:
    first = NoopStartWrapper(_Counter(), noop_max=30)
    second = NoopStartWrapper(_Counter(), noop_max=30)
    first.reset(seed=7)
    second.reset(seed=7)
    assert first.last_noops == second.last_noops
    follow_ups = [first.reset()[0][0] for _ in range(20)]
    assert follow_ups == [second.reset()[0][0] for _ in range(20)]
    assert len(set(follow_ups)) > 1


def test_episode_ending_during_noops_resets_again() -> None:
    env = NoopStartWrapper(_Counter(length=2), noop_max=30)
    seed = next(s for s in range(100) if np.random.default_rng(s).integers(1, 31) > 2)
    env.reset(seed=seed)
    assert env.unwrapped.resets >= 2


def test_bad_arguments_are_one_line_errors() -> None:
    with pytest.raises(ValueError, match="noop_max must be an integer >= 1"):
        NoopStartWrapper(_Counter(), noop_max=0)
    with pytest.raises(ValueError, match="noop_action 9 is not in the action space"):
        NoopStartWrapper(_Counter(), noop_action=9)


def test_registered_for_configs() -> None:
    env = apply_wrappers(_Counter(), [{"id": "NoopStartWrapper", "noop_max": 3}])
    assert isinstance(env, NoopStartWrapper) and env.noop_max == 3
