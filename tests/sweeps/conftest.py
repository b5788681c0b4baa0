"""Shared setup of the sweep tests: small sweep specs on CartPole-v1:ppo, and the CLIs run in a subprocess.

The helpers are handed out as fixtures (``make_spec``, ``run_script``), so test modules never import this file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
# Every trial of these tests: no video, no W&B, two-episode evaluations every 1000 steps.
QUICK_SETS = ("video=off", "wandb=off", "eval_freq=1000", "eval_episodes=2")
# Variables that would make a train.py child a sweep trial (or W&B-agent run) by accident.
SWEEP_VARIABLES = (
    "GYMSOLVER_SWEEP_ID", "GYMSOLVER_SWEEP_TRIAL", "GYMSOLVER_SWEEP_PARAMS", "GYMSOLVER_SWEEP_WORKER",
    "WANDB_SWEEP_ID", "WANDB_RUN_ID", "WANDB_SWEEP_PARAM_PATH",
)  # fmt: skip

MakeSpec = Callable[..., dict[str, Any]]
RunScript = Callable[..., subprocess.CompletedProcess]


def spec_dict(
    parameters: Mapping[str, Any],
    method: str = "grid",
    sets: Sequence[str] = QUICK_SETS,
    **top: Any,
) -> dict[str, Any]:
    """A W&B sweep config on CartPole-v1:ppo maximising the best eval return; ``sets`` go into its command."""
    command = ["${env}", "${interpreter}", "${program}", "CartPole-v1:ppo", "--quiet"]
    for text in sets:
        command += ["--set", text]
    spec = {
        "name": "test-sweep",
        "program": "train.py",
        "method": method,
        "metric": {"name": "val/roll/ep_rew/best", "goal": "maximize"},
        "command": command,
        "parameters": dict(parameters),
    }
    spec.update(top)
    return spec


@pytest.fixture(scope="session")
def make_spec() -> MakeSpec:
    """``spec_dict`` (see above)."""
    return spec_dict


def write_spec(path: Path, spec: Mapping[str, Any]) -> Path:
    """``spec`` as a YAML file at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(dict(spec), sort_keys=False))
    return path


@pytest.fixture(scope="session")
def save_spec() -> Callable[[Path, Mapping[str, Any]], Path]:
    """``write_spec`` (see above)."""
    return write_spec


def script_env(runs: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A CLI's environment: headless, runs under ``runs``, no sweep variables inherited, then ``extra``."""
    env = {key: value for key, value in os.environ.items() if key not in SWEEP_VARIABLES}
    env.update({"GYMSOLVER_RUNS_DIR": str(runs), "SDL_VIDEODRIVER": "dummy", "WANDB_MODE": "offline"})
    env.update(extra or {})
    return env


def run_script(
    args: Sequence[str], runs: Path, extra_env: Mapping[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """Run ``[script, *args]`` (e.g. ``scripts/sweep.py SPEC``) from the repository and capture its output."""
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=script_env(runs, extra_env), capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip


@pytest.fixture(scope="session")
def run_cli() -> RunScript:
    """``run_script`` (see above)."""
    return run_script


@pytest.fixture(scope="session")
def cli_environment() -> Callable[..., dict[str, str]]:
    """``script_env`` (see above), for tests that start a CLI with Popen."""
    return script_env


@pytest.fixture(autouse=True)
def no_sweep_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test runs as a sweep trial unless it sets the variables itself."""
    for name in SWEEP_VARIABLES:
        monkeypatch.delenv(name, raising=False)
