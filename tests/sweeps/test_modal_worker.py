"""Modal sweep workers without Modal: the app module's import, job planning, a worker training into a folder that
stands in for the volume, a preempted worker's retry resuming its trial from 'last', and the fetch."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from fake_volume import FakeVolume

from sweeps.modal_fetch import fetch_sweep
from sweeps.modal_jobs import WorkerJob, call_timeout, plan_jobs
from sweeps.modal_worker import run_worker
from sweeps.spec import load_spec
from utils.config_values import ConfigError
from utils.runs import RunDir, list_runs

REPO = Path(__file__).resolve().parents[2]
MakeSpec = Callable[..., dict[str, Any]]
SaveSpec = Callable[[Path, Mapping[str, Any]], Path]
METRIC = "val/roll/ep_rew/best"
# Tiny CartPole trials: evaluated, checkpointed every 1024 steps, nothing written outside the run.
TINY = {"eval_freq": 1024, "eval_episodes": 2, "video": "off", "wandb": "off", "checkpoint_freq": 1024}


GRID = {  # 5 x 2 grid points
    "max_timesteps": {"value": 2048},
    "policy_lr.start": {"values": [0.003, 0.002, 0.001, 0.0005, 0.0003]},
    "n_epochs": {"values": [5, 10]},
}


def tiny_job(sweep_id: str, params: dict[str, object], **extra: object) -> WorkerJob:
    """Worker 0 of a one-trial local-backend sweep."""
    return WorkerJob(
        sweep_id=sweep_id, worker=0, backend="local", config_id="CartPole-v1:ppo", metric=METRIC, goal="maximize",
        method="grid", total=1, spec_text="# spec\n", overrides={**TINY, **extra}, trials=[{"trial": 0, "params": params}],
    )  # fmt: skip


def test_app_module_imports_without_network_or_token(tmp_path: Path) -> None:
    """Importing the app needs no token, no ~/.modal.toml and no server (an unreachable one is set)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODAL_")}
    env.update({"HOME": str(tmp_path), "MODAL_SERVER_URL": "http://127.0.0.1:9", "PYTHONPATH": str(REPO)})
    code = "import sweeps.modal_app as m; print(m.app.name, repr(m.sweep_worker), m.volume.name)"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["gymnasium-solver-sweeps", "Function(sweep_worker)", "gymnasium-solver-runs"]


def test_plan_jobs_splits_the_count_into_workers(tmp_path: Path, make_spec: MakeSpec, save_spec: SaveSpec) -> None:
    spec = load_spec(save_spec(tmp_path / "grid.yaml", make_spec(GRID)))
    jobs = plan_jobs(spec, "s1", 10, 4, "local", timeout_per_trial=60)
    assert [[t["trial"] for t in job.trials] for job in jobs] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [job.worker for job in jobs] == [0, 1, 2]
    assert jobs[2].trials[1]["params"] == spec.grid_point(9)
    assert WorkerJob.from_dict(json.loads(json.dumps(jobs[1].to_dict()))) == jobs[1]

    wandb_jobs = plan_jobs(spec, "abc", 7, 3, "wandb", sweep_path="me/proj/abc")
    assert [(job.count, job.trials, job.sweep_path) for job in wandb_jobs] == [(3, [], "me/proj/abc")] * 2 + [
        (1, [], "me/proj/abc")
    ]

    random_spec = load_spec(save_spec(tmp_path / "random.yaml", make_spec(GRID, method="random")))
    first, again = (plan_jobs(random_spec, "r", 3, 3, "local", seed=5)[0].trials for _ in range(2))
    assert first == again and len({json.dumps(t["params"]) for t in first}) > 1  # seeded draws, reproducible


def test_bayes_and_overlong_calls_are_refused(tmp_path: Path, make_spec: MakeSpec, save_spec: SaveSpec) -> None:
    parameters = {"policy_lr.start": {"distribution": "log_uniform_values", "min": 0.0001, "max": 0.01}}
    bayes = load_spec(save_spec(tmp_path / "bayes.yaml", make_spec(parameters, method="bayes")))
    with pytest.raises(ConfigError, match="--backend wandb"):
        plan_jobs(bayes, "b", 4, 2, "local")
    assert len(plan_jobs(bayes, "b", 4, 2, "wandb")) == 2
    assert call_timeout(5, 3600) == 5 * 3600 + 600
    with pytest.raises(ConfigError, match="24 h"):
        call_timeout(30, 3600)


