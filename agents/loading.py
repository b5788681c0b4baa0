"""Loading a trained policy from a checkpoint directory, for evaluation, play and video."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym

from agents.networks.policies import MLPPolicy, build_policy
from utils.checkpoints import read_checkpoint, resolve_checkpoint
from utils.config import Config
from utils.normalization import ObsNormalizer
from utils.runs import RunDir


@dataclass
class TrainedPolicy:
    """A policy with the observation normalization it was trained with."""

    config: Config
    policy: MLPPolicy
    obs_normalizer: ObsNormalizer
    checkpoint: str


def untrained_policy(config: Config, env: gym.vector.VectorEnv | None = None) -> TrainedPolicy:
    """The policy ``config`` describes, freshly initialised (from torch's global RNG), with empty normalization
    statistics; ``env`` (or a one-env eval env built and closed here) gives the spaces."""
    from utils.envs import build_env

    probe = env or build_env(config, "eval", n_envs=1)
    try:
        policy = build_policy(probe.single_observation_space, probe.single_action_space, config)
        normalizer = ObsNormalizer(config.obs_normalization, probe.single_observation_space)
    finally:
        if env is None:
            probe.close()
    policy.eval()
    return TrainedPolicy(config, policy, normalizer, "untrained")


def load_checkpoint_policy(path: Path, env: gym.vector.VectorEnv | None = None) -> TrainedPolicy:
    """Weights, config and normalization statistics of the checkpoint directory ``path``."""
    data = read_checkpoint(path, with_optimizer=False)
    trained = untrained_policy(Config.from_dict(data.config), env)
    trained.policy.load_state_dict(data.weights)
    trained.obs_normalizer.load({k[9:]: v for k, v in data.arrays.items() if k.startswith("obs_norm.")})
    trained.checkpoint = data.path.name
    return trained


def load_trained_policy(run: RunDir, which: str = "best", env: gym.vector.VectorEnv | None = None) -> TrainedPolicy:
    """The policy of checkpoint ``which`` (best, last or an epoch number) of a run."""
    return load_checkpoint_policy(resolve_checkpoint(run.checkpoints, which), env)
