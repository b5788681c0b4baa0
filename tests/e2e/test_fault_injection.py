"""scripts/fault_injection.py end to end: random SIGKILL/SIGTERM, resume, compare with an unkilled run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import REPO, cli_env


@pytest.mark.slow
@pytest.mark.e2e
def test_runs_killed_at_random_resume_to_the_same_end_as_an_unkilled_run(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "scripts/fault_injection.py", "--kills", "4", "--steps", "4096", "--seed", "3",
         "--runs-dir", str(tmp_path / "runs")],
        cwd=REPO, env=cli_env(tmp_path / "runs"), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = result.stdout.strip().splitlines()[-1]
    assert int(summary.split(" kills (")[0]) >= 4 and ", 0 problems," in summary, summary
    runs = [p for p in (tmp_path / "runs").iterdir() if p.is_dir() and not p.is_symlink()]
    assert len(runs) >= 2  # the reference and at least one killed-and-resumed run were compared
