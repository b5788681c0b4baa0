"""Training Atari from pixels on ale_py's native ``AtariVectorEnv`` (C++ emulator threads, preprocessing built in).

Its options are set to what ``gym_wrappers.atari_frames.AtariVectorFrames`` reproduces for the eval, play, video
and inspector envs: 4-frame skip with max-pooling, 84x84 grayscale, 0..29 no-op starts, zero-padded frame stack,
no reward clipping, no fire reset, no life-loss episodes. Seeds reach both through ``ale_seed``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from gym_wrappers.atari_frames import DEFAULT_MAX_FRAMES, FRAME_SKIP, NOOP_MAX, ale_seed
from utils.config import Config

# env_kwargs the native env takes as they are; any other (mode, difficulty, ...) trains on sync sub-envs.
NATIVE_ENV_KWARGS = ("repeat_action_probability", "full_action_space", "max_num_frames_per_episode")


def frame_limit(config: Config, spec_kwargs: dict[str, Any]) -> int:
    """Emulator frames per episode: the env's own limit, or ``max_episode_steps`` agent steps if fewer."""
    limit = config.env_kwargs.get("max_num_frames_per_episode") or spec_kwargs.get(
        "max_num_frames_per_episode", DEFAULT_MAX_FRAMES
    )
    if config.max_episode_steps is not None:
        limit = min(limit, config.max_episode_steps * FRAME_SKIP)
    return int(limit)


def native_problem(config: Config) -> str | None:
    """Why this ALE config cannot train on ``AtariVectorEnv`` (None when it can)."""
    if config.obs_type != "rgb" or not config.atari_preprocessing:
        return "it preprocesses only pixel observations (obs_type: rgb with atari_preprocessing on)"
    if config.env_wrappers:
        return "env_wrappers need per-env wrapping"
    if config.frame_stack < 2:
        return "it always stacks frames; frame_stack: 1 needs per-env envs"
    other = sorted(set(config.env_kwargs) - set(NATIVE_ENV_KWARGS))
    if other:
        return f"it does not take env_kwargs {', '.join(other)}"
    return None


class NativeAtariSeeds(gym.vector.VectorWrapper):
    """``AtariVectorEnv`` with Gymnasium's seed forms (an int for consecutive seeds, or one per sub-env) mapped
    through ``ale_seed``, and actions passed as the int64 array it requires."""

    def reset(self, *, seed: Any = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Reset every sub-env; sub-env i gets ``seed + i`` for an int seed."""
        if seed is not None:
            consecutive = isinstance(seed, int | np.integer)
            seeds = [int(seed) + index for index in range(self.num_envs)] if consecutive else list(seed)
            seed = np.asarray([ale_seed(value) for value in seeds], np.int64)
        return self.env.reset(seed=seed, options=options)

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        """One step of every sub-env."""
        return self.env.step(np.asarray(actions, np.int64).reshape(self.num_envs))


def make_atari_vector_env(config: Config, spec_kwargs: dict[str, Any], n_envs: int) -> gym.vector.VectorEnv:
    """The training env of an ALE pixel config on ``AtariVectorEnv`` (``native_problem`` must be None)."""
    from ale_py.vector_env import AtariVectorEnv

    env = AtariVectorEnv(
        spec_kwargs["game"],
        n_envs,
        repeat_action_probability=float(
            config.env_kwargs.get("repeat_action_probability", spec_kwargs.get("repeat_action_probability", 0.0))
        ),
        full_action_space=bool(config.env_kwargs.get("full_action_space", spec_kwargs.get("full_action_space"))),
        max_num_frames_per_episode=frame_limit(config, spec_kwargs),
        stack_num=config.frame_stack,
        frameskip=FRAME_SKIP,
        noop_max=NOOP_MAX,
        img_height=84,
        img_width=84,
        grayscale=True,
        maxpool=True,
        reward_clipping=False,
        use_fire_reset=False,
        episodic_life=False,
        life_loss_info=False,
    )
    return NativeAtariSeeds(env)
