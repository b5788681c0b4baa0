"""Running the repository's CLIs in a subprocess, with runs in a private directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def cli_env(runs: Path) -> dict[str, str]:
    """Environment for a CLI subprocess: headless, offline, runs under ``runs``."""
    return {**os.environ, "GYMSOLVER_RUNS_DIR": str(runs), "SDL_VIDEODRIVER": "dummy", "WANDB_MODE": "offline"}


def run_cli(args: list[str], runs: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run e.g. ``['train.py', 'CartPole-v1:ppo', '-q']`` and capture its output."""
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=cli_env(runs), capture_output=True, text=True, timeout=timeout
    )


def last_run(runs: Path) -> Path:
    """The run directory ``@last`` points at."""
    return runs / os.readlink(runs / "@last")
