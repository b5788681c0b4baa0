"""Distributed sweeps on Modal, the part that needs no Modal: the workers' jobs, one worker's run, and the fetch.

A worker is one Modal function call that runs its trials one at a time into the runs folder on a Modal Volume:
``train.py`` children with values the launcher chose (local backend), or ``wandb agent --count 1`` processes whose
values W&B's server chooses (wandb backend). It keeps its own state file, ``<runs>/sweeps/<id>/workers/worker-<k>.json``
(its trials, and the targets of their ``best``/``last`` links, which the Volume API cannot read back), and commits
the volume after every new ``last`` checkpoint and every trial.

Modal preempts functions: it sends SIGINT, then runs the same input again. The worker forwards the signal to the
running trial, which saves ``last``; the worker commits and fails, and the retry skips the finished trials and
finishes the interrupted one with ``train.py --resume RUN`` (same run directory, same W&B run).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any, Protocol

from sweeps.modal_jobs import WorkerJob
from sweeps.state import SPEC_FILE, sweeps_root
from sweeps.trial_process import (
    FINISHED_RUN,
    REPO,
    TrialProcess,
    TrialResult,
    find_trial_run,
    last_error_line,
    read_metric,
    run_status,
    trial_line,
)
from sweeps.wandb_backend import agent_command
from utils.atomic_files import write_json_atomic, write_text_atomic
from utils.checkpoint_names import ALIASES, alias_target
from utils.runs import RunDir, list_runs
from utils.sweep_params import PARAMS_VAR, SWEEP_ID_VAR, TRIAL_VAR, WORKER_VAR

VOLUME_NAME, RUNS_MOUNT = "gymnasium-solver-runs", "/runs"
POLL_S = 0.2
FIND_RUN_S = 2.0  # how often a starting trial's new run directory is looked for
STOP_GRACE_S = 20.0  # Modal allows about 30 s after its signal: the trial's update and save, then the commit


class WorkerInterrupted(RuntimeError):
    """The worker was asked to stop (Modal's preemption signal); failing makes Modal run it again."""


@dataclass
class WorkerState:
    """``workers/worker-<k>.json``: the job, every trial so far, the link targets, and how many attempts ran."""

    path: Path
    job: dict[str, Any]
    trials: list[TrialResult] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)  # '<run>/checkpoints/<alias>' -> target
    attempts: int = 0
    note: str = ""

    @classmethod
    def load(cls, runs: Path, job: WorkerJob) -> WorkerState:
        """The worker's earlier state, or a fresh one."""
        path = sweeps_root(runs) / job.sweep_id / "workers" / f"worker-{job.worker}.json"
        if not path.is_file():
            return cls(path, job.to_dict())
        data = json.loads(path.read_text())
        trials = [TrialResult.from_dict(row) for row in data["trials"]]
        return cls(path, job.to_dict(), trials, dict(data["links"]), int(data["attempts"]), str(data["note"]))

    def to_dict(self) -> dict[str, Any]:
        """What the file holds."""
        trials = [trial.to_dict() for trial in self.trials]
        return {"job": self.job, "attempts": self.attempts, "note": self.note, "trials": trials, "links": self.links}

    def save(self) -> None:
        """Write the file atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.path, self.to_dict())

    def find(self, trial: int | str) -> TrialResult | None:
        """This worker's result for ``trial``."""
        return next((t for t in self.trials if str(t.trial) == str(trial)), None)

    def record_links(self, run: RunDir) -> bool:
        """Remember where ``run``'s ``best`` and ``last`` point; whether anything changed."""
        changed = False
        for alias in ALIASES:
            target = alias_target(run.checkpoints, alias)
            key = f"{run.run_id}/checkpoints/{alias}"
            if target is not None and self.links.get(key) != target:
                self.links[key], changed = target, True
        return changed


class Trial(Protocol):
    """A running trial as the worker watches it."""

    result: TrialResult

    def start(self) -> None: ...
    def poll(self) -> TrialResult | None: ...
    def stop(self, signum: int) -> None: ...
    def kill(self) -> None: ...
    def find_run(self) -> RunDir | None: ...


