"""Running statistics and the observation/reward normalizers."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium import spaces

from utils.config_values import ConfigError
from utils.normalization import ObsNormalizer, RewardNormalizer, RunningMeanStd


def test_running_mean_std_matches_numpy_over_chunks() -> None:
    rng = np.random.default_rng(0)
    data = rng.normal(loc=[3.0, -1.0, 0.5], scale=[2.0, 0.1, 5.0], size=(1000, 3))
    rms = RunningMeanStd(shape=(3,))
    for chunk in np.array_split(data, [7, 100, 101, 512]):  # uneven sizes, one of a single sample
        rms.update(chunk)
    np.testing.assert_allclose(rms.mean, data.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(rms.var, data.var(axis=0), rtol=1e-6)
    assert rms.count == pytest.approx(1000)


def test_running_mean_std_state_round_trip_restores_the_statistics() -> None:
    rms = RunningMeanStd(shape=(2,))
    rms.update(np.array([[1.0, 2.0], [3.0, 6.0]]))
    restored = RunningMeanStd(shape=(2,))
    restored.load(rms.state())
    np.testing.assert_array_equal(restored.mean, rms.mean)
    np.testing.assert_allclose(restored.mean, [2.0, 4.0], rtol=1e-6)
    np.testing.assert_array_equal(restored.var, rms.var)
    assert restored.count == rms.count


def test_rolling_obs_normalizer_gives_zero_mean_unit_variance_after_updates() -> None:
    space = spaces.Box(-np.inf, np.inf, shape=(4,), dtype=np.float32)
    normalizer = ObsNormalizer("rolling", space)
    rng = np.random.default_rng(1)
    scale = np.array([1.0, 10.0, 0.01, 3.0])
    shift = np.array([5.0, -20.0, 0.0, 100.0])
    rollouts = [(rng.normal(size=(64, 4, 4)) * scale + shift).astype(np.float32) for _ in range(5)]
    for rollout in rollouts:  # (steps, envs, obs)
        normalizer.update(rollout)
    out = normalizer(np.concatenate(rollouts).reshape(-1, 4))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-3)
    np.testing.assert_allclose(out.std(axis=0), 1.0, atol=1e-3)


def test_rolling_obs_normalizer_clips_outliers_to_ten() -> None:
    normalizer = ObsNormalizer("rolling", spaces.Box(-np.inf, np.inf, shape=(1,)))
    normalizer.update(np.array([[[-1.0]], [[1.0]]]))  # mean 0, std 1
    np.testing.assert_allclose(normalizer(np.array([[1000.0], [-1000.0]])), [[10.0], [-10.0]])


def test_obs_normalizer_state_round_trip_gives_the_same_output() -> None:
    space = spaces.Box(-np.inf, np.inf, shape=(2,))
    trained = ObsNormalizer("rolling", space)
    trained.update(np.array([[[1.0, 4.0]], [[3.0, 8.0]]]))
    fresh = ObsNormalizer("rolling", space)
    fresh.load(trained.state())
    obs = np.array([[2.0, 5.0], [0.0, 0.0]])
    np.testing.assert_array_equal(fresh(obs), trained(obs))


def test_static_obs_normalizer_maps_box_bounds_to_minus_one_and_one() -> None:
    space = spaces.Box(
        low=np.array([-2.0, 0.0], dtype=np.float32), high=np.array([2.0, 10.0], dtype=np.float32), dtype=np.float32
    )
    normalizer = ObsNormalizer("static", space)
    obs = np.array([[-2.0, 0.0], [2.0, 10.0], [0.0, 5.0], [1.0, 2.5]], dtype=np.float32)
    expected = np.array([[-1.0, -1.0], [1.0, 1.0], [0.0, 0.0], [0.5, -0.5]])
    np.testing.assert_allclose(normalizer(obs), expected, atol=1e-6)
    assert normalizer.state() == {}


def test_static_obs_normalizer_rejects_infinite_bounds() -> None:
    space = spaces.Box(low=np.array([-1.0, -np.inf]), high=np.array([1.0, np.inf]), dtype=np.float64)
    with pytest.raises(ConfigError, match="static needs finite observation bounds; use normalize_obs: rolling"):
        ObsNormalizer("static", space)


@pytest.mark.parametrize("mode", ["static", "rolling"])
def test_obs_normalizer_rejects_discrete_observations(mode: str) -> None:
    with pytest.raises(ConfigError, match="needs Box observations, not Discrete"):
        ObsNormalizer(mode, spaces.Discrete(16))


def test_disabled_obs_normalizer_returns_observations_unchanged() -> None:
    normalizer = ObsNormalizer(False, spaces.Discrete(16))
    obs = np.array([3, 7])
    assert not normalizer.active
    assert normalizer(obs) is obs


def test_reward_normalizer_divides_by_the_std_of_discounted_returns() -> None:
    normalizer = RewardNormalizer(True, n_envs=1, gamma=0.5)
    rewards = np.array([[1.0], [1.0], [1.0]], dtype=np.float32)
    no_done = np.zeros((3, 1), dtype=bool)
    scaled = normalizer(rewards, no_done, np.ones((3, 1), dtype=bool))
    # Discounted returns 1, 1 + 0.5 * 1 = 1.5, 1 + 0.5 * 1.5 = 1.75: variance 0.0972222...
    std = np.sqrt(np.var([1.0, 1.5, 1.75]))
    np.testing.assert_allclose(scaled, rewards / std, rtol=1e-5)
    assert scaled.dtype == np.float32


def test_reward_normalizer_keeps_the_sign_of_rewards() -> None:
    normalizer = RewardNormalizer(True, n_envs=2, gamma=0.9)
    rewards = np.array([[1.0, -2.0], [-3.0, 4.0]], dtype=np.float32)
    scaled = normalizer(rewards, np.zeros((2, 2), dtype=bool), np.ones((2, 2), dtype=bool))
    np.testing.assert_array_equal(np.sign(scaled), np.sign(rewards))


def test_reward_normalizer_state_round_trip_continues_identically() -> None:
    rng = np.random.default_rng(2)
    first = [rng.normal(size=(16, 3)).astype(np.float32) for _ in range(3)]
    dones = np.zeros((16, 3), dtype=bool)
    dones[5, 0] = dones[11, 2] = True
    valid = np.ones((16, 3), dtype=bool)
    valid[6, 0] = valid[12, 2] = False
    original = RewardNormalizer(True, n_envs=3, gamma=0.99)
    for rewards in first:
        original(rewards, dones, valid)
    restored = RewardNormalizer(True, n_envs=3, gamma=0.99)
    restored.load({key: np.array(value, copy=True) for key, value in original.state().items()})
    np.testing.assert_array_equal(restored.discounted, original.discounted)
    assert restored.rms.count == original.rms.count
    following = rng.normal(size=(16, 3)).astype(np.float32)
    np.testing.assert_array_equal(restored(following, dones, valid), original(following, dones, valid))


def test_disabled_reward_normalizer_returns_rewards_unchanged() -> None:
    normalizer = RewardNormalizer(False, n_envs=1, gamma=0.99)
    rewards = np.array([[5.0]], dtype=np.float32)
    assert normalizer(rewards, np.zeros((1, 1), dtype=bool), np.ones((1, 1), dtype=bool)) is rewards
