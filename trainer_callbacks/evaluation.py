"""Periodic evaluation of the weights being trained, best-return tracking and early stop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym

from agents.base import BaseAgent
from utils.config import Config
from utils.evaluation import EvalResult, eval_base_seed, evaluate_policy, evaluation_seeds
from utils.lean_lightning import pl
from utils.metric_names import VAL_METRICS


class EvaluationCallback(pl.Callback):
    """Evaluates every ``eval_freq`` env steps and at the end; stops once the threshold is reached.

    A new best only sets ``best_pending``: the checkpoint is written by ``CheckpointCallback`` at the end of
    the same epoch, after the epoch's metrics row and episode rows, so a kill in between never leaves a
    checkpoint whose rows are missing (a resume trims rows newer than its checkpoint instead).
    """

    def __init__(
        self,
        config: Config,
        eval_env: gym.vector.VectorEnv,
        threshold: float | None,
        on_result: Callable[[BaseAgent, EvalResult, int, bool, bool], None] | None = None,
        on_start: Callable[[BaseAgent, int, list[int]], None] | None = None,
    ) -> None:
        self.config = config
        self.env = eval_env
        self.threshold = threshold
        self.best_pending = False  # a new best whose checkpoint CheckpointCallback writes after the metrics row
        self.on_result = on_result
        self.on_start = on_start
        self.base_seed = eval_base_seed(config.seed, config.eval_seed)
        self.eval_count = 0
        self.best_return = float("-inf")
        self.last_eval_timesteps = -1
        self.solved = False
        self.last_result: EvalResult | None = None

    def _due(self, timesteps: int) -> bool:
        if timesteps >= self.config.max_timesteps:
            return True
        freq = self.config.eval_freq
        return freq > 0 and timesteps // freq > max(self.last_eval_timesteps, 0) // freq

    def evaluate(self, agent: BaseAgent) -> EvalResult:
        """Run one evaluation now with the agent's current weights and record it."""
        seeds = evaluation_seeds(self.base_seed, self.eval_count, self.config.eval_episodes)
        if self.on_start is not None:
            self.on_start(agent, self.eval_count, seeds)
        result = evaluate_policy(
            agent.policy, self.env, agent.collector.obs_normalizer, seeds, self.config.eval_deterministic, agent.device
        )
        self.eval_count += 1
        self.last_eval_timesteps = agent.collector.timesteps
        self.last_result = result
        metrics = result.metrics()
        new_best = result.mean_return > self.best_return
        if new_best:
            self.best_return = result.mean_return
            self.best_pending = True
        metrics["val/roll/ep_rew/best"] = self.best_return
        metrics["val/cnt/evals"] = float(self.eval_count)
        assert tuple(metrics) == VAL_METRICS  # the header metrics.csv declares up front
        agent.epoch_metrics.update(metrics)
        if self.threshold is not None and result.mean_return >= self.threshold:
            self.solved = True
        if self.on_result is not None:
            final = agent.collector.timesteps >= self.config.max_timesteps or (self.solved and self.config.early_stop)
            self.on_result(agent, result, self.eval_count - 1, new_best, final)
        return result

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        assert isinstance(pl_module, BaseAgent)
        if not self._due(pl_module.collector.timesteps):
            return
        self.evaluate(pl_module)
        if self.solved and self.config.early_stop:
            trainer.should_stop = True

    def state(self) -> dict[str, Any]:
        """What a checkpoint needs to continue evaluating identically."""
        best = self.best_return if self.best_return != float("-inf") else None
        return {"eval_count": self.eval_count, "best_return": best, "last_eval_timesteps": self.last_eval_timesteps}

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore counters saved by ``state``."""
        self.eval_count = int(state["eval_count"])
        best = state["best_return"]
        self.best_return = float("-inf") if best is None else float(best)
        self.last_eval_timesteps = int(state["last_eval_timesteps"])
