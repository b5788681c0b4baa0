"""Checkpoint directories: written whole under a temp name, then renamed into place.

Layout of ``checkpoints/<name>/`` (``name`` = ``epoch=0012-step=0049152``):

- ``policy.safetensors``: network weights (safetensors: no pickle on load)
- ``optimizer.pt``: optimizer state, loaded with ``torch.load(weights_only=True)``
- ``arrays.npz``: normalization statistics, collector and env state, torch RNG
  (loaded with ``allow_pickle=False``)
- ``state.json``: counters, NumPy RNG state, best eval, env state tree
- ``config.json``: the full config of the run

``checkpoints/best`` and ``checkpoints/last`` are symlinks swapped atomically,
so a kill at any moment leaves both pointing at complete directories.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

ALIASES = ("best", "last")
TEMP_PREFIX = ".tmp-"


@dataclass
class CheckpointData:
    """Everything read back from a checkpoint directory."""

    path: Path
    weights: dict[str, torch.Tensor]
    optimizer: dict[str, Any] | None
    arrays: dict[str, np.ndarray]
    state: dict[str, Any]
    config: dict[str, Any]


def checkpoint_name(epoch: int, timesteps: int) -> str:
    """Directory name that sorts by training progress."""
    return f"epoch={epoch:04d}-step={timesteps:07d}"


def write_checkpoint(
    directory: Path,
    name: str,
    weights: dict[str, torch.Tensor],
    optimizer: dict[str, Any] | None,
    arrays: dict[str, np.ndarray],
    state: dict[str, Any],
    config: dict[str, Any],
) -> Path:
    """Write a complete checkpoint to ``directory/name`` atomically (temp dir + rename)."""
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / name
    if final.exists():
        return final
    temp = directory / f"{TEMP_PREFIX}{name}-{os.getpid()}"
    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir()
    # copies: the policy's tensors are views of one flat tensor, and safetensors refuses shared storage
    tensors = {key: value.detach().to("cpu", copy=True).contiguous() for key, value in weights.items()}
    save_file(tensors, temp / "policy.safetensors")
    if optimizer is not None:
        torch.save(optimizer, temp / "optimizer.pt")
    np.savez(temp / "arrays.npz", **arrays)
    (temp / "state.json").write_text(json.dumps(state))
    (temp / "config.json").write_text(json.dumps(config, indent=2))
    os.rename(temp, final)
    return final


def point_alias(directory: Path, alias: str, name: str) -> None:
    """Make ``directory/alias`` point at checkpoint ``name``, replacing it atomically."""
    temp_link = directory / f"{TEMP_PREFIX}{alias}-{os.getpid()}"
    if temp_link.is_symlink() or temp_link.exists():
        temp_link.unlink()
    temp_link.symlink_to(name)
    os.replace(temp_link, directory / alias)


def prune_checkpoints(directory: Path) -> None:
    """Delete checkpoint directories that neither alias points at, and stale temp files."""
    keep = {os.readlink(directory / alias) for alias in ALIASES if (directory / alias).is_symlink()}
    for entry in directory.iterdir():
        if entry.name in ALIASES or entry.name in keep:
            continue
        if entry.is_symlink():
            entry.unlink()
        elif entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)


def resolve_checkpoint(directory: Path, which: str) -> Path:
    """The checkpoint directory for ``best``, ``last`` or an explicit name/epoch number."""
    if which in ALIASES:
        link = directory / which
        if not link.exists():
            raise FileNotFoundError(f"no '{which}' checkpoint in {directory}; train longer or pick another")
        return link.resolve()
    if which.isdigit():
        matches = sorted(directory.glob(f"epoch={int(which):04d}-*"))
        if matches:
            return matches[0]
    candidate = directory / which
    if candidate.is_dir():
        return candidate
    names = sorted(
        p.name for p in directory.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
    )  # best and last are links to these
    raise FileNotFoundError(f"no checkpoint '{which}' in {directory}; available: best, last, {', '.join(names)}")


def read_checkpoint(path: Path, with_optimizer: bool = True) -> CheckpointData:
    """Load a checkpoint directory without unpickling anything."""
    optimizer = None
    if with_optimizer and (path / "optimizer.pt").exists():
        optimizer = torch.load(path / "optimizer.pt", weights_only=True, map_location="cpu")
    with np.load(path / "arrays.npz", allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    return CheckpointData(
        path=path,
        weights=load_file(path / "policy.safetensors"),
        optimizer=optimizer,
        arrays=arrays,
        state=json.loads((path / "state.json").read_text()),
        config=json.loads((path / "config.json").read_text()),
    )
