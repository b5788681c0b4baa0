"""Collecting fixed-size rollouts from a vector env into preallocated arrays.

The env uses next-step autoreset (see ``utils.returns``): a step whose previous
step ended an episode is a reset step, recorded with ``valid = False`` and
left out of every loss. Episode returns are counted from the environment's own
reward (``info["env_reward"]`` when a reward shaper is active).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch

from utils.acting_policy import ActingPolicy
from utils.normalization import ObsNormalizer, RewardNormalizer

EPISODE_WINDOW = 100


@dataclass
class Rollout:
    """One rollout, arrays shaped (steps, envs, ...)."""

    obs: np.ndarray
    actions: np.ndarray
    log_probs: np.ndarray
    values: np.ndarray
    rewards: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    valid: np.ndarray
    last_values: np.ndarray


class EpisodeStats:
    """Returns and lengths of recently finished episodes."""

    def __init__(self, window: int = EPISODE_WINDOW) -> None:
        self.returns: deque[float] = deque(maxlen=window)
        self.shaped_returns: deque[float] = deque(maxlen=window)
        self.lengths: deque[int] = deque(maxlen=window)
        self.count = 0

    def add(self, env_return: float, shaped_return: float, length: int) -> None:
        """Record one finished episode."""
        self.returns.append(env_return)
        self.shaped_returns.append(shaped_return)
        self.lengths.append(length)
        self.count += 1


def require_next_step_autoreset(env: gym.vector.VectorEnv) -> None:
    """The collector marks the step after an episode end as a reset step: that is Gymnasium's next-step
    autoreset. A vector env that resets otherwise would mix two episodes' transitions silently."""
    mode = env.metadata.get("autoreset_mode")
    if mode is not None and mode != gym.vector.AutoresetMode.NEXT_STEP:
        raise ValueError(
            f"{type(env).__name__} autoresets in mode {getattr(mode, 'name', mode)}; the rollout collector needs "
            "NEXT_STEP (Gymnasium's default): build the vector env with autoreset_mode=AutoresetMode.NEXT_STEP"
        )


