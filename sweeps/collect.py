"""A sweep's trials read back from the run directories themselves (their ``config.json`` names the sweep).

The W&B backend and Modal's ``--fetch`` use this: the trials ran elsewhere (under ``wandb agent`` or on a Modal
worker), and their run directories are all that is here.
"""

from __future__ import annotations

from pathlib import Path

from sweeps.trial_process import FINISHED_RUN, TrialResult, read_metric, run_status
from utils.runs import RunDir, list_runs


def trials_from_runs(sweep_id: str, runs: Path, metric: str) -> list[TrialResult]:
    """One result per run of ``sweep_id`` under ``runs``, oldest first."""
    results = []
    for run_id in list_runs(runs):
        run = RunDir(runs / run_id)
        try:
            sweep = run.read_config().get("sweep") or {}
        except (OSError, ValueError):
            continue
        if sweep.get("id") != sweep_id:
            continue
        result = TrialResult(sweep.get("trial", run_id), dict(sweep.get("params") or {}), run_id=run_id)
        if "worker" in sweep:
            result.extra["worker"] = sweep["worker"]
        status = run_status(run)
        result.metric = read_metric(run, metric)
        if status in FINISHED_RUN:
            result.status = "ok" if result.metric is not None else "failed"
            result.reason = "" if result.metric is not None else f"the run never logged {metric}"
        elif status.startswith("diverged"):
            result.status, result.reason = "failed", status
        elif status.startswith("stopped"):
            result.status, result.reason = "interrupted", status
        else:
            result.status, result.reason = "running", "no summary.json yet (still training, or killed)"
        results.append(result)
    return results
