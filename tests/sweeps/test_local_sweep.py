"""``scripts/sweep.py`` with the local backend, for real on tiny CartPole budgets: a 2x2 grid two at a time, a
Bayesian sweep with Optuna, and a sweep that is interrupted, has a failing trial, and is resumed."""

from __future__ import annotations

import csv
import itertools
import json
import math
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

REPO = Path(__file__).resolve().parents[2]
METRIC = "val/roll/ep_rew/best"
RUN_FIELDS = ("sweep", "description", "config_id", "wandb_id")  # what differs between a trial and its best.yaml run


@dataclass
class Sweep:
    """One sweep's runs folder, its sweep folder and the CLI calls made on it."""

    runs: Path
    calls: list[subprocess.CompletedProcess]

    @property
    def folder(self) -> Path:
        [folder] = (self.runs / "sweeps").iterdir()
        return folder

    def trials(self) -> list[dict[str, str]]:
        with (self.folder / "trials.csv").open() as handle:
            return list(csv.DictReader(handle))

    def state(self) -> dict[str, Any]:
        return json.loads((self.folder / "sweep.json").read_text())

    def log(self, trial: int) -> str:
        return (self.folder / "logs" / f"trial-{trial}.log").read_text()


def run_dirs(runs: Path) -> list[Path]:
    return sorted(p for p in runs.iterdir() if not p.is_symlink() and (p / "config.json").exists())


def config_of(run: Path) -> dict[str, Any]:
    return json.loads((run / "config.json").read_text())


def last_finite(run: Path, column: str) -> float | None:
    """The last finite value of ``column`` in the run's metrics.csv."""
    value = None
    with (run / "metrics.csv").open() as handle:
        for row in csv.DictReader(handle):
            cell = row.get(column) or ""
            if cell and math.isfinite(float(cell)):
                value = float(cell)
    return value


def trial_run(runs: Path, trial: int) -> Path | None:
    """The run directory of sweep trial ``trial``, once its config.json is complete."""
    for run in run_dirs(runs) if runs.is_dir() else []:
        try:
            if config_of(run)["sweep"].get("trial") == trial:
                return run
        except ValueError:  # being written
            continue
    return None


# --- a 2x2 grid, two trials at a time ---------------------------------------------------------------------------

GRID = {"max_timesteps": {"value": 2000}, "n_epochs": {"values": [2, 4]}, "policy_lr.start": {"values": [0.003, 0.001]}}


@pytest.fixture(scope="module")
def grid_sweep(tmp_path_factory: pytest.TempPathFactory, make_spec, save_spec, run_cli) -> Sweep:
    root = tmp_path_factory.mktemp("grid")
    spec = save_spec(root / "grid.yaml", make_spec(GRID))
    done = run_cli(["scripts/sweep.py", str(spec), "--parallel", "2"], root / "runs")
    assert done.returncode == 0, done.stderr[-3000:]
    return Sweep(root / "runs", [done])


def test_grid_makes_one_run_per_combination_with_the_swept_values(grid_sweep: Sweep) -> None:
    runs = run_dirs(grid_sweep.runs)
    assert len(runs) == 4
    configs = [config_of(run) for run in runs]
    assert sorted((c["n_epochs"], c["policy_lr"]["start"]) for c in configs) == [
        (2, 0.001), (2, 0.003), (4, 0.001), (4, 0.003),
    ]  # fmt: skip
    for config in configs:
        assert config["policy_lr"]["end"] == 0.0 and config["policy_lr"]["schedule"] == "linear"  # schedule kept
        assert config["max_timesteps"] == 2000 and config["eval_episodes"] == 2  # the spec's value and --set
        assert config["sweep"]["id"] == grid_sweep.folder.name
        assert config["sweep"]["params"] == {
            "max_timesteps": 2000, "n_epochs": config["n_epochs"], "policy_lr.start": config["policy_lr"]["start"],
        }  # fmt: skip
    assert sorted(c["sweep"]["trial"] for c in configs) == [0, 1, 2, 3]


def test_trials_csv_has_a_row_per_trial_with_its_run_and_metric(grid_sweep: Sweep) -> None:
    rows = grid_sweep.trials()
    assert [row["trial"] for row in rows] == ["0", "1", "2", "3"]
    for row in rows:
        assert row["status"] == "ok" and row["reason"] == ""
        run = grid_sweep.runs / row["run_id"]
        config = config_of(run)
        assert config["sweep"]["trial"] == int(row["trial"])
        assert (int(row["n_epochs"]), float(row["policy_lr.start"])) == (
            config["n_epochs"], config["policy_lr"]["start"],
        )  # fmt: skip
        assert float(row[METRIC]) == last_finite(run, METRIC)
    summary = grid_sweep.calls[0].stdout
    assert f"sweep {grid_sweep.folder.name}: 4 of 4 trials finished (0 failed)" in summary


