"""What each Modal worker is given: the sweep split into jobs, and how long one worker call may run."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sweeps.search import GridSource, RandomSource
from sweeps.spec import SweepSpec
from utils.config_values import ConfigError

MAX_CALL_S = 24 * 3600  # Modal's longest function timeout
CALL_MARGIN_S = 600  # per call, on top of the trials' own timeouts: image start, imports, commits


@dataclass
class WorkerJob:
    """What one worker runs; a plain dict on the wire (``to_dict``/``from_dict``)."""

    sweep_id: str  # the sweep's folder name (wandb backend: the W&B sweep id)
    worker: int
    backend: str  # local: values planned by the launcher | wandb: W&B's server chooses them
    config_id: str
    metric: str
    goal: str
    method: str
    total: int  # trials in the whole sweep
    spec_text: str = ""  # the spec YAML, kept in the sweep folder
    overrides: dict[str, Any] = field(default_factory=dict)  # --set values of every trial
    trials: list[dict[str, Any]] = field(default_factory=list)  # local backend: [{trial, params}]
    count: int = 0  # wandb backend: trials this worker runs
    sweep_path: str = ""  # wandb backend: entity/project/sweep_id
    timeout_per_trial: float | None = None
    quiet: bool = True
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WorkerJob:
        """Back from ``to_dict``."""
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data})

    @property
    def size(self) -> int:
        """How many trials this worker finishes."""
        return len(self.trials) if self.backend == "local" else self.count


def plan_jobs(
    spec: SweepSpec, sweep_id: str, count: int, runs_per_worker: int, backend: str, spec_text: str = "",
    seed: int = 0, timeout_per_trial: float | None = None, sweep_path: str = "",
) -> list[WorkerJob]:  # fmt: skip
    """``ceil(count / runs_per_worker)`` jobs; local backend: trials 0..count-1 (grid points or seeded draws)."""
    workers = math.ceil(count / runs_per_worker)
    common: dict[str, Any] = dict(
        sweep_id=sweep_id, backend=backend, config_id=spec.config_id, metric=spec.metric, goal=spec.goal,
        method=spec.method, total=count, spec_text=spec_text, overrides=dict(spec.overrides), sweep_path=sweep_path,
        timeout_per_trial=timeout_per_trial, quiet=spec.quiet, seed=seed,
    )  # fmt: skip
    if backend == "wandb":
        return [
            WorkerJob(worker=k, count=min(runs_per_worker, count - k * runs_per_worker), **common)
            for k in range(workers)
        ]
    if spec.method == "bayes":
        raise ConfigError("method: bayes on Modal needs one model of all trials; use --backend wandb (W&B's server "
                          "chooses), or run it here with scripts/sweep.py")  # fmt: skip
    source = GridSource(spec) if spec.method == "grid" else RandomSource(spec, seed)
    planned = [{"trial": n, "params": source.propose(n).params} for n in range(count)]
    return [
        WorkerJob(worker=k, trials=planned[k * runs_per_worker : (k + 1) * runs_per_worker], **common)
        for k in range(workers)
    ]


def call_timeout(runs_per_worker: int, timeout_per_trial: float) -> int:
    """Seconds one worker call may run: its trials' timeouts plus a margin; ConfigError past Modal's 24 h."""
    seconds = math.ceil(runs_per_worker * timeout_per_trial) + CALL_MARGIN_S
    if seconds > MAX_CALL_S:
        raise ConfigError(
            f"--runs-per-worker {runs_per_worker} x --timeout-per-trial {timeout_per_trial:g} s is over Modal's 24 h "
            "per call; lower one of them (more workers take the rest)"
        )
    return seconds
