"""torch_threads: an explicit count is used as is; 0 picks one thread for MLPs and every core for CNNs."""

from __future__ import annotations

from training.launch import TORCH_DEFAULT_THREADS, intra_op_threads
from utils.config import Config


def test_zero_means_one_thread_for_mlp_and_torch_default_for_cnn() -> None:
    assert intra_op_threads(Config(env_id="CartPole-v1", policy="mlp")) == 1
    assert intra_op_threads(Config(env_id="ALE/Pong-v5", policy="cnn")) == TORCH_DEFAULT_THREADS >= 1


def test_an_explicit_thread_count_wins() -> None:
    assert intra_op_threads(Config(env_id="ALE/Pong-v5", policy="cnn", torch_threads=3)) == 3
    assert intra_op_threads(Config(env_id="CartPole-v1", torch_threads=2)) == 2
