"""The run inspector's episodes: the evaluation episode of a seed, step by step, with the training targets."""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

from agents.loading import TrainedPolicy, load_trained_policy, untrained_policy
from inspector.episode import Episode, episode_targets, roll_out
from inspector.frames import FrameStore, ObservationStore
from utils.config import load_config
from utils.config_files import split_config_id
from utils.envs import build_env
from utils.evaluation import evaluate_policy
from utils.returns import compute_gae, compute_mc_returns
from utils.runs import resolve_run

REPO = Path(__file__).resolve().parents[2]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _untrained(config_id: str, **overrides: object) -> TrainedPolicy:
    torch.manual_seed(0)
    return untrained_policy(load_config(*split_config_id(config_id), overrides=overrides))


def _evaluation(trained: TrainedPolicy, seed: int, deterministic: bool) -> tuple[float, int]:
    """Return and length of the evaluation episode of ``seed``, on the eval env training builds."""
    env = build_env(trained.config, "eval", n_envs=1)
    try:
        result = evaluate_policy(trained.policy, env, trained.obs_normalizer, [seed], deterministic)
    finally:
        env.close()
    return result.returns[0], result.lengths[0]


@pytest.fixture(scope="module")
def cartpole() -> TrainedPolicy:
    return _untrained("CartPole-v1:ppo")


@pytest.fixture(scope="module")
def cartpole_episode(cartpole: TrainedPolicy) -> Episode:
    return roll_out(cartpole, seed=3, deterministic=False)


@pytest.fixture(scope="module")
def trained_cartpole(tmp_path_factory: pytest.TempPathFactory) -> TrainedPolicy:
    """The best checkpoint of a tiny real training run (2048 steps)."""
    runs = tmp_path_factory.mktemp("runs")
    env = {**os.environ, "GYMSOLVER_RUNS_DIR": str(runs), "SDL_VIDEODRIVER": "dummy", "WANDB_MODE": "offline"}
    command = [sys.executable, "train.py", "CartPole-v1:ppo", "-q", "--video", "off", "--max-timesteps", "2048"]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return load_trained_policy(resolve_run("@last", runs), "best")


def test_every_per_step_array_has_one_row_per_step(cartpole_episode: Episode) -> None:
    episode = cartpole_episode
    steps = len(episode)
    assert steps > 1
    per_step = [episode.actions, episode.chosen_prob, episode.entropy, episode.values, episode.rewards,
                episode.returns, episode.returns_to_go, episode.advantages, episode.terminated, episode.truncated]  # fmt: skip
    assert [len(array) for array in per_step] == [steps] * len(per_step)
    assert episode.probs is not None and episode.probs.shape == (steps, 2)
    assert len(episode.action_labels) == len(episode.infos) == len(episode.observations) == steps
    assert len(episode.frames) == steps + 1  # the reset frame, then one after each step


def test_deterministic_roll_out_has_the_evaluation_return_of_its_seed(cartpole: TrainedPolicy) -> None:
    for seed in (0, 11, 12345):
        episode = roll_out(cartpole, seed, deterministic=True)
        assert (episode.episode_return, len(episode)) == _evaluation(cartpole, seed, deterministic=True)


def test_stochastic_roll_out_is_the_stochastic_evaluation_episode_of_its_seed(cartpole: TrainedPolicy) -> None:
    episode = roll_out(cartpole, 7, deterministic=False)
    assert (episode.episode_return, len(episode)) == _evaluation(cartpole, 7, deterministic=False)
    again = roll_out(cartpole, 7, deterministic=False)
    assert np.array_equal(again.actions, episode.actions)


@pytest.mark.slow
def test_trained_checkpoint_roll_out_has_the_evaluation_return_of_its_seed(trained_cartpole: TrainedPolicy) -> None:
    episode = roll_out(trained_cartpole, 5, deterministic=True)
    assert episode.checkpoint.startswith("epoch=")
    assert (episode.episode_return, len(episode)) == _evaluation(trained_cartpole, 5, deterministic=True)


def test_steps_replay_on_a_plain_env_with_the_same_seed(cartpole_episode: Episode) -> None:
    """Observations are the env's own (unnormalized), frame t is the screen when action t was chosen."""
    episode = cartpole_episode
    env = gym.make("CartPole-v1", render_mode="rgb_array")
    obs, _ = env.reset(seed=episode.seed)
    assert np.array_equal(episode.frames.frame(0), env.render())
    for t, action in enumerate(episode.actions):
        assert np.array_equal(episode.observations[t], obs)
        obs, reward, terminated, truncated, _ = env.step(int(action))
        assert (reward, terminated, truncated) == (episode.rewards[t], episode.terminated[t], episode.truncated[t])
        assert np.array_equal(episode.frames.frame(t + 1), env.render())
    assert np.array_equal(episode.final_observation, obs)
    env.close()


