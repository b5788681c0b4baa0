"""Run directories under ``runs/``: creation, ``@last``, and lookup by id.

``runs/<id>/`` holds ``config.json``, ``metrics.csv``, ``checkpoints/``,
``logs/``, ``report.md`` and ``learning_curve.png``; ``runs/@last`` is a
symlink to the newest run.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from utils.atomic_files import replace_symlink, write_json_atomic
from utils.config_values import ConfigError
from utils.run_lock import lock_run

LAST_ALIAS = "@last"
RUN_FORMAT = 1  # the run directory's format_version (docs/RUN_DIRECTORY.md); runs without one are format 0


class RunsDirError(ConfigError):
    """The runs folder cannot hold a new run (not a folder, not writable, ``@last`` not a link)."""


def runs_root() -> Path:
    """Where runs live: ``$GYMSOLVER_RUNS_DIR`` or ``./runs``."""
    value = os.environ.get("GYMSOLVER_RUNS_DIR")
    if value is None:
        return Path("runs")
    if not value.strip():
        raise RunsDirError("GYMSOLVER_RUNS_DIR is set but empty; unset it (runs go to ./runs) or give a folder")
    return Path(value)


def check_runs_root(root: Path | None = None) -> Path:
    """Raise RunsDirError unless a new run can be created under ``root``; checked before anything is written."""
    root = root or runs_root()
    if root.exists() and not root.is_dir():
        raise RunsDirError(f"runs folder {root} is a file, not a folder; move it away or set GYMSOLVER_RUNS_DIR")
    last = root / LAST_ALIAS
    if last.exists() and not last.is_symlink():
        raise RunsDirError(
            f"{last} is a real {'folder' if last.is_dir() else 'file'}, not the link to the newest run; "
            f"move it away (e.g. mv {last} {root}/old-last)"
        )
    probe = root if root.is_dir() else next((p for p in root.parents if p.exists()), Path("."))
    if not os.access(probe, os.W_OK | os.X_OK):
        raise RunsDirError(f"runs folder {probe} is not writable; fix its permissions or set GYMSOLVER_RUNS_DIR")
    return root


@dataclass(frozen=True)
class RunDir:
    """Paths inside one run directory."""

    path: Path

    @property
    def run_id(self) -> str:
        """The directory name."""
        return self.path.name

    @property
    def config_path(self) -> Path:
        """The full config snapshot."""
        return self.path / "config.json"

    @property
    def checkpoints(self) -> Path:
        """Checkpoint directories and the best/last links."""
        return self.path / "checkpoints"

    @property
    def metrics_csv(self) -> Path:
        """One row of metrics per epoch."""
        return self.path / "metrics.csv"

    @property
    def summary_path(self) -> Path:
        """How the last training session ended (status, timesteps, eval returns), written when it ends."""
        return self.path / "summary.json"

    @property
    def logs(self) -> Path:
        """Session logs."""
        return self.path / "logs"

    def read_config(self) -> dict[str, Any]:
        """The config snapshot as a mapping (without its ``format_version``)."""
        return strip_format_version(json.loads(self.config_path.read_text()))


def with_format_version(config: dict[str, Any]) -> dict[str, Any]:
    """A config mapping as written to a ``config.json``: ``format_version`` first."""
    return {"format_version": RUN_FORMAT, **config}


def strip_format_version(data: dict[str, Any]) -> dict[str, Any]:
    """A ``config.json`` mapping without ``format_version`` (a key no Config field has)."""
    return {key: value for key, value in data.items() if key != "format_version"}


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes (checkpoint manifests, video telemetry)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def create_run(config: dict[str, Any], root: Path | None = None) -> RunDir:
    """Make ``runs/<new id>/`` with its config snapshot, locked for this process, and point ``@last`` at it."""
    root = check_runs_root(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        while True:
            run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
            path = root / run_id
            try:
                path.mkdir()
                break
            except FileExistsError:
                continue
    except OSError as error:  # read-only file system, permissions, no space
        raise RunsDirError(
            f"cannot create a run in {root}: {error.strerror}; free it up or set GYMSOLVER_RUNS_DIR"
        ) from None
    run = RunDir(path)
    lock_run(path)  # before config.json exists, so no one can resume it half-made
    run.checkpoints.mkdir()
    run.logs.mkdir()
    write_json_atomic(run.config_path, with_format_version(config))
    point_last(run, root)
    return run


def point_last(run: RunDir, root: Path | None = None) -> None:
    """Swap ``runs/@last`` to ``run`` atomically."""
    replace_symlink((root or runs_root()) / LAST_ALIAS, run.path.name)


def list_runs(root: Path | None = None) -> list[str]:
    """Run ids, oldest first."""
    root = root or runs_root()
    if not root.is_dir():
        return []
    runs = [p for p in root.iterdir() if p.is_dir() and not p.is_symlink() and (p / "config.json").exists()]
    return [p.name for p in sorted(runs, key=lambda p: p.name)]


class RunIdError(ConfigError):
    """A run id that is not a plain name inside the runs folder."""


def check_run_id(run_id: str) -> str:
    """``run_id`` if it names an entry of the runs folder; paths (``../x``, ``/abs``, ``a/b``) are refused."""
    if not run_id or run_id in (".", "..") or any(sep in run_id for sep in ("/", "\\", os.sep)) or "\0" in run_id:
        raise RunIdError(
            f"run id {run_id!r} is not a run name; give the name of a folder in the runs folder "
            "(e.g. 20261130-023502-f5e2) or @last"
        )
    return run_id


def resolve_run(run_id: str, root: Path | None = None) -> RunDir:
    """The run named ``run_id`` (or ``@last``); a one-line error naming close ids otherwise."""
    root = root or runs_root()
    path = root / check_run_id(run_id)
    if run_id == LAST_ALIAS:
        if not path.is_symlink():
            raise FileNotFoundError(f"no runs yet in {root}/; train one first: python train.py CartPole-v1:ppo")
        path = root / check_run_id(os.readlink(path))
    if not (path / "config.json").is_file():
        known = list_runs(root)
        close = difflib.get_close_matches(run_id, known, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"known runs: {', '.join(known[-5:]) or 'none'}"
        raise FileNotFoundError(f"no run '{run_id}' in {root}/; {hint}")
    return RunDir(path)
