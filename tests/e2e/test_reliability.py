"""Faults injected into real train.py runs: divergence, signals, a second writer, damaged or leftover
checkpoints, failed resumes, and rows written after a checkpoint. Each asserts the exit status, the
one error line, and what is left on disk."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from cli_runner import REPO, cli_env, last_run, run_cli
from run_files import checkpoint_state, episode_rows, epochs, snapshot
from safetensors.torch import load_file

from utils.checkpoints import write_manifest

pytestmark = pytest.mark.slow  # every test here trains through train.py in a subprocess

SHORT = ["CartPole-v1:ppo", "-q", "--video", "off", "--set", "early_stop=false", "--set", "checkpoint_freq=1024"]
SHORT += ["--set", "eval_freq=1024", "--set", "eval_episodes=4", "--set", "keep_checkpoints=10"]
ROLLOUT = 128  # CartPole-v1:ppo: 8 envs x 16 steps


def train(runs: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return run_cli(["train.py", *args], runs, timeout=timeout)


def short_run(runs: Path, steps: int = 4096, *extra: str) -> Path:
    result = train(runs, *SHORT, "--max-timesteps", str(steps), *extra)
    assert result.returncode == 0, result.stderr[-2000:]
    return last_run(runs)


def one_error_line(result: subprocess.CompletedProcess) -> str:
    lines = [line for line in result.stderr.strip().splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return lines[0]


def finite_weights(checkpoint: Path) -> bool:
    return all(bool(torch.isfinite(t).all()) for t in load_file(checkpoint / "policy.safetensors").values())


def start(runs: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "train.py", *args], cwd=REPO, env=cli_env(runs), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip


def wait_for_checkpoint(runs: Path, process: subprocess.Popen, min_steps: int = 1, timeout: float = 120) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1][-2000:]
        last = runs / "@last" / "checkpoints" / "last"
        if last.exists():
            try:
                if checkpoint_state(runs / os.readlink(runs / "@last"))["timesteps"] >= min_steps:
                    return last_run(runs)
            except (OSError, ValueError):
                pass
        time.sleep(0.2)
    raise AssertionError("no checkpoint appeared in time")


# --- divergence ---


@pytest.mark.e2e
def test_a_reward_that_overflows_stops_with_an_error_naming_the_metric_and_step(runs_dir: Path) -> None:
    shaper = "env_wrappers=[{id: CartPoleV1_RewardShaper, angle_reward_scale: 1e300}]"
    result = train(runs_dir, *SHORT, "--max-timesteps", "4096", "--set", shaper)
    assert result.returncode == 1, result.stderr[-2000:]
    line = one_error_line(result)
    assert line.startswith("error: training diverged: train/reward is ")
    assert f"at step {ROLLOUT} (update 1)" in line
    run = last_run(runs_dir)
    report = (run / "report.md").read_text()
    assert "diverged: train/reward became" in report and "none (diverged before the first checkpoint)" in report
    assert not (run / "checkpoints" / "last").exists() and not (run / "checkpoints" / "best").exists()


@pytest.mark.e2e
def test_divergence_keeps_best_and_the_last_finite_last(runs_dir: Path) -> None:
    run = short_run(runs_dir, 2048)
    before = snapshot(run / "checkpoints")
    last_name = os.readlink(run / "checkpoints" / "last")
    result = train(runs_dir, "--resume", "@last", "-q", "--max-timesteps", "4096", "--set", "policy_lr=1e38")
    assert result.returncode == 1, result.stderr[-2000:]
    line = one_error_line(result)
    assert line.startswith("error: training diverged: ") and "at step 2" in line  # the first update after 2048
    assert snapshot(run / "checkpoints") == before  # neither best nor last was overwritten
    assert os.readlink(run / "checkpoints" / "last") == last_name
    assert finite_weights(run / "checkpoints" / "last") and finite_weights(run / "checkpoints" / "best")
    assert "diverged:" in (run / "report.md").read_text()
    assert max(epochs(run)) == 2048 // ROLLOUT  # the diverged update logged no row


@pytest.mark.e2e
def test_resume_refuses_a_checkpoint_with_nan_weights(runs_dir: Path) -> None:
    run = short_run(runs_dir, 1024, "--set", "keep_checkpoints=1")
    last = (run / "checkpoints" / "last").resolve()
    for other in (run / "checkpoints").iterdir():
        if other.name.startswith("epoch=") and other != last:
            shutil.rmtree(other)
    (run / "checkpoints" / "best").unlink()
    (run / "checkpoints" / "best").symlink_to(last.name)
    weights = load_file(last / "policy.safetensors")
    next(iter(weights.values()))[0] = float("nan")
    from safetensors.torch import save_file

    save_file(weights, last / "policy.safetensors")
    write_manifest(last)  # a consistent checkpoint, just with NaN in it
    before = snapshot(run)
    result = train(runs_dir, "--resume", "@last", "-q", "--max-timesteps", "4096")
    assert result.returncode == 2
    assert "holds NaN or infinite values" in one_error_line(result)
    assert snapshot(run) == before


# --- signals ---


@pytest.mark.e2e
def test_sigterm_finishes_the_update_saves_last_writes_the_report_and_exits_143(runs_dir: Path) -> None:
    process = start(runs_dir, *SHORT, "--max-timesteps", "1e6", "--video", "best")
    run = wait_for_checkpoint(runs_dir, process, 2048)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr[-2000:]
    assert "Traceback" not in stderr and "SIGTERM: finishing this update" in stderr
    state = checkpoint_state(run)
    assert 2048 <= state["timesteps"] < 1_000_000
    assert max(epochs(run)) == state["updates"]  # the last update is both logged and saved
    assert "stopped by SIGTERM" in (run / "report.md").read_text()


@pytest.mark.e2e
def test_a_second_ctrl_c_aborts_at_once_with_one_line(runs_dir: Path) -> None:
    # one update of 8 x 2048 steps in 64-sample minibatches takes seconds, so both signals land inside it
    slow = ["--set", "n_steps=2048", "--set", "batch_size=64", "--set", "n_epochs=20"]
    process = start(runs_dir, *SHORT, *slow, "--max-timesteps", "1e6")
    run = wait_for_checkpoint(runs_dir, process)
    process.send_signal(signal.SIGINT)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1] == "error: aborted by a second Ctrl-C; the newest 'last' checkpoint is kept"
    assert finite_weights(run / "checkpoints" / "last")


# --- one writer per run ---


@pytest.mark.e2e
def test_a_second_writer_fails_at_once_and_a_killed_writers_lock_is_taken_over(runs_dir: Path) -> None:
    process = start(runs_dir, *SHORT, "--max-timesteps", "1e6")
    run = wait_for_checkpoint(runs_dir, process, 1024)
    try:
        second = train(runs_dir, "--resume", run.name, "-q", "--max-timesteps", "2e6", timeout=60)
        assert second.returncode == 2
        line = one_error_line(second)
        assert line == (
            f"error: run {run.name} is being written by another process (pid {process.pid}); "
            "wait for it to finish or stop it, then retry"
        )
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate()
    killed_at = checkpoint_state(run)["timesteps"]
    third = train(runs_dir, "--resume", run.name, "-q", "--max-timesteps", str(killed_at + 1024))
    assert third.returncode == 0, third.stderr[-2000:]
    assert f"resume: took over the lock of pid {process.pid}, which stopped without releasing it" in third.stderr
    fourth = train(runs_dir, "--resume", run.name, "-q", "--max-timesteps", str(killed_at + 2048))
    assert fourth.returncode == 0 and "took over the lock" not in fourth.stderr  # a clean exit releases it
    assert checkpoint_state(run)["timesteps"] == killed_at + 2048
    assert epochs(run) == list(range(1, (killed_at + 2048) // ROLLOUT + 1))  # continuous, no duplicates


# --- checkpoints: leftovers, damage, fallback ---


@pytest.mark.e2e
def test_a_leftover_checkpoint_directory_is_never_adopted(runs_dir: Path) -> None:
    run = short_run(runs_dir, 2048)
    last = (run / "checkpoints" / "last").resolve()
    future = run / "checkpoints" / f"epoch={2048 // ROLLOUT + 8:04d}-step={2048 + 8 * ROLLOUT:07d}"
    shutil.copytree(last, future)  # what a killed run might leave: a complete directory of a step to come
    (future / "leftover.txt").write_text("from a killed run")
    result = train(runs_dir, "--resume", "@last", "-q", "--max-timesteps", "4096")
    assert result.returncode == 0, result.stderr[-2000:]
    assert not (future / "leftover.txt").exists()
    assert checkpoint_state(run)["timesteps"] == 4096
    assert epochs(run) == list(range(1, 4096 // ROLLOUT + 1))


@pytest.fixture(scope="module")
def finished_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A runs folder holding one 3072-step run, to be copied by each test that damages it."""
    runs = tmp_path_factory.mktemp("finished") / "runs"
    short_run(runs, 3072)
    return runs


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("name", "damage"),
    [
        *(
            (name, "truncate")
            for name in (
                "policy.safetensors",
                "policy.json",
                "normalization.npz",
                "optimizer.pt",
                "resume.npz",
                "state.json",
            )
        ),
        ("policy.safetensors", "garbage"),
        ("resume.npz", "garbage"),
        ("config.json", "truncate"),
        ("optimizer.pt", "delete"),  # a missing optimizer is damage, never a silent fresh optimizer
    ],
)
def test_a_damaged_last_checkpoint_falls_back_to_the_newest_intact_one(
    finished_runs: Path, runs_dir: Path, name: str, damage: str
) -> None:
    shutil.copytree(finished_runs, runs_dir, symlinks=True)
    run = last_run(runs_dir)
    last = (run / "checkpoints" / "last").resolve()
    target = last / name
    if damage == "truncate":
        target.write_bytes(target.read_bytes()[:10])
    elif damage == "garbage":
        target.write_bytes(os.urandom(target.stat().st_size))
    else:
        target.unlink()
    result = train(runs_dir, "--resume", "@last", "-q", "--max-timesteps", "4096")
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"resume: checkpoint {last.name}: {name}" in result.stderr
    assert "resume: continuing from checkpoint epoch=0016-step=0002048" in result.stderr
    assert checkpoint_state(run)["timesteps"] == 4096
    assert epochs(run) == list(range(1, 4096 // ROLLOUT + 1))
    evals = [row["eval"] for row in episode_rows(run) if row["episode"] == 0]
    assert evals == list(range(len(evals))) and len(evals) == 4


@pytest.mark.e2e
def test_a_user_folder_in_checkpoints_survives_training_and_resume(runs_dir: Path) -> None:
    run = short_run(runs_dir, 2048, "--set", "keep_checkpoints=1")
    mine = run / "checkpoints" / "keep-this"
    shutil.copytree((run / "checkpoints" / "best").resolve(), mine)
    result = train(runs_dir, "--resume", "@last", "-q", "--max-timesteps", "4096")
    assert result.returncode == 0, result.stderr[-2000:]
    assert (mine / "policy.safetensors").is_file()
    own = sorted(p.name for p in (run / "checkpoints").iterdir() if p.name.startswith("epoch="))
    assert len(own) <= 2  # the newest one, plus best when it is older


# --- a failed resume changes nothing ---


FAILED_RESUMES = {
    "invalid override": (["--set", "policy_lr=-1"], "policy_lr"),
    "budget already reached": (["--max-timesteps", "1024"], "already trained 2048 of its 1024 steps"),
    "no budget left": ([], "already trained 2048 of its 2048 steps"),
    "shape field": (["--set", "hidden_dims=[8]"], "hidden_dims cannot change"),
}


@pytest.mark.e2e
@pytest.mark.parametrize("case", list(FAILED_RESUMES))
def test_a_failed_resume_changes_nothing(runs_dir: Path, case: str) -> None:
    args, expected = FAILED_RESUMES[case]
    run = short_run(runs_dir, 2048)
    before = snapshot(runs_dir)
    result = train(runs_dir, "--resume", "@last", "-q", *args)
    assert result.returncode == 2
    assert expected in one_error_line(result)
    assert snapshot(runs_dir) == before, run


@pytest.mark.e2e
def test_a_dangling_best_link_is_repaired_from_the_checkpoints_record(runs_dir: Path) -> None:
    run = short_run(runs_dir, 2048)
    best = run / "checkpoints" / "best"
    recorded = checkpoint_state(run)["best_checkpoint"]
    assert os.readlink(best) == recorded
    best.unlink()
    best.symlink_to("epoch=9999-step=9999999")
    result = train(runs_dir, "--resume", "@last", "-q", "--max-timesteps", "3072")
    assert result.returncode == 0, result.stderr[-2000:]
    assert (best / "policy.safetensors").is_file()
    assert os.readlink(best) in (recorded, checkpoint_state(run)["best_checkpoint"])


@pytest.mark.e2e
def test_a_dangling_best_link_without_a_record_fails_before_anything_changes(runs_dir: Path) -> None:
    run = short_run(runs_dir, 2048)
    last = (run / "checkpoints" / "last").resolve()
    state = json.loads((last / "state.json").read_text())
    state["best_checkpoint"] = "epoch=9999-step=9999999"
    (last / "state.json").write_text(json.dumps(state))
    write_manifest(last)
    best = run / "checkpoints" / "best"
    best.unlink()
    best.symlink_to("epoch=9999-step=9999999")
    before = snapshot(runs_dir)
    result = train(runs_dir, "--resume", "@last", "-q", "--max-timesteps", "3072")
    assert result.returncode == 2
    assert "checkpoints/best points at 'epoch=9999-step=9999999', which is missing" in one_error_line(result)
    assert snapshot(runs_dir) == before


@pytest.mark.e2e
def test_a_missing_metrics_csv_does_not_block_resume(runs_dir: Path) -> None:
    run = short_run(runs_dir, 2048)
    (run / "metrics.csv").unlink()
    result = train(runs_dir, "--resume", "@last", "-q", "--max-timesteps", "3072")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "resume: metrics.csv is missing" in result.stderr
    assert epochs(run) == list(range(2048 // ROLLOUT + 1, 3072 // ROLLOUT + 1))


# --- rows written after the checkpoint a resume continues from ---


@pytest.mark.e2e
def test_rows_after_the_resumed_checkpoint_are_trimmed_not_duplicated(runs_dir: Path) -> None:
    run = short_run(runs_dir, 4096)
    # as if killed after evaluations and rows of steps 2048-4096 were written but their checkpoints were not
    older = run / "checkpoints" / f"epoch={2048 // ROLLOUT:04d}-step=0002048"
    assert older.is_dir()
    (run / "checkpoints" / "last").unlink()
    (run / "checkpoints" / "last").symlink_to(older.name)
    result = train(runs_dir, "--resume", "@last", "-q", "--max-timesteps", "4096")
    assert result.returncode == 0, result.stderr[-2000:]
    assert epochs(run) == list(range(1, 4096 // ROLLOUT + 1))
    rows = episode_rows(run)
    evals = [row["eval"] for row in rows if row["episode"] == 0]
    assert evals == list(range(4)), evals
    assert [row["timesteps"] for row in rows if row["episode"] == 0] == [1024, 2048, 3072, 4096]


# --- the run directory ---


@pytest.mark.e2e
def test_every_file_of_a_run_has_the_same_permissions(runs_dir: Path) -> None:
    run = short_run(runs_dir, 1024, "--video", "best")
    modes = {
        str(path.relative_to(run)): stat.S_IMODE(path.stat().st_mode)
        for path in run.rglob("*")
        if path.is_file() and not path.is_symlink()
    }
    assert "checkpoints/last/policy.safetensors" not in modes  # through the link: counted once, below
    assert any(name.endswith("policy.safetensors") for name in modes) and "metrics.csv" in modes
    assert len(set(modes.values())) == 1, modes