def test_observations_are_stored_before_normalization() -> None:
    trained = _untrained("Pendulum-v1:ppo")  # normalize_obs: rolling
    assert trained.obs_normalizer.rms is not None
    trained.obs_normalizer.rms.mean[:] = 5.0
    trained.obs_normalizer.rms.var[:] = 4.0
    episode = roll_out(trained, 2, max_steps=4)
    env = gym.make("Pendulum-v1")
    obs, _ = env.reset(seed=2)
    assert np.array_equal(episode.observations[0], obs)


def test_cumulative_returns_add_up_the_rewards(cartpole_episode: Episode) -> None:
    episode = cartpole_episode
    assert np.allclose(episode.returns, [sum(episode.rewards[: t + 1]) for t in range(len(episode))])
    assert episode.episode_return == pytest.approx(float(np.sum(episode.rewards)))


def test_return_to_go_and_advantages_are_the_training_targets(cartpole_episode: Episode) -> None:
    episode = cartpole_episode
    column = {
        "rewards": episode.rewards[:, None].astype(np.float32),
        "values": episode.values[:, None].astype(np.float32),
        "terminated": episode.terminated[:, None],
        "truncated": episode.truncated[:, None],
    }
    last = np.array([episode.final_value], np.float32)
    advantages, _ = compute_gae(**column, last_values=last, gamma=0.98, gae_lambda=0.8)  # CartPole-v1:ppo's
    to_go = compute_mc_returns(
        **column, valid=np.ones((len(episode), 1), bool), last_values=last, gamma=0.98, returns_type="mc:rtg"
    )
    assert np.allclose(episode.advantages, advantages[:, 0])
    assert np.allclose(episode.returns_to_go, to_go[:, 0])


def test_return_to_go_of_cartpole_is_the_discounted_count_of_steps_left(cartpole_episode: Episode) -> None:
    episode = cartpole_episode
    assert episode.terminated[-1]  # the pole fell: nothing to bootstrap
    steps, gamma = len(episode), 0.98
    expected = [(1 - gamma ** (steps - t)) / (1 - gamma) for t in range(steps)]
    assert np.allclose(episode.returns_to_go, expected, rtol=1e-5)


def test_targets_of_a_tiny_hand_computed_episode() -> None:
    rewards, values = np.array([1.0, 2.0, 3.0]), np.array([0.5, 1.0, 2.0])
    ended, running = np.array([False, False, True]), np.zeros(3, bool)
    to_go, advantages = episode_targets(rewards, values, ended, running, 99.0, gamma=0.5, gae_lambda=1.0)
    assert np.allclose(to_go, [1 + 0.5 * 2 + 0.25 * 3, 2 + 0.5 * 3, 3])  # terminated: final value unused
    assert np.allclose(advantages, to_go - values)  # lambda 1: Monte Carlo advantages
    # cut by a time limit: the final observation's value 10 stands in for the rest of the episode
    to_go, advantages = episode_targets(np.ones(2), np.zeros(2), np.zeros(2, bool), np.array([False, True]),
                                        10.0, gamma=0.5, gae_lambda=0.5)  # fmt: skip
    assert np.allclose(to_go, [1 + 0.5 * (1 + 0.5 * 10), 1 + 0.5 * 10])
    assert np.allclose(advantages, [1 + 0.25 * 6, 6])  # deltas 1 and 6, GAE weight gamma * lambda = 0.25


def test_max_steps_truncates_and_bootstraps_from_the_final_value(cartpole: TrainedPolicy) -> None:
    episode = roll_out(cartpole, 0, deterministic=True, max_steps=3)  # no CartPole episode ends in 3 steps
    assert len(episode) == 3 and len(episode.frames) == 4
    assert episode.truncated.tolist() == [False, False, True]
    assert not episode.terminated.any()
    delta = episode.rewards[-1] + 0.98 * episode.final_value - episode.values[-1]
    assert episode.advantages[-1] == pytest.approx(delta, rel=1e-5)
    with pytest.raises(ValueError, match="max_steps"):
        roll_out(cartpole, 0, max_steps=0)


def test_categorical_probabilities_give_the_chosen_action_probability_and_entropy(cartpole: TrainedPolicy) -> None:
    episode = roll_out(cartpole, 4, deterministic=True)
    probs = episode.probs
    assert probs is not None and episode.mean is None and episode.std is None
    assert np.allclose(probs.sum(axis=1), 1.0)
    assert np.array_equal(episode.actions, probs.argmax(axis=1))  # deterministic: the most likely action
    assert np.allclose(episode.chosen_prob, probs[np.arange(len(episode)), episode.actions])
    assert np.allclose(episode.entropy, -(probs * np.log(probs)).sum(axis=1), atol=1e-6)
    assert episode.action_labels == [["LEFT", "RIGHT"][a] for a in episode.actions]
    assert episode.prob_labels == ["LEFT", "RIGHT"]


