"""Sweep specs: every mistake is one ``error:`` line and exit 2 before anything is created; the shipped specs are
W&B sweep configs that load; grid order and sampled values follow the spec."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from sweeps.search import GridSource, RandomSource
from sweeps.spec import SweepSpecError, load_spec, parse_spec
from utils.config_values import ConfigError

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted((REPO / "config" / "sweeps").glob("*.yaml"))
# W&B's documented sweep config keys (docs.wandb.ai, "Sweep configuration options").
WANDB_TOP_KEYS = {
    "program", "entity", "project", "description", "name", "method", "metric", "parameters", "early_terminate",
    "command", "run_cap",
}  # fmt: skip
WANDB_PARAM_KEYS = {"value", "values", "probabilities", "distribution", "min", "max", "q", "mu", "sigma", "a", "b"}
LR_VALUES = {"values": [0.003, 0.001]}


def without(spec: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in spec.items() if k != key}


# (id, how the spec differs from a valid one, extra CLI args, fragments the one error line must hold)
MISTAKES: list[tuple[str, dict[str, Any], list[str], list[str]]] = [
    ("unknown field", {"parameters": {"polcy_lr": LR_VALUES}}, [], ["parameters.polcy_lr", "did you mean 'policy_lr'"]),
    ("bare scalar", {"parameters": {"n_epochs": 4, "policy_lr.start": LR_VALUES}}, [],
     ["parameters.n_epochs", "{value: 4}"]),
    ("log_uniform given real values",
     {"method": "random", "parameters": {"policy_lr.start": {"distribution": "log_uniform", "min": 1e-5, "max": 1e-2}}},
     [], ["parameters.policy_lr.start", "exponents", "log_uniform_values"]),
    ("value the config rejects", {"parameters": {"n_envs": {"values": [0, 8]}}}, [], ["parameters.n_envs", "value 0"]),
    ("batch_size that does not divide the rollout", {"parameters": {"batch_size": {"values": [100, 128]}}}, [],
     ["parameters.batch_size", "100", "does not divide the rollout"]),
    ("grid point the config rejects", {"parameters": {"n_envs": {"values": [8, 4]}, "n_steps": {"values": [32, 16]}}},
     [], ["grid point", "n_envs=4", "n_steps=16", "does not divide the rollout"]),
    ("distribution bound the config rejects",
     {"method": "random", "parameters": {"gae_lambda": {"distribution": "uniform", "min": 0.9, "max": 1.5}}}, [],
     ["parameters.gae_lambda", "1.5"]),
    ("unknown schedule part", {"parameters": {"policy_lr.strat": LR_VALUES}}, [], ["parameters.policy_lr.strat", "strat"]),
    ("dotted part of a plain-number field", {"parameters": {"n_epochs.start": {"values": [2, 4]}}}, [],
     ["parameters.n_epochs.start", "not a schedule"]),
    ("${args} in the command",
     {"command": ["${env}", "${interpreter}", "${program}", "CartPole-v1:ppo", "${args}"]}, [], ["command", "${args}"]),
    ("missing metric", {"metric": None}, [], ["metric: missing"]),
    ("missing command", {"command": None}, [], ["command:", "${program}"]),
    ("unknown top-level key", {"early_terminat": {"type": "hyperband"}}, [], ["early_terminat", "did you mean 'early_terminate'"]),
    ("unknown method", {"method": "hyperband"}, [], ["method", "hyperband"]),
    ("--set of a swept field", {}, ["--set", "policy_lr.start=0.005"], ["--set policy_lr.start=0.005", "contradicts"]),
]  # fmt: skip


@pytest.mark.e2e
@pytest.mark.parametrize(("change", "args", "fragments"), [case[1:] for case in MISTAKES], ids=[c[0] for c in MISTAKES])
def test_spec_mistake_is_one_error_line_exit_2_and_nothing_created(
    change: dict[str, Any], args: list[str], fragments: list[str], tmp_path: Path, make_spec, save_spec, run_cli
) -> None:
    spec = make_spec({"policy_lr.start": LR_VALUES, "max_timesteps": {"value": 1000}})
    spec.update(change)
    spec = {key: value for key, value in spec.items() if value is not None}
    path = save_spec(tmp_path / "spec.yaml", spec)
    runs = tmp_path / "runs"
    done = run_cli(["scripts/sweep.py", str(path), *args], runs)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: {path}: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert not runs.exists()


@pytest.mark.e2e
def test_spec_with_several_mistakes_reports_each_on_its_own_line(tmp_path: Path, make_spec, save_spec, run_cli) -> None:
    metric = {"name": "val/roll/ep_rew/best", "goal": "maximise"}
    spec = make_spec({"n_epochs": 4, "policy_lr.start": LR_VALUES}, metric=metric)
    spec["paramters"] = {}
    path = save_spec(tmp_path / "spec.yaml", spec)
    done = run_cli(["scripts/sweep.py", str(path)], tmp_path / "runs")
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 3, done.stderr
    assert all(line.startswith(f"error: {path}: ") for line in lines)
    assert "did you mean 'parameters'" in lines[0]
    assert "metric.goal: 'maximise'" in lines[1]
    assert "parameters.n_epochs: 4 is a bare value" in lines[2]
    assert not (tmp_path / "runs").exists()


def test_parse_spec_collects_every_problem_in_lines() -> None:
    spec = {"program": "run.py", "method": "grid", "parameters": {"polcy_lr": LR_VALUES}}
    with pytest.raises(SweepSpecError) as caught:
        parse_spec(spec, where="s.yaml")
    lines = caught.value.lines
    assert [line.split(": ")[1] for line in lines] == ["metric", "program", "command"]
    assert all(line.startswith("s.yaml: ") and "\n" not in line for line in lines)


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_spec_is_a_plain_wandb_sweep_config_that_validates(path: Path) -> None:
    from wandb.sdk.launch.sweeps.utils import load_sweep_config

    raw = load_sweep_config(str(path))  # read as `wandb sweep SPEC` reads it
    assert isinstance(raw, dict)
    assert set(raw) <= WANDB_TOP_KEYS
    assert raw["program"] == "train.py"
    assert raw["method"] in ("grid", "random", "bayes")
    assert set(raw["metric"]) == {"name", "goal"}
    for name, entry in raw["parameters"].items():
        assert isinstance(entry, dict), name
        assert set(entry) <= WANDB_PARAM_KEYS, name
    # The agent replaces ${env}, ${interpreter} and ${program}; what is left is a train.py command line.
    macros = {"${env}": "/usr/bin/env", "${interpreter}": "python", "${program}": raw["program"]}
    command = [macros.get(token, token) for token in raw["command"]]
    assert command[:3] == ["/usr/bin/env", "python", "train.py"]
    assert not any("${" in token for token in command)
    from train import build_parser

    args = build_parser().parse_args(command[3:])
    assert ":" in args.config
    spec = load_spec(path)  # the local backend's checks: every value each parameter can take is a valid config
    assert spec.config_id == args.config
    assert parse_spec(raw, local=False).params.keys() == spec.params.keys()


@pytest.mark.parametrize("path", [p for p in SHIPPED if "grid" in p.name], ids=lambda p: p.name)
def test_shipped_grid_spec_has_one_trial_per_combination(path: Path) -> None:
    raw = yaml.safe_load(path.read_text())
    combinations = math.prod(len(entry.get("values", [None])) for entry in raw["parameters"].values())
    assert combinations > 1
    assert load_spec(path).grid_size() == combinations


def test_grid_visits_every_combination_last_parameter_fastest(make_spec) -> None:
    spec = parse_spec(
        make_spec({"n_epochs": {"values": [2, 4]}, "max_timesteps": {"value": 1000}, "policy_lr.start": LR_VALUES})
    )
    source = GridSource(spec)
    points = [source.propose(trial).params for trial in range(spec.grid_size())]
    assert [(p["n_epochs"], p["policy_lr.start"]) for p in points] == [(2, 0.003), (2, 0.001), (4, 0.003), (4, 0.001)]
    assert all(p["max_timesteps"] == 1000 for p in points)


def test_grid_of_int_and_q_uniform_ranges_lists_each_step(make_spec) -> None:
    spec = parse_spec(
        make_spec(
            {
                "n_epochs": {"distribution": "int_uniform", "min": 2, "max": 4},
                "gae_lambda": {"distribution": "q_uniform", "min": 0.9, "max": 0.95, "q": 0.025},
            }
        )
    )
    assert spec.grid_size() == 9
    source = GridSource(spec)
    points = {(p["n_epochs"], p["gae_lambda"]) for p in (source.propose(i).params for i in range(9))}
    assert points == {(e, g) for e in (2, 3, 4) for g in (0.9, 0.925, 0.95)}


RANDOM_PARAMS = {
    "n_epochs": {"distribution": "int_uniform", "min": 2, "max": 6},
    "gae_lambda": {"distribution": "uniform", "min": 0.8, "max": 0.99},
    "policy_lr.start": {"distribution": "log_uniform_values", "min": 1e-4, "max": 5e-3},
    "clip_range.start": {"distribution": "log_uniform", "min": math.log(0.05), "max": math.log(0.3)},
    "vf_coef": {"distribution": "q_uniform", "min": 0.25, "max": 1.0, "q": 0.25},
    "ent_coef": {"values": [0.0, 0.01]},
}


def test_random_draws_stay_in_their_ranges_and_repeat_for_a_trial_number(make_spec) -> None:
    spec = parse_spec(make_spec(RANDOM_PARAMS, method="random"))
    draws = [RandomSource(spec, seed=5).propose(trial).params for trial in range(60)]
    for values in draws:
        assert isinstance(values["n_epochs"], int) and 2 <= values["n_epochs"] <= 6
        assert 0.8 <= values["gae_lambda"] <= 0.99
        assert 1e-4 <= values["policy_lr.start"] <= 5e-3
        assert 0.05 <= values["clip_range.start"] <= 0.3  # log_uniform: exponents in, real values out
        assert values["vf_coef"] in (0.25, 0.5, 0.75, 1.0)
        assert values["ent_coef"] in (0.0, 0.01)
    assert {v["n_epochs"] for v in draws} == {2, 3, 4, 5, 6}
    # log-uniform: about as many draws below the geometric middle as above it
    below = sum(v["policy_lr.start"] < math.sqrt(1e-4 * 5e-3) for v in draws)
    assert 15 <= below <= 45
    # a resumed sweep continues the same sequence: trial n gets the same values from a fresh source
    assert RandomSource(spec, seed=5).propose(17).params == draws[17]
    assert RandomSource(spec, seed=6).propose(17).params != draws[17]


@pytest.mark.parametrize(
    "entry",
    [
        {"distribution": "normal", "mu": 0.9, "sigma": 0.02},
        {"distribution": "beta", "a": 9, "b": 1},
        {"distribution": "inv_log_uniform_values", "min": 0.85, "max": 0.99},
    ],
    ids=["normal", "beta", "inv_log_uniform_values"],
)
def test_wandb_only_distribution_is_refused_locally_and_accepted_for_wandb(entry: dict[str, Any], make_spec) -> None:
    spec = make_spec({"gae_lambda": entry}, method="random")
    with pytest.raises(SweepSpecError) as caught:
        parse_spec(spec)
    assert len(caught.value.lines) == 1
    assert "parameters.gae_lambda" in caught.value.lines[0] and "--backend wandb" in caught.value.lines[0]
    assert parse_spec(spec, local=False).params["gae_lambda"].distribution == entry["distribution"]


def test_wandb_exponent_distributions_are_checked_as_the_values_they_give(make_spec) -> None:
    exponents = {"distribution": "q_log_uniform", "min": math.log(1e-4), "max": math.log(1e-2), "q": 1e-5}
    assert parse_spec(make_spec({"policy_lr.start": exponents}, method="random"), local=False)
    too_big = {"distribution": "inv_log_uniform", "min": -1.0, "max": 2.0}  # values exp(-2) .. exp(1) = 2.7
    with pytest.raises(SweepSpecError) as caught:
        parse_spec(make_spec({"gae_lambda": too_big}, method="random"), local=False)
    assert "parameters.gae_lambda: value 2.718" in caught.value.lines[0]


def test_cli_set_values_join_the_command_sets_for_every_trial(tmp_path: Path, make_spec, save_spec) -> None:
    path = save_spec(tmp_path / "spec.yaml", make_spec({"policy_lr.start": LR_VALUES}, sets=["eval_episodes=2"]))
    spec = load_spec(path, {"n_envs": 4, "batch_size": 64})
    assert spec.overrides == {"eval_episodes": 2, "n_envs": 4, "batch_size": 64}
    settings = spec.base_settings()
    assert (settings["n_envs"], settings["batch_size"], settings["eval_episodes"]) == (4, 64, 2)


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("val/roll/ep_rew/bset", "did you mean 'val/roll/ep_rew/best'"),
        ("episode_reward", "is not a metric training logs"),
    ],
)
def test_a_metric_training_never_logs_is_refused_before_any_trial(name: str, fragment: str, make_spec) -> None:
    spec = make_spec({"policy_lr.start": LR_VALUES}, metric={"name": name, "goal": "maximize"})
    with pytest.raises(SweepSpecError) as caught:
        parse_spec(spec)
    assert len(caught.value.lines) == 1
    assert f"metric.name: '{name}'" in caught.value.lines[0] and fragment in caught.value.lines[0]


def test_invalid_yaml_is_one_line_naming_the_line_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("method: grid\ncommand: [${env}, ${interpreter}, ${program}, CartPole-v1:ppo]\n")
    with pytest.raises(ConfigError) as caught:
        load_spec(path)
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith(f"sweep spec {path} line 2: invalid YAML")
    assert "write ${...} command items as a block list" in text


def test_cli_set_replaces_a_fixed_parameter_for_every_trial_and_for_wandb(tmp_path: Path, make_spec, save_spec) -> None:
    fixed = {"max_timesteps": {"value": 20000}, "policy_lr.start": LR_VALUES}
    path = save_spec(tmp_path / "spec.yaml", make_spec(fixed))
    spec = load_spec(path, {"max_timesteps": 3000})
    assert spec.fixed["max_timesteps"] == 3000
    assert all(spec.grid_point(i)["max_timesteps"] == 3000 for i in range(spec.grid_size()))
    assert spec.raw["parameters"]["max_timesteps"] == {"value": 3000}  # what W&B's server would hand out
    assert "max_timesteps" not in spec.overrides
    assert yaml.safe_load(path.read_text())["parameters"]["max_timesteps"] == {"value": 20000}  # the file is kept