@pytest.fixture(scope="module")
def volume(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, object]]]:
    """A folder standing in for the volume, after ``sweep_worker.local`` ran one tiny trial into it."""
    from sweeps import modal_app

    root = tmp_path_factory.mktemp("volume")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GYMSOLVER_RUNS_DIR", str(root))
        with warnings.catch_warnings():  # .local() warns that the volume is not mounted: the folder stands in
            warnings.simplefilter("ignore", UserWarning)
            report = modal_app.sweep_worker.local(tiny_job("vol1", {"max_timesteps": 2048, "n_epochs": 5}).to_dict())
    yield root, report


@pytest.mark.slow
def test_worker_local_trains_a_trial_into_the_volume_folder(volume: tuple[Path, dict[str, object]]) -> None:
    root, report = volume
    state = json.loads((root / "sweeps/vol1/workers/worker-0.json").read_text())
    assert report == state
    (trial,) = state["trials"]
    assert (trial["trial"], trial["status"], state["attempts"]) == (0, "ok", 1)
    assert trial["metric"] is not None
    run = RunDir(root / trial["run_id"])
    assert run.read_config()["sweep"] == {
        "id": "vol1", "trial": 0, "params": {"max_timesteps": 2048, "n_epochs": 5}, "worker": 0,
    }  # fmt: skip
    assert run.metrics_csv.is_file() and (run.checkpoints / "last").is_symlink()
    assert (run.checkpoints / "last" / "policy.safetensors").is_file()
    assert state["links"][f"{run.run_id}/checkpoints/last"] == os.readlink(run.checkpoints / "last")
    assert (root / "sweeps/vol1/spec.yaml").read_text() == "# spec\n"
    assert "$ " in (root / "sweeps/vol1/logs/trial-0.log").read_text()


@pytest.mark.slow
def test_fetch_copies_the_sweeps_runs_and_rebuilds_trials_csv(
    volume: tuple[Path, dict[str, object]], tmp_path: Path
) -> None:
    root, report = volume
    run_id = report["trials"][0]["run_id"]  # type: ignore[index]
    other = root / "20000101-000000-beef"  # another sweep's run: left on the volume
    other.mkdir(exist_ok=True)
    (other / "config.json").write_text(json.dumps({"sweep": {"id": "other", "trial": 0}}))
    local = tmp_path / "runs"
    state = fetch_sweep(FakeVolume(root), "vol1", local)
    assert list_runs(local) == [run_id]
    run = RunDir(local / run_id)
    assert (run.checkpoints / "last").is_symlink() and (run.checkpoints / "last" / "manifest.json").is_file()
    assert (run.path / "metrics.csv").read_bytes() == (root / run_id / "metrics.csv").read_bytes()
    assert not (run.path / ".lock").exists()
    rows = (local / "sweeps/vol1/trials.csv").read_text().splitlines()
    assert rows[1].startswith("0,ok,") and run_id in rows[1]
    assert (local / "sweeps/vol1/best.yaml").is_file() and state.best() is not None
    assert json.loads((local / "sweeps/vol1/sweep.json").read_text())["backend"] == "modal"
    with pytest.raises(ConfigError, match="no sweep 'nope'"):
        fetch_sweep(FakeVolume(root), "nope", local)


DRIVER = """
import json, sys
from pathlib import Path
from sweeps.modal_jobs import WorkerJob
from sweeps.modal_worker import run_worker
run_worker(WorkerJob.from_dict(json.loads(sys.argv[1])), Path(sys.argv[2]), poll_s=0.05)
"""


