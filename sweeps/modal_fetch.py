"""Bringing a Modal sweep home: its folder and run directories copied from the Volume, then its files rebuilt."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from sweeps.collect import trials_from_runs
from sweeps.modal_jobs import WorkerJob
from sweeps.modal_worker import VOLUME_NAME, WorkerState
from sweeps.outputs import write_best, write_plot
from sweeps.state import SweepState, sweeps_root
from sweeps.trial_process import TrialResult
from utils.atomic_files import replace_symlink
from utils.config_values import ConfigError

# FileEntry.type values of modal.volume.FileEntryType
ENTRY_FILE, ENTRY_DIRECTORY = 1, 2


class VolumeReader(Protocol):
    """What the fetch needs of a ``modal.Volume``."""

    def listdir(self, path: str, *, recursive: bool = False) -> list[Any]: ...
    def read_file(self, path: str) -> Iterable[bytes]: ...


def fetch_sweep(volume: VolumeReader, sweep_id: str, runs: Path) -> SweepState:
    """Copy the sweep's folder and its run directories from ``volume`` into ``runs``, then rebuild its files."""
    if not _copy_tree(volume, f"sweeps/{sweep_id}", runs):
        raise ConfigError(f"no sweep '{sweep_id}' on the Modal volume {VOLUME_NAME} (modal volume ls {VOLUME_NAME} "
                          "sweeps lists them)")  # fmt: skip
    states = read_worker_states(runs, sweep_id)
    for run_id in sorted({t.run_id for s in states for t in s.trials if t.run_id}):
        _copy_tree(volume, run_id, runs)
    for state in states:
        for link, target in state.links.items():
            path = runs / link
            if path.parent.is_dir() and (path.parent / target).is_dir():
                replace_symlink(path, target)
    return rebuild_sweep(sweep_id, runs)


def _copy_tree(volume: VolumeReader, prefix: str, runs: Path) -> int:
    """Files under ``prefix`` copied (checkpoint files already here at their size are kept); symlinks skipped."""
    copied = 0
    for entry in volume.listdir(prefix, recursive=True):
        relative = Path(str(entry.path).lstrip("/"))
        if ".." in relative.parts or relative.name == ".lock":
            continue
        path = runs / relative
        if int(entry.type) == ENTRY_DIRECTORY:
            path.mkdir(parents=True, exist_ok=True)
        elif int(entry.type) == ENTRY_FILE:
            copied += 1
            if "checkpoints" in relative.parts and path.is_file() and path.stat().st_size == entry.size:
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            temp = path.with_name(f".fetch-{path.name}")
            with open(temp, "wb") as handle:
                for chunk in volume.read_file(relative.as_posix()):
                    handle.write(chunk)
            os.replace(temp, path)
    return copied


def read_worker_states(runs: Path, sweep_id: str) -> list[WorkerState]:
    """Every worker's state file of the sweep, by worker."""
    folder = sweeps_root(runs) / sweep_id / "workers"
    states = []
    for path in sorted(folder.glob("worker-*.json"), key=lambda p: int(p.stem.split("-")[1])):
        data = json.loads(path.read_text())
        trials = [TrialResult.from_dict(row) for row in data["trials"]]
        states.append(WorkerState(path, data["job"], trials, data["links"], data["attempts"], data["note"]))
    return states


def rebuild_sweep(sweep_id: str, runs: Path) -> SweepState:
    """``sweep.json``, ``trials.csv``, ``best.yaml`` and the PNG from the workers' states and the run directories."""
    states = read_worker_states(runs, sweep_id)
    if not states:
        raise ConfigError(f"sweep {sweep_id}: no worker has reported yet (no {sweeps_root(runs) / sweep_id}/workers/)")
    job = WorkerJob.from_dict(states[0].job)
    from_runs = {t.run_id: t for t in trials_from_runs(sweep_id, runs, job.metric)}
    trials = []
    for state in states:
        for trial in state.trials:
            seen = from_runs.pop(trial.run_id, None) if trial.run_id else None
            if seen is not None and not trial.finished:  # the worker is still at it, or died: the run says more
                trial.status, trial.metric, trial.reason = seen.status, seen.metric, seen.reason
            trials.append(trial)
    trials += from_runs.values()  # runs the workers have not recorded yet
    trials.sort(key=lambda t: (0, t.trial, "") if isinstance(t.trial, int) else (1, 0, str(t.trial)))
    backend = "wandb" if job.backend == "wandb" else "modal"
    try:
        sweep = SweepState.load(sweeps_root(runs), sweep_id)
    except ConfigError:
        sweep = SweepState(sweeps_root(runs) / sweep_id, sweep_id, backend, job.method, job.metric, job.goal,
                           job.total, job.overrides, job.seed, created=time.strftime("%Y-%m-%dT%H:%M:%S"))  # fmt: skip
    sweep.trials = trials
    sweep.save()
    write_best(sweep, runs)
    write_plot(sweep)
    return sweep