def test_box_actions_give_gaussian_mean_and_std_and_no_probabilities() -> None:
    trained = _untrained("Pendulum-v1:ppo")
    episode = roll_out(trained, 1, deterministic=False, max_steps=20)
    assert episode.probs is None and episode.mean is not None and episode.std is not None
    assert episode.mean.shape == episode.std.shape == episode.actions.shape == (20, 1)
    log_std = trained.policy.action_head.state_dict()["log_std"].numpy()
    assert np.allclose(episode.std, np.exp(log_std))
    z = (episode.actions - episode.mean) / episode.std
    density = np.exp(-0.5 * z**2) / (math.sqrt(2 * math.pi) * episode.std)
    assert np.allclose(episode.chosen_prob, density[:, 0], rtol=1e-5)
    assert episode.action_labels[0] == f"[{float(episode.actions[0, 0]):.3g}]"
    assert episode.obs_labels == ["x = cos(theta)", "y = sin(theta)", "angular velocity"]


def test_infos_are_plain_json() -> None:
    episode = roll_out(_untrained("Taxi-v4:ppo"), 0, max_steps=5)  # Taxi's info holds a NumPy action mask
    assert episode.infos[0]["action_mask"] == [int(bit) for bit in episode.infos[0]["action_mask"]]
    assert json.loads(json.dumps(episode.infos)) == episode.infos
    for t in range(len(episode)):
        assert json.loads(str(episode.step_row(t)["info"])) == episode.infos[t]


def test_csv_has_one_row_per_step_and_every_column(cartpole_episode: Episode, tmp_path: Path) -> None:
    episode = cartpole_episode
    path = episode.to_csv(tmp_path / "episode.csv")
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        header = reader.fieldnames
    assert len(rows) == len(episode)
    assert header is not None
    expected = ["step", "action", "action_label", "prob", "entropy", "value", "reward", "return", "return_to_go",
                "advantage", "terminated", "truncated", "info"]  # fmt: skip
    assert header[: len(expected)] == expected
    assert {"p[LEFT]", "p[RIGHT]", "obs[cart position]", "obs[pole angle]"} <= set(header)
    last = rows[-1]
    assert int(last["step"]) == len(episode) - 1
    assert float(last["return"]) == pytest.approx(episode.episode_return)
    assert float(last["p[RIGHT]"]) == pytest.approx(float(episode.probs[-1, 1]))  # type: ignore[index]


def test_frame_store_is_lossless_and_holds_png_files() -> None:
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (30, 40, 3), dtype=np.uint8) for _ in range(3)]
    store = FrameStore()
    for frame in frames:
        store.append(frame)
    assert len(store) == 3
    assert all(np.array_equal(store.frame(t), frame) for t, frame in enumerate(frames))
    assert store.png(1).startswith(b"\x89PNG")
    assert store.nbytes == sum(len(store.png(t)) for t in range(3))


def test_stacked_image_observations_round_trip_and_lay_side_by_side() -> None:
    rng = np.random.default_rng(1)
    stacks = [rng.integers(0, 256, (4, 6, 5), dtype=np.uint8) for _ in range(2)]
    store = ObservationStore()
    for stack in stacks:
        store.append(stack)
    assert store.is_image and len(store) == 2
    assert np.array_equal(store[1], stacks[1])
    picture = store.image(1)
    assert picture is not None and picture.shape == (6, 20, 3)
    for k in range(4):  # oldest frame on the left, grey in all three channels
        assert np.array_equal(picture[:, 5 * k : 5 * (k + 1), 1], stacks[1][k])


def test_pong_frames_and_observations_are_held_compressed() -> None:
    trained = _untrained("ALE-Pong-v5:ppo")
    episode = roll_out(trained, 0, deterministic=True, max_steps=60)
    assert len(episode.frames) == 61 and episode.frames.frame(60).shape == (210, 160, 3)
    assert episode.frames.nbytes < episode.frames.raw_nbytes / 20
    assert episode.observations.nbytes < episode.observations.raw_nbytes / 10
    assert episode.observations[10].shape == (4, 84, 84)
    picture = episode.observation_image(10)
    assert picture is not None and picture.shape == (84, 4 * 84, 3)
    assert np.array_equal(picture[:, 3 * 84 :, 0], episode.observations[10][3])
    assert episode.observation_image(10) is not None and episode.obs_labels is None
    assert episode.prob_labels == ["NOOP", "FIRE", "RIGHT", "LEFT", "RIGHTFIRE", "LEFTFIRE"]


@pytest.mark.slow
def test_full_pong_episode_matches_evaluation_in_a_few_megabytes() -> None:
    trained = _untrained("ALE-Pong-v5:ppo")
    episode = roll_out(trained, 1, deterministic=True)
    assert (episode.episode_return, len(episode)) == _evaluation(trained, 1, deterministic=True)
    assert len(episode) > 500  # an untrained agent loses 0-21 over hundreds of steps
    assert episode.nbytes < 10_000_000
    assert episode.frames.raw_nbytes + episode.observations.raw_nbytes > 50_000_000
