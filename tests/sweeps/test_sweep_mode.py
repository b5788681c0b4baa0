"""Sweep mode in train.py: a trial's values (from ``wandb agent``'s parameter file or scripts/sweep.py's variables)
deep-merged into the config before anything runs; a ``--set`` that contradicts them is a one-line error."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import pytest
from wandb.sdk.lib.config_util import save_config_file_from_dict

from train import load_trial_config
from utils.config import Config
from utils.config_files import load_config_dict
from utils.config_values import ConfigError

BASE = load_config_dict("CartPole-v1", "ppo")  # the settings of config/environments/CartPole-v1.yaml
SWEPT_START = 0.002
RUN_SPECIFIC = ("sweep", "wandb_id", "wandb_project", "wandb_entity")


def agent_param_file(path: Path, values: dict[str, Any]) -> Path:
    """The parameter file ``wandb agent`` writes for a run (``wandb_version: 1``, then ``name: {value: v}``),
    written by wandb's own function."""
    save_config_file_from_dict(str(path), {name: {"value": value} for name, value in values.items()})
    return path


def wandb_agent_env(tmp_path: Path, values: dict[str, Any]) -> dict[str, str]:
    return {
        "WANDB_SWEEP_ID": "swp4x9k2",
        "WANDB_RUN_ID": "r7trial1",
        "WANDB_SWEEP_PARAM_PATH": str(agent_param_file(tmp_path / "config-r7trial1.yaml", values)),
    }


def local_sweep_env(values: dict[str, Any]) -> dict[str, str]:
    return {
        "GYMSOLVER_SWEEP_ID": "loc8sw3p",
        "GYMSOLVER_SWEEP_TRIAL": "3",
        "GYMSOLVER_SWEEP_PARAMS": json.dumps(values),
    }


def comparable(config: Config) -> dict[str, Any]:
    return {key: value for key, value in config.to_dict().items() if key not in RUN_SPECIFIC}


def test_base_schedule_differs_from_the_swept_start() -> None:
    """The premise of the merge tests: CartPole-v1:ppo's policy_lr is a schedule whose start the sweep changes."""
    assert isinstance(BASE["policy_lr"], dict)
    assert BASE["policy_lr"]["start"] != SWEPT_START
    assert BASE["policy_lr"]["end"] != SWEPT_START


def test_wandb_agent_values_are_deep_merged_into_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    values = {"policy_lr.start": SWEPT_START, "n_epochs": 3, "hidden_dims": [32, 32]}
    for name, value in wandb_agent_env(tmp_path, values).items():
        monkeypatch.setenv(name, value)
    config = load_trial_config("CartPole-v1", "ppo", {"eval_episodes": 2})
    expected = Config.from_dict({
        **BASE, "policy_lr": {**BASE["policy_lr"], "start": SWEPT_START}, "n_epochs": 3, "hidden_dims": [32, 32],
        "eval_episodes": 2,
    })  # fmt: skip
    assert comparable(config) == comparable(expected)
    assert config.sweep == {"id": "swp4x9k2", "trial": "r7trial1", "params": values}
    assert config.wandb_id == "r7trial1"


def test_local_sweep_variables_are_merged_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {"policy_lr.start": SWEPT_START, "clip_range.end": 0.05}
    for name, value in local_sweep_env(values).items():
        monkeypatch.setenv(name, value)
    config = load_trial_config("CartPole-v1", "ppo", {})
    expected = Config.from_dict({
        **BASE, "policy_lr": {**BASE["policy_lr"], "start": SWEPT_START},
        "clip_range": {**BASE["clip_range"], "end": 0.05},
    })  # fmt: skip
    assert comparable(config) == comparable(expected)
    assert config.sweep == {"id": "loc8sw3p", "trial": 3, "params": values}
    assert config.wandb_id == ""