class TrainTrial:
    """A ``train.py`` trial: new, or resumed from its ``last`` checkpoint when ``result.run_id`` is set."""

    def __init__(self, job: WorkerJob, result: TrialResult, runs: Path, log_path: Path) -> None:
        left = None if job.timeout_per_trial is None else max(1.0, job.timeout_per_trial - result.seconds)
        self.result, self.runs, self.sweep_id = result, runs, job.sweep_id
        self.process = TrialProcess(
            result, job.sweep_id, job.config_id, job.overrides, job.metric, runs, log_path, worker=job.worker,
            timeout=left, quiet=job.quiet,
        )  # fmt: skip

    def start(self) -> None:
        """Start ``train.py``."""
        self.process.start()

    def poll(self) -> TrialResult | None:
        """The result once it exited."""
        return self.process.poll()

    def stop(self, signum: int) -> None:
        """Forward ``signum``: it saves ``last`` and exits (a second one aborts it)."""
        self.process.stop(signum)

    def kill(self) -> None:
        """SIGKILL, when it outstays the grace period."""
        if self.process.process is not None and self.process.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.process.pid, signal.SIGKILL)

    def find_run(self) -> RunDir | None:
        """Its run directory, once ``train.py`` made it."""
        if self.result.run_id:
            return RunDir(self.runs / self.result.run_id)
        return find_trial_run(self.sweep_id, self.result.trial, self.runs)


class AgentTrial:
    """``wandb agent --count 1``: W&B's server picks the values; the agent runs ``train.py`` here."""

    def __init__(self, job: WorkerJob, runs: Path, log_path: Path) -> None:
        self.job, self.runs, self.log_path = job, runs, log_path
        self.result = TrialResult(-1, {})  # its trial (the W&B run id) and values come from the run's config
        self.run: RunDir | None = None
        self.known = set(list_runs(runs))
        self.process: subprocess.Popen[bytes] | None = None
        self.started, self.timed_out, self.signalled = 0.0, False, False
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        """Start the agent from the repository (``${program}`` is train.py there), in its own session."""
        env = {k: v for k, v in os.environ.items() if k not in (SWEEP_ID_VAR, TRIAL_VAR, PARAMS_VAR)}
        env.update({"GYMSOLVER_RUNS_DIR": str(self.runs), WORKER_VAR: str(self.job.worker)})
        # The agent runs the spec's ${interpreter} as plain `python`: make it this interpreter.
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), *filter(None, [env.get("PATH")])])
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # noqa: SIM115  (closed in poll)
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            agent_command(self.job.sweep_path, 1), cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.result.status = "running"

    def find_run(self) -> RunDir | None:
        """The run this agent started: new since ``start``, of this sweep and this worker."""
        if self.run is not None:
            return self.run
        for run_id in list_runs(self.runs):
            if run_id in self.known:
                continue
            run = RunDir(self.runs / run_id)
            with contextlib.suppress(OSError, ValueError):
                sweep = run.read_config().get("sweep") or {}
                if sweep.get("id") == self.job.sweep_id and sweep.get("worker") == self.job.worker:
                    trial: Any = sweep.get("trial", run_id)
                    self.run, self.result.trial, self.result.params = run, trial, dict(sweep.get("params") or {})
                    self.result.run_id = run_id
                    return run
            self.known.add(run_id)
        return None

    def _trainer_pid(self) -> int | None:
        """The pid of the agent's ``train.py`` (the holder named in the run's lock file)."""
        run = self.find_run()
        with contextlib.suppress(OSError, ValueError, IndexError):
            if run is not None:
                pid = int((run.path / ".lock").read_text().split()[0])
                os.kill(pid, 0)
                return pid
        return None

    def stop(self, signum: int) -> None:
        """Forward ``signum`` to ``train.py`` (the agent then ends with it), or stop the agent before it started one."""
        if self.process is None or self.process.poll() is not None:
            return
        self.signalled = True
        pid = self._trainer_pid()
        with contextlib.suppress(ProcessLookupError):
            if pid is not None:
                os.kill(pid, signum)
            else:
                os.killpg(self.process.pid, signum)

    def kill(self) -> None:
        """SIGKILL both."""
        pid = self._trainer_pid()
        with contextlib.suppress(ProcessLookupError):
            if pid is not None:
                os.kill(pid, signal.SIGKILL)
            if self.process is not None and self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)

    def poll(self) -> TrialResult | None:
        """The result once the agent exited (its status is the run's, not the agent's); the timeout is enforced."""
        assert self.process is not None, "start() first"
        timeout = self.job.timeout_per_trial
        if self.process.poll() is None:
            if timeout is not None and not self.timed_out and time.monotonic() - self.started > timeout:
                self.timed_out = True
                self.stop(signal.SIGTERM)
            return None
        if self._log is not None:
            self._log.close()
            self._log = None
        result, run = self.result, self.find_run()
        result.seconds += time.monotonic() - self.started
        if run is None:
            result.status = "failed"
            result.reason = last_error_line(self.log_path) or "wandb agent started no trial (the sweep may be done)"
            return result
        status = run_status(run)
        result.metric = read_metric(run, self.job.metric)
        if self.timed_out:
            result.status, result.reason = "timeout", f"stopped after the per-trial timeout of {timeout:g} s"
        elif status in FINISHED_RUN:
            result.status = "ok" if result.metric is not None else "failed"
            result.reason = "" if result.metric is not None else f"the run never logged {self.job.metric}"
        elif self.signalled or status.startswith("stopped"):
            result.status, result.reason = "interrupted", "stopped; the worker's retry resumes it from 'last'"
        else:
            result.status, result.reason = "failed", status or last_error_line(self.log_path) or "train.py failed"
        return result


