"""scripts/smoke_all_configs.py trains the selected configs and reports each one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import REPO, cli_env, run_cli


@pytest.mark.slow
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


@pytest.mark.slow
@pytest.mark.e2e
def test_a_config_whose_optional_extra_is_missing_is_a_skip_not_a_failure(tmp_path: Path) -> None:
    shim = tmp_path / "shim" / "ocatari"  # shadows any installed OCAtari: as if the extra were not installed
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text("")
    (shim / "core.py").write_text("raise ImportError('OCAtari is not installed')\n")
    env = {**cli_env(tmp_path / "runs"), "PYTHONPATH": str(tmp_path / "shim")}
    command = [sys.executable, "scripts/smoke_all_configs.py", "--filter", "Pong-v5:objects", "--timesteps", "64"]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert "- SKIP  ALE-Pong-v5:objects" in result.stdout and "pip install -e '.[atari-objects]'" in result.stdout
    assert "0/0 configs passed; skipped (ROM or optional extra missing): ALE-Pong-v5:objects" in result.stdout
