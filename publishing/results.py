"""Re-evaluating the checkpoint being published, and the ``results.json`` that records it.

The episodes are played exactly as ``run_play.py`` plays them (a one-env eval env, one ``evaluate_policy``
call per seed, the run's ``eval_deterministic``), so ``run_play.py --hub USER/NAME`` with the published
seeds replays the published episodes, stochastic policies included. The seeds are the first ones after
every seed training's evaluations used: the checkpoint was never selected on them.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from agents.loading import TrainedPolicy
from utils.config import MAX_EPISODE_SEED
from utils.config_values import ConfigError
from utils.envs import build_env
from utils.evaluation import eval_base_seed, evaluate_policy
from utils.run_reader import read_episodes
from utils.runs import RunDir

RESULTS_FILE = "results.json"


@dataclass(frozen=True)
class PublishedResults:
    """The re-evaluation of a checkpoint: what the card's table and the leaderboard show."""

    env_id: str
    episode_returns: list[float]
    episode_lengths: list[int]
    eval_seeds: list[int]
    is_deterministic: bool
    eval_datetime: str  # ISO 8601, UTC

    @property
    def mean_reward(self) -> float:
        """Mean episode return (the env's own reward)."""
        return float(np.mean(self.episode_returns))

    @property
    def std_reward(self) -> float:
        """Standard deviation of the episode returns (population, as Stable-Baselines3 reports it)."""
        return float(np.std(self.episode_returns))

    @property
    def leaderboard_value(self) -> str:
        """``"<mean> +/- <std>"``: the model-index metric value the Hub's RL leaderboards read."""
        return f"{self.mean_reward:.2f} +/- {self.std_reward:.2f}"

    def to_json(self) -> dict[str, Any]:
        """``results.json``: the fields Stable-Baselines3 and CleanRL publish, plus the seeds and episodes."""
        return {
            "env_id": self.env_id,
            "mean_reward": self.mean_reward,
            "std_reward": self.std_reward,
            "n_eval_episodes": len(self.episode_returns),
            "is_deterministic": self.is_deterministic,
            "eval_seeds": self.eval_seeds,
            "eval_datetime": self.eval_datetime,
            "episode_returns": self.episode_returns,
            "episode_lengths": self.episode_lengths,
        }


def held_out_seeds(run: RunDir, seed: int, eval_seed: int | None, episodes: int) -> list[int]:
    """``episodes`` consecutive seeds after the largest one in ``episodes.jsonl`` (the eval base seed if none)."""
    used = [row["seed"] for row in read_episodes(run) if isinstance(row.get("seed"), int)]
    first = max(used) + 1 if used else eval_base_seed(seed, eval_seed)
    if first + episodes - 1 > MAX_EPISODE_SEED:
        raise ConfigError(
            f"the run's evaluation seeds reach {first - 1}: no {episodes} unused seeds are left below 2**62"
        )
    return list(range(first, first + episodes))


def reevaluate(trained: TrainedPolicy, seeds: list[int], log: Callable[[str], None] = print) -> PublishedResults:
    """Play one episode per seed with the checkpoint's policy, printing each as it ends."""
    config = trained.config
    deterministic = config.eval_deterministic
    mode = "deterministic (most likely action)" if deterministic else "stochastic (sampled actions)"
    log(f"evaluating {trained.checkpoint}: {len(seeds)} episodes, seeds {seeds[0]}..{seeds[-1]}, {mode}")
    returns: list[float] = []
    lengths: list[int] = []
    env = build_env(config, "eval", n_envs=1)
    try:
        for k, seed in enumerate(seeds):
            result = evaluate_policy(trained.policy, env, trained.obs_normalizer, [seed], deterministic)
            returns.append(float(result.returns[0]))
            lengths.append(int(result.lengths[0]))
            log(f"  episode {k + 1}/{len(seeds)}  seed {seed}  return {returns[-1]:.2f}  length {lengths[-1]}")
    finally:
        env.close()
    results = PublishedResults(
        env_id=config.env_id,
        episode_returns=returns,
        episode_lengths=lengths,
        eval_seeds=list(seeds),
        is_deterministic=deterministic,
        eval_datetime=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    )
    log(f"mean reward {results.leaderboard_value} over {len(seeds)} episodes")
    return results
