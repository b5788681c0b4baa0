"""Atari from pixels: training on ale_py's AtariVectorEnv and the eval/play/video envs see identical frames."""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from gym_wrappers.atari_frames import NoopCounter, ale_seed
from utils.atari_native import NativeAtariSeeds
from utils.config import Config, load_config
from utils.config_values import ConfigError
from utils.envs import build_env, resolve_vectorization


def _pong(**overrides: Any) -> Config:
    return load_config("ALE-Pong-v5", "ppo", overrides)


def _run_both(config: Config, seed: int | list[int], steps: int, n_envs: int = 2) -> dict[str, Any]:
    """Step the training env and the eval env with the same seeded random actions and compare every result."""
    native, per_env = build_env(config, "train", n_envs=n_envs), build_env(config, "eval", n_envs=n_envs)
    try:
        seeds = np.asarray(seed) if isinstance(seed, list) else seed
        obs_native, _ = native.reset(seed=seeds)
        obs_per_env, _ = per_env.reset(seed=seed)
        actions = np.random.default_rng(0).integers(0, native.single_action_space.n, (steps, n_envs))
        differing, ends, total_reward = int(not np.array_equal(obs_native, obs_per_env)), 0, 0.0
        for step_actions in actions:
            a = native.step(step_actions)
            b = per_env.step(step_actions)
            same = all(np.array_equal(x, y) for x, y in zip(a[:4], b[:4], strict=True))
            differing += not same
            ends += int((b[2] | b[3]).sum())
            total_reward += float(np.abs(b[1]).sum())
        return {"native": type(native), "differing": differing, "ends": ends, "reward": total_reward}
    finally:
        native.close()
        per_env.close()


def test_pong_trains_on_the_native_vector_env_by_default() -> None:
    config = _pong()
    assert resolve_vectorization(config) == "native"
    env = build_env(config, "train", n_envs=2)
    try:
        assert isinstance(env, NativeAtariSeeds)
        assert env.single_observation_space == gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)
        assert env.metadata["autoreset_mode"] == gym.vector.AutoresetMode.NEXT_STEP
    finally:
        env.close()


def test_training_and_eval_frames_are_identical_for_the_same_seeds_and_actions() -> None:
    result = _run_both(_pong(), seed=0, steps=300)
    assert result["differing"] == 0
    assert result["reward"] > 0  # points were scored, so rewards were compared, not only zeros


def test_frames_stay_identical_across_time_limits_and_autoresets() -> None:
    # 60 agent steps per episode: every sub-env truncates and autoresets (both RNGs carried on) several times
    result = _run_both(_pong(max_episode_steps=60), seed=[11, 2**40 + 5], steps=200)
    assert result["ends"] >= 6
    assert result["differing"] == 0


def test_breakout_frames_are_identical_too() -> None:
    result = _run_both(load_config("ALE-Breakout-v5", "ppo", {"max_episode_steps": 80}), seed=3, steps=200)
    assert result["ends"] >= 4
    assert result["differing"] == 0


def test_different_seeds_give_different_frames() -> None:
    """The comparison can fail: the no-op starts and sticky actions follow the seed."""
    config = _pong()
    native, per_env = build_env(config, "train", n_envs=1), build_env(config, "eval", n_envs=1)
    try:
        native.reset(seed=1)
        per_env.reset(seed=2)
        differing = 0
        for action in np.random.default_rng(0).integers(0, 6, 100):
            a, b = native.step(np.array([action])), per_env.step(np.array([action]))
            differing += not np.array_equal(a[0], b[0])
        assert differing > 50
    finally:
        native.close()
        per_env.close()


def test_seeds_past_the_native_range_wrap_the_same_way_on_both_sides() -> None:
    assert ale_seed(2**31 + 3) == 3 and ale_seed(2**62) == 0 and ale_seed(7) == 7
    result = _run_both(_pong(), seed=[2**31 + 3, 10**12], steps=60)
    assert result["differing"] == 0


def test_the_first_frame_is_the_screen_after_the_no_ops_with_zero_padding() -> None:
    env = build_env(_pong(), "eval", n_envs=1)
    try:
        obs, _ = env.reset(seed=0)
        assert obs.shape == (1, 4, 84, 84)
        assert not obs[0, :3].any()  # the stack starts with three empty frames, as AtariVectorEnv's does
        assert obs[0, 3].any()
    finally:
        env.close()


def test_the_eval_env_renders_the_full_colour_screen() -> None:
    env = build_env(_pong(), "eval", n_envs=1, render_mode="rgb_array")
    try:
        env.reset(seed=0)
        frame = env.envs[0].render()  # type: ignore[attr-defined]
        assert isinstance(frame, np.ndarray) and frame.shape == (210, 160, 3)
    finally:
        env.close()


def test_noop_counter_reproduces_std_mt19937() -> None:
    # std::mt19937 with its default seed 5489: the first output is 3499211612, and C++ [rand.predef] requires
    # the 10000th of a default-constructed engine to be 4123659995
    counter = NoopCounter(30, seed=5489)
    outputs = [int(counter.bits.random_raw()) for _ in range(10_000)]
    assert outputs[0] == 3499211612 and outputs[-1] == 4123659995
    # libstdc++ maps a 32-bit draw x to (x * 30) >> 32 for [0, 29]: 3499211612 -> 24
    assert NoopCounter(30, seed=5489).draw() == 24


def test_native_vectorization_is_refused_where_per_env_wrapping_is_needed() -> None:
    for overrides, why in [
        ({"frame_stack": 1}, "frame_stack: 1"),
        ({"env_kwargs": {"mode": 1}}, "env_kwargs mode"),
        ({"atari_preprocessing": False}, "pixel observations"),
    ]:
        config = dataclasses.replace(_pong(**overrides), vectorization_mode="auto")
        assert resolve_vectorization(config) == "sync"
        with pytest.raises(ConfigError, match=f"native is not possible for ALE/Pong-v5 .*{why}"):
            resolve_vectorization(dataclasses.replace(config, vectorization_mode="native"))


def test_a_numpy_integer_seed_seeds_consecutive_sub_envs_like_an_int() -> None:
    env = build_env(_pong(), "train", n_envs=2)
    try:
        from_int, _ = env.reset(seed=5)
        from_numpy, _ = env.reset(seed=np.int64(5))
        assert np.array_equal(from_int, from_numpy)
    finally:
        env.close()
