"""Pong RAM wrappers on the real ALE/Pong-v5: features track the RAM, shaping is potential-based."""

from __future__ import annotations

import ale_py
import gymnasium as gym
import numpy as np
import pytest

from gym_wrappers import apply_wrappers
from gym_wrappers.pong import BALL_Y, PLAYER_Y

gym.register_envs(ale_py)


def pong() -> gym.Env:
    return gym.make("ALE/Pong-v5", obs_type="ram", max_episode_steps=200)


def test_feature_extractor_scales_ram_positions_and_tracks_ball_velocity() -> None:
    env = apply_wrappers(pong(), [{"id": "PongV5_FeatureExtractor"}])
    obs, _ = env.reset(seed=0)
    assert obs.shape == (6,) and obs.dtype == np.float32 and np.all(np.abs(obs) <= 1.0)
    assert obs[2] == 0.0 and obs[3] == 0.0  # no velocity before the first step
    for _ in range(60):
        obs, *_ = env.step(0)
    ram = env.unwrapped.ale.getRAM()
    assert obs[1] == pytest.approx(ram[BALL_Y] / 127.5 - 1.0)
    assert obs[4] == pytest.approx(ram[PLAYER_Y] / 127.5 - 1.0)
    env.close()


def test_reward_shaper_keeps_env_reward_and_adds_the_potential_difference() -> None:
    env = apply_wrappers(pong(), [{"id": "PongV5_RewardShaper", "tracking_scale": 2.0, "gamma": 1.0}])
    env.reset(seed=1)
    total_shaping = 0.0
    phi_start = env._last_potential
    done = False
    while not done:
        _, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert reward == pytest.approx(info["env_reward"] + info["shaping_reward"])
        total_shaping += info["shaping_reward"]
        done = terminated or truncated
    ram = env.unwrapped.ale.getRAM()
    phi_end = -2.0 * abs(float(ram[PLAYER_Y]) - float(ram[BALL_Y])) / 255.0
    assert total_shaping == pytest.approx(phi_end - phi_start, abs=1e-6)  # telescoping, truncated ending
    env.close()
