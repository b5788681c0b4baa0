"""One episode of a trained policy, step by step, for the run inspector.

``roll_out`` plays the episode through the evaluation pipeline itself: a one-env eval env from
``utils.envs.build_env`` (same wrappers, frame stack, render mode ``rgb_array``), the checkpoint's
normalization statistics and ``utils.evaluation.evaluate_policy``, recording every step through its
``on_step`` hook. So the episode of seed ``s`` is the evaluation episode of seed ``s``: same actions,
same return. The action head's distribution, the values and the targets (``utils/returns``: GAE and the
discounted return-to-go) are computed afterwards in one batched pass over the recorded observations.

Measured (``Episode.nbytes``; 2-core CPU shared with a running benchmark, torch on one thread):
- CartPole-v1:ppo, trained until solved, a 500-step episode: 2.84 MB held. 501 frames (600x400x3,
  360.7 MB raw) in 2.79 MB of PNG, observations 8 kB. Roll-out 3.4-4.0 s, of which the plain
  ``evaluate_policy`` episode is 0.13 s: the rest is rendering and PNG encoding (~3 ms a 600x400 frame).
- ALE-Pong-v5:ppo, untrained (``agents.loading.untrained_policy``), the full episode of seed 3
  (758 steps, return -21): 1.59 MB held. 759 frames (210x160x3, 76.5 MB raw) in 0.93 MB; stacked
  observations (4x84x84 uint8, 21.4 MB raw) in 0.55 MB. Roll-out 6.3-7.3 s (plain ``evaluate_policy``: 3.8-4.1 s).
Decoding one frame for display takes ~3 ms (CartPole) or ~0.4 ms (Pong).
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch.nn import functional

from agents.loading import TrainedPolicy
from agents.networks.action_heads import BernoulliHead, CategoricalHead, GaussianHead, MultiCategoricalHead
from agents.networks.policies import MLPPolicy
from inspector.frames import FrameRecorder, FrameStore, ObservationStore
from inspector.labels import action_label, action_labels, observation_labels
from utils.envs import build_env
from utils.evaluation import EvalStep, evaluate_policy
from utils.normalization import ObsNormalizer
from utils.returns import compute_gae, compute_mc_returns

BATCH = 256  # observations per network pass after the episode


@dataclass
class Episode:
    """Every step of one episode: what the agent saw, chose and got, and the targets training would use.

    Per-step arrays have T rows (step t: observation t, action t, the reward of that action).
    ``frames`` holds T + 1 frames: ``frames.frame(t)`` is the screen when action t was chosen (frame 0
    after the reset) and ``frames.frame(T)`` the screen after the last step.
    """

    seed: int
    deterministic: bool
    checkpoint: str  # checkpoint directory name ("untrained" for a fresh policy)
    env_id: str
    observations: ObservationStore  # observation t as the env returned it (before normalization); ``[t]``
    final_observation: np.ndarray  # the observation after the last step
    actions: np.ndarray  # (T, ...) as the policy chose them (before the action head's to_env)
    action_labels: list[str]  # label of actions[t]: "LEFT", "FIRE", "A+B" (buttons) or "[0.12, -0.3]" (Box)
    probs: np.ndarray | None  # (T, n): Discrete P(action); MultiDiscrete per-dimension P(value); MultiBinary P(on)
    prob_labels: list[str] | None  # what each column of probs is the probability of
    mean: np.ndarray | None  # (T, d) Gaussian (Box) heads, else None
    std: np.ndarray | None  # (T, d)
    chosen_prob: np.ndarray  # (T,) probability of the chosen action (its density for Box actions)
    entropy: np.ndarray  # (T,) entropy of the action distribution
    values: np.ndarray  # (T,) V(s_t); zeros for a policy-only network
    final_value: float  # V(final observation): the bootstrap of a truncated episode
    rewards: np.ndarray  # (T,) the env's own reward (info["env_reward"] when a shaper put it there)
    returns: np.ndarray  # (T,) cumulative return up to and including step t
    returns_to_go: np.ndarray  # (T,) discounted reward-to-go (training's mc:rtg; truncation bootstraps V)
    advantages: np.ndarray  # (T,) GAE advantages, bootstrapped with V(final observation) when truncated
    terminated: np.ndarray  # (T,) bool
    truncated: np.ndarray  # (T,) bool; max_steps truncates the last step
    infos: list[dict[str, Any]]  # the env's info per step, JSON-friendly
    frames: FrameStore  # T + 1 rendered frames, see the class docstring
    obs_labels: list[str] | None  # names of the flattened vector observation's dimensions, where known
    gamma: float
    gae_lambda: float
    seconds: float = 0.0  # wall time of the roll-out
    action_names: list[str] | None = None  # name of each Discrete action / MultiBinary button
    render_fps: int | None = None  # the env's frame rate (videos of the episode play at it)

    @property
    def episode_return(self) -> float:
        """Sum of the env's rewards: what evaluation reports for this seed."""
        return float(self.returns[-1]) if len(self.returns) else 0.0

    def __len__(self) -> int:
        return len(self.actions)

    def observation_image(self, t: int) -> np.ndarray | None:
        """Observation t as one (H, W, 3) uint8 picture, stacked frames side by side; None for vectors."""
        return self.observations.image(t)

    @property
    def nbytes(self) -> int:
        """Bytes held by frames, observations and per-step arrays (infos and labels not counted)."""
        arrays = [self.actions, self.chosen_prob, self.entropy, self.values, self.rewards, self.returns,
                  self.returns_to_go, self.advantages, self.terminated, self.truncated, self.final_observation,
                  *(a for a in (self.probs, self.mean, self.std) if a is not None)]  # fmt: skip
        return self.frames.nbytes + self.observations.nbytes + sum(int(a.nbytes) for a in arrays)

    def step_row(self, t: int) -> dict[str, object]:
        """Step t as one flat row of plain Python values (``info`` as a JSON string)."""
        action = self.actions[t]
        return {
            "step": t,
            "action": action.item() if action.ndim == 0 else action.tolist(),
            "action_label": self.action_labels[t],
            "prob": float(self.chosen_prob[t]),
            "entropy": float(self.entropy[t]),
            "value": float(self.values[t]),
            "reward": float(self.rewards[t]),
            "return": float(self.returns[t]),
            "return_to_go": float(self.returns_to_go[t]),
            "advantage": float(self.advantages[t]),
            "terminated": bool(self.terminated[t]),
            "truncated": bool(self.truncated[t]),
            "info": json.dumps(self.infos[t]),
        }

    def _detail_columns(self) -> list[tuple[str, np.ndarray]]:
        """CSV columns beyond ``step_row``: probabilities per action, mean/std per dimension, observations."""
        columns: list[tuple[str, np.ndarray]] = []
        if self.probs is not None:
            names = _unique(self.prob_labels or [str(i) for i in range(self.probs.shape[1])])
            columns += [(f"p[{name}]", self.probs[:, i]) for i, name in enumerate(names)]
        for prefix, array in (("mean", self.mean), ("std", self.std)):
            if array is not None:
                columns += [(f"{prefix}[{i}]", array[:, i]) for i in range(array.shape[1])]
        if not self.observations.is_image and len(self):
            flat = self.observations.array().reshape(len(self), -1)
            names = _unique(self.obs_labels or [str(i) for i in range(flat.shape[1])])
            columns += [(f"obs[{name}]", flat[:, i]) for i, name in enumerate(names)]
        return columns

    def to_csv(self, path: Path) -> Path:
        """Write one row per step: the ``step_row`` columns, then probabilities, mean/std and observations."""
        details = self._detail_columns()
        header = [*self.step_row(0).keys(), *(name for name, _ in details)] if len(self) else ["step"]
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            for t in range(len(self)):
                row = self.step_row(t)
                action = row["action"]
                row["action"] = json.dumps(action) if isinstance(action, list) else action
                writer.writerow([*row.values(), *(_plain(column[t]) for _, column in details)])
        return path


