"""GAE and Monte Carlo returns against hand-computed rollouts in next-step autoreset layout.

Layout reminder: when an episode ends at step ``t``, step ``t + 1`` is a reset
step (``valid`` False, reward 0) whose stored value is V(final observation).
"""

from __future__ import annotations

import numpy as np
import pytest

from utils.returns import compute_gae, compute_mc_returns, explained_variance


def _column(*numbers: float) -> np.ndarray:
    """A single-env rollout array of shape (steps, 1)."""
    return np.array(numbers, dtype=np.float32)[:, None]


def _flags(*flags: bool) -> np.ndarray:
    return np.array(flags, dtype=bool)[:, None]


def test_gae_matches_a_hand_computed_three_step_rollout() -> None:
    # gamma 0.9, lambda 0.8 (gamma * lambda = 0.72), no episode end, bootstrap from V = 2.0.
    # delta_2 = 2 + 0.9 * 2.0 - 1.5 = 2.3      A_2 = 2.3
    # delta_1 = 0 + 0.9 * 1.5 - 1.0 = 0.35     A_1 = 0.35 + 0.72 * 2.3   = 2.006
    # delta_0 = 1 + 0.9 * 1.0 - 0.5 = 1.4      A_0 = 1.4  + 0.72 * 2.006 = 2.84432
    advantages, returns = compute_gae(
        rewards=_column(1.0, 0.0, 2.0),
        values=_column(0.5, 1.0, 1.5),
        terminated=_flags(False, False, False),
        truncated=_flags(False, False, False),
        last_values=np.array([2.0], dtype=np.float32),
        gamma=0.9,
        gae_lambda=0.8,
    )
    np.testing.assert_allclose(advantages[:, 0], [2.84432, 2.006, 2.3], rtol=1e-5)
    np.testing.assert_allclose(returns[:, 0], [3.34432, 3.006, 3.8], rtol=1e-5)


# A 4-step single-env rollout: the episode ends at t=1, t=2 is the reset step
# (its value 5.0 is V(final obs)), t=3 starts a new episode. gamma = lambda = 0.5.
REWARDS = _column(1.0, 1.0, 0.0, 2.0)
VALUES = _column(1.0, 2.0, 5.0, 3.0)
LAST = np.array([4.0], dtype=np.float32)
NO = _flags(False, False, False, False)
AT_1 = _flags(False, True, False, False)


def test_gae_does_not_bootstrap_after_termination() -> None:
    advantages, _ = compute_gae(REWARDS, VALUES, AT_1, NO, LAST, gamma=0.5, gae_lambda=0.5)
    # A_3 = 2 + 0.5 * 4 - 3 = 1
    # A_1 = 1 - 2 = -1 (terminal: no V(next), chain cut)
    # A_0 = (1 + 0.5 * 2 - 1) + 0.25 * (-1) = 0.75
    assert advantages[3, 0] == pytest.approx(1.0)
    assert advantages[1, 0] == pytest.approx(-1.0)
    assert advantages[0, 0] == pytest.approx(0.75)


def test_gae_bootstraps_truncation_from_the_value_stored_at_the_reset_step() -> None:
    advantages, returns = compute_gae(REWARDS, VALUES, NO, AT_1, LAST, gamma=0.5, gae_lambda=0.5)
    # A_1 = 1 + 0.5 * V(final obs) - 2 = 1 + 0.5 * 5 - 2 = 1.5 (chain still cut after it)
    # A_0 = (1 + 0.5 * 2 - 1) + 0.25 * 1.5 = 1.375
    assert advantages[3, 0] == pytest.approx(1.0)
    assert advantages[1, 0] == pytest.approx(1.5)
    assert advantages[0, 0] == pytest.approx(1.375)
    assert returns[1, 0] == pytest.approx(3.5)


def test_gae_truncation_at_the_rollout_end_bootstraps_from_last_values() -> None:
    rewards, values, last = _column(1.0, 1.0), _column(1.0, 2.0), np.array([6.0], dtype=np.float32)
    none = _flags(False, False)
    truncated_adv, _ = compute_gae(rewards, values, none, _flags(False, True), last, gamma=0.5, gae_lambda=0.5)
    # A_1 = 1 + 0.5 * 6 - 2 = 2; A_0 = (1 + 0.5 * 2 - 1) + 0.25 * 2 = 1.5
    np.testing.assert_allclose(truncated_adv[:, 0], [1.5, 2.0])
    terminated_adv, _ = compute_gae(rewards, values, _flags(False, True), none, last, gamma=0.5, gae_lambda=0.5)
    # A_1 = 1 - 2 = -1; A_0 = 1 + 0.25 * (-1) = 0.75
    np.testing.assert_allclose(terminated_adv[:, 0], [0.75, -1.0])


def _reference_mc_minus_value(rewards, values, terminated, truncated, last_values, gamma):
    """Discounted return per step by an explicit backward sum, per env; minus the value."""
    steps, n_envs = rewards.shape
    out = np.zeros((steps, n_envs))
    for env in range(n_envs):
        following = float(last_values[env])
        for t in reversed(range(steps)):
            if terminated[t, env]:
                total = float(rewards[t, env])
            elif truncated[t, env]:
                next_value = values[t + 1, env] if t + 1 < steps else last_values[env]
                total = float(rewards[t, env]) + gamma * float(next_value)
            else:
                total = float(rewards[t, env]) + gamma * following
            out[t, env] = total - values[t, env]
            following = total
    return out