def test_best_yaml_is_the_best_trial_and_trains_as_a_config(grid_sweep: Sweep, run_cli) -> None:
    rows = grid_sweep.trials()
    top = max(float(row[METRIC]) for row in rows)
    best_runs = {row["run_id"] for row in rows if float(row[METRIC]) == top}
    path = grid_sweep.folder / "best.yaml"
    [variant] = yaml.safe_load(path.read_text()).values()
    candidates = [config_of(grid_sweep.runs / run_id) for run_id in best_runs]
    assert any(variant["policy_lr"] == c["policy_lr"] and variant["n_epochs"] == c["n_epochs"] for c in candidates)
    assert "sweep" not in variant and "wandb_id" not in variant

    runs = grid_sweep.runs.parent / "runs-best"
    done = run_cli(["train.py", str(path), "-q"], runs)
    assert done.returncode == 0, done.stderr[-3000:]
    [trained] = run_dirs(runs)
    config = config_of(trained)
    assert config["sweep"] == {}
    same = [c for c in candidates if all(c[k] == config[k] for k in config if k not in RUN_FIELDS)]
    assert same, "best.yaml trained a config that is none of the best trials'"
    assert last_finite(trained, METRIC) is not None


def test_parallel_2_runs_two_trials_at_the_same_time(grid_sweep: Sweep) -> None:
    spans = []
    for run in run_dirs(grid_sweep.runs):
        started, ended = (run / "config.json").stat().st_mtime, (run / "summary.json").stat().st_mtime
        spans.append((started, ended))
    overlapping = [
        (a, b) for i, a in enumerate(spans) for b in spans[i + 1 :] if a[0] < b[1] and b[0] < a[1]
    ]  # fmt: skip
    assert overlapping, spans
    assert grid_sweep.state()["trials"][0]["seconds"] > 0


def test_metric_plot_is_a_png(grid_sweep: Sweep) -> None:
    assert (grid_sweep.folder / "metric_vs_params.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- Bayesian search with Optuna ---------------------------------------------------------------------------------

BAYES = {
    "max_timesteps": {"value": 2000},
    "policy_lr.start": {"distribution": "log_uniform_values", "min": 1e-4, "max": 5e-3},
    "n_epochs": {"distribution": "int_uniform", "min": 2, "max": 4},
    "gae_lambda": {"distribution": "uniform", "min": 0.8, "max": 0.99},
}


@pytest.fixture(scope="module")
def bayes_sweep(tmp_path_factory: pytest.TempPathFactory, make_spec, save_spec, run_cli) -> Sweep:
    root = tmp_path_factory.mktemp("bayes")
    spec = save_spec(root / "bayes.yaml", make_spec(BAYES, method="bayes"))
    done = run_cli(["scripts/sweep.py", str(spec), "--count", "4", "--parallel", "2", "--seed", "3"], root / "runs")
    assert done.returncode == 0, done.stderr[-3000:]
    return Sweep(root / "runs", [done])


def test_bayes_sweep_runs_count_trials_inside_the_ranges(bayes_sweep: Sweep) -> None:
    rows = bayes_sweep.trials()
    assert len(rows) == 4 and all(row["status"] == "ok" for row in rows)
    for row in rows:
        config = config_of(bayes_sweep.runs / row["run_id"])
        assert 1e-4 <= config["policy_lr"]["start"] <= 5e-3 and config["policy_lr"]["end"] == 0.0
        assert config["n_epochs"] in (2, 3, 4)
        assert 0.8 <= config["gae_lambda"] <= 0.99
        assert config["sweep"]["params"]["gae_lambda"] == config["gae_lambda"] == float(row["gae_lambda"])
    assert len(run_dirs(bayes_sweep.runs)) == 4
    assert len({row["gae_lambda"] for row in rows}) == 4  # each trial got its own suggestion


def test_bayes_sweep_keeps_its_optuna_study_told_every_result(bayes_sweep: Sweep) -> None:
    import optuna

    path = bayes_sweep.folder / "optuna.db"
    assert path.is_file()
    study = optuna.load_study(study_name=bayes_sweep.folder.name, storage=f"sqlite:///{path}")
    told = sorted(trial.value for trial in study.trials if trial.state == optuna.trial.TrialState.COMPLETE)
    assert told == sorted(float(row[METRIC]) for row in bayes_sweep.trials())
    assert study.direction == optuna.study.StudyDirection.MAXIMIZE


# --- interrupted, a failing trial, resumed -----------------------------------------------------------------------

# Grid order (last parameter fastest): 0 = 2000 steps; 1 = an env kwarg CartPole refuses when the trial starts;
# 2 = LONG steps, interrupted once it has a 'last' checkpoint; 3 = never run (--count 3).
LONG = 6000
RESUMED = {
    "max_timesteps": {"values": [2000, LONG]},
    "env_kwargs": {"values": [{}, {"bogus": 1}]},
    "checkpoint_freq": {"value": 1000},
    "early_stop": {"value": False},
}


@dataclass
class Resumed(Sweep):
    """The interrupted sweep: ``before`` is sweep.json when the first call ended (at the interruption)."""

    before: dict[str, Any]
    interrupted_at: int  # timesteps of the interrupted trial's 'last' checkpoint


@pytest.fixture(scope="module")
def resumed_sweep(tmp_path_factory: pytest.TempPathFactory, make_spec, save_spec, run_cli, cli_environment) -> Resumed:
    root = tmp_path_factory.mktemp("resumed")
    runs = root / "runs"
    spec = save_spec(root / "resumed.yaml", make_spec(RESUMED))
    out, err = root / "stdout.txt", root / "stderr.txt"
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "scripts/sweep.py", str(spec), "--count", "3"], cwd=REPO, env=cli_environment(runs),
            stdout=stdout, stderr=stderr, text=True,
        )  # fmt: skip
    try:
        last = None
        deadline = time.monotonic() + 240
        while last is None and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
            run = trial_run(runs, 2)
            if run is not None and (run / "checkpoints" / "last").exists():
                last = run / "checkpoints" / "last"
        assert last is not None, f"trial 2 never saved a 'last' checkpoint: {err.read_text()[-3000:]}"
        process.send_signal(signal.SIGINT)
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    first = subprocess.CompletedProcess(process.args, process.returncode, out.read_text(), err.read_text())
    sweep = Resumed(runs, [first], before={}, interrupted_at=0)
    sweep.before = sweep.state()
    sweep.interrupted_at = json.loads((last / "state.json").read_text())["timesteps"]
    for _ in range(2):  # resume it, then resume the finished sweep once more
        sweep.calls.append(run_cli(["scripts/sweep.py", "--resume", sweep.folder.name], runs))
    return sweep


