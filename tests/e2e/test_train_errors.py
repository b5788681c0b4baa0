"""train.py turns user mistakes into one-line errors, exit status 2, and no run directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import last_run, run_cli

BAD_INPUTS = {
    "unknown env": (["CartPol-v1:ppo"], "did you mean 'CartPole-v1'"),
    "unknown variant": (["CartPole-v1:ppoo"], "did you mean 'ppo'"),
    "unknown field": (["CartPole-v1:ppo", "--set", "polcy_lr=0.1"], "did you mean 'policy_lr'"),
    "wrong type": (["CartPole-v1:ppo", "--set", "n_envs=lots"], "n_envs"),
    "impossible value": (["CartPole-v1:ppo", "--set", "gamma=1.5"], "gamma"),
    "bad choice": (["CartPole-v1:ppo", "--set", "optimizer=adamm"], "did you mean 'adam'"),
    "batch does not divide rollout": (["CartPole-v1:ppo", "--set", "batch_size=100"], "divisor"),
    "bad max timesteps": (["CartPole-v1:ppo", "--max-timesteps", "lots"], "5e4"),
    "unknown wrapper": (["CartPole-v1:ppo", "--set", "env_wrappers=[{id: NoSuchWrapper}]"], "NoSuchWrapper"),
    "unregistered env id": (["CartPole-v1:ppo", "--set", "env_id=CartPole-v9"], "not a registered"),
    "resume of unknown run": (["--resume", "nosuchrun"], "no run 'nosuchrun'"),
    "resume with env given": (["CartPole-v1:ppo", "--resume", "@last"], "drop the <env>:<variant>"),
}


@pytest.mark.e2e
@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_gives_one_line_error_and_no_run(case: str, tmp_path: Path) -> None:
    args, expected = BAD_INPUTS[case]
    runs = tmp_path / "runs"
    result = run_cli(["train.py", *args, "-q"], runs, timeout=120)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert expected in lines[0]
    assert not runs.exists() or not any(runs.iterdir())


@pytest.mark.e2e
def test_help_documents_every_flag(tmp_path: Path) -> None:
    result = run_cli(["train.py", "--help"], tmp_path)
    assert result.returncode == 0
    for flag in ("--config_id", "--quiet", "--max-timesteps", "--seed", "--set", "--list-envs", "--resume"):
        assert flag in result.stdout


@pytest.mark.e2e
def test_list_envs_filters_by_text(tmp_path: Path) -> None:
    everything = run_cli(["train.py", "--list-envs"], tmp_path).stdout.splitlines()
    cartpole = run_cli(["train.py", "--list-envs", "CartPole"], tmp_path).stdout.splitlines()
    assert any(line.startswith("Bandit-v0:ppo") for line in everything)
    assert cartpole and all(line.startswith("CartPole-v1:") for line in cartpole)
    assert len(cartpole) < len(everything)


@pytest.mark.e2e
def test_resume_refuses_to_change_state_shaping_fields(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    first = run_cli(["train.py", "Bandit-v0:ppo", "-q", "--max-timesteps", "800"], runs, timeout=300)
    assert first.returncode == 0, first.stderr[-2000:]
    before = sorted(p.name for p in runs.iterdir())
    result = run_cli(["train.py", "--resume", "@last", "--set", "n_envs=4"], runs, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: --resume: n_envs cannot change")
    assert sorted(p.name for p in runs.iterdir()) == before


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("args", "config_id"),
    [([], "Bandit-v0:ppo"), (["--config_id", "Bandit-v0:reinforce"], "Bandit-v0:reinforce")],
)
def test_config_selection_without_positional_argument(args: list[str], config_id: str, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    result = run_cli(["train.py", *args, "-q", "--max-timesteps", "1600"], runs, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    config = json.loads((last_run(runs) / "config.json").read_text())
    assert config["config_id"] == config_id and config["max_timesteps"] == 1600
    assert config["project_id"] == "Bandit-v0"
