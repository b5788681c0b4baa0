"""Running evaluation episodes with given seeds on a separate vector env.

Each episode is reset with its own seed, so episode ``k`` of an evaluation is
reproducible on its own (``run_play.py`` with the same seed sees the same
episode). Sub-envs run one episode per wave; waves repeat until all are done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from utils.acting_policy import ActingPolicy
from utils.normalization import ObsNormalizer


@dataclass
class EvalResult:
    """Per-episode outcome of one evaluation."""

    seeds: list[int]
    returns: list[float] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    terminated: list[bool] = field(default_factory=list)

    @property
    def mean_return(self) -> float:
        """Mean episode return (the environment's own reward)."""
        return float(np.mean(self.returns))

    def metrics(self, prefix: str = "val") -> dict[str, float]:
        """The ``val/roll/*`` metrics of this evaluation."""
        return {
            f"{prefix}/roll/ep_rew/mean": self.mean_return,
            f"{prefix}/roll/ep_rew/std": float(np.std(self.returns)),
            f"{prefix}/roll/ep_rew/min": float(np.min(self.returns)),
            f"{prefix}/roll/ep_len/mean": float(np.mean(self.lengths)),
        }


@dataclass
class EvalStep:
    """One vector step of an evaluation, as a step hook sees it; arrays have one row per sub-env."""

    obs: np.ndarray  # the observations the actions were chosen on, before normalization
    actions: np.ndarray  # the policy's actions, before the action head's ``to_env``
    rewards: np.ndarray  # the env's own reward (``info["env_reward"]`` when a shaper put it there)
    terminated: np.ndarray
    truncated: np.ndarray
    infos: dict[str, Any]  # the vector env's info dict of this step
    next_obs: np.ndarray  # observations after the step (an ended episode's final observation)
    active: np.ndarray  # sub-envs whose episode this step belongs to (the others are done or padding)


EVAL_SEED_STRIDE = 1_000_003  # a prime: seed bases of different training seeds never overlap


def eval_base_seed(seed: int, eval_seed: int | None) -> int:
    """Seed of episode 0 of evaluation 0: ``eval_seed``, else ``(seed + 1) * 1000003``.

    Different training seeds get eval episodes about a million seeds apart, so their evaluations are
    independent samples rather than the same episodes shifted by one.
    """
    return eval_seed if eval_seed is not None else (seed + 1) * EVAL_SEED_STRIDE


def evaluation_seeds(base_seed: int, eval_index: int, episodes: int) -> list[int]:
    """Distinct, reproducible seeds for the episodes of evaluation number ``eval_index``."""
    start = base_seed + eval_index * episodes
    return list(range(start, start + episodes))


@torch.no_grad()
def evaluate_policy(
    policy: ActingPolicy,
    env: gym.vector.VectorEnv,
    obs_normalizer: ObsNormalizer,
    seeds: list[int],
    deterministic: bool = True,
    device: torch.device | None = None,
    on_step: Callable[[EvalStep], None] | None = None,
) -> EvalResult:
    """Play one episode per seed and report returns, lengths and how each ended.

    ``on_step``, when given, sees every vector step (the run inspector records episodes through it).
    """
    device = device or torch.device("cpu")
    result = EvalResult(seeds=list(seeds))
    n_envs = env.num_envs
    action_shape = env.single_action_space.shape
    assert action_shape is not None  # the policy's action head accepted this space
    generator = torch.Generator(device=device)
    generator.manual_seed(int(seeds[0]) if seeds else 0)
    was_training = policy.training
    policy.eval()
    for start in range(0, len(seeds), n_envs):
        wave = list(seeds[start : start + n_envs])
        padding = [wave[-1] + 10_000 + i for i in range(n_envs - len(wave))]
        # a seed per sub-env: Sync/AsyncVectorEnv take a list, VectorEnv.reset's annotation says int
        obs, _ = env.reset(seed=wave + padding)  # type: ignore[arg-type]
        active = np.zeros(n_envs, dtype=bool)
        active[: len(wave)] = True
        returns = np.zeros(n_envs)
        lengths = np.zeros(n_envs, dtype=np.int64)
        ended_by_termination = np.zeros(n_envs, dtype=bool)
        while active.any():
            actions, _, _ = policy.act_numpy(obs_normalizer(obs), deterministic, generator)
            actions_np = actions.reshape(n_envs, *action_shape)
            next_obs, reward, terminated, truncated, info = env.step(policy.action_head.to_env(actions_np))
            env_reward = info.get("env_reward", reward)
            if on_step is not None:
                step = EvalStep(obs, actions_np, env_reward, terminated, truncated, info, next_obs, active.copy())
                on_step(step)
            obs = next_obs
            returns += np.where(active, env_reward, 0.0)
            lengths += active
            done = (terminated | truncated) & active
            ended_by_termination |= terminated & active
            active &= ~done
        result.returns.extend(returns[: len(wave)].tolist())
        result.lengths.extend(lengths[: len(wave)].tolist())
        result.terminated.extend(ended_by_termination[: len(wave)].tolist())
    policy.train(was_training)
    return result