def test_interrupted_sweep_exits_130_and_records_the_trial_as_interrupted(resumed_sweep: Resumed) -> None:
    first = resumed_sweep.calls[0]
    assert first.returncode == 130, first.stderr[-3000:]
    assert f"--resume {resumed_sweep.folder.name}" in first.stderr
    statuses = [trial["status"] for trial in resumed_sweep.before["trials"]]
    assert statuses == ["ok", "failed", "interrupted"]


def test_failed_trial_is_recorded_with_its_one_line_reason_and_the_sweep_goes_on(resumed_sweep: Resumed) -> None:
    failed = resumed_sweep.trials()[1]
    assert failed["status"] == "failed" and failed["run_id"] == ""
    assert "bogus" in failed["reason"] and "\n" not in failed["reason"]
    assert failed["reason"] in resumed_sweep.log(1)  # the trial's own error line
    assert "Traceback" not in resumed_sweep.log(1)
    assert resumed_sweep.before["trials"][2]["run_id"]  # trial 2 ran after it


def test_resume_finishes_the_sweep_without_rerunning_finished_trials(resumed_sweep: Resumed) -> None:
    resumed = resumed_sweep.calls[1]
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    after = resumed_sweep.state()["trials"]
    before = resumed_sweep.before["trials"]
    assert [t["status"] for t in after] == ["ok", "failed", "ok"]
    assert after[0]["run_id"] == before[0]["run_id"] and after[0]["metric"] == before[0]["metric"]
    for trial in (0, 1):  # started once each
        assert resumed_sweep.log(trial).count("\n$ ") + resumed_sweep.log(trial).startswith("$ ") == 1
    trial_of_run = [config_of(run)["sweep"]["trial"] for run in run_dirs(resumed_sweep.runs)]
    assert sorted(trial_of_run) == [0, 2]  # one run directory per trial that got as far as training


def test_interrupted_trial_resumes_from_last_in_the_same_run_directory(resumed_sweep: Resumed) -> None:
    run_id = resumed_sweep.before["trials"][2]["run_id"]
    assert resumed_sweep.state()["trials"][2]["run_id"] == run_id
    commands = [line for line in resumed_sweep.log(2).splitlines() if line.startswith("$ ")]
    assert len(commands) == 2
    assert "CartPole-v1:ppo" in commands[0] and "--resume" not in commands[0]
    assert f"--resume {run_id}" in commands[1]
    [resumed] = [line for line in resumed_sweep.log(2).splitlines() if line.startswith("resume: continuing from")]
    assert resumed.endswith(f" at step {resumed_sweep.interrupted_at}")  # train.py's word: from that 'last'
    run = resumed_sweep.runs / run_id
    with (run / "metrics.csv").open() as handle:
        steps = [float(row["train/cnt/timesteps"]) for row in csv.DictReader(handle)]
    assert 0 < resumed_sweep.interrupted_at < LONG
    assert any(step <= resumed_sweep.interrupted_at for step in steps)  # the rows from before the interruption
    assert all(a < b for a, b in itertools.pairwise(steps))  # continued, not restarted
    assert steps[-1] >= LONG
    assert json.loads((run / "summary.json").read_text())["timesteps"] >= LONG


def test_count_is_a_total_over_resumes(resumed_sweep: Resumed) -> None:
    assert [row["trial"] for row in resumed_sweep.trials()] == ["0", "1", "2"]
    assert not (resumed_sweep.folder / "logs" / "trial-3.log").exists()
    again = resumed_sweep.calls[2]  # a finished sweep resumed: nothing more to run
    assert again.returncode == 0, again.stderr[-3000:]
    assert len(run_dirs(resumed_sweep.runs)) == 2
    assert resumed_sweep.state()["count"] == 3
    assert os.path.exists(resumed_sweep.folder / "best.yaml")