class RolloutCollector:
    """Steps a vector env with a policy and fills a ``Rollout`` per call."""

    def __init__(
        self,
        env: gym.vector.VectorEnv,
        policy: ActingPolicy,
        n_steps: int,
        obs_normalizer: ObsNormalizer,
        reward_normalizer: RewardNormalizer,
        seed: int,
        device: torch.device,
    ) -> None:
        require_next_step_autoreset(env)
        self.env, self.policy, self.device = env, policy, device
        self.obs_normalizer, self.reward_normalizer = obs_normalizer, reward_normalizer
        n_envs = env.num_envs
        obs_space = env.single_observation_space
        obs_shape, action_shape = obs_space.shape, env.single_action_space.shape
        assert obs_shape is not None and action_shape is not None  # the policy was built for these spaces
        obs_dtype = np.float32 if obs_normalizer.active else obs_space.dtype
        self.buffers = Rollout(
            obs=np.zeros((n_steps, n_envs, *obs_shape), dtype=obs_dtype),
            actions=np.zeros((n_steps, n_envs, *action_shape), dtype=policy.action_head.action_dtype),
            log_probs=np.zeros((n_steps, n_envs), dtype=np.float32),
            values=np.zeros((n_steps, n_envs), dtype=np.float32),
            rewards=np.zeros((n_steps, n_envs), dtype=np.float32),
            terminated=np.zeros((n_steps, n_envs), dtype=bool),
            truncated=np.zeros((n_steps, n_envs), dtype=bool),
            valid=np.zeros((n_steps, n_envs), dtype=bool),
            last_values=np.zeros(n_envs, dtype=np.float32),
        )
        # raw observations are only needed to update rolling normalization statistics
        keep_raw = obs_normalizer.rms is not None
        self.raw_obs = np.zeros((n_steps, n_envs, *obs_shape), obs_space.dtype) if keep_raw else None
        self.obs, _ = env.reset(seed=seed)
        self.prev_done = np.zeros(n_envs, dtype=bool)
        self.episode_return = np.zeros(n_envs, dtype=np.float64)
        self.episode_shaped = np.zeros(n_envs, dtype=np.float64)
        self.episode_length = np.zeros(n_envs, dtype=np.int64)
        self.stats = EpisodeStats()
        self.timesteps = 0

    def _policy_input(self, obs: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(self.obs_normalizer(obs), device=self.device)

    def collect(self) -> Rollout:
        """Run ``n_steps`` vector steps with the current policy and return the filled buffers."""
        buf = self.buffers
        n_steps = buf.rewards.shape[0]
        for t in range(n_steps):
            if self.raw_obs is not None:
                self.raw_obs[t] = self.obs
            buf.obs[t] = self.obs_normalizer(self.obs)
            actions, buf.log_probs[t], buf.values[t] = self.policy.act_numpy(buf.obs[t])
            actions_np = actions.reshape(buf.actions[t].shape)
            buf.actions[t] = actions_np
            buf.valid[t] = ~self.prev_done
            self.obs, reward, terminated, truncated, info = self.env.step(self.policy.action_head.to_env(actions_np))
            self._count_episodes(reward, info, terminated | truncated, buf.valid[t])
            buf.rewards[t] = reward
            buf.terminated[t] = terminated
            buf.truncated[t] = truncated
            self.prev_done = terminated | truncated
        self.timesteps += n_steps * self.env.num_envs
        buf.last_values[:] = self.policy.value(self._policy_input(self.obs)).detach().float().cpu().numpy()
        if self.raw_obs is not None:
            self.obs_normalizer.update(self.raw_obs)
        buf.rewards[:] = self.reward_normalizer(buf.rewards, buf.terminated | buf.truncated, buf.valid)
        return buf

    def _count_episodes(self, reward: np.ndarray, info: dict, done: np.ndarray, valid: np.ndarray) -> None:
        env_reward = info.get("env_reward", reward)
        self.episode_return += np.where(valid, env_reward, 0.0)
        self.episode_shaped += np.where(valid, reward, 0.0)
        self.episode_length += valid
        if done.any():
            for index in np.flatnonzero(done):
                self.stats.add(
                    float(self.episode_return[index]),
                    float(self.episode_shaped[index]),
                    int(self.episode_length[index]),
                )
            self.episode_return[done] = 0.0
            self.episode_shaped[done] = 0.0
            self.episode_length[done] = 0

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """JSON-able scalars and arrays that let training continue exactly from here."""
        arrays = {
            "obs": np.asarray(self.obs),
            "prev_done": self.prev_done,
            "episode_return": self.episode_return,
            "episode_shaped": self.episode_shaped,
            "episode_length": self.episode_length,
        }
        for key, value in self.obs_normalizer.state().items():
            arrays[f"obs_norm.{key}"] = np.asarray(value)
        for key, value in self.reward_normalizer.state().items():
            arrays[f"reward_norm.{key}"] = np.asarray(value)
        scalars = {
            "timesteps": self.timesteps,
            "episodes": self.stats.count,
            "recent_returns": list(self.stats.returns),
            "recent_shaped_returns": list(self.stats.shaped_returns),
            "recent_lengths": list(self.stats.lengths),
        }
        return scalars, arrays

    def load_state(self, scalars: dict, arrays: dict[str, np.ndarray], restore_episodes: bool) -> None:
        """Restore counters and normalization; episode progress only when the env state was restored too."""
        self.timesteps = int(scalars["timesteps"])
        self.stats.count = int(scalars["episodes"])
        self.stats.returns.extend(scalars["recent_returns"])
        self.stats.shaped_returns.extend(scalars["recent_shaped_returns"])
        self.stats.lengths.extend(scalars["recent_lengths"])
        self.obs_normalizer.load({k[9:]: v for k, v in arrays.items() if k.startswith("obs_norm.")})
        self.reward_normalizer.load({k[12:]: v for k, v in arrays.items() if k.startswith("reward_norm.")})
        if restore_episodes:
            self.obs = arrays["obs"].copy()
            self.prev_done = arrays["prev_done"].copy()
            self.episode_return = arrays["episode_return"].copy()
            self.episode_shaped = arrays["episode_shaped"].copy()
            self.episode_length = arrays["episode_length"].copy()
