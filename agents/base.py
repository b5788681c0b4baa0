"""The shared Lightning module: one ``training_step`` = collect a rollout, then update.

Algorithms subclass ``BaseAgent`` and provide ``compute_targets`` (advantages
and returns for a rollout) and ``loss`` (one minibatch). Everything else
(schedules, the minibatch loop, gradient clipping, metrics) lives here once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import gymnasium as gym
import numpy as np
import torch

from agents.networks.policies import build_policy
from agents.speed.eager_optimizer import eager_optimizer_functions, eager_step
from agents.speed.flat_params import FlatParameters, flatten_optimizer_state
from utils.config import Config
from utils.lean_lightning import pl
from utils.normalization import ObsNormalizer, RewardNormalizer
from utils.returns import explained_variance
from utils.rollouts import Rollout, RolloutCollector
from utils.schedules import scheduled_value


class TrainingDiverged(RuntimeError):
    """A loss, gradient norm, reward or parameter became NaN or infinite; the update's results are unusable."""

    def __init__(self, metric: str, value: float, timesteps: int, update: int) -> None:
        self.metric, self.value, self.timesteps, self.update = metric, value, timesteps, update
        super().__init__(f"training diverged: {metric} is {value} at step {timesteps} (update {update})")


def update_metric_name(stat: str) -> str:
    """The metrics.csv column of an update statistic (``loss_value`` -> ``train/loss/value``)."""
    if stat.startswith("loss_"):
        return f"train/loss/{stat[5:]}"
    return "train/opt/grads/norm" if stat == "grad_norm" else f"train/{stat}"


def mean_weights(valid: torch.Tensor) -> torch.Tensor:
    """Weights for ``masked_mean``: 1/count on valid entries, 0 on reset steps (computed once per minibatch)."""
    return valid / valid.sum().clamp_min(1.0)


def masked_mean(values: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Mean over the valid entries, given ``mean_weights`` of the valid mask."""
    return (values * weights).sum()


def loss_stats(
    total: torch.Tensor, policy: torch.Tensor, value: torch.Tensor, entropy: torch.Tensor, **extra: torch.Tensor
) -> dict[str, torch.Tensor]:
    """The per-minibatch statistics every algorithm logs, detached from the graph."""
    base = {"loss_total": total, "loss_policy": policy, "loss_value": value, "entropy": entropy}
    return {name: value.detach() for name, value in {**base, **extra}.items()}


def masked_standardize(values: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Zero mean, unit std over the weighted entries (advantage normalization)."""
    mean = masked_mean(values, weights)
    std = masked_mean((values - mean) ** 2, weights).sqrt()
    return (values - mean) / (std + 1e-8)


def build_optimizer(config: Config, params: list[torch.nn.Parameter], lr: float) -> torch.optim.Optimizer:
    """The optimizer named by ``config.optimizer``."""
    eager_optimizer_functions()  # no torch._dynamo import at the first call (agents/speed/eager_optimizer.py)
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=config.weight_decay)
    cls = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    # fused: one kernel for all parameters; ~20% faster per PPO minibatch on CPU than the per-tensor loop
    return cls(params, lr=lr, eps=config.optimizer_eps, weight_decay=config.weight_decay, fused=True)


