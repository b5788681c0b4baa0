"""The seed README's environment switches: VIBES_QUIET silences checkpoint-load messages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import REPO, cli_env, run_cli

pytestmark = pytest.mark.slow  # every test here trains through train.py in a subprocess


@pytest.mark.e2e
@pytest.mark.parametrize("variable", ["VIBES_QUIET", "VIBES_DISABLE_CHECKPOINT_LOGS"])
def test_vibes_quiet_silences_checkpoint_load_messages(tmp_path: Path, variable: str) -> None:
    runs = tmp_path / "runs"
    trained = run_cli(["train.py", "Bandit-v0:ppo", "-q", "--video", "off", "--max-timesteps", "800"], runs)
    assert trained.returncode == 0, trained.stderr[-2000:]
    play = ["run_play.py", "--run-id", "@last", "--episodes", "1", "--headless"]
    loud = run_cli(play, runs)
    quiet = subprocess.run([sys.executable, *play], cwd=REPO, env={**cli_env(runs), variable: "1"},
                           capture_output=True, text=True, timeout=300)  # fmt: skip
    assert loud.returncode == 0 and quiet.returncode == 0, quiet.stderr[-2000:]
    assert ", checkpoint epoch=" in loud.stdout
    assert "checkpoint" not in quiet.stdout and "episode 1/1" in quiet.stdout