def test_gae_with_lambda_one_equals_discounted_return_minus_value() -> None:
    rng = np.random.default_rng(0)
    steps, n_envs, gamma = 12, 3, 0.9
    rewards = rng.normal(size=(steps, n_envs)).astype(np.float32)
    values = rng.normal(size=(steps, n_envs)).astype(np.float32)
    last_values = rng.normal(size=n_envs).astype(np.float32)
    terminated = np.zeros((steps, n_envs), dtype=bool)
    truncated = np.zeros((steps, n_envs), dtype=bool)
    terminated[3, 0] = terminated[9, 1] = True
    truncated[6, 0] = truncated[2, 2] = truncated[11, 2] = True
    advantages, returns = compute_gae(rewards, values, terminated, truncated, last_values, gamma, gae_lambda=1.0)
    expected = _reference_mc_minus_value(rewards, values, terminated, truncated, last_values, gamma)
    np.testing.assert_allclose(advantages, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(returns, expected + values, rtol=1e-4, atol=1e-4)


def test_gae_with_lambda_zero_is_the_one_step_td_error() -> None:
    advantages, _ = compute_gae(REWARDS, VALUES, AT_1, NO, LAST, gamma=0.5, gae_lambda=0.0)
    # delta_t = r_t + 0.5 * V_{t+1} (0 after termination) - V_t
    np.testing.assert_allclose(advantages[:, 0], [1.0, -1.0, -3.5, 1.0])


# Two envs, five steps, gamma 0.5.
# env 0: r 1, 2 (terminated), reset step, 4, 8; all values 0; last value 16.
# env 1: r 1, 1, 1 (truncated), reset step with V(final obs) = 10, 2; last value 4.
MC_REWARDS = np.array([[1, 1], [2, 1], [0, 1], [4, 0], [8, 2]], dtype=np.float32)
MC_VALUES = np.array([[0, 0], [0, 0], [0, 0], [0, 10], [0, 0]], dtype=np.float32)
MC_TERMINATED = np.array([[0, 0], [1, 0], [0, 0], [0, 0], [0, 0]], dtype=bool)
MC_TRUNCATED = np.array([[0, 0], [0, 0], [0, 1], [0, 0], [0, 0]], dtype=bool)
MC_VALID = np.array([[1, 1], [1, 1], [0, 1], [1, 0], [1, 1]], dtype=bool)
MC_LAST = np.array([16, 4], dtype=np.float32)


def _mc(returns_type: str) -> np.ndarray:
    return compute_mc_returns(
        MC_REWARDS, MC_VALUES, MC_TERMINATED, MC_TRUNCATED, MC_VALID, MC_LAST, 0.5, returns_type=returns_type
    )


def test_mc_reward_to_go_on_a_two_env_rollout_with_episode_ends() -> None:
    returns = _mc("mc:rtg")
    # env 0: t4 = 8 + 0.5*16 = 16, t3 = 4 + 0.5*16 = 12, t1 = 2 (terminal), t0 = 1 + 0.5*2 = 2
    # env 1: t4 = 2 + 0.5*4 = 4, t2 = 1 + 0.5*10 = 6 (truncated: V(final obs)), t1 = 4, t0 = 3
    valid = MC_VALID
    np.testing.assert_allclose(returns[:, 0][valid[:, 0]], [2, 2, 12, 16])
    np.testing.assert_allclose(returns[:, 1][valid[:, 1]], [3, 4, 6, 4])


def test_mc_episode_gives_every_step_the_return_from_its_episode_start() -> None:
    returns = _mc("mc:episode")
    # env 0: episode {t0, t1} -> 2; episode {t3, t4} starts at t3 -> 12
    # env 1: episode {t0, t1, t2} -> 3; episode {t4} -> 4
    valid = MC_VALID
    np.testing.assert_allclose(returns[:, 0][valid[:, 0]], [2, 2, 12, 12])
    np.testing.assert_allclose(returns[:, 1][valid[:, 1]], [3, 3, 3, 4])


def test_mc_returns_reject_an_unknown_returns_type() -> None:
    with pytest.raises(ValueError, match="mc:sum"):
        _mc("mc:sum")


def test_explained_variance_is_one_for_a_perfect_prediction() -> None:
    targets = np.array([1.0, -2.0, 3.5, 0.25])
    assert explained_variance(targets.copy(), targets) == pytest.approx(1.0)


def test_explained_variance_is_zero_when_predicting_the_mean() -> None:
    targets = np.array([1.0, 2.0, 3.0, 6.0])
    assert explained_variance(np.full(4, 3.0), targets) == pytest.approx(0.0)


def test_explained_variance_is_nan_for_constant_targets() -> None:
    assert np.isnan(explained_variance(np.array([1.0, 2.0]), np.array([5.0, 5.0])))