@pytest.mark.slow
def test_preempted_worker_resumes_its_trial_from_last(tmp_path: Path) -> None:
    """SIGTERM mid-trial: the trial saves 'last', the worker fails; the retry finishes the same run, not a new one."""
    root = tmp_path / "volume"
    job = tiny_job("pre1", {"max_timesteps": 8192}, early_stop=False)  # 64 rollouts of 128 steps
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    worker = subprocess.Popen(
        [sys.executable, "-c", DRIVER, json.dumps(job.to_dict()), str(root)], cwd=REPO, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not any((root / run / "checkpoints/last").exists() for run in list_runs(root)):
        assert worker.poll() is None and time.monotonic() < deadline, "no 'last' checkpoint appeared"
        time.sleep(0.05)
    worker.send_signal(signal.SIGTERM)  # what Modal's preemption notice does (it sends SIGINT)
    _, stderr = worker.communicate(timeout=60)
    assert worker.returncode != 0 and "WorkerInterrupted" in stderr
    state_path = root / "sweeps/pre1/workers/worker-0.json"
    (first,) = json.loads(state_path.read_text())["trials"]
    assert first["status"] == "interrupted" and first["run_id"]

    commits: list[float] = []
    report = run_worker(job, root, commit=lambda: commits.append(time.monotonic()), poll_s=0.05)
    (trial,) = report["trials"]
    assert (trial["status"], trial["run_id"], report["attempts"]) == ("ok", first["run_id"], 2)
    assert list_runs(root) == [first["run_id"]]  # one run directory: resumed, not restarted
    summary = json.loads((root / first["run_id"] / "summary.json").read_text())
    assert summary["timesteps"] == 8192 and summary["status"] in ("finished", "solved")
    commands = [line for line in (root / "sweeps/pre1/logs/trial-0.log").read_text().splitlines() if line[:2] == "$ "]
    assert len(commands) == 2 and commands[1].split()[-3:] == ["--resume", first["run_id"], "--quiet"]
    assert len(commits) >= 3  # at the start, on each new 'last', after the trial


FAKE_AGENT = """
import os, subprocess, sys
from pathlib import Path
sweep_path, folder = sys.argv[1], Path(sys.argv[2])
(folder / "params.yaml").write_text("wandb_version: 1\\nn_epochs:\\n  value: 5\\n")
env = {**os.environ, "WANDB_SWEEP_ID": sweep_path.rsplit("/", 1)[-1], "WANDB_RUN_ID": "agentrun1",
       "WANDB_SWEEP_PARAM_PATH": str(folder / "params.yaml"), "WANDB_MODE": "offline"}
sets = ["max_timesteps=2048", "eval_freq=1024", "eval_episodes=2", "video=off", "wandb=offline", "checkpoint_freq=1024"]
command = [sys.executable, "train.py", "CartPole-v1:ppo", "--quiet", *(a for s in sets for a in ("--set", s))]
sys.exit(subprocess.call(command, env=env, process_group=0))
"""


@pytest.mark.slow
def test_wandb_worker_records_its_agents_trial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """wandb backend: a `wandb agent --count 1` (faked: W&B's server would choose the values) runs train.py in
    sweep mode; the worker finds the run it made and records it under its W&B run id."""
    from sweeps import modal_worker

    script = tmp_path / "agent.py"
    script.write_text(FAKE_AGENT)
    commands: list[tuple[str, int]] = []

    def agent_command(sweep_path: str, count: int) -> list[str]:
        commands.append((sweep_path, count))
        return [sys.executable, str(script), sweep_path, str(tmp_path)]

    monkeypatch.setattr(modal_worker, "agent_command", agent_command)
    job = WorkerJob(
        sweep_id="abc123", worker=1, backend="wandb", config_id="CartPole-v1:ppo", metric=METRIC, goal="maximize",
        method="grid", total=2, count=1, sweep_path="me/proj/abc123",
    )  # fmt: skip
    root = tmp_path / "volume"
    report = run_worker(job, root, poll_s=0.05)
    (trial,) = report["trials"]
    assert (trial["trial"], trial["status"], trial["params"]) == ("agentrun1", "ok", {"n_epochs": 5})
    assert commands == [("me/proj/abc123", 1)]
    config = RunDir(root / trial["run_id"]).read_config()
    assert config["sweep"] == {"id": "abc123", "trial": "agentrun1", "params": {"n_epochs": 5}, "worker": 1}
    assert config["wandb_id"] == "agentrun1"
    assert f"{trial['run_id']}/checkpoints/last" in report["links"]
