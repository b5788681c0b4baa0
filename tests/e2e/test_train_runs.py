"""Real training runs through train.py: learning, run layout, resume, kill and Ctrl-C."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from cli_runner import REPO, cli_env, last_run, run_cli
from safetensors.torch import load_file

pytestmark = pytest.mark.slow  # every test here trains through train.py in a subprocess

# Constant hyperparameters so that a run extended by --resume follows the same schedule as a straight run.
CONSTANT_PPO = ["--set", "policy_lr=0.001", "--set", "clip_range=0.2", "--set", "early_stop=false"]


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def eval_means(run: Path) -> list[float]:
    return [float(r["val/roll/ep_rew/mean"]) for r in read_rows(run / "metrics.csv") if r.get("val/roll/ep_rew/mean")]


@pytest.mark.e2e
def test_cartpole_ppo_reaches_475_over_20_deterministic_episodes(runs_dir: Path) -> None:
    result = run_cli(["train.py", "CartPole-v1:ppo", "-q", "--seed", "0"], runs_dir)
    assert result.returncode == 0, result.stderr[-2000:]
    run = last_run(runs_dir)
    config = json.loads((run / "config.json").read_text())
    assert config["eval_episodes"] >= 20 and config["eval_deterministic"] is True
    assert max(eval_means(run)) >= 475.0
    for name in ("config.json", "metrics.csv", "report.md", "learning_curve.png", "logs/train.log"):
        assert (run / name).is_file(), name
    for alias in ("best", "last"):
        checkpoint = run / "checkpoints" / alias
        assert checkpoint.is_symlink() and (checkpoint / "policy.safetensors").is_file()
    report = (run / "report.md").read_text()
    assert "solved" in report and "learning_curve.png" in report


@pytest.mark.e2e
def test_resume_continues_with_identical_weights_and_metrics(runs_dir: Path) -> None:
    # eval_freq 8192: both runs evaluate at the same steps (the half run also evaluates at its end, 8192).
    common = ["CartPole-v1:ppo", "-q", "--seed", "5", "--set", "vectorization_mode=sync", "--set", "eval_freq=8192"]
    common += CONSTANT_PPO
    straight = run_cli(["train.py", *common, "--max-timesteps", "16384"], runs_dir)
    assert straight.returncode == 0, straight.stderr[-2000:]
    straight_run = last_run(runs_dir)
    half = run_cli(["train.py", *common, "--max-timesteps", "8192"], runs_dir)
    assert half.returncode == 0, half.stderr[-2000:]
    resumed = run_cli(["train.py", "--resume", "@last", "-q", "--max-timesteps", "16384"], runs_dir)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    resumed_run = last_run(runs_dir)
    assert resumed_run != straight_run

    weights_a = load_file(straight_run / "checkpoints/last/policy.safetensors")
    weights_b = load_file(resumed_run / "checkpoints/last/policy.safetensors")
    assert weights_a.keys() == weights_b.keys()
    assert all(torch.equal(weights_a[k], weights_b[k]) for k in weights_a)

    rows_a, rows_b = read_rows(straight_run / "metrics.csv"), read_rows(resumed_run / "metrics.csv")
    assert len(rows_a) == len(rows_b) == 16384 // 128  # one row per rollout of 8 envs x 16 steps
    # Wall-clock metrics (speed, video render/encode timings) differ between any two runs; everything else must not.
    timing = ("train/time/", "val/video/")
    for row_a, row_b in zip(rows_a, rows_b, strict=True):
        learned_a = {k: v for k, v in row_a.items() if v != "" and not k.startswith(timing)}
        learned_b = {k: v for k, v in row_b.items() if v != "" and not k.startswith(timing)}
        assert learned_a == learned_b, row_a["train/cnt/epoch"]


@pytest.mark.e2e
def test_sigkill_leaves_loadable_last_checkpoint_that_resumes(runs_dir: Path) -> None:
    args = [
        sys.executable,
        "train.py",
        "CartPole-v1:ppo",
        "-q",
        "--set",
        "checkpoint_freq=2048",
        "--set",
        "early_stop=false",
    ]
    process = subprocess.Popen([*args, "--max-timesteps", "1e6"], cwd=REPO, env=cli_env(runs_dir),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    last = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(0.5)
        if (runs_dir / "@last").exists():
            candidate = last_run(runs_dir) / "checkpoints" / "last"
            if candidate.exists() and "step=00" in candidate.resolve().name:
                steps = int(candidate.resolve().name.split("step=")[1])
                if steps >= 8192:
                    last = candidate
                    break
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert last is not None, "no checkpoint appeared before the deadline"
    assert (last / "policy.safetensors").is_file() and (last / "state.json").is_file()
    killed_at = json.loads((last / "state.json").read_text())["timesteps"]

    resumed = run_cli(["train.py", "--resume", "@last", "-q", "--max-timesteps", str(killed_at + 4096)], runs_dir)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    state = json.loads((last_run(runs_dir) / "checkpoints/last/state.json").read_text())
    assert state["timesteps"] >= killed_at + 4096


@pytest.mark.e2e
def test_ctrl_c_saves_last_and_exits_cleanly(runs_dir: Path) -> None:
    args = [sys.executable, "train.py", "CartPole-v1:ppo", "-q", "--set", "early_stop=false", "--max-timesteps", "1e6"]
    process = subprocess.Popen(args, cwd=REPO, env=cli_env(runs_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (runs_dir / "@last").exists():
        time.sleep(0.2)
    time.sleep(3)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr
    run = last_run(runs_dir)
    state = json.loads((run / "checkpoints/last/state.json").read_text())
    assert 0 < state["timesteps"] < 1_000_000
    assert "stopped by Ctrl-C" in (run / "report.md").read_text()


@pytest.mark.e2e
def test_debugger_forces_one_sync_env_and_compatible_batch(runs_dir: Path) -> None:
    code = (
        "import sys, types; sys.modules['pydevd'] = types.ModuleType('pydevd'); import train; "
        "sys.exit(train.main(['CartPole-v1:ppo', '-q', '--max-timesteps', '256']))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=cli_env(runs_dir), capture_output=True,
                            text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    config = json.loads((last_run(runs_dir) / "config.json").read_text())
    assert config["n_envs"] == 1 and config["vectorization_mode"] == "sync"
    assert config["n_steps"] % config["batch_size"] == 0
    assert "debugger attached" in result.stderr
