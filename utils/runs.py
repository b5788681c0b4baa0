"""Run directories under ``runs/``: creation, ``@last``, and lookup by id.

``runs/<id>/`` holds ``config.json``, ``metrics.csv``, ``checkpoints/``,
``logs/``, ``report.md`` and ``learning_curve.png``; ``runs/@last`` is a
symlink to the newest run.
"""

from __future__ import annotations

import difflib
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LAST_ALIAS = "@last"


def runs_root() -> Path:
    """Where runs live: ``$GYMSOLVER_RUNS_DIR`` or ``./runs``."""
    return Path(os.environ.get("GYMSOLVER_RUNS_DIR", "runs"))


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
    def logs(self) -> Path:
        """Session logs."""
        return self.path / "logs"

    def read_config(self) -> dict[str, Any]:
        """The config snapshot as a mapping."""
        return json.loads(self.config_path.read_text())


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON via a temp file and rename, so readers never see half a file."""
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    temp.write_text(json.dumps(data, indent=2))
    os.replace(temp, path)


def create_run(config: dict[str, Any], root: Path | None = None) -> RunDir:
    """Make ``runs/<new id>/`` with its config snapshot and point ``@last`` at it."""
    root = root or runs_root()
    root.mkdir(parents=True, exist_ok=True)
    while True:
        run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
        path = root / run_id
        try:
            path.mkdir()
            break
        except FileExistsError:
            continue
    run = RunDir(path)
    run.checkpoints.mkdir()
    run.logs.mkdir()
    write_json_atomic(run.config_path, config)
    point_last(run, root)
    return run


def point_last(run: RunDir, root: Path | None = None) -> None:
    """Swap ``runs/@last`` to ``run`` atomically."""
    root = root or runs_root()
    temp = root / f".{LAST_ALIAS}.tmp-{os.getpid()}"
    if temp.is_symlink():
        temp.unlink()
    temp.symlink_to(run.path.name)
    os.replace(temp, root / LAST_ALIAS)


def list_runs(root: Path | None = None) -> list[str]:
    """Run ids, oldest first."""
    root = root or runs_root()
    if not root.is_dir():
        return []
    runs = [p for p in root.iterdir() if p.is_dir() and not p.is_symlink() and (p / "config.json").exists()]
    return [p.name for p in sorted(runs, key=lambda p: p.name)]


def resolve_run(run_id: str, root: Path | None = None) -> RunDir:
    """The run named ``run_id`` (or ``@last``); a one-line error naming close ids otherwise."""
    root = root or runs_root()
    path = root / run_id
    if run_id == LAST_ALIAS:
        if not path.exists():
            raise FileNotFoundError(f"no runs yet in {root}/; train one first: python train.py CartPole-v1:ppo")
        path = root / os.readlink(path)
    if not (path / "config.json").is_file():
        known = list_runs(root)
        close = difflib.get_close_matches(run_id, known, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"known runs: {', '.join(known[-5:]) or 'none'}"
        raise FileNotFoundError(f"no run '{run_id}' in {root}/; {hint}")
    return RunDir(path)
