"""A sweep's folder, ``<runs>/sweeps/<sweep_id>/``: what it is, every trial, and the files built from them.

- ``spec.yaml``: the spec as given (a W&B sweep config);
- ``sweep.json``: backend, method, metric, the ``--count`` cap, the ``--set`` overrides, and every trial's
  parameters, status, metric and run id (exact values: this is what ``--resume`` reads);
- ``trials.csv``: the same trials as a table, one row each (trial, status, metric, run_id, seconds, reason,
  then one column per parameter);
- ``best.yaml``, ``metric_vs_params.png``: see ``sweeps/outputs.py``;
- ``logs/trial-<n>.log``: each trial's console output.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sweeps.trial_process import TrialResult
from utils.atomic_files import write_json_atomic, write_text_atomic
from utils.config_values import ConfigError
from utils.runs import runs_root

STATE_FILE, SPEC_FILE, TRIALS_FILE = "sweep.json", "spec.yaml", "trials.csv"


def sweeps_root(root: Path | None = None) -> Path:
    """``<runs>/sweeps``."""
    return (root or runs_root()) / "sweeps"


def new_sweep_id() -> str:
    """Eight lowercase letters and digits, like a W&B sweep id."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(8))


@dataclass
class SweepState:
    """Everything ``sweep.json`` holds."""

    path: Path
    sweep_id: str
    backend: str
    method: str
    metric: str
    goal: str
    count: int
    overrides: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    created: str = ""
    trials: list[TrialResult] = field(default_factory=list)

    @property
    def logs(self) -> Path:
        """Each trial's console output."""
        return self.path / "logs"

    def best(self) -> TrialResult | None:
        """The finished trial with the best metric."""
        best = None
        for trial in self.trials:
            if trial.status == "ok" and trial.metric is not None:
                better = best is None or (
                    trial.metric > best.metric if self.goal == "maximize" else trial.metric < best.metric  # type: ignore[operator]
                )
                if better:
                    best = trial
        return best

    def summary_lines(self) -> list[str]:
        """Where the results are: trials finished, the best trial and its config, the trials table."""
        finished = sum(1 for t in self.trials if t.finished)
        failed = sum(1 for t in self.trials if t.status == "failed")
        lines = [f"sweep {self.sweep_id}: {finished} of {self.count} trials finished ({failed} failed)"]
        best = self.best()
        if best is not None:
            best_yaml = self.path / "best.yaml"
            lines.append(f"best: trial {best.trial}, {self.metric} = {best.metric:g}, run {best.run_id}")
            lines.append(f"best config: {best_yaml}  (train it: python train.py {best_yaml})")
        lines.append(f"trials: {self.path / TRIALS_FILE}")
        return lines

    def save(self) -> None:
        """Write ``sweep.json`` and ``trials.csv`` (each atomically)."""
        data = {
            "sweep_id": self.sweep_id, "backend": self.backend, "method": self.method, "metric": self.metric,
            "goal": self.goal, "count": self.count, "overrides": self.overrides, "seed": self.seed,
            "created": self.created, "trials": [trial.to_dict() for trial in self.trials],
        }  # fmt: skip
        write_json_atomic(self.path / STATE_FILE, data)
        write_text_atomic(self.path / TRIALS_FILE, trials_csv(self.trials, self.metric))

    @classmethod
    def create(cls, root: Path, spec_text: str, **fields: Any) -> SweepState:
        """A new sweep folder with its spec copied in."""
        root.mkdir(parents=True, exist_ok=True)
        while True:
            sweep_id = new_sweep_id()
            try:
                (root / sweep_id).mkdir()
                break
            except FileExistsError:
                continue
        state = cls(root / sweep_id, sweep_id, created=time.strftime("%Y-%m-%dT%H:%M:%S"), **fields)
        write_text_atomic(state.path / SPEC_FILE, spec_text)
        state.save()
        return state

    @classmethod
    def load(cls, root: Path, sweep_id: str) -> SweepState:
        """An existing sweep; a one-line error naming the known ones otherwise."""
        path = root / sweep_id
        if "/" in sweep_id or sweep_id in ("", ".", "..") or not (path / STATE_FILE).is_file():
            known = sorted(p.name for p in root.glob("*") if (p / STATE_FILE).is_file()) if root.is_dir() else []
            raise ConfigError(f"no sweep '{sweep_id}' in {root}/; known sweeps: {', '.join(known[-5:]) or 'none'}")
        data = json.loads((path / STATE_FILE).read_text())
        trials = [TrialResult.from_dict(row) for row in data.pop("trials")]
        data.pop("sweep_id")
        return cls(path, sweep_id, trials=trials, **data)


def trials_csv(trials: Iterable[TrialResult], metric: str) -> str:
    """The trials as CSV text: fixed columns, then one per parameter (lists and mappings as JSON)."""
    trials = list(trials)
    names: list[str] = []
    for trial in trials:
        names.extend(name for name in trial.params if name not in names)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["trial", "status", metric, "run_id", "seconds", "reason", *names])
    for trial in trials:
        metric_cell = "" if trial.metric is None else repr(trial.metric)
        cells = [_cell(trial.params[name]) if name in trial.params else "" for name in names]
        writer.writerow(
            [trial.trial, trial.status, metric_cell, trial.run_id, f"{trial.seconds:.1f}", trial.reason, *cells]
        )
    return out.getvalue()


def _cell(value: Any) -> str:
    return json.dumps(value) if isinstance(value, list | dict) else str(value)
