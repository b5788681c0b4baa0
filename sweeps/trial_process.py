"""One sweep trial as a ``train.py`` child process: started, watched, stopped, and read back.

Every trial is an ordinary run directory: ``train.py <env>:<variant>`` with the trial's values in its process
environment (``utils.sweep_params``), or ``train.py --resume RUN`` to finish an interrupted one from its
``last`` checkpoint. The child gets its own session, so a Ctrl-C reaches it once, forwarded from here, and it
saves ``last`` before it exits.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from utils.metrics_csv import read_metrics_csv
from utils.runs import RunDir, list_runs
from utils.sweep_params import trial_env

REPO = Path(__file__).resolve().parents[1]
TRAIN = REPO / "train.py"
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143
# Trial states: finished ones are never run again; the others are re-run (resumed from 'last') by --resume.
FINISHED = ("ok", "failed", "timeout")
FINISHED_RUN = ("finished", "solved")  # summary.json statuses of a run that trained to its end


@dataclass
class TrialResult:
    """What one trial came to."""

    trial: int
    params: dict[str, Any]
    status: str = "pending"  # pending | running | ok | failed | interrupted | timeout
    run_id: str = ""
    metric: float | None = None
    reason: str = ""  # one line: why it failed or stopped
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)  # backend bookkeeping (the Optuna trial number)

    @property
    def finished(self) -> bool:
        """Whether the trial is done for good (it is not re-run on --resume)."""
        return self.status in FINISHED

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for the sweep's state file."""
        return {
            "trial": self.trial, "params": self.params, "status": self.status, "run_id": self.run_id,
            "metric": self.metric, "reason": self.reason, "seconds": round(self.seconds, 2), "extra": self.extra,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrialResult:
        """Back from ``to_dict``."""
        keys = ("trial", "params", "status", "run_id", "metric", "reason", "seconds", "extra")
        return cls(**{key: data[key] for key in keys})


def find_trial_run(sweep_id: str, trial: int | str, root: Path) -> RunDir | None:
    """The newest run directory under ``root`` whose config says it is ``trial`` of ``sweep_id``."""
    for run_id in reversed(list_runs(root)):
        try:
            sweep = json.loads((root / run_id / "config.json").read_text()).get("sweep") or {}
        except (OSError, ValueError):
            continue
        if sweep.get("id") == sweep_id and str(sweep.get("trial")) == str(trial):
            return RunDir(root / run_id)
    return None


def read_metric(run: RunDir, metric: str) -> float | None:
    """The last finite value of ``metric`` in the run's metrics.csv (what W&B's summary would hold)."""
    if not run.metrics_csv.exists():
        return None
    value = None
    for row in read_metrics_csv(run.metrics_csv):
        cell = row.get(metric)
        if cell is not None and math.isfinite(cell):
            value = cell
    return value


def run_status(run: RunDir) -> str:
    """``status`` of the run's summary.json (``finished``, ``solved``, ``stopped by …``, ``diverged: …``); "" if none."""
    try:
        data = json.loads(run.summary_path.read_text())
    except (OSError, ValueError):
        return ""
    return str(data.get("status", "")) if isinstance(data, dict) else ""


def trial_line(result: TrialResult, metric: str) -> str:
    """One console line for a finished trial."""
    values = " ".join(f"{name}={value}" for name, value in result.params.items())
    score = f" {metric}={result.metric:g}" if result.metric is not None else ""
    why = f" ({result.reason})" if result.reason else ""
    run = f" run {result.run_id}" if result.run_id else ""
    return f"trial {result.trial} {result.status}{score}{run} in {result.seconds:.0f} s{why}: {values}"


def last_error_line(log_path: Path) -> str:
    """The child's last ``error:`` line (its one-line reason), else its last line."""
    try:
        lines = [line.strip() for line in log_path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    errors = [line for line in lines if line.startswith("error:")]
    return (errors or lines or [""])[-1].removeprefix("error:").strip()[:300]


class TrialProcess:
    """A running trial; ``poll()`` returns its result once the child has exited."""

    def __init__(
        self,
        result: TrialResult,
        sweep_id: str,
        config_id: str,
        overrides: Mapping[str, Any],
        metric: str,
        root: Path,
        log_path: Path,
        threads: int | None = None,
        worker: int | None = None,
        timeout: float | None = None,
        quiet: bool = True,
    ) -> None:
        self.result, self.sweep_id, self.metric, self.root = result, sweep_id, metric, root.resolve()
        self.log_path, self.timeout = log_path, timeout
        self.command = [sys.executable, str(TRAIN)]
        if result.run_id:  # an interrupted trial: finish it from its 'last' checkpoint
            self.command += ["--resume", result.run_id]
        else:
            self.command.append(config_id)
            for key, value in overrides.items():
                self.command += ["--set", f"{key}={json.dumps(value)}"]
        if quiet:
            self.command.append("--quiet")
        self.env = {**os.environ, "GYMSOLVER_RUNS_DIR": str(self.root)}
        self.env.update(trial_env(sweep_id, result.trial, result.params, worker))
        if threads is not None:  # K trials at once split the cores instead of each taking them all
            self.env.update({"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)})
        self.process: subprocess.Popen[bytes] | None = None
        self.started = 0.0
        self.signalled: int | None = None
        self.timed_out = False
        self._log: IO[bytes] | None = None
        self._done: TrialResult | None = None

    def start(self) -> None:
        """Start the child (in its own session: a terminal's Ctrl-C reaches it only through ``stop``)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # noqa: SIM115  (closed in poll)
        self._log.write(f"$ {' '.join(self.command[1:])}\n".encode())
        self._log.flush()
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            self.command, env=self.env, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.result.status = "running"

    def stop(self, signum: int = signal.SIGINT) -> None:
        """Ask the trial to stop: it finishes its update, saves 'last' and exits (a second call aborts it)."""
        if self.process is not None and self.process.poll() is None:
            self.signalled = signum
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signum)

    def poll(self) -> TrialResult | None:
        """The result once the child has exited, else None (and the per-trial timeout is enforced)."""
        assert self.process is not None, "start() first"
        code = self.process.poll()
        if self._done is not None:
            return self._done
        if code is None:
            if self.timeout is not None and not self.timed_out and time.monotonic() - self.started > self.timeout:
                self.timed_out = True
                self.stop(signal.SIGTERM)
            return None
        self._done = self._finish(code)
        return self._done

    def wait(self) -> TrialResult:
        """Block until the child exits."""
        while (result := self.poll()) is None:
            time.sleep(0.2)
        return result

    def _finish(self, code: int) -> TrialResult:
        if self._log is not None:
            self._log.close()
            self._log = None
        result = self.result
        result.seconds += time.monotonic() - self.started
        run = find_trial_run(self.sweep_id, result.trial, self.root)
        if run is not None:
            result.run_id = run.run_id
        reason = last_error_line(self.log_path)
        if self.timed_out:
            result.status, result.reason = "timeout", f"stopped after the per-trial timeout of {self.timeout:g} s"
            result.metric = read_metric(run, self.metric) if run is not None else None  # as far as it got
        elif code in (EXIT_INTERRUPTED, EXIT_TERMINATED) or self.signalled is not None:
            result.status, result.reason = (
                "interrupted",
                "stopped; it continues from its 'last' checkpoint when the sweep resumes",
            )
        elif code != 0:
            result.status, result.reason = "failed", reason or f"train.py exited with status {code}"
        else:
            result.metric = read_metric(run, self.metric) if run is not None else None
            if result.metric is None:
                result.status = "failed"
                result.reason = f"the run never logged {self.metric} (see its metrics.csv for the metric names)"
            else:
                result.status, result.reason = "ok", ""
        return result
