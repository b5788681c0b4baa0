"""The local backend: trials as ``train.py`` processes on this machine, ``parallel`` at a time.

No W&B server and no network: grid and random natively, bayes with Optuna. Ctrl-C (or SIGTERM) is passed to
the running trials once; each saves its ``last`` checkpoint, the sweep records them as interrupted, and
``--resume SWEEP_ID`` finishes them from there before starting new ones. ``count`` caps the sweep's total
number of trials, over all resumes.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sweeps.outputs import write_best, write_plot
from sweeps.search import trial_source
from sweeps.spec import SweepSpec
from sweeps.state import SweepState
from sweeps.trial_process import (
    FINISHED_RUN,
    TrialProcess,
    TrialResult,
    find_trial_run,
    read_metric,
    run_status,
    trial_line,
)

POLL_S = 0.2


@dataclass
class SweepOutcome:
    """How a sweep call ended."""

    state: SweepState
    stop_signal: int | None = None
    ran: list[TrialResult] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 when trials ran to the end (some may have failed), 1 when none succeeded, 130/143 when stopped."""
        if self.stop_signal is not None:
            return 143 if self.stop_signal == signal.SIGTERM else 130
        return 0 if self.state.best() is not None else 1


def trial_threads(parallel: int) -> int:
    """Torch threads per trial: the cores split between the trials running at once."""
    return max(1, (os.cpu_count() or 1) // parallel)


def trials_to_run(state: SweepState, spec: SweepSpec, runs: Path) -> tuple[list[TrialResult], int]:
    """Earlier trials to finish (resumed from 'last' where they have one), and the next new trial number."""
    again = []
    for trial in state.trials:
        if trial.finished:
            continue
        run = find_trial_run(state.sweep_id, trial.trial, runs)
        trial.run_id = ""
        if run is not None:
            if run_status(run) in FINISHED_RUN:  # it ended before the sweep heard of it
                trial.run_id, trial.metric = run.run_id, read_metric(run, state.metric)
                trial.status = "ok" if trial.metric is not None else "failed"
                continue
            if (run.checkpoints / "last").exists():
                trial.run_id = run.run_id
        again.append(trial)
    numbers = [int(t.trial) for t in state.trials]
    return again, (max(numbers) + 1 if numbers else 0)


def run_local(
    spec: SweepSpec,
    state: SweepState,
    runs: Path,
    parallel: int = 1,
    console: Console | None = None,
    timeout: float | None = None,
    on_trial: Callable[[TrialResult], None] | None = None,
) -> SweepOutcome:
    """Run the sweep's remaining trials; the state, ``trials.csv``, ``best.yaml`` and the PNG are kept current."""
    console = console or Console(stderr=True)
    source = trial_source(spec, state.seed, state.path)
    again, next_number = trials_to_run(state, spec, runs)
    total = state.count
    if spec.method == "grid":
        total = min(total, spec.grid_size())
    outcome = SweepOutcome(state)
    running: list[TrialProcess] = []
    stop: list[int] = []

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.append(signum)
        for process in running:
            process.stop(signum)  # a second Ctrl-C reaches them too: they abort without waiting for the update

    def next_trial() -> TrialResult | None:
        nonlocal next_number
        if again:
            return again.pop(0)
        if next_number >= total:
            return None
        trial = source.propose(next_number)
        next_number += 1
        state.trials.append(trial)
        return trial

    threads = trial_threads(parallel)
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    done = sum(1 for t in state.trials if t.finished)
    progress = Progress(
        TextColumn("[bold]sweep {task.fields[sweep]}"), BarColumn(), MofNCompleteColumn(), TextColumn("trials"),
        TimeElapsedColumn(), TextColumn("{task.description}"), console=console, transient=False,
    )  # fmt: skip
    task = progress.add_task(_best_text(state), total=total, completed=done, sweep=state.sweep_id)
    try:
        with progress:
            while True:
                while not stop and len(running) < parallel and (trial := next_trial()) is not None:
                    process = TrialProcess(
                        trial, state.sweep_id, spec.config_id, spec.overrides, spec.metric, runs,
                        state.logs / f"trial-{trial.trial}.log", threads=threads if parallel > 1 else None,
                        timeout=timeout, quiet=spec.quiet,
                    )  # fmt: skip
                    process.start()
                    running.append(process)
                    state.save()
                if not running:
                    break
                time.sleep(POLL_S)
                for process in list(running):
                    result = process.poll()
                    if result is None:
                        continue
                    running.remove(process)
                    outcome.ran.append(result)
                    if result.finished:
                        source.report(result)
                    state.save()
                    if result.finished:
                        progress.advance(task)
                    progress.update(task, description=_best_text(state))
                    progress.console.print(
                        trial_line(result, state.metric), markup=False, highlight=False, soft_wrap=True
                    )
                    if on_trial is not None:
                        on_trial(result)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        state.save()
        write_best(state, runs)
        write_plot(state)
    outcome.stop_signal = stop[0] if stop else None
    return outcome


def _best_text(state: SweepState) -> str:
    best = state.best()
    return f"best {state.metric} = {best.metric:g} (trial {best.trial})" if best is not None else "no result yet"


def print_summary(outcome: SweepOutcome, runs: Path, out: Callable[[str], None] = print) -> None:
    """Where the results are and what to do next."""
    state = outcome.state
    for line in state.summary_lines():
        out(line)
    finished = sum(1 for t in state.trials if t.finished)
    if outcome.stop_signal is not None or (finished < state.count and any(not t.finished for t in state.trials)):
        print(f"stopped; continue it with: python scripts/sweep.py --resume {state.sweep_id}", file=sys.stderr)
