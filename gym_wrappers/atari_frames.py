"""One ALE env preprocessed frame for frame as ale_py's native ``AtariVectorEnv`` preprocesses it.

Training runs on ``AtariVectorEnv`` (C++ threads); evaluation, play, video and the inspector need ``render()``,
which that vector env lacks, so they run this wrapper over a plain ``AtariEnv``. For the same seed and actions
both give identical observations, rewards and episode ends (``tests/test_atari_frames.py``). What it copies from
ale_py 0.12.1's ``PreprocessedEnv``:

- reset: with a seed, the ALE is re-seeded with it and the ROM reloaded; then ``reset_game`` and 0..noop_max-1
  no-ops, the count drawn from a Mersenne Twister seeded with the same seed (libstdc++'s
  ``uniform_int_distribution``); the first frame is the screen after them.
- step: the action is repeated ``frame_skip`` frames; the last two are captured and max-pooled (a frame
  not reached because the episode ended keeps its previous content), grayscale, resized to 84x84 (INTER_AREA).
- episodes end at game over (terminated) or after ``max_frames`` emulator frames counted from the end of the
  reset (truncated); rewards are not clipped, there is no fire reset and a lost life does not end an episode.

Seeds are taken modulo 2**31 (``ale_seed``): the native env keeps them in a C++ int.
"""

from __future__ import annotations

from typing import Any

import cv2
import gymnasium as gym
import numpy as np
from ale_py import Action

ALE_SEEDS = 2**31
UINT32 = 2**32
FRAME_SKIP = 4  # agent steps of 4 emulator frames
NOOP_MAX = 30  # 0..29 no-ops after each reset
DEFAULT_MAX_FRAMES = 108_000  # ALE v5's episode limit: 30 minutes of play at 60 frames/s


def ale_seed(seed: int) -> int:
    """The seed the ALE and its no-op counter get for a Gymnasium seed (the native env takes [0, 2**31))."""
    return int(seed) % ALE_SEEDS


class NoopCounter:
    """No-op counts in [0, noop_max) drawn as libstdc++'s ``uniform_int_distribution`` over ``std::mt19937`` does."""

    def __init__(self, noop_max: int, seed: int | None = None) -> None:
        self.span = max(noop_max, 1)  # ale_py draws from [0, 0] when noop_max is 0, which still uses a number
        self.seed(seed)

    def seed(self, seed: int | None) -> None:
        """Restart the generator as ``std::mt19937(seed)`` (a random seed when None)."""
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        legacy = np.random.RandomState(seed)  # NumPy's legacy seeding of MT19937 is std::mt19937's
        self.bits = np.random.MT19937()
        self.bits.state = legacy.get_state(legacy=False)  # type: ignore[assignment]

    def _next(self) -> int:
        return int(self.bits.random_raw())

    def draw(self) -> int:
        """The next count (Lemire's multiply-and-shift with rejection, as libstdc++ does for a 32-bit engine)."""
        product = self._next() * self.span
        if product % UINT32 < self.span:
            threshold = (UINT32 - self.span) % self.span
            while product % UINT32 < threshold:
                product = self._next() * self.span
        return product // UINT32


class AtariVectorFrames(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """84x84 grayscale frames of an ALE env with ``frameskip=1``, as ``AtariVectorEnv`` makes them (unstacked)."""

    def __init__(
        self, env: gym.Env, frame_skip: int = FRAME_SKIP, noop_max: int = NOOP_MAX, max_frames: int = DEFAULT_MAX_FRAMES
    ) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, frame_skip=frame_skip, noop_max=noop_max, max_frames=max_frames)
        super().__init__(env)
        self.ale = env.unwrapped.ale  # type: ignore[attr-defined]
        minimal = self.ale.getMinimalActionSet()
        n_actions = int(env.action_space.n)  # type: ignore[attr-defined]
        self.action_set = minimal if len(minimal) == n_actions else self.ale.getLegalActionSet()
        self.frame_skip, self.max_frames = frame_skip, max_frames
        self.noops = NoopCounter(noop_max)
        height, width = self.ale.getScreenDims()
        self.raw = np.zeros((2, height, width), np.uint8)
        self.elapsed = 0
        self.observation_space = gym.spaces.Box(0, 255, (84, 84), np.uint8)

    def _frame(self) -> np.ndarray:
        np.maximum(self.raw[0], self.raw[1], out=self.raw[0])
        return cv2.resize(self.raw[0], (84, 84), interpolation=cv2.INTER_AREA)

    def _info(self) -> dict[str, Any]:
        return {
            "lives": self.ale.lives(),
            "frame_number": self.ale.getFrameNumber(),
            "episode_frame_number": self.ale.getEpisodeFrameNumber(),
        }

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        """Reset as ``AtariVectorEnv`` does; without a seed both RNGs carry on from the last episode."""
        self.env.reset(seed=seed, options=options)  # seeds AtariEnv's own RNG; the ALE is re-seeded here
        if seed is not None:
            self.ale.setInt("random_seed", ale_seed(seed))
            self.env.unwrapped.load_game()  # type: ignore[attr-defined]
            self.ale.reset_game()
            self.noops.seed(ale_seed(seed))
        for _ in range(self.noops.draw()):
            self.ale.act(Action.NOOP)
            if self.ale.game_over():
                self.ale.reset_game()
        self.ale.getScreenGrayscale(self.raw[0])
        self.raw[1] = 0
        self.elapsed = 0
        return self._frame(), self._info()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        """Repeat ``action`` for ``frame_skip`` frames; the observation pools the last two."""
        ale_action = self.action_set[int(action)]
        reward, game_over = 0, False
        for skip in range(self.frame_skip, 0, -1):
            reward += self.ale.act(ale_action, 1.0)
            game_over = self.ale.game_over()
            self.elapsed += 1
            if game_over or self.elapsed >= self.max_frames:
                break
            if skip <= 2:
                self.ale.getScreenGrayscale(self.raw[skip - 1])
        truncated = self.elapsed >= self.max_frames and not game_over
        return self._frame(), float(reward), game_over, truncated, self._info()
