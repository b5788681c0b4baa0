"""Loading a trained policy from a checkpoint directory, for evaluation, play and video."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
from gymnasium.spaces import Space

from agents.networks.policies import MLPPolicy, build_policy
from utils.checkpoints import read_checkpoint, resolve_checkpoint
from utils.config import Config
from utils.normalization import ObsNormalizer
from utils.policy_spec import spaces_from_spec
from utils.runs import RunDir


@dataclass
class TrainedPolicy:
    """A policy with the observation normalization it was trained with."""

    config: Config
    policy: MLPPolicy
    obs_normalizer: ObsNormalizer
    checkpoint: str


def untrained_policy(
    config: Config, env: gym.vector.VectorEnv | None = None, spaces: tuple[Space, Space] | None = None
) -> TrainedPolicy:
    """The policy ``config`` describes, freshly initialised (from torch's global RNG), with empty normalization
    statistics. The spaces come from ``spaces``, else ``env``, else a one-env eval env built and closed here."""
    if spaces is None:
        from utils.envs import build_env

        probe = env or build_env(config, "eval", n_envs=1)
        spaces = probe.single_observation_space, probe.single_action_space
        if env is None:
            probe.close()
    obs_space, action_space = spaces
    policy = build_policy(obs_space, action_space, config)
    policy.eval()
    return TrainedPolicy(config, policy, ObsNormalizer(config.obs_normalization, obs_space), "untrained")


def load_checkpoint_policy(path: Path, env: gym.vector.VectorEnv | None = None) -> TrainedPolicy:
    """Weights, config and normalization statistics of the checkpoint directory ``path``."""
    data = read_checkpoint(path, with_optimizer=False)
    # format 1 checkpoints describe their spaces (policy.json): no env is built to learn them
    trained = untrained_policy(Config.from_dict(data.config), env, None if env else spaces_from_spec(data.spec))
    trained.policy.load_state_dict(data.weights)
    trained.obs_normalizer.load({k[9:]: v for k, v in data.arrays.items() if k.startswith("obs_norm.")})
    trained.checkpoint = data.path.name
    return trained


def load_trained_policy(run: RunDir, which: str = "best", env: gym.vector.VectorEnv | None = None) -> TrainedPolicy:
    """The policy of checkpoint ``which`` (best, last or an epoch number) of a run."""
    return load_checkpoint_policy(resolve_checkpoint(run.checkpoints, which), env)
