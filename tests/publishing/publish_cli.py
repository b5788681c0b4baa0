"""Running the CLIs for the publishing tests: a fake Hugging Face token and a private Hugging Face home, so
nothing reaches the real Hub or uses a real login."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FAKE_TOKEN = "hf_PublishTestsFakeToken0123456789abcdefXYZ"
REPO_ID = "alice/ppo-CartPole-v1"


def cli_env(runs: Path, hf_home: Path, **extra: str) -> dict[str, str]:
    """Headless, offline W&B, runs under ``runs``, the fake token, a Hugging Face home of its own."""
    return {**os.environ, "GYMSOLVER_RUNS_DIR": str(runs), "SDL_VIDEODRIVER": "dummy", "WANDB_MODE": "offline",
            "HF_TOKEN": FAKE_TOKEN, "HF_HOME": str(hf_home), **extra}  # fmt: skip


def run_cli(args: list[str], env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    """Run e.g. ``['run_publish.py', '--dry-run', 'out']`` from the repository root and capture its output."""
    return subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
