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
    "resume with env given": (["CartPole-v1:ppo", "--resume", "@last"], "drop the <env>:<variant>"),
    "unknown flag": (["CartPole-v1:ppo", "--bogus"], "unrecognized arguments: --bogus; see python train.py --help"),
    # numbers that make no sense as hyperparameters
    "infinite learning rate": (
        ["CartPole-v1:ppo", "--set", "policy_lr=inf"],
        "policy_lr: 'inf' is not a finite number",
    ),
    "infinite coefficient": (["CartPole-v1:ppo", "--set", "ent_coef=.inf"], "ent_coef: inf is not a finite number"),
    "infinite schedule end": (
        ["CartPole-v1:ppo", "--set", "policy_lr={start: 1e-3, end: .inf}"],
        "policy_lr: schedule 'end' must be a finite number",
    ),
    "nan schedule start": (
        ["CartPole-v1:ppo", "--set", "policy_lr={start: .nan, end: 0}"],
        "policy_lr: schedule 'start' must be a finite number",
    ),
    "schedule from after to": (
        ["CartPole-v1:ppo", "--set", "clip_range={start: 0.2, end: 0, from: 0.8, to: 0.2}"],
        "clip_range: schedule 'from' (0.8) is after 'to' (0.2)",
    ),
    "schedule from fraction after absolute to": (
        ["CartPole-v1:ppo", "--set", "clip_range={start: 0.2, end: 0, from: 0.5, to: 5000}"],
        "clip_range: schedule 'from: 0.5' (step 50000) is after 'to: 5000' (step 5000)",
    ),
    "seed whose eval seeds overflow": (
        ["CartPole-v1:ppo", "--seed", "2e13"],
        "seed: 20000000000000 is too large; it must be between 0 and 1000000000000",
    ),
    "seed beyond 2**63": (["CartPole-v1:ppo", "--seed", "1e20"], "must be between 0 and 1000000000000"),
    "infinite seed": (["CartPole-v1:ppo", "--seed", "inf"], "seed: inf is not a finite number"),
    "negative seed": (["CartPole-v1:ppo", "--seed", "-5"], "seed: -5 is too small"),
    "eval seed beyond 2**62": (
        ["CartPole-v1:ppo", "--set", "eval_seed=1e19"],
        "eval_seed: 10000000000000000000 is too large; it must be between 0 and 4611686018427387904",
    ),
    "rollout far over the budget": (
        ["CartPole-v1:ppo", "--set", "n_envs=100000", "--max-timesteps", "2000"],
        "one rollout (n_envs * n_steps = 100000 * 16) is 1600000 steps but max_timesteps is 2000; lower n_envs/n_steps",
    ),
    "obs_type on a non-Atari env": (
        ["CartPole-v1:ppo", "--set", "obs_type=ram"],
        "obs_type: ram applies only to Atari envs (ALE/...), not CartPole-v1; remove obs_type",
    ),
}
# Found only once train.py imports torch and the env families, or builds the env (before the run directory):
# 2-7 s each, so they are in the slow tier.
BAD_INPUTS_FOUND_LATE = {
    "unknown wrapper": (["CartPole-v1:ppo", "--set", "env_wrappers=[{id: NoSuchWrapper}]"], "NoSuchWrapper"),
    "unregistered env id": (["CartPole-v1:ppo", "--set", "env_id=CartPole-v9"], "not a registered"),
    "resume of unknown run": (["--resume", "nosuchrun"], "no run 'nosuchrun'"),
    # wrappers and env kwargs that do not fit the env (found while the env is built)
    "wrapper kwarg of the wrong type": (
        ["CartPole-v1:ppo", "--set", "env_wrappers=[{id: DiscreteActionSpaceRemapperWrapper, mapping: 3}]"],
        "'mapping' must be of type list[int], got 3",
    ),
    "wrapper kwarg it does not take": (
        ["CartPole-v1:ppo", "--set", "env_wrappers=[{id: CartPoleV1_RewardShaper, angle: 2}]"],
        "does not accept 'angle'",
    ),
    "remapped action outside the action space": (
        ["CartPole-v1:ppo", "--set", "env_wrappers=[{id: DiscreteActionSpaceRemapperWrapper, mapping: [0, 5]}]"],
        "mapping[1] = 5 is not an env action (valid: 0..1)",
    ),
    "image wrapper on vector observations": (
        ["CartPole-v1:ppo", "--set", "env_wrappers=[{id: ResizeObservation, shape: [32, 32]}]"],
        "ResizeObservation needs image observations (H x W or H x W x C), but CartPole-v1 observes shape (4,)",
    ),
    "grayscale on vector observations": (
        ["CartPole-v1:ppo", "--set", "env_wrappers=[{id: GrayscaleObservation}]"],
        "GrayscaleObservation needs RGB image observations",
    ),
    "reward shaper of another env": (
        ["CartPole-v1:ppo", "--set", "env_wrappers=[{id: MountainCarV0_RewardShaper}]"],
        "MountainCarV0_RewardShaper is written for MountainCar-v0, not CartPole-v1",
    ),
    "vizdoom shaper on another env": (
        ["CartPole-v1:ppo", "--set", "env_wrappers=[{id: VizDoom_RewardShaper}]"],
        "VizDoom_RewardShaper is written for VizDoom envs",
    ),
    "render mode of the wrong type": (
        ["CartPole-v1:ppo", "--set", "env_kwargs={render_mode: 7}"],
        "env_kwargs: render_mode 7 is not a render mode of CartPole-v1; use one of human, rgb_array",
    ),
    "env kwarg the env does not take": (
        ["CartPole-v1:ppo", "--set", "env_kwargs={foo: 1}"],
        "env_kwargs: CartPole-v1 does not take 'foo'",
    ),
}


@pytest.mark.e2e
@pytest.mark.parametrize(
    "case", [*BAD_INPUTS, *(pytest.param(case, marks=pytest.mark.slow) for case in BAD_INPUTS_FOUND_LATE)]
)
def test_bad_input_gives_one_line_error_and_no_run(case: str, tmp_path: Path) -> None:
    args, expected = {**BAD_INPUTS, **BAD_INPUTS_FOUND_LATE}[case]
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


@pytest.mark.slow
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


@pytest.mark.slow
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
