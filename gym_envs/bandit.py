"""A stationary k-armed Gaussian bandit as a Gymnasium environment."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

# Ten arms; arm 5 is best (1.0) and the runner-up (arm 3, 0.7) trails it by 0.3,
# so a learner that has found the best arm is clearly distinguishable.
DEFAULT_ARM_MEANS: tuple[float, ...] = (
    0.2,
    0.5,
    0.1,
    0.7,
    0.3,
    1.0,
    0.0,
    0.4,
    0.6,
    0.2,
)
DEFAULT_EPISODE_LENGTH = 100

_RENDER_HEIGHT = 64
_BAR_WIDTH = 8
_BAR_GAP = 2
_BACKGROUND = np.array([255, 255, 255], dtype=np.uint8)
_BAR_COLOR = np.array([70, 110, 200], dtype=np.uint8)
_BEST_BAR_COLOR = np.array([60, 170, 80], dtype=np.uint8)


class MultiArmedBanditEnv(gym.Env):
    """Stationary k-armed bandit: each pull of arm i pays N(arm_means[i], reward_std²).

    The observation carries no state (always ``[0.0]``). An episode is a fixed number
    of pulls and ends with ``truncated=True`` (a time limit, never ``terminated``).
    ``info`` reports ``best_arm`` and ``is_best_arm`` so evaluators can count
    best-arm pulls.
    """

    metadata: dict[str, Any] = {  # noqa: RUF012 -- typed as gym.Env declares it (mypy rejects a ClassVar override)
        "render_modes": ["rgb_array"],
        "render_fps": 30,
    }

    def __init__(
        self,
        arm_means: Sequence[float] | None = None,
        reward_std: float = 0.5,
        episode_length: int = DEFAULT_EPISODE_LENGTH,
        render_mode: str | None = None,
    ) -> None:
        means = DEFAULT_ARM_MEANS if arm_means is None else tuple(arm_means)
        if len(means) == 0:
            raise ValueError("arm_means must list at least one arm mean")
        if reward_std < 0:
            raise ValueError(f"reward_std must be >= 0, got {reward_std}")
        if episode_length < 1:
            raise ValueError(f"episode_length must be >= 1, got {episode_length}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")

        self.arm_means = np.asarray(means, dtype=np.float64)
        self.reward_std = float(reward_std)
        self.episode_length = int(episode_length)
        self.render_mode = render_mode
        self.best_arm = int(np.argmax(self.arm_means))

        self.observation_space = spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32)
        self.action_space = spaces.Discrete(len(means))

        self._steps = 0
        self._pull_counts = np.zeros(len(means), dtype=np.int64)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start a new episode of pulls; seeding makes the reward stream reproducible."""
        super().reset(seed=seed)
        self._steps = 0
        self._pull_counts[:] = 0
        return self._observation(), {"best_arm": self.best_arm}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Pull one arm and receive a noisy reward around that arm's mean."""
        arm = int(action)
        if not 0 <= arm < len(self.arm_means):
            raise ValueError(f"action must be an arm in [0, {len(self.arm_means)}), got {action}")
        mean = self.arm_means[arm]
        reward = float(self.np_random.normal(mean, self.reward_std))
        self._steps += 1
        self._pull_counts[arm] += 1
        truncated = self._steps >= self.episode_length
        info = {
            "best_arm": self.best_arm,
            "is_best_arm": bool(mean == self.arm_means[self.best_arm]),
        }
        return self._observation(), reward, False, truncated, info

    def render(self) -> np.ndarray | None:
        """Draw this episode's pull counts as a bar chart (best arm in green)."""
        if self.render_mode != "rgb_array":
            return None
        num_arms = len(self.arm_means)
        width = num_arms * (_BAR_WIDTH + _BAR_GAP) + _BAR_GAP
        frame = np.empty((_RENDER_HEIGHT, width, 3), dtype=np.uint8)
        frame[:] = _BACKGROUND
        most_pulls = max(int(self._pull_counts.max()), 1)
        for arm, count in enumerate(self._pull_counts):
            bar_height = round((_RENDER_HEIGHT - 1) * int(count) / most_pulls)
            if bar_height == 0:
                continue
            left = _BAR_GAP + arm * (_BAR_WIDTH + _BAR_GAP)
            color = _BEST_BAR_COLOR if arm == self.best_arm else _BAR_COLOR
            frame[_RENDER_HEIGHT - bar_height :, left : left + _BAR_WIDTH] = color
        return frame

    def _observation(self) -> np.ndarray:
        """Return the constant, stateless observation."""
        return np.zeros(1, dtype=np.float32)
