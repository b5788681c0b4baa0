"""Evaluation episodes: one per seed, reproducible, counted in waves over the sub-envs."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from agents.networks.action_heads import build_action_head
from agents.networks.policies import MLPPolicy
from utils.config import Config
from utils.evaluation import EvalResult, evaluate_policy, evaluation_seeds
from utils.normalization import ObsNormalizer

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class AlwaysLeft(torch.nn.Module):
    """A hand-made CartPole policy that always pushes the cart left (action 0)."""

    action_head = build_action_head(gym.spaces.Discrete(2))

    def act_numpy(self, obs: np.ndarray, deterministic: bool = False, generator: torch.Generator | None = None):
        return np.zeros(len(obs), dtype=np.int64), np.zeros(len(obs)), np.zeros(len(obs))


def _cartpole_vec(n_envs: int) -> gym.vector.VectorEnv:
    return gym.vector.SyncVectorEnv([lambda: gym.make("CartPole-v1") for _ in range(n_envs)])


def _mlp_policy(env: gym.vector.VectorEnv) -> MLPPolicy:
    torch.manual_seed(0)
    config = Config(env_id="CartPole-v1", hidden_dims=[16])
    return MLPPolicy(env.single_observation_space, env.single_action_space, config)


def _no_normalization(env: gym.vector.VectorEnv) -> ObsNormalizer:
    return ObsNormalizer(False, env.single_observation_space)


def _always_left_length(seed: int) -> int:
    """Reference: the episode length of always-left on a single env reset with ``seed``."""
    env = gym.make("CartPole-v1")
    env.reset(seed=seed)
    length = 0
    while True:
        _, _, terminated, truncated, _ = env.step(0)
        length += 1
        if terminated or truncated:
            return length


def test_same_seeds_give_identical_returns() -> None:
    env = _cartpole_vec(3)
    policy = _mlp_policy(env)
    seeds = [5, 6, 7, 8]
    for deterministic in (True, False):
        first = evaluate_policy(policy, env, _no_normalization(env), seeds, deterministic=deterministic)
        second = evaluate_policy(policy, env, _no_normalization(env), seeds, deterministic=deterministic)
        assert first.returns == second.returns
        assert first.lengths == second.lengths


def test_one_episode_per_seed_when_seeds_outnumber_the_envs() -> None:
    env = _cartpole_vec(3)
    seeds = list(range(100, 107))  # 7 episodes on 3 envs: waves of 3, 3 and 1
    result = evaluate_policy(AlwaysLeft(), env, _no_normalization(env), seeds)
    assert result.seeds == seeds
    assert len(result.returns) == len(result.lengths) == len(result.terminated) == 7


def test_each_episode_matches_a_single_env_played_with_its_seed() -> None:
    env = _cartpole_vec(2)
    seeds = [11, 12, 13, 14, 15]
    result = evaluate_policy(AlwaysLeft(), env, _no_normalization(env), seeds)
    assert result.lengths == [_always_left_length(seed) for seed in seeds]


def test_an_episode_does_not_depend_on_the_other_seeds_of_its_evaluation() -> None:
    env = _cartpole_vec(3)
    policy = _mlp_policy(env)
    together = evaluate_policy(policy, env, _no_normalization(env), [20, 21, 22, 23])
    alone = evaluate_policy(policy, env, _no_normalization(env), [22])
    assert alone.returns == [together.returns[2]]


def test_always_pushing_left_ends_cartpole_early_by_termination() -> None:
    env = _cartpole_vec(4)
    result = evaluate_policy(AlwaysLeft(), env, _no_normalization(env), list(range(6)))
    assert all(length < 50 for length in result.lengths)
    assert all(result.terminated)
    assert result.returns == [float(length) for length in result.lengths]  # CartPole pays 1 per step


def test_evaluation_restores_the_policy_training_mode() -> None:
    env = _cartpole_vec(2)
    policy = _mlp_policy(env)
    policy.train()
    evaluate_policy(policy, env, _no_normalization(env), [1, 2])
    assert policy.training is True


def test_evaluation_seeds_are_distinct_across_evaluations() -> None:
    assert evaluation_seeds(100, 0, 3) == [100, 101, 102]
    assert evaluation_seeds(100, 2, 5) == [110, 111, 112, 113, 114]
    assert not set(evaluation_seeds(7, 0, 4)) & set(evaluation_seeds(7, 1, 4))


def test_eval_metrics_summarise_the_episodes() -> None:
    result = EvalResult(seeds=[0, 1, 2], returns=[1.0, 2.0, 6.0], lengths=[10, 20, 30], terminated=[True] * 3)
    metrics = result.metrics()
    assert metrics["val/roll/ep_rew/mean"] == pytest.approx(3.0)
    assert metrics["val/roll/ep_rew/std"] == pytest.approx(np.sqrt((4 + 1 + 9) / 3))
    assert metrics["val/roll/ep_rew/min"] == 1.0
    assert metrics["val/roll/ep_len/mean"] == pytest.approx(20.0)
