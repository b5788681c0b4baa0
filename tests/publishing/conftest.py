"""A tiny real CartPole run to publish, trained once per session, and its ``--dry-run`` folder."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from publish_cli import REPO_ID, cli_env, run_cli


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4096-step PPO CartPole run: checkpoints at epochs 1 (no evaluation, no video), 16 and 32 (best)."""
    root = tmp_path_factory.mktemp("publish")
    runs = root / "runs"
    args = ["train.py", "CartPole-v1:ppo", "-q", "--max-timesteps", "4096", "--seed", "1",
            "--set", "eval_freq=2048", "--set", "eval_episodes=5"]  # fmt: skip
    trained = run_cli(args, cli_env(runs, root / "hf_home"))
    assert trained.returncode == 0, trained.stderr[-2000:]
    return runs / os.readlink(runs / "@last")


@pytest.fixture(scope="session")
def dry_run(trained_run: Path) -> tuple[Path, subprocess.CompletedProcess]:
    """``run_publish.py --dry-run`` of the run's best checkpoint: the folder and the process."""
    out = trained_run.parents[1] / "dry-run"
    env = cli_env(trained_run.parent, trained_run.parents[1] / "hf_home")
    published = run_cli(["run_publish.py", "--run-id", trained_run.name, "--repo", REPO_ID, "--dry-run", str(out)], env)
    assert published.returncode == 0, published.stderr[-2000:]
    return out, published
