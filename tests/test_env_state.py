"""Capturing and restoring pure-Python env state: a restored env replays the same trajectory."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from utils.config import load_config
from utils.env_state import can_snapshot, capture_env_state, restore_env_state
from utils.envs import build_env

N_ENVS = 4
FOLLOW_STEPS = 80  # random CartPole episodes last ~20 steps, so every env ends at least once


def _sync_cartpole() -> gym.vector.VectorEnv:
    return gym.vector.SyncVectorEnv([lambda: gym.make("CartPole-v1") for _ in range(N_ENVS)])


def _native_cartpole() -> gym.vector.VectorEnv:
    return gym.make_vec("CartPole-v1", N_ENVS, vectorization_mode="vector_entry_point")


def _sync_cartpole_short_time_limit() -> gym.vector.VectorEnv:
    return gym.vector.SyncVectorEnv([lambda: gym.make("CartPole-v1", max_episode_steps=10) for _ in range(N_ENVS)])


def _native_cartpole_short_time_limit() -> gym.vector.VectorEnv:
    return gym.make_vec("CartPole-v1", N_ENVS, vectorization_mode="vector_entry_point", max_episode_steps=10)


def _sync_frozenlake() -> gym.vector.VectorEnv:
    return gym.vector.SyncVectorEnv([lambda: gym.make("FrozenLake-v1") for _ in range(N_ENVS)])


BUILDERS = {
    "sync-cartpole": _sync_cartpole,
    "native-cartpole": _native_cartpole,
    "sync-cartpole-truncating": _sync_cartpole_short_time_limit,
    "native-cartpole-truncating": _native_cartpole_short_time_limit,
    "sync-frozenlake": _sync_frozenlake,
}


def _random_actions(env: gym.vector.VectorEnv, count: int, seed: int) -> list[np.ndarray]:
    space = env.action_space
    space.seed(seed)
    return [space.sample() for _ in range(count)]


def _play(env: gym.vector.VectorEnv, actions: list[np.ndarray]) -> list[tuple[np.ndarray, ...]]:
    """Observations, rewards, terminations and truncations of each step, copied."""
    trajectory = []
    for action in actions:
        obs, reward, terminated, truncated, _ = env.step(action)
        trajectory.append((np.array(obs), np.array(reward), np.array(terminated), np.array(truncated)))
    return trajectory


def _assert_same(expected: list[tuple[np.ndarray, ...]], actual: list[tuple[np.ndarray, ...]]) -> None:
    assert len(expected) == len(actual)
    for step, (want, got) in enumerate(zip(expected, actual, strict=True)):
        for name, a, b in zip(("obs", "reward", "terminated", "truncated"), want, got, strict=True):
            np.testing.assert_array_equal(a, b, err_msg=f"{name} differs at step {step}")


def _ended_episodes(trajectory: list[tuple[np.ndarray, ...]]) -> np.ndarray:
    return sum(step[2] | step[3] for step in trajectory)


@pytest.mark.parametrize("name", list(BUILDERS))
def test_restored_fresh_env_replays_the_same_trajectory_across_autoresets(name: str) -> None:
    build: Callable[[], gym.vector.VectorEnv] = BUILDERS[name]
    env = build()
    env.reset(seed=7)
    _play(env, _random_actions(env, 13, seed=1))  # mid-episode for most sub-envs
    tree, arrays = capture_env_state(env)
    actions = _random_actions(env, FOLLOW_STEPS, seed=2)
    expected = _play(env, actions)
    assert (_ended_episodes(expected) >= 1).all(), "every sub-env must cross an episode end"
    if name.endswith("truncating"):
        assert any(step[3].any() for step in expected), "the time limit must cut some episode"

    fresh = build()
    fresh.reset(seed=12345)
    restore_env_state(fresh, tree, arrays)
    _assert_same(expected, _play(fresh, actions))
    env.close()
    fresh.close()


@pytest.mark.parametrize("name", ["sync-cartpole", "native-cartpole"])
def test_state_captured_right_after_an_episode_end_replays_the_autoreset(name: str) -> None:
    env = BUILDERS[name]()
    env.reset(seed=3)
    actions = _random_actions(env, 200, seed=4)
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if (terminated | truncated).any():
            break
    else:
        pytest.fail("no episode ended within 200 random steps")
    tree, arrays = capture_env_state(env)  # the next step is a reset step for some sub-env
    follow = _random_actions(env, 30, seed=5)
    expected = _play(env, follow)

    fresh = BUILDERS[name]()
    fresh.reset(seed=99)
    restore_env_state(fresh, tree, arrays)
    _assert_same(expected, _play(fresh, follow))


def test_env_built_from_a_shaped_config_replays_shaped_rewards_after_restore() -> None:
    config = load_config("CartPole-v1", "ppo_rewardshaped", overrides={"n_envs": N_ENVS, "batch_size": 32})
    env = build_env(config)
    assert can_snapshot(env)
    env.reset(seed=0)
    _play(env, _random_actions(env, 17, seed=9))
    tree, arrays = capture_env_state(env)
    actions = _random_actions(env, FOLLOW_STEPS, seed=10)
    expected = _play(env, actions)
    assert (_ended_episodes(expected) >= 1).all()

    fresh = build_env(config)
    fresh.reset(seed=5)
    restore_env_state(fresh, tree, arrays)
    _assert_same(expected, _play(fresh, actions))


def test_captured_state_survives_json_and_npz_round_trips(tmp_path: Path) -> None:
    env = _sync_cartpole()
    env.reset(seed=0)
    _play(env, _random_actions(env, 25, seed=6))
    tree, arrays = capture_env_state(env)
    text = json.dumps(tree)  # must not raise: the tree is plain JSON
    np.savez(tmp_path / "arrays.npz", **arrays)
    with np.load(tmp_path / "arrays.npz", allow_pickle=False) as npz:
        loaded_arrays = {key: npz[key] for key in npz.files}
    actions = _random_actions(env, 40, seed=7)
    expected = _play(env, actions)

    fresh = _sync_cartpole()
    fresh.reset(seed=1)
    restore_env_state(fresh, json.loads(text), loaded_arrays)
    _assert_same(expected, _play(fresh, actions))


def test_capture_copies_arrays_so_later_steps_do_not_change_the_snapshot() -> None:
    env = _sync_cartpole()
    env.reset(seed=0)
    _, arrays = capture_env_state(env)
    before = {key: value.copy() for key, value in arrays.items()}
    _play(env, _random_actions(env, 5, seed=8))
    for key, value in before.items():
        np.testing.assert_array_equal(arrays[key], value, err_msg=key)


def test_pure_python_envs_can_be_snapshotted() -> None:
    assert can_snapshot(_sync_cartpole())
    assert can_snapshot(_native_cartpole())
    assert can_snapshot(_sync_frozenlake())


@pytest.mark.filterwarnings("ignore:builtin type:DeprecationWarning")
def test_box2d_envs_cannot_be_snapshotted() -> None:
    env = gym.vector.SyncVectorEnv([lambda: gym.make("LunarLander-v3") for _ in range(2)])
    assert can_snapshot(env) is False
    env.close()


def test_async_vector_envs_cannot_be_snapshotted() -> None:
    env = gym.vector.AsyncVectorEnv([lambda: gym.make("CartPole-v1") for _ in range(2)])
    try:
        assert can_snapshot(env) is False
    finally:
        env.close()
