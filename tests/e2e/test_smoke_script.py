"""scripts/smoke_all_configs.py trains the selected configs and reports each one."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runner import run_cli


@pytest.mark.e2e
def test_smoke_script_passes_a_subset_and_summarises(tmp_path: Path) -> None:
    result = run_cli(["scripts/smoke_all_configs.py", "--filter", "Bandit", "--timesteps", "64"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert "✓ PASS  Bandit-v0:ppo" in result.stdout and "✓ PASS  Bandit-v0:reinforce" in result.stdout
    assert "2/2 configs passed" in result.stdout


@pytest.mark.e2e
def test_smoke_script_reports_no_match(tmp_path: Path) -> None:
    result = run_cli(["scripts/smoke_all_configs.py", "--filter", "NoSuchEnv"], tmp_path)
    assert result.returncode == 1 and "no config matches" in result.stdout