class StopRequests:
    """SIGINT (Modal's preemption notice, or Ctrl-C) and SIGTERM while the worker runs, for its loop to act on."""

    def __init__(self) -> None:
        self.signals: list[int] = []
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopRequests:
        if threading.current_thread() is threading.main_thread():
            self._previous = {sig: signal.signal(sig, self._record) for sig in (signal.SIGINT, signal.SIGTERM)}
        return self

    def _record(self, signum: int, frame: FrameType | None) -> None:
        self.signals.append(signum)

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def run_worker(
    job: WorkerJob | Mapping[str, Any], runs: Path, commit: Callable[[], None] | None = None, poll_s: float = POLL_S
) -> dict[str, Any]:
    """Run the job's unfinished trials into ``runs``; ``commit`` persists the volume (None: a local folder).

    Raises WorkerInterrupted after a SIGINT/SIGTERM, once the running trial saved ``last`` and the volume is
    committed, so that Modal retries the call.
    """
    job = job if isinstance(job, WorkerJob) else WorkerJob.from_dict(job)
    runs = runs.resolve()
    folder = sweeps_root(runs) / job.sweep_id
    state = WorkerState.load(runs, job)
    state.attempts += 1

    def sync() -> None:
        state.save()
        if commit is not None:
            commit()

    folder.mkdir(parents=True, exist_ok=True)
    if job.spec_text and not (folder / SPEC_FILE).exists():
        write_text_atomic(folder / SPEC_FILE, job.spec_text)
    sync()
    with StopRequests() as stop:
        while not stop.signals and (trial := _next_trial(job, state, runs, folder)) is not None:
            print(f"worker {job.worker}: {_start_line(trial)}", flush=True)
            result = _watch(trial, state, stop, sync, poll_s)
            print(f"worker {job.worker}: {trial_line(result, job.metric)}", flush=True)
            if isinstance(trial, AgentTrial) and not result.run_id:
                state.note = f"stopped early: {result.reason}"
                break
    sync()
    if stop.signals:
        name = signal.Signals(stop.signals[0]).name
        raise WorkerInterrupted(f"worker {job.worker} stopped by {name}; its retry resumes from the saved state")
    return state.to_dict()


