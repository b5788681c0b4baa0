"""Saving and restoring the whole training state as checkpoint directories."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch

from agents.base import BaseAgent
from trainer_callbacks.evaluation import EvaluationCallback
from utils.checkpoint_names import alias_target, checkpoint_name
from utils.checkpoints import CheckpointData, CheckpointError, point_alias, prune_checkpoints, write_checkpoint
from utils.env_state import can_snapshot, capture_env_state, restore_env_state
from utils.lean_lightning import pl
from utils.policy_spec import policy_spec
from utils.runs import RunDir


def checkpoint_spec(agent: BaseAgent) -> dict[str, Any]:
    """The ``policy.json`` of a checkpoint of ``agent`` now."""
    env = agent.collector.env
    return policy_spec(
        agent.config, env.single_observation_space, env.single_action_space, agent.updates, agent.collector.timesteps
    )


def save_agent_checkpoint(
    run: RunDir, agent: BaseAgent, evaluator: EvaluationCallback, aliases: tuple[str, ...]
) -> str:
    """Write the agent's full state and point ``aliases`` (best/last) at it."""
    scalars, arrays = agent.collector.state()
    env = agent.collector.env
    env_tree = None
    if can_snapshot(env):
        env_tree, env_arrays = capture_env_state(env)
        arrays.update({f"envstate.{key}": value for key, value in env_arrays.items()})
    arrays["torch_rng"] = torch.get_rng_state().numpy()
    arrays.update(agent.extra_state())
    state: dict[str, Any] = {
        "updates": agent.updates,
        "timesteps": agent.collector.timesteps,
        "train_seconds": agent.train_seconds,
        "numpy_rng": agent.rng.bit_generator.state,
        "collector": scalars,
        "evaluation": evaluator.state(),
        "env_state": env_tree,
    }
    name = checkpoint_name(agent.updates, agent.collector.timesteps)
    state["best_checkpoint"] = name if "best" in aliases else alias_target(run.checkpoints, "best")
    optimizer = agent.torch_optimizer().state_dict()
    spec = checkpoint_spec(agent)
    write_checkpoint(
        run.checkpoints, name, agent.policy.state_dict(), optimizer, arrays, state, agent.config.to_dict(), spec
    )
    for alias in aliases:
        point_alias(run.checkpoints, alias, name)
    prune_checkpoints(run.checkpoints, agent.config.keep_checkpoints)
    return name


def restore_agent(agent: BaseAgent, evaluator: EvaluationCallback, data: CheckpointData) -> bool:
    """Load a checkpoint into a freshly built agent; True when the env continued mid-episode too."""
    try:
        agent.policy.load_state_dict(data.weights)
    except RuntimeError as error:
        detail = str(error).splitlines()[-1].strip()[:160]
        raise CheckpointError(
            f"checkpoint {data.path.name}: its weights do not fit the network this config builds ({detail})"
        ) from None
    state = data.state
    agent.updates = int(state["updates"])
    agent.train_seconds = float(state["train_seconds"])
    agent.rng.bit_generator.state = state["numpy_rng"]
    torch.set_rng_state(torch.from_numpy(np.array(data.arrays["torch_rng"])))
    evaluator.load_state(state["evaluation"])
    env_tree = state.get("env_state")
    exact = False
    if env_tree is not None and can_snapshot(agent.collector.env):
        exact = True
        env_arrays = {
            key[len("envstate.") :]: value for key, value in data.arrays.items() if key.startswith("envstate.")
        }
        restore_env_state(agent.collector.env, env_tree, env_arrays)
    agent.collector.load_state(state["collector"], data.arrays, restore_episodes=exact)
    agent.load_extra_state(data.arrays)
    agent.pending_optimizer_state = data.optimizer
    return exact


class CheckpointCallback(pl.Callback):
    """Saves 'last' after the first update, every ``checkpoint_freq`` steps, and 'best' + 'last' on new bests.

    It runs after the metrics callback, so a checkpoint never exists without its epoch's metrics row.
    """

    def __init__(self, run: RunDir, evaluator: EvaluationCallback, log: logging.Logger | None = None) -> None:
        self.run = run
        self.evaluator = evaluator
        self.session_log = log
        self.last_saved_timesteps = -1

    def save(self, agent: BaseAgent, aliases: tuple[str, ...] = ("last",)) -> str:
        """Save now and remember when."""
        self.last_saved_timesteps = agent.collector.timesteps
        return save_agent_checkpoint(self.run, agent, self.evaluator, aliases)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        assert isinstance(pl_module, BaseAgent)
        timesteps = pl_module.collector.timesteps
        first = not (self.run.checkpoints / "last").exists()
        freq = pl_module.config.checkpoint_freq
        due = self.last_saved_timesteps < 0 or timesteps // freq > self.last_saved_timesteps // freq
        if first or self.evaluator.best_pending:
            name = self.save(pl_module, ("best", "last"))
            if self.evaluator.best_pending and self.session_log is not None:
                self.session_log.info("new best eval %.3f at %d steps: %s", self.evaluator.best_return, timesteps, name)
            self.evaluator.best_pending = False
        elif due or trainer.should_stop:
            self.save(pl_module)