def _unique(names: list[str]) -> list[str]:
    """The names, with index suffixes where some repeat (CSV headers must differ)."""
    if len(set(names)) == len(names):
        return names
    return [f"{i}:{name}" for i, name in enumerate(names)]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def jsonable(value: Any) -> Any:
    """``value`` with NumPy scalars and arrays turned into Python numbers and lists (for JSON)."""
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def sub_env_info(infos: dict[str, Any], index: int = 0) -> dict[str, Any]:
    """Sub-env ``index``'s info from a vector env's batched info dict (``_key`` masks say who has a key)."""
    info: dict[str, Any] = {}
    for key, value in infos.items():
        if key.startswith("_"):
            continue
        mask = infos.get(f"_{key}")
        if mask is not None and not mask[index]:
            continue
        info[key] = sub_env_info(value, index) if isinstance(value, dict) else value[index]
    return info


def episode_targets(
    rewards: np.ndarray,
    values: np.ndarray,
    terminated: np.ndarray,
    truncated: np.ndarray,
    final_value: float,
    gamma: float,
    gae_lambda: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Discounted return-to-go and GAE advantages of one episode, by training's ``utils/returns``.

    A truncated last step bootstraps from ``final_value``, V(final observation), in both.
    """
    column = {
        "rewards": rewards.astype(np.float32)[:, None],
        "values": values.astype(np.float32)[:, None],
        "terminated": terminated[:, None],
        "truncated": truncated[:, None],
    }
    last = np.array([final_value], np.float32)
    advantages, _ = compute_gae(**column, last_values=last, gamma=gamma, gae_lambda=gae_lambda)
    valid = np.ones_like(column["terminated"])
    to_go = compute_mc_returns(**column, valid=valid, last_values=last, gamma=gamma, returns_type="mc:rtg")
    return to_go[:, 0], advantages[:, 0]


@dataclass
class _PolicyOutputs:
    """What the policy's heads say about every recorded step."""

    log_prob: np.ndarray
    entropy: np.ndarray
    values: np.ndarray
    final_value: float
    probs: np.ndarray | None
    mean: np.ndarray | None
    std: np.ndarray | None


def _distribution_parameters(head: torch.nn.Module, params: torch.Tensor) -> dict[str, torch.Tensor]:
    """Probabilities (categorical, Bernoulli heads) or mean and std (Gaussian) from the actor's outputs."""
    if isinstance(head, CategoricalHead):
        return {"probs": functional.softmax(head.masked_logits(params), dim=-1)}
    if isinstance(head, MultiCategoricalHead):
        return {"probs": torch.cat([functional.softmax(p, dim=-1) for p in params.split(head.sizes, -1)], -1)}
    if isinstance(head, BernoulliHead):
        return {"probs": torch.sigmoid(params)}
    if isinstance(head, GaussianHead):
        return {"mean": params, "std": head.log_std.exp().expand_as(params)}
    return {}


@torch.no_grad()
def _policy_outputs(
    policy: MLPPolicy,
    normalizer: ObsNormalizer,
    observations: ObservationStore,
    actions: np.ndarray,
    final_observation: np.ndarray,
) -> _PolicyOutputs:
    """Batched pass of the policy over the normalized observations the episode's actions were chosen on."""
    device = next(policy.parameters()).device
    parts: dict[str, list[np.ndarray]] = {}
    start = 0
    for batch in observations.batches(BATCH):
        obs = torch.as_tensor(normalizer(batch), device=device)
        chosen = torch.as_tensor(actions[start : start + len(batch)], device=device)
        start += len(batch)
        features = policy.encode(obs)
        params = policy.actor(features)
        log_prob, entropy = policy.action_head.log_prob_entropy(params, chosen)
        values = policy.critic(features).squeeze(-1) if policy.critic is not None else torch.zeros_like(log_prob)
        outputs = {"log_prob": log_prob, "entropy": entropy, "values": values}
        outputs.update(_distribution_parameters(policy.action_head, params))
        for key, tensor in outputs.items():
            parts.setdefault(key, []).append(tensor.double().cpu().numpy())
    final = torch.as_tensor(normalizer(final_observation[None]), device=device)
    joined = {key: np.concatenate(chunks) for key, chunks in parts.items()}
    return _PolicyOutputs(
        log_prob=joined["log_prob"],
        entropy=joined["entropy"],
        values=joined["values"],
        final_value=float(policy.value(final)[0]),
        probs=joined.get("probs"),
        mean=joined.get("mean"),
        std=joined.get("std"),
    )


def _prob_labels(head: torch.nn.Module, names: list[str] | None) -> list[str] | None:
    """What each column of ``probs`` is the probability of."""
    if isinstance(head, CategoricalHead | BernoulliHead):
        return names or [str(i) for i in range(head.n_outputs)]
    if isinstance(head, MultiCategoricalHead):
        return [f"{dim}={value}" for dim, size in enumerate(head.sizes) for value in range(size)]
    return None


class _StepRecorder:
    """The ``evaluate_policy`` hook: keeps sub-env 0's steps."""

    def __init__(self) -> None:
        self.observations = ObservationStore()
        self.actions: list[np.ndarray] = []
        self.rewards: list[float] = []
        self.terminated: list[bool] = []
        self.truncated: list[bool] = []
        self.infos: list[dict[str, Any]] = []
        self.final_observation: np.ndarray | None = None

    def __call__(self, step: EvalStep) -> None:
        if not step.active[0]:
            return
        self.observations.append(step.obs[0])
        self.actions.append(np.array(step.actions[0]))
        self.rewards.append(float(step.rewards[0]))
        self.terminated.append(bool(step.terminated[0]))
        self.truncated.append(bool(step.truncated[0]))
        self.infos.append(jsonable(sub_env_info(step.infos)))
        self.final_observation = np.array(step.next_obs[0])


def roll_out(trained: TrainedPolicy, seed: int, deterministic: bool = True, max_steps: int | None = None) -> Episode:
    """Play the evaluation episode of ``seed`` (at most ``max_steps`` steps, the last one then truncated)."""
    if max_steps is not None and max_steps < 1:
        raise ValueError(f"max_steps must be at least 1 (or None for the whole episode), got {max_steps}")
    config = trained.config
    frames = FrameStore()

    def wrap(env: gym.Env) -> gym.Env:
        if max_steps is not None:
            env = gym.wrappers.TimeLimit(env, max_steps)
        return FrameRecorder(env, frames)

    started = time.perf_counter()
    recorder = _StepRecorder()
    env = build_env(config, "eval", n_envs=1, render_mode="rgb_array", wrap_first=wrap)
    try:
        evaluate_policy(trained.policy, env, trained.obs_normalizer, [seed], deterministic, on_step=recorder)
        names = action_labels(env)
        obs_names = observation_labels(env)
        space = env.single_action_space
        render_fps = env.metadata.get("render_fps")
    finally:
        env.close()
    assert recorder.final_observation is not None  # an episode has at least one step
    actions = np.stack(recorder.actions)
    policy = trained.policy
    was_training = policy.training
    policy.eval()
    try:
        outputs = _policy_outputs(
            policy, trained.obs_normalizer, recorder.observations, actions, recorder.final_observation
        )
    finally:
        policy.train(was_training)
    rewards = np.asarray(recorder.rewards, np.float64)
    terminated = np.asarray(recorder.terminated, bool)
    truncated = np.asarray(recorder.truncated, bool)
    to_go, advantages = episode_targets(
        rewards, outputs.values, terminated, truncated, outputs.final_value, config.gamma, config.gae_lambda
    )
    return Episode(
        seed=seed,
        deterministic=deterministic,
        checkpoint=trained.checkpoint,
        env_id=config.env_id,
        observations=recorder.observations,
        final_observation=recorder.final_observation,
        actions=actions,
        action_labels=[action_label(action, names, space) for action in actions],
        probs=outputs.probs,
        prob_labels=_prob_labels(policy.action_head, names),
        mean=outputs.mean,
        std=outputs.std,
        chosen_prob=np.exp(outputs.log_prob),
        entropy=outputs.entropy,
        values=outputs.values,
        final_value=outputs.final_value,
        rewards=rewards,
        returns=np.cumsum(rewards),
        returns_to_go=to_go,
        advantages=advantages,
        terminated=terminated,
        truncated=truncated,
        infos=recorder.infos,
        frames=frames,
        obs_labels=obs_names,
        render_fps=int(render_fps) if render_fps else None,
        gamma=config.gamma,
        gae_lambda=config.gae_lambda,
        seconds=time.perf_counter() - started,
        action_names=names,
    )
