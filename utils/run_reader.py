"""Reading run directories: the one reader the CLIs, the inspector and the publisher use.

Opens a run by id, ``@last`` or path; lists runs newest first with their status and best evaluation; reads
the config, the checkpoints (with the evaluation logged at each), ``metrics.csv`` as columns, the
``episodes.jsonl`` rows and their videos. It imports no torch, lightning or gymnasium, so listing and
reading metrics stay fast. The files are described in docs/RUN_DIRECTORY.md.
"""

from __future__ import annotations

import json
import math
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from utils.checkpoint_names import ALIASES, alias_target, checkpoint_progress, own_checkpoints
from utils.metrics_csv import read_metrics_csv
from utils.run_lock import LOCK_FILE
from utils.runs import RunDir, list_runs, resolve_run, runs_root

EVAL_MEAN = "val/roll/ep_rew/mean"


@dataclass(frozen=True)
class RunSummary:
    """One line of a run listing."""

    run_id: str
    env_id: str
    variant: str  # the config id ``<env file>:<variant>``, or the env id for configs built by hand
    algo_id: str
    status: str  # running | solved | finished | stopped by … | diverged: … | interrupted
    best_eval: float | None  # the best mean evaluation return so far
    timesteps: int | None
    created: str  # local time the run started, ``YYYY-MM-DD HH:MM:SS``


@dataclass(frozen=True)
class CheckpointInfo:
    """One checkpoint directory with what was measured when it was written."""

    name: str
    path: Path
    epoch: int
    timesteps: int
    aliases: tuple[str, ...]  # best and/or last when they point here
    eval_return: float | None  # the evaluation logged in the same epoch, if one ran


def open_run(ref: str | Path, root: Path | None = None) -> RunDir:
    """The run named ``ref`` (an id or ``@last``, looked up in the runs folder), or the run directory at a Path."""
    if isinstance(ref, Path):
        if not (ref / "config.json").is_file():
            raise FileNotFoundError(f"{ref} is not a run directory (it has no config.json)")
        return RunDir(ref.resolve())
    return resolve_run(ref, root)


def read_summary(run: RunDir) -> dict[str, Any] | None:
    """``summary.json``: what the last training session ended with (None while the first is running)."""
    try:
        return json.loads(run.summary_path.read_text())
    except (OSError, ValueError):
        return None


def _holder_alive(run: RunDir) -> bool:
    """Whether the pid in ``.lock`` (written by the process training this run, emptied when it is done) lives."""
    try:
        holder = (run.path / LOCK_FILE).read_text().split()
    except OSError:
        return False
    if len(holder) < 2 or not holder[0].isdigit() or holder[1] != socket.gethostname():
        return False
    try:
        os.kill(int(holder[0]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def run_status(run: RunDir) -> str:
    """``running`` while a process trains it, else how its last session ended; ``interrupted`` if it was killed."""
    if _holder_alive(run):
        return "running"
    summary = read_summary(run)
    if summary is not None and "status" in summary:
        return str(summary["status"])
    report = run.path / "report.md"
    if report.is_file():  # runs from before summary.json: the report's summary table has the status row
        for line in report.read_text().splitlines():
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if len(cells) == 2 and cells[0] == "status":
                return cells[1]
    return "interrupted"


def read_metrics(run: RunDir) -> dict[str, list[float]]:
    """``metrics.csv`` as columns, one value per epoch row; NaN where a row has no value (e.g. no eval)."""
    rows = read_metrics_csv(run.metrics_csv)
    names = list(dict.fromkeys(name for row in rows for name in row))
    return {name: [row.get(name, math.nan) for row in rows] for name in names}


def read_episodes(run: RunDir) -> list[dict[str, Any]]:
    """The ``episodes.jsonl`` rows in order; a line cut off by a kill is skipped."""
    path = run.path / "episodes.jsonl"
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text().splitlines():
        if line.strip():
            try:
                rows.append(json.loads(line))
            except ValueError:
                continue
    return rows


def video_path(run: RunDir, row: dict[str, Any]) -> Path | None:
    """The mp4 of an ``episodes.jsonl`` row, or None when it was never recorded, failed or was pruned."""
    relative = row.get("video")
    if not relative or row.get("video_status", "ok") != "ok":
        return None
    path = (run.path / relative).resolve()
    if run.path.resolve() not in path.parents or not path.is_file():
        return None
    return path


def list_checkpoints(run: RunDir) -> list[CheckpointInfo]:
    """The run's checkpoints, oldest first, with their aliases and the evaluation of their epoch."""
    evals: dict[int, float] = {}
    for row in read_metrics_csv(run.metrics_csv):
        if EVAL_MEAN in row and "train/cnt/epoch" in row:
            evals[int(row["train/cnt/epoch"])] = row[EVAL_MEAN]
    targets = {alias: alias_target(run.checkpoints, alias) for alias in ALIASES}
    infos = []
    for path in own_checkpoints(run.checkpoints):
        progress = checkpoint_progress(path.name)
        assert progress is not None  # own_checkpoints keeps only names it can parse
        epoch, timesteps = progress
        aliases = tuple(alias for alias, target in targets.items() if target == path.name)
        infos.append(CheckpointInfo(path.name, path, epoch, timesteps, aliases, evals.get(epoch)))
    return infos


def _created(run: RunDir) -> str:
    try:  # ids start with the local start time: 20261130-023502-f5e2
        started = time.strptime(run.run_id[:15], "%Y%m%d-%H%M%S")
    except ValueError:
        started = time.localtime(run.config_path.stat().st_mtime)
    return time.strftime("%Y-%m-%d %H:%M:%S", started)


def summarize_run(run: RunDir) -> RunSummary:
    """The listing line of one run, read from its config, summary and metrics."""
    config = run.read_config()
    summary = read_summary(run) or {}
    metrics = read_metrics_csv(run.metrics_csv)
    evals = [row[EVAL_MEAN] for row in metrics if EVAL_MEAN in row]
    best = summary.get("eval_return_best", max(evals) if evals else None)
    steps = summary.get("timesteps", metrics[-1].get("train/cnt/timesteps") if metrics else None)
    env_id = str(config.get("env_id", "?"))
    return RunSummary(
        run_id=run.run_id,
        env_id=env_id,
        variant=str(config.get("config_id") or env_id),
        algo_id=str(config.get("algo_id", "?")),
        status=run_status(run),
        best_eval=None if best is None else float(best),
        timesteps=None if steps is None else int(steps),
        created=_created(run),
    )


def list_run_summaries(root: Path | None = None) -> list[RunSummary]:
    """Every run in the runs folder, newest first; a run whose files cannot be read is left out."""
    root = root or runs_root()
    summaries = []
    for run_id in reversed(list_runs(root)):
        try:
            summaries.append(summarize_run(RunDir(root / run_id)))
        except (OSError, ValueError):
            continue
    return summaries
