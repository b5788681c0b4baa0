"""Both algorithms learn Bandit-v0: the trained policy pulls the best arm in >= 90% of eval pulls."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

import gym_envs  # noqa: F401
from agents.loading import load_trained_policy
from training.launch import train
from utils.config import load_config
from utils.runs import RunDir


def best_arm_rate(run_path: Path, episodes: int = 10, deterministic: bool = True) -> float:
    trained = load_trained_policy(RunDir(run_path), "best")
    env = gym.make("Bandit-v0")
    hits = pulls = 0
    generator = torch.Generator().manual_seed(0)
    for episode in range(episodes):
        obs, _ = env.reset(seed=10_000 + episode)
        done = False
        while not done:
            obs_in = torch.as_tensor(trained.obs_normalizer(np.asarray(obs)[None]))
            action, _, _ = trained.policy.act(obs_in, deterministic=deterministic, generator=generator)
            obs, _, terminated, truncated, info = env.step(int(action[0]))
            hits += bool(info["is_best_arm"])
            pulls += 1
            done = terminated or truncated
    return hits / pulls


@pytest.mark.parametrize("variant", ["ppo", "reinforce"])
def test_trained_agent_pulls_best_arm_in_90_percent_of_eval_pulls(variant: str, runs_dir: Path) -> None:
    result = train(load_config("Bandit-v0", variant, {"seed": 1}), quiet=True)
    assert result.best_eval_return is not None and result.best_eval_return >= 90.0
    assert best_arm_rate(result.run.path) >= 0.9


def test_untrained_policy_does_not_already_pick_the_best_arm(runs_dir: Path) -> None:
    result = train(load_config("Bandit-v0", "ppo", {"max_timesteps": 800, "eval_freq": 0}), quiet=True)
    assert best_arm_rate(result.run.path, deterministic=False) < 0.5
