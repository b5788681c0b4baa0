"""A checkpoint's description of its policy (``policy.json``): spaces, network and normalization kind.

With it a reader builds the network without building the env (the Hub, the inspector, a machine without
the env's extra installed) and can check it is loading what it expects. Spaces are stored as plain JSON:
infinite bounds as the strings ``"inf"``/``"-inf"`` (JSON has no infinity), uniform bounds as one number.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from gymnasium import spaces

from utils.config import Config


def _bound(values: np.ndarray) -> Any:
    """One number when every entry is equal, else nested lists; infinities as strings."""

    def number(x: float) -> float | str:
        return str(x) if math.isinf(x) else x

    flat = np.asarray(values, dtype=np.float64)
    if flat.size and np.all(flat == flat.flat[0]):
        return number(float(flat.flat[0]))
    return np.vectorize(number, otypes=[object])(flat).tolist()


def _array(bound: Any, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    as_float = np.vectorize(float, otypes=[np.float64])(np.asarray(bound, dtype=object))
    return np.broadcast_to(as_float, shape).astype(dtype)


def space_to_json(space: spaces.Space) -> dict[str, Any]:
    """A JSON-ready description of a Box, Discrete, MultiDiscrete or MultiBinary space."""
    if isinstance(space, spaces.Box):
        return {
            "type": "Box",
            "shape": list(space.shape),
            "dtype": str(space.dtype),
            "low": _bound(space.low),
            "high": _bound(space.high),
        }
    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.MultiDiscrete):
        return {"type": "MultiDiscrete", "nvec": space.nvec.tolist(), "start": space.start.tolist()}
    if isinstance(space, spaces.MultiBinary):
        return {"type": "MultiBinary", "n": np.asarray(space.n).tolist()}
    return {"type": type(space).__name__, "repr": str(space)}


def space_from_json(data: dict[str, Any]) -> spaces.Space:
    """The space ``space_to_json`` described; ValueError for a kind it cannot rebuild."""
    kind = data.get("type")
    if kind == "Box":
        shape = tuple(data["shape"])
        dtype = np.dtype(data["dtype"])
        return spaces.Box(_array(data["low"], shape, dtype), _array(data["high"], shape, dtype), shape, dtype)
    if kind == "Discrete":
        return spaces.Discrete(data["n"], start=data.get("start", 0))
    if kind == "MultiDiscrete":
        return spaces.MultiDiscrete(data["nvec"], start=data.get("start"))
    if kind == "MultiBinary":
        return spaces.MultiBinary(data["n"])
    raise ValueError(f"cannot rebuild a {kind} space from policy.json")


def policy_spec(
    config: Config, obs_space: spaces.Space, action_space: spaces.Space, epoch: int, timesteps: int
) -> dict[str, Any]:
    """What ``policy.json`` says about a checkpoint's policy (its ``format_version`` is added on write)."""
    return {
        "algo_id": config.algo_id,
        "env_id": config.env_id,
        "config_id": config.config_id,
        "epoch": epoch,
        "timesteps": timesteps,
        "observation_space": space_to_json(obs_space),
        "action_space": space_to_json(action_space),
        "network": {
            "body": config.policy,
            "hidden_dims": list(config.hidden_dims) if config.policy == "mlp" else [],
            "activation": config.activation,
            "critic": config.uses_critic,
            "valid_actions": config.valid_actions,
        },
        "normalization": config.obs_normalization,
    }


def spaces_from_spec(spec: dict[str, Any]) -> tuple[spaces.Space, spaces.Space] | None:
    """The observation and action spaces a ``policy.json`` records; None for older checkpoints or other kinds."""
    try:
        return space_from_json(spec["observation_space"]), space_from_json(spec["action_space"])
    except (KeyError, ValueError, TypeError):
        return None