def _next_trial(job: WorkerJob, state: WorkerState, runs: Path, folder: Path) -> Trial | None:
    """The next trial to run: an unfinished one (resumed from 'last' where it has one), else a new one."""
    if job.backend == "local":
        for planned in job.trials:
            result = state.find(planned["trial"])
            if result is None:
                result = TrialResult(planned["trial"], dict(planned["params"]))
                state.trials.append(result)
            if _needs_run(result, job, runs):
                return TrainTrial(job, result, runs, folder / "logs" / f"trial-{result.trial}.log")
        return None
    for result in state.trials:
        if not _needs_run(result, job, runs):
            continue
        if result.run_id:
            return TrainTrial(job, result, runs, folder / "logs" / f"trial-{result.trial}.log")
        result.status, result.reason = "failed", "stopped before its first checkpoint (nothing to resume)"
    if len(state.trials) < job.count:
        return AgentTrial(job, runs, folder / "logs" / f"worker-{job.worker}-agent.log")
    return None


def _needs_run(result: TrialResult, job: WorkerJob, runs: Path) -> bool:
    """Whether ``result`` still has to run; an earlier attempt's run is taken as it ended, or resumed from 'last'."""
    if result.finished:
        return False
    run = find_trial_run(job.sweep_id, result.trial, runs)
    result.run_id = ""
    if run is None:
        return True
    status = run_status(run)
    if status in FINISHED_RUN or status.startswith("diverged"):
        result.run_id, result.metric = run.run_id, read_metric(run, job.metric)
        ok = status in FINISHED_RUN and result.metric is not None
        result.status, result.reason = ("ok", "") if ok else ("failed", status or f"never logged {job.metric}")
        return False
    if (run.checkpoints / "last").exists():
        result.run_id = run.run_id
    return True


def _watch(
    trial: Trial, state: WorkerState, stop: StopRequests, sync: Callable[[], None], poll_s: float
) -> TrialResult:
    """Run ``trial`` to its end, committing the volume on each new ``last`` and after it ends."""
    trial.start()
    sync()  # it is 'running' on the volume too
    try:
        result = _follow(trial, state, stop, sync, poll_s)
    except BaseException:  # Modal cancelled the input (SIGUSR1), or a bug: the trial must not outlive the worker
        trial.stop(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        while trial.poll() is None and time.monotonic() < deadline:
            time.sleep(poll_s)
        trial.kill()
        raise
    run = trial.find_run()
    if run is not None:
        state.record_links(run)
        if state.find(result.trial) is None:
            state.trials.append(result)
    sync()
    return result


def _follow(
    trial: Trial, state: WorkerState, stop: StopRequests, sync: Callable[[], None], poll_s: float
) -> TrialResult:
    """Poll ``trial`` until it exits; a stop request is forwarded to it, a second one (or the grace period's end)
    aborts it, keeping its newest ``last``, and after that it is killed."""
    forwarded, deadline, looked = 0, 0.0, 0.0
    run: RunDir | None = None
    while (result := trial.poll()) is None:
        time.sleep(poll_s)
        now = time.monotonic()
        if stop.signals and forwarded == 0:
            trial.stop(stop.signals[0])
            forwarded, deadline = 1, now + STOP_GRACE_S
        elif forwarded == 1 and (len(stop.signals) > 1 or now > deadline):
            trial.stop(stop.signals[0])
            forwarded, deadline = 2, now + 5.0
        elif forwarded == 2 and now > deadline:
            trial.kill()
            forwarded = 3
        if run is None and now - looked > FIND_RUN_S:
            looked, run = now, trial.find_run()
            if run is not None and state.find(trial.result.trial) is None:
                state.trials.append(trial.result)  # an agent's trial, named by its W&B run id
        if run is not None and state.record_links(run):
            trial.result.run_id = run.run_id
            sync()  # a new 'last': a retry resumes from here
    return result


def _start_line(trial: Trial) -> str:
    if trial.result.run_id:
        return f"trial {trial.result.trial} resumes run {trial.result.run_id} from 'last'"
    if isinstance(trial, AgentTrial):
        return "wandb agent starts a trial"
    return f"trial {trial.result.trial} starts"