@pytest.mark.parametrize("source", ["wandb", "local"])
@pytest.mark.parametrize(
    ("override", "shown"),
    [
        ({"policy_lr.start": 0.005}, "--set policy_lr.start=0.005"),
        ({"policy_lr": {"start": 0.005, "end": 0.0}}, "--set policy_lr="),
    ],
    ids=["same part", "whole schedule"],
)
def test_set_contradicting_a_swept_value_is_an_error_naming_both(
    source: str, override: dict[str, Any], shown: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = {"policy_lr.start": SWEPT_START}
    env = wandb_agent_env(tmp_path, values) if source == "wandb" else local_sweep_env(values)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_trial_config("CartPole-v1", "ppo", override)
    message = str(caught.value)
    assert "\n" not in message
    assert shown in message and f"policy_lr.start={SWEPT_START}" in message and "contradicts" in message


@pytest.mark.parametrize("source", ["wandb", "local"])
def test_set_equal_to_the_swept_value_or_on_another_part_is_kept(
    source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = {"policy_lr.start": SWEPT_START}
    env = wandb_agent_env(tmp_path, values) if source == "wandb" else local_sweep_env(values)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = load_trial_config("CartPole-v1", "ppo", {"policy_lr.start": SWEPT_START, "policy_lr.end": 1e-4})
    assert (config.policy_lr.start, config.policy_lr.end) == (SWEPT_START, 1e-4)


def test_wandb_sweep_trial_of_a_config_with_wandb_off_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in wandb_agent_env(tmp_path, {"n_epochs": 3}).items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match="wandb: off"):
        load_trial_config("CartPole-v1", "ppo", {"wandb": False})


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"GYMSOLVER_SWEEP_ID": "s", "GYMSOLVER_SWEEP_PARAMS": "{policy_lr: 1"}, "GYMSOLVER_SWEEP_PARAMS is not JSON"),
        ({"GYMSOLVER_SWEEP_ID": "s", "GYMSOLVER_SWEEP_PARAMS": "[1, 2]"}, "must be a JSON object"),
        ({"WANDB_SWEEP_ID": "s", "WANDB_SWEEP_PARAM_PATH": "/nonexistent/config-x.yaml"}, "/nonexistent/config-x.yaml"),
        ({"GYMSOLVER_SWEEP_ID": "s", "GYMSOLVER_SWEEP_PARAMS": '{"polcy_lr": 1}'}, "did you mean 'policy_lr'"),
    ],
    ids=["not json", "not an object", "missing param file", "unknown field"],
)
def test_broken_sweep_variables_are_one_line_errors(
    env: dict[str, str], fragment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_trial_config("CartPole-v1", "ppo", {})
    assert fragment in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.slow
@pytest.mark.e2e
def test_wandb_agent_trial_trains_the_merged_config_offline(tmp_path: Path, run_cli) -> None:
    values = {"policy_lr.start": SWEPT_START, "n_epochs": 3}
    env = wandb_agent_env(tmp_path, values)
    runs = tmp_path / "runs"
    # the last --set equals the swept value: that is fine
    args = ["train.py", "CartPole-v1:ppo", "-q", "--max-timesteps", "2000", "--wandb", "offline",
            "--set", "video=off", "--set", "eval_freq=1000", "--set", "eval_episodes=2",
            "--set", f"policy_lr.start={SWEPT_START}"]  # fmt: skip
    done = run_cli(args, runs, env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"sweep swp4x9k2, trial r7trial1: policy_lr.start={SWEPT_START}, n_epochs=3" in done.stderr
    [run] = [path for path in runs.iterdir() if not path.is_symlink()]
    config = json.loads((run / "config.json").read_text())
    assert config["policy_lr"]["start"] == SWEPT_START
    assert config["policy_lr"]["end"] == BASE["policy_lr"]["end"]
    assert config["policy_lr"]["schedule"] == "linear"
    assert config["n_epochs"] == 3
    assert config["sweep"] == {"id": "swp4x9k2", "trial": "r7trial1", "params": values}
    assert config["wandb_id"] == "r7trial1"
    assert [p.name.endswith("-r7trial1") for p in (run / "wandb").glob("offline-run-*")] == [True]
    with (run / "metrics.csv").open() as handle:
        rates = [float(row["train/policy_lr"]) for row in csv.DictReader(handle) if row.get("train/policy_lr")]
    assert rates and BASE["policy_lr"]["start"] < max(rates) <= SWEPT_START  # it trained from the swept start


@pytest.mark.e2e
@pytest.mark.parametrize("source", ["wandb", "local"])
def test_contradicting_set_exits_2_with_one_line_and_no_run_directory(source: str, tmp_path: Path, run_cli) -> None:
    values = {"policy_lr.start": SWEPT_START}
    env = wandb_agent_env(tmp_path, values) if source == "wandb" else local_sweep_env(values)
    runs = tmp_path / "runs"
    done = run_cli(["train.py", "CartPole-v1:ppo", "-q", "--set", "policy_lr.start=0.005"], runs, env)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --set policy_lr.start=0.005 contradicts"), done.stderr
    assert not runs.exists()
    assert os.listdir(tmp_path) == (["config-r7trial1.yaml"] if source == "wandb" else [])
