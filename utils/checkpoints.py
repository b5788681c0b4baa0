"""Checkpoint directories: written whole under a fresh temp name, checksummed, then renamed into place.

Layout of ``checkpoints/<name>/`` (``name`` = ``epoch=0012-step=0049152``), format 1; what a player needs is
kept apart from what only resuming needs (docs/RUN_DIRECTORY.md):

- inference: ``policy.safetensors`` (weights; safetensors, no pickle on load), ``policy.json`` (``format_version``,
  observation and action spaces, network, normalization kind: enough to build the policy without the env),
  ``normalization.npz`` (observation statistics), ``config.json`` (the run's full config)
- resume only: ``optimizer.pt`` (``torch.load(weights_only=True)``), ``resume.npz`` (collector and env state,
  torch RNG, replay; ``allow_pickle=False``), ``state.json`` (counters, NumPy RNG state, best eval, env state tree)
- ``manifest.json``: size and sha256 of each file above, checked on every load

Checkpoints written before format 1 (no ``policy.json``; one ``arrays.npz`` holding statistics and resume
arrays together) still load.

``checkpoints/best`` and ``checkpoints/last`` are symlinks swapped atomically,
so a kill at any moment leaves both pointing at complete directories. Only
directories named like ``epoch=…-step=…`` (and this module's ``.tmp-`` entries)
are ever pruned; anything else a user puts in ``checkpoints/`` stays.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from utils.atomic_files import TEMP_PREFIX, naming_file, replace_symlink
from utils.checkpoint_names import ALIASES, alias_target, own_checkpoints
from utils.config_values import ConfigError
from utils.runs import file_sha256, strip_format_version, with_format_version

MANIFEST = "manifest.json"
CHECKPOINT_FORMAT = 1
POLICY, POLICY_SPEC, NORMALIZATION, CONFIG = "policy.safetensors", "policy.json", "normalization.npz", "config.json"
OPTIMIZER, RESUME_ARRAYS, STATE = "optimizer.pt", "resume.npz", "state.json"
INFERENCE_FILES = (POLICY, POLICY_SPEC, NORMALIZATION, CONFIG)
RESUME_FILES = (OPTIMIZER, RESUME_ARRAYS, STATE)
LEGACY_ARRAYS = "arrays.npz"  # format 0: statistics and resume arrays in one file
NORM_PREFIX = "obs_norm."


class CheckpointError(ConfigError):
    """A checkpoint that cannot be used (missing, truncated or altered file; non-finite weights)."""


@dataclass
class CheckpointData:
    """Everything read back from a checkpoint directory."""

    path: Path
    weights: dict[str, torch.Tensor]
    optimizer: dict[str, Any] | None
    arrays: dict[str, np.ndarray]  # ``obs_norm.*`` statistics, plus the resume arrays when they were read
    state: dict[str, Any]  # empty unless the resume state was read
    config: dict[str, Any]
    spec: dict[str, Any]  # policy.json (``{"format_version": 0}`` for older checkpoints)

    @property
    def format_version(self) -> int:
        """0 for checkpoints written before policy.json existed."""
        return int(self.spec.get("format_version", 0))


def write_manifest(path: Path) -> None:
    """Record the size and sha256 of every file in checkpoint directory ``path``."""
    files = {
        entry.name: {"bytes": entry.stat().st_size, "sha256": file_sha256(entry)}
        for entry in sorted(path.iterdir())
        if entry.is_file() and entry.name != MANIFEST
    }
    (path / MANIFEST).write_text(json.dumps({"format": 1, "files": files}, indent=2))


def write_checkpoint(
    directory: Path,
    name: str,
    weights: dict[str, torch.Tensor],
    optimizer: dict[str, Any] | None,
    arrays: dict[str, np.ndarray],
    state: dict[str, Any],
    config: dict[str, Any],
    spec: dict[str, Any] | None = None,
) -> Path:
    """Write a complete checkpoint to ``directory/name``: a fresh temp dir, a manifest, then a rename.

    ``arrays`` named ``obs_norm.*`` are the normalization statistics; the rest, ``state`` and ``optimizer``
    are resume state, written only with an optimizer (a video snapshot is inference-only). A directory
    already at ``directory/name`` (left by a killed run) is replaced, never reused.
    """
    statistics = {key[len(NORM_PREFIX) :]: value for key, value in arrays.items() if key.startswith(NORM_PREFIX)}
    resume_arrays = {key: value for key, value in arrays.items() if not key.startswith(NORM_PREFIX)}
    assert optimizer is not None or not (resume_arrays or state), "resume state without an optimizer"
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / name
    temp = directory / f"{TEMP_PREFIX}{name}-{os.getpid()}-{secrets.token_hex(3)}"
    temp.mkdir()
    try:
        # copies: the policy's tensors are views of one flat tensor, and safetensors refuses shared storage
        tensors = {key: value.detach().to("cpu", copy=True).contiguous() for key, value in weights.items()}
        with naming_file(final / POLICY):
            (temp / POLICY).write_bytes(save_safetensors(tensors))  # via open(): the run's file mode, not 0600
        with naming_file(final / POLICY_SPEC):
            (temp / POLICY_SPEC).write_text(json.dumps({"format_version": CHECKPOINT_FORMAT, **(spec or {})}, indent=2))
        with naming_file(final / NORMALIZATION):
            # numpy's stub types **kwds like its allow_pickle: bool keyword, so mypy rejects a dict of arrays
            np.savez(temp / NORMALIZATION, **statistics)  # type: ignore[arg-type]
        with naming_file(final / CONFIG):
            (temp / CONFIG).write_text(json.dumps(with_format_version(config), indent=2))
        if optimizer is not None:
            buffer = io.BytesIO()  # torch.save reports a full disk as a RuntimeError; a plain write says ENOSPC
            torch.save(optimizer, buffer)
            with naming_file(final / OPTIMIZER):
                (temp / OPTIMIZER).write_bytes(buffer.getvalue())
            with naming_file(final / RESUME_ARRAYS):
                np.savez(temp / RESUME_ARRAYS, **resume_arrays)  # type: ignore[arg-type]
            with naming_file(final / STATE):
                (temp / STATE).write_text(json.dumps(state))
        with naming_file(final / MANIFEST):
            write_manifest(temp)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    if final.exists() or final.is_symlink():
        stale = directory / f"{TEMP_PREFIX}replaced-{name}-{os.getpid()}-{secrets.token_hex(3)}"
        os.rename(final, stale)
        os.rename(temp, final)
        shutil.rmtree(stale, ignore_errors=True)
    else:
        os.rename(temp, final)
    return final


def point_alias(directory: Path, alias: str, name: str) -> None:
    """Make ``directory/alias`` point at checkpoint ``name``, replacing it atomically."""
    replace_symlink(directory / alias, name)


def prune_checkpoints(directory: Path, keep: int) -> None:
    """Keep the newest ``keep`` checkpoints and those an alias points at; delete older ones and temp leftovers.

    Only directories named like this project's checkpoints are candidates; other entries are left alone.
    """
    pinned = {alias_target(directory, alias) for alias in ALIASES}
    own = own_checkpoints(directory)
    newest = {p.name for p in own[-keep:]}
    for path in own:
        if path.name not in newest and path.name not in pinned:
            shutil.rmtree(path, ignore_errors=True)
    for entry in directory.iterdir():
        if entry.name.startswith(TEMP_PREFIX):  # one writer per run (utils/run_lock): nothing else is in flight
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


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
    names = [p.name for p in own_checkpoints(directory)]
    raise FileNotFoundError(f"no checkpoint '{which}' in {directory}; available: best, last, {', '.join(names)}")


def needed_files(path: Path, with_optimizer: bool = True) -> list[str]:
    """The files a load of checkpoint ``path`` reads: inference files, plus resume files ``with_optimizer``."""
    if (path / POLICY_SPEC).is_file() or not (path / LEGACY_ARRAYS).is_file():
        return [*INFERENCE_FILES, *(RESUME_FILES if with_optimizer else ())]
    return [POLICY, LEGACY_ARRAYS, STATE, CONFIG] + ([OPTIMIZER] if with_optimizer else [])


def verify_checkpoint(path: Path, with_optimizer: bool = True) -> None:
    """Raise CheckpointError naming the first file that is missing, truncated or altered."""
    needed = needed_files(path, with_optimizer)
    for name in needed:
        if not (path / name).is_file():
            raise CheckpointError(f"checkpoint {path.name}: {name} is missing")
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        return  # written before checksums existed; the loaders below still refuse damaged files
    try:
        files = json.loads(manifest_path.read_text())["files"]
    except (ValueError, KeyError, TypeError):
        raise CheckpointError(f"checkpoint {path.name}: {MANIFEST} is damaged") from None
    if with_optimizer and OPTIMIZER not in files:
        raise CheckpointError(f"checkpoint {path.name}: it holds no {OPTIMIZER}, so training cannot continue from it")
    for name in needed:
        expected = files.get(name)
        if expected is None:
            raise CheckpointError(f"checkpoint {path.name}: {name} is not listed in {MANIFEST}")
        size = (path / name).stat().st_size
        if size != expected["bytes"]:
            raise CheckpointError(
                f"checkpoint {path.name}: {name} is {size} bytes, {expected['bytes']} were written (truncated?)"
            )
        if file_sha256(path / name) != expected["sha256"]:
            raise CheckpointError(f"checkpoint {path.name}: {name} does not match its checksum (altered or damaged)")


def read_checkpoint(path: Path, with_optimizer: bool = True) -> CheckpointData:
    """Load a checkpoint directory after checking it against its manifest, without unpickling anything."""
    verify_checkpoint(path, with_optimizer)

    def load(name: str, loader: Any) -> Any:
        try:
            return loader(path / name)
        except Exception as error:
            reason = str(error).splitlines()[0][:160] if str(error) else type(error).__name__
            raise CheckpointError(f"checkpoint {path.name}: {name} cannot be read ({reason})") from None

    def arrays_of(file: Path) -> dict[str, np.ndarray]:
        with np.load(file, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}

    def json_of(file: Path) -> Any:
        return json.loads(file.read_text())

    optimizer = None
    if with_optimizer:
        optimizer = load(OPTIMIZER, lambda file: torch.load(file, weights_only=True, map_location="cpu"))
    weights = load(POLICY, lambda file: load_safetensors(file.read_bytes()))
    config = strip_format_version(load(CONFIG, json_of))
    if LEGACY_ARRAYS in needed_files(path, with_optimizer):
        arrays = load(LEGACY_ARRAYS, arrays_of)
        if not with_optimizer:
            arrays = {key: value for key, value in arrays.items() if key.startswith(NORM_PREFIX)}
        state = load(STATE, json_of) if with_optimizer else {}
        return CheckpointData(path, weights, optimizer, arrays, state, config, {"format_version": 0})
    arrays = {NORM_PREFIX + key: value for key, value in load(NORMALIZATION, arrays_of).items()}
    state = {}
    if with_optimizer:
        arrays.update(load(RESUME_ARRAYS, arrays_of))
        state = load(STATE, json_of)
    return CheckpointData(path, weights, optimizer, arrays, state, config, load(POLICY_SPEC, json_of))


def checkpoint_logs_enabled() -> bool:
    """False when ``VIBES_QUIET`` (or its alias ``VIBES_DISABLE_CHECKPOINT_LOGS``) is set: checkpoint-load
    messages ("run X, checkpoint Y", "continuing from checkpoint Y") are then not printed. Warnings about a
    damaged checkpoint still are."""
    return not any(os.environ.get(name) for name in ("VIBES_QUIET", "VIBES_DISABLE_CHECKPOINT_LOGS"))


def nonfinite_tensor(data: CheckpointData) -> str | None:
    """The name of the first weight or statistics array holding NaN or infinity, else None."""
    for name, tensor in data.weights.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            return name
    for name, array in data.arrays.items():
        if name.startswith("obs_norm.") and array.dtype.kind == "f" and not np.isfinite(array).all():
            return name
    return None