class BaseAgent(pl.LightningModule):
    """Owns the policy, the rollout collector and the update loop."""

    scheduled: tuple[str, ...] = ("policy_lr", "ent_coef", "vf_coef")  # hyperparameters that may follow a schedule

    def __init__(self, config: Config, train_env: gym.vector.VectorEnv) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.config = config
        self.policy = build_policy(train_env.single_observation_space, train_env.single_action_space, config)
        self.collector = RolloutCollector(
            train_env,
            self.policy,
            config.n_steps,
            ObsNormalizer(config.obs_normalization, train_env.single_observation_space),
            RewardNormalizer(config.normalize_reward, train_env.num_envs, config.gamma),
            seed=config.seed,
            device=torch.device("cpu"),
        )
        self.rng = np.random.default_rng(config.seed)
        self.updates = 0
        self.hparams_now: dict[str, float] = {}
        self.epoch_metrics: dict[str, float] = {}
        self.train_seconds = 0.0
        self.pending_optimizer_state: dict | None = None

    # --- algorithm hooks ---
    def compute_targets(self, rollout: Rollout) -> tuple[np.ndarray, np.ndarray]:
        """Advantages and value/return targets for every step of the rollout."""
        raise NotImplementedError

    def loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The scalar loss of one minibatch and the statistics to log (detached)."""
        raise NotImplementedError

    def compute_gradients(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Fill the parameters' gradients with those of ``loss(batch)``; returns its statistics. Statistics with a
        ``grad_norm`` entry say the gradients are already clipped to ``max_grad_norm`` and had that norm before."""
        loss, stats = self.loss(batch)
        self.flat_params.zero_grad()
        loss.backward()  # plain autograd: Lightning's manual_backward adds ~0.25 ms of hooks
        return stats

    # --- optional hooks (PPO uses them for replay) ---
    def extra_minibatches(self) -> list[dict[str, torch.Tensor]]:
        """Minibatches to train on after each on-policy one (none by default)."""
        return []

    def after_update(self, data: dict[str, torch.Tensor]) -> None:
        """Called with the rollout's flat tensors once its update is done."""

    def extra_state(self) -> dict[str, np.ndarray]:
        """Arrays an algorithm adds to checkpoints."""
        return {}

    def load_extra_state(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore what ``extra_state`` saved."""

    # --- Lightning ---
    def configure_optimizers(self) -> torch.optim.Optimizer:
        lr = scheduled_value(self.config.policy_lr, 0, self.config.max_timesteps)
        self.flat_params = FlatParameters(self.policy)  # the policy is on its training device by now
        return build_optimizer(self.config, [self.flat_params.flat], lr)

    def torch_optimizer(self) -> torch.optim.Optimizer:
        """The torch optimizer behind Lightning's wrapper (``configure_optimizers`` returns exactly one)."""
        optimizer = self.optimizers()
        assert not isinstance(optimizer, list), "BaseAgent configures exactly one optimizer"
        return optimizer.optimizer

    def on_fit_start(self) -> None:
        self.collector.device = self.device
        if self.pending_optimizer_state is not None:
            self.torch_optimizer().load_state_dict(flatten_optimizer_state(self.pending_optimizer_state))
            self.pending_optimizer_state = None

    def training_step(self, batch: object, batch_idx: int) -> None:
        started = time.perf_counter()
        self._apply_schedules()
        self.policy.eval()
        rollout = self.collector.collect()
        self._require_finite("train/reward", rollout.rewards)
        advantages, returns = self.compute_targets(rollout)
        data = self._flatten(rollout, advantages, returns)
        self.policy.train()
        update_stats = self._optimize(data)
        if not bool(torch.isfinite(self.flat_params.flat).all()):  # one check of every weight per update
            raise TrainingDiverged("the policy's parameters", float("nan"), self.collector.timesteps, self.updates + 1)
        self.after_update(data)
        self.updates += 1
        self.train_seconds += time.perf_counter() - started
        self.epoch_metrics = self._epoch_metrics(rollout, returns, update_stats)

    # --- internals ---
    def _require_finite(self, metric: str, values: np.ndarray) -> None:
        """Raise TrainingDiverged when ``values`` holds NaN or infinity."""
        finite = np.isfinite(values)
        if not finite.all():
            bad = float(np.asarray(values)[~finite].flat[0])
            raise TrainingDiverged(metric, bad, self.collector.timesteps, self.updates + 1)

    def _apply_schedules(self) -> None:
        step, total = self.collector.timesteps, self.config.max_timesteps
        self.hparams_now = {name: scheduled_value(getattr(self.config, name), step, total) for name in self.scheduled}
        for group in self.torch_optimizer().param_groups:
            group["lr"] = self.hparams_now["policy_lr"]

    def _flatten(self, rollout: Rollout, advantages: np.ndarray, returns: np.ndarray) -> dict[str, torch.Tensor]:
        """Rollout arrays as flat (steps * envs) tensors on the training device."""
        arrays = {
            "obs": rollout.obs,
            "actions": rollout.actions,
            "log_probs": rollout.log_probs,
            "values": rollout.values,
            "advantages": advantages,
            "returns": returns,
            "weights": rollout.valid.astype(np.float32),
        }
        return {
            key: torch.as_tensor(value.reshape(-1, *value.shape[2:]), device=self.device)
            for key, value in arrays.items()
        }

    def _optimize(self, data: dict[str, torch.Tensor]) -> dict[str, float]:
        """``n_epochs`` passes of shuffled minibatches; ``target_kl`` ends this update early."""
        config = self.config
        optimizer = self.torch_optimizer()
        size, batch_size = data["weights"].shape[0], config.minibatch_size
        history: list[torch.Tensor] = []
        names: list[str] = []
        epochs_done = 0
        for _ in range(config.n_epochs):
            stop = False
            for batch in self._minibatches(data, size, batch_size):
                on_policy: dict[str, torch.Tensor] = {}
                for minibatch in (batch, *self.extra_minibatches()):
                    stats = self.compute_gradients(minibatch)
                    grad_norm = stats.pop("grad_norm", None)  # None: not clipped yet
                    if grad_norm is None:
                        grad_norm = self.flat_params.clip_grad_norm(config.max_grad_norm)
                    eager_step(optimizer)
                    if "off_policy" not in minibatch:
                        on_policy = stats
                        names = [*stats, "grad_norm"]
                        history.append(torch.stack([*stats.values(), grad_norm.detach()]))
                # target_kl reads the on-policy minibatch's KL, never a replayed batch's
                if config.target_kl is not None and float(on_policy["approx_kl"]) > config.target_kl:
                    stop = True
                    break
            epochs_done += 1
            if stop:
                break
        table = torch.stack(history).cpu().numpy()  # the update's one sync: every statistic of every minibatch
        finite = np.isfinite(table)
        if not finite.all():
            row, column = np.argwhere(~finite)[0]
            raise TrainingDiverged(
                update_metric_name(names[column]), float(table[row, column]), self.collector.timesteps, self.updates + 1
            )
        means = dict(zip(names, table.mean(axis=0).tolist(), strict=True))
        means["grad_norm_max"] = float(table[:, names.index("grad_norm")].max())
        means["epochs"] = float(epochs_done)
        return means

    def _minibatches(
        self, data: dict[str, torch.Tensor], size: int, batch_size: int
    ) -> Iterator[dict[str, torch.Tensor]]:
        """One epoch's shuffled minibatches; the whole rollout as is when it is a single minibatch."""
        if batch_size >= size:  # order does not change a full-batch gradient: skip the permute and gather
            yield data
            return
        order = torch.as_tensor(self.rng.permutation(size), device=self.device)
        for start in range(0, size, batch_size):
            yield {key: value[order[start : start + batch_size]] for key, value in data.items()}

    def episode_metric_names(self) -> list[str]:
        """The training metrics that only appear once an episode has ended (declared in metrics.csv's header)."""
        names = ["train/roll/ep_rew/mean", "train/roll/ep_len/mean"]
        return names + (["train/roll/ep_rew_shaped/mean"] if self.config.env_wrappers else [])

    def _epoch_metrics(self, rollout: Rollout, returns: np.ndarray, update: dict[str, float]) -> dict[str, float]:
        stats = self.collector.stats
        metrics: dict[str, float] = {
            "train/cnt/timesteps": float(self.collector.timesteps),
            "train/cnt/epoch": float(self.updates),
            "train/cnt/episodes": float(stats.count),
            "train/time/sps": self.collector.timesteps / max(self.train_seconds, 1e-9),
        }
        if stats.returns:
            metrics["train/roll/ep_rew/mean"] = float(np.mean(stats.returns))
            metrics["train/roll/ep_len/mean"] = float(np.mean(stats.lengths))
            if self.config.env_wrappers:
                metrics["train/roll/ep_rew_shaped/mean"] = float(np.mean(stats.shaped_returns))
        for name, value in update.items():
            if name.startswith("loss_"):
                metrics[f"train/loss/{name[5:]}"] = value
        metrics["train/opt/grads/norm/mean"] = update["grad_norm"]
        metrics["train/opt/grads/norm/max"] = update["grad_norm_max"]
        metrics["train/opt/epochs"] = update["epochs"]
        for name in ("entropy", "approx_kl", "clip_fraction"):
            if name in update:
                metrics[f"train/{name}"] = update[name]
        if self.policy.has_critic:
            valid = rollout.valid
            metrics["train/explained_variance"] = explained_variance(rollout.values[valid], returns[valid])
        for name, value in self.hparams_now.items():
            metrics[f"train/{name}"] = value
        return metrics
