"""Behaviour of the Bandit-v0 environment."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import gym_envs
from gym_envs.bandit import DEFAULT_ARM_MEANS, MultiArmedBanditEnv


def test_default_means_have_unique_best_arm_by_clear_margin() -> None:
    best, second = sorted(DEFAULT_ARM_MEANS, reverse=True)[:2]
    assert best - second >= 0.25
    assert MultiArmedBanditEnv().best_arm == DEFAULT_ARM_MEANS.index(best)


def test_mean_reward_per_arm_matches_arm_means() -> None:
    arm_means = [0.0, 0.5, -1.0, 2.0]
    env = MultiArmedBanditEnv(arm_means=arm_means, reward_std=0.5, episode_length=10**6)
    env.reset(seed=0)
    pulls = 2000
    for arm, mean in enumerate(arm_means):
        rewards = [env.step(arm)[1] for _ in range(pulls)]
        standard_error = 0.5 / np.sqrt(pulls)
        assert abs(np.mean(rewards) - mean) < 5 * standard_error
        assert np.std(rewards) == pytest.approx(0.5, rel=0.1)


def test_episode_truncates_exactly_at_episode_length() -> None:
    env = MultiArmedBanditEnv(episode_length=7)
    obs, _ = env.reset(seed=1)
    assert obs.shape == (1,) and obs.dtype == np.float32 and obs[0] == 0.0
    for step in range(1, 8):
        obs, _, terminated, truncated, _ = env.step(0)
        assert terminated is False
        assert truncated is (step == 7)
    assert env.observation_space.contains(obs)


def test_same_seed_gives_same_rewards() -> None:
    def rewards_for(seed: int) -> list[float]:
        env = MultiArmedBanditEnv()
        env.reset(seed=seed)
        return [env.step(i % 10)[1] for i in range(50)]

    assert rewards_for(3) == rewards_for(3)
    assert rewards_for(3) != rewards_for(4)


def test_info_reports_best_arm_and_whether_it_was_pulled() -> None:
    env = MultiArmedBanditEnv(arm_means=[0.1, 0.9, 0.3])
    env.reset(seed=0)
    for arm in range(3):
        info = env.step(arm)[4]
        assert info["best_arm"] == 1
        assert info["is_best_arm"] is (arm == 1)


def test_rgb_render_is_uint8_image_showing_pulls() -> None:
    env = MultiArmedBanditEnv(render_mode="rgb_array")
    env.reset(seed=0)
    empty = env.render()
    for _ in range(5):
        env.step(2)
    frame = env.render()
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8
    assert frame.shape == empty.shape
    assert not np.array_equal(frame, empty)


def test_invalid_arguments_raise_value_error() -> None:
    with pytest.raises(ValueError):
        MultiArmedBanditEnv(arm_means=[])
    with pytest.raises(ValueError):
        MultiArmedBanditEnv(episode_length=0)
    env = MultiArmedBanditEnv(arm_means=[0.0, 1.0])
    env.reset(seed=0)
    with pytest.raises(ValueError):
        env.step(2)


def test_gym_make_builds_registered_bandit_with_threshold() -> None:
    gym_envs.register_envs()  # idempotent: second call must not fail or warn
    env = gym.make("Bandit-v0")
    assert env.spec.reward_threshold == pytest.approx(90.0)
    env.reset(seed=0)
    _, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert isinstance(reward, float) and not terminated and not truncated
    assert "is_best_arm" in info


def test_gym_make_vec_steps_bandit() -> None:
    envs = gym.make_vec("Bandit-v0", 4, vectorization_mode="sync")
    obs, _ = envs.reset(seed=0)
    assert obs.shape == (4, 1)
    obs, rewards, terminated, truncated, infos = envs.step(np.array([0, 1, 5, 9]))
    assert rewards.shape == (4,)
    assert not terminated.any() and not truncated.any()
    assert list(infos["is_best_arm"]) == [False, False, True, False]
    envs.close()
