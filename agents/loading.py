"""Loading a trained policy from a run directory, for evaluation and play."""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym

from agents.policies import MLPPolicy, build_policy
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


def load_trained_policy(run: RunDir, which: str = "best", env: gym.vector.VectorEnv | None = None) -> TrainedPolicy:
    """Weights and normalization statistics of checkpoint ``which`` (best, last or an epoch)."""
    from utils.envs import build_env

    data = read_checkpoint(resolve_checkpoint(run.checkpoints, which), with_optimizer=False)
    config = Config.from_dict(data.config)
    probe = env or build_env(config, "eval", n_envs=1)
    policy = build_policy(probe.single_observation_space, probe.single_action_space, config)
    policy.load_state_dict(data.weights)
    policy.eval()
    normalizer = ObsNormalizer(config.obs_normalization, probe.single_observation_space)
    normalizer.load({k[9:]: v for k, v in data.arrays.items() if k.startswith("obs_norm.")})
    if env is None:
        probe.close()
    return TrainedPolicy(config, policy, normalizer, data.path.name)
