"""PPO+replay: the FIFO buffer and how many replayed minibatches an update trains on."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from agents.ppo import PPO
from agents.ppo_replay import ReplayBuffer
from training.launch import train
from utils.config import Config, load_config
from utils.config_values import ConfigError
from utils.envs import build_env


def flat_rollout(start: int, count: int, valid_every: int = 1) -> dict[str, torch.Tensor]:
    ids = torch.arange(start, start + count, dtype=torch.float32)
    weights = torch.tensor([1.0 if i % valid_every == 0 else 0.0 for i in range(count)])
    return {
        "obs": ids[:, None].repeat(1, 4),
        "actions": torch.zeros(count, dtype=torch.int64),
        "log_probs": ids,
        "values": ids,
        "advantages": ids,
        "returns": ids,
        "weights": weights,
    }


def test_buffer_keeps_only_valid_transitions() -> None:
    buffer = ReplayBuffer(capacity=100)
    buffer.add(flat_rollout(0, 10, valid_every=2))
    assert buffer.size == 5
    assert sorted(buffer.data["log_probs"][:5].tolist()) == [0.0, 2.0, 4.0, 6.0, 8.0]


def test_buffer_overwrites_oldest_when_full() -> None:
    buffer = ReplayBuffer(capacity=8)
    buffer.add(flat_rollout(0, 6))
    buffer.add(flat_rollout(100, 6))
    assert buffer.size == 8
    stored = sorted(buffer.data["log_probs"].tolist())
    assert stored == [4.0, 5.0, 100.0, 101.0, 102.0, 103.0, 104.0, 105.0]


def test_samples_are_marked_off_policy_and_come_from_the_buffer() -> None:
    buffer = ReplayBuffer(capacity=16)
    buffer.add(flat_rollout(50, 4))
    batch = buffer.sample(32, np.random.default_rng(0), torch.device("cpu"))
    assert batch["off_policy"].shape == (32,)
    assert set(batch["log_probs"].tolist()) <= {50.0, 51.0, 52.0, 53.0}


def test_buffer_state_round_trips() -> None:
    buffer = ReplayBuffer(capacity=8)
    buffer.add(flat_rollout(0, 11))
    restored = ReplayBuffer(capacity=8)
    restored.load(buffer.state())
    assert (restored.size, restored.position) == (buffer.size, buffer.position)
    assert torch.equal(restored.data["returns"], buffer.data["returns"])


@pytest.mark.parametrize(("ratio", "expected"), [(0.5, [0, 1, 0, 1]), (2.0, [2, 2, 2, 2])])
def test_replay_ratio_sets_replayed_minibatches_per_on_policy_minibatch(ratio: float, expected: list[int]) -> None:
    config = Config(env_id="CartPole-v1", n_envs=2, n_steps=8, batch_size=8, replay_ratio=ratio)
    env = build_env(config)
    agent = PPO(config, env)
    assert agent.extra_minibatches() == []  # nothing stored yet
    agent.replay.add(flat_rollout(0, 16))
    assert [len(agent.extra_minibatches()) for _ in range(4)] == expected
    env.close()


def test_replay_is_rejected_for_reinforce() -> None:
    with pytest.raises(ConfigError, match="replay_ratio"):
        Config(env_id="CartPole-v1", algo_id="reinforce", replay_ratio=1.0)


@pytest.mark.slow
def test_target_kl_reads_the_on_policy_minibatch_not_a_replayed_one(runs_dir) -> None:
    settings = {
        "max_timesteps": 4096,
        "replay_ratio": 1.0,
        "target_kl": 0.002,
        "n_epochs": 8,
        "video": "off",
        "seed": 1,
    }
    result = train(load_config("CartPole-v1", "ppo", settings), quiet=True)
    with (result.run.path / "metrics.csv").open() as handle:
        rows = [(float(row["train/approx_kl"]), int(row["train/opt/epochs"])) for row in csv.DictReader(handle)]
    # One full-batch minibatch per epoch: an update stopped after e epochs had an on-policy KL above target_kl
    # in its last epoch, so its logged mean KL is above target_kl / e >= target_kl / n_epochs. An update whose
    # mean on-policy KL is below that ran every epoch; a stop caused by a replayed batch's KL would not.
    quiet_updates = [epochs for kl, epochs in rows if kl < 0.002 / 8]
    assert len(quiet_updates) >= 5, rows
    assert all(epochs == 8 for epochs in quiet_updates), rows
