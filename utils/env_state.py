"""Saving and restoring the state of pure-Python environments, without pickle.

For exact resume the training env must continue mid-episode where it stopped.
Environments written in Python/NumPy (classic control, toy text, this
project's own) keep their whole state in plain attributes: numbers, arrays and
NumPy generators. ``capture_env_state`` walks the env, its wrappers and the
vector env around them and records those attributes as JSON plus arrays;
``restore_env_state`` writes them back into a freshly built env of the same
config. Envs backed by native code (Box2D, ALE, VizDoom, retro) cannot be
captured this way; for them resume starts new episodes.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

SNAPSHOT_MODULES = ("gymnasium.envs.classic_control", "gymnasium.envs.toy_text", "gym_envs")
_SKIP = object()


def can_snapshot(env: gym.vector.VectorEnv) -> bool:
    """Whether every sub-env is pure Python state that can be captured exactly."""
    if isinstance(env, gym.vector.SyncVectorEnv):
        return all(_module_ok(sub.unwrapped) for sub in env.envs)
    if isinstance(env, gym.vector.AsyncVectorEnv):
        return False
    return _module_ok(env)


def _module_ok(obj: object) -> bool:
    return type(obj).__module__.startswith(SNAPSHOT_MODULES)


def _walkable(obj: object) -> bool:
    return isinstance(obj, gym.Env | gym.Wrapper | gym.vector.VectorEnv | gym.vector.VectorWrapper)


def _capture(value: Any, path: str, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(value, np.random.Generator):
        return {"rng": value.bit_generator.state}
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return _SKIP
        arrays[path] = value
        return {"array": path}
    if isinstance(value, np.generic):
        arrays[path] = np.asarray(value)
        return {"scalar": path}
    if value is None or isinstance(value, bool | int | float | str):
        return {"value": value}
    if isinstance(value, list | tuple):
        items = [_capture(item, f"{path}.{i}", arrays) for i, item in enumerate(value)]
        if any(item is _SKIP for item in items):
            return _SKIP
        return {"list": items, "tuple": isinstance(value, tuple)}
    if _walkable(value):
        fields = {}
        for name, attr in vars(value).items():
            node = _capture(attr, f"{path}.{name}", arrays)
            if node is not _SKIP:
                fields[name] = node
        return {"object": fields}
    return _SKIP


def capture_env_state(env: gym.vector.VectorEnv) -> tuple[dict, dict[str, np.ndarray]]:
    """A JSON tree and named arrays describing the env's full state."""
    arrays: dict[str, np.ndarray] = {}
    tree = _capture(env, "env", arrays)
    return tree, {key: np.array(value, copy=True) for key, value in arrays.items()}


def _restore(owner: Any, name: str, node: dict, arrays: dict[str, np.ndarray]) -> None:
    current = getattr(owner, name, None)
    if "rng" in node and isinstance(current, np.random.Generator):
        current.bit_generator.state = node["rng"]
    elif "array" in node:
        setattr(owner, name, arrays[node["array"]].copy())
    elif "scalar" in node:
        setattr(owner, name, arrays[node["scalar"]][()])
    elif "value" in node:
        setattr(owner, name, node["value"])
    elif "object" in node and current is not None:
        for field_name, child in node["object"].items():
            _restore(current, field_name, child, arrays)
    elif "list" in node:
        setattr(owner, name, _rebuild_list(current, node, arrays))


def _rebuild_list(current: Any, node: dict, arrays: dict[str, np.ndarray]) -> Any:
    items = []
    for index, child in enumerate(node["list"]):
        live = current[index] if isinstance(current, list | tuple) and index < len(current) else None
        if "object" in child and live is not None:
            for field_name, grandchild in child["object"].items():
                _restore(live, field_name, grandchild, arrays)
            items.append(live)
        elif "rng" in child and isinstance(live, np.random.Generator):
            live.bit_generator.state = child["rng"]
            items.append(live)
        else:
            holder = _Holder()
            _restore(holder, "value", child, arrays)
            items.append(holder.value)
    return tuple(items) if node.get("tuple") else items


class _Holder:
    value: Any = None


def restore_env_state(env: gym.vector.VectorEnv, tree: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write a captured state back into an env built from the same config."""
    for name, child in tree["object"].items():
        _restore(env, name, child, arrays)
