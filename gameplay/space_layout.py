"""How the values of an observation or action space lay out as named arrays in an exported npz file.

A Box, Discrete, MultiDiscrete or MultiBinary space is one array, ``<root>/value``; a Dict space is one
array per key, ``<root>.<key>/value``, and a Tuple space one per entry, ``<root>.<i>/value``, nested with
the same rule (``observation.0.pos/value``). Row ``t`` of every array is step ``t``; each array has its
leaf space's dtype and shape after the row axis. ``<root>/_t_ns`` is the step clock, whatever the space.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from gymnasium import spaces

from utils.config_values import ConfigError

LEAF_SPACES = (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)
SUPPORTED = "Box, Discrete, MultiDiscrete, MultiBinary, Dict and Tuple"


class UnsupportedSpaceError(ConfigError):
    """A space export cannot lay out as arrays (Text, Graph, Sequence, OneOf, a custom space)."""


def unsupported_part(space: spaces.Space) -> spaces.Space | None:
    """The first part of ``space`` (itself or a nested entry) that has no array layout, else ``None``."""
    if isinstance(space, LEAF_SPACES):
        return None
    if isinstance(space, spaces.Dict | spaces.Tuple):
        children = space.spaces.values() if isinstance(space, spaces.Dict) else space.spaces
        return next((part for part in map(unsupported_part, children) if part is not None), None)
    return space


def check_space(space: spaces.Space, role: str) -> None:
    """Raise a one-line ``UnsupportedSpaceError`` naming the space type when ``space`` cannot be exported."""
    part = unsupported_part(space)
    if part is not None:
        inside = "" if part is space else f" (inside its {type(space).__name__})"
        raise UnsupportedSpaceError(
            f"{role} space: {type(part).__name__}{inside} cannot be exported; supported spaces: {SUPPORTED}"
        )


def leaf_spaces(space: spaces.Space, root: str) -> Iterator[tuple[str, spaces.Space]]:
    """``(array name, leaf space)`` for every array of ``space``, in the space's own order."""
    if isinstance(space, spaces.Dict):
        for key, child in space.spaces.items():
            yield from leaf_spaces(child, f"{root}.{key}")
    elif isinstance(space, spaces.Tuple):
        for index, child in enumerate(space.spaces):
            yield from leaf_spaces(child, f"{root}.{index}")
    else:
        yield f"{root}/value", space


def leaf_values(space: spaces.Space, value: Any, root: str) -> Iterator[tuple[str, Any]]:
    """``(array name, value)`` for the parts of one ``value`` of ``space``, in the order of ``leaf_spaces``."""
    if isinstance(space, spaces.Dict):
        for key, child in space.spaces.items():
            yield from leaf_values(child, value[key], f"{root}.{key}")
    elif isinstance(space, spaces.Tuple):
        for index, child in enumerate(space.spaces):
            yield from leaf_values(child, value[index], f"{root}.{index}")
    else:
        yield f"{root}/value", value


class SpaceRecorder:
    """Collects one value of a space per step and returns them as the named arrays of its npz file."""

    def __init__(self, space: spaces.Space, root: str) -> None:
        check_space(space, root)
        self.root = root
        self.space = space
        self.leaves = dict(leaf_spaces(space, root))
        self.rows: dict[str, list[np.ndarray]] = {name: [] for name in self.leaves}

    def append(self, value: Any) -> None:
        """Add one step's value (converted to each leaf space's dtype; its shape must be the leaf's)."""
        for name, part in leaf_values(self.space, value, self.root):
            leaf = self.leaves[name]
            array = np.asarray(part, dtype=leaf.dtype)
            if array.shape != leaf.shape:
                raise ValueError(f"{name}: a value of shape {array.shape} for a {leaf} (shape {leaf.shape})")
            self.rows[name].append(array)

    def _stack(self, name: str, rows: list[np.ndarray]) -> np.ndarray:
        leaf = self.leaves[name]
        return np.stack(rows) if rows else np.empty((0, *(leaf.shape or ())), leaf.dtype)

    def __len__(self) -> int:
        return len(next(iter(self.rows.values())))

    def arrays(self, step_ns: int) -> dict[str, np.ndarray]:
        """Every leaf's rows stacked (``steps x leaf shape``), and ``<root>/_t_ns``: row ``t`` at ``t * step_ns``."""
        stacked = {name: self._stack(name, rows) for name, rows in self.rows.items()}
        stacked[f"{self.root}/_t_ns"] = np.arange(len(self), dtype=np.int64) * np.int64(step_ns)
        return stacked
