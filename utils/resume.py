"""Continuing a run: choosing an intact checkpoint, checking the request, then rewinding the run's files.

Everything that can fail is checked by ``plan_resume`` before anything is written: the checkpoint (its
manifest, its files, finite weights), the config with the CLI overrides, the budget, and the ``best``
link. Only then does ``rewind_run`` touch the run: config.json, ``@last``, metrics.csv and
episodes.jsonl rows after the checkpoint, and checkpoints newer than it (an abandoned future).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from utils.atomic_files import write_atomic, write_json_atomic, write_text_atomic
from utils.checkpoint_names import alias_target, checkpoint_progress, own_checkpoints
from utils.checkpoints import CheckpointData, CheckpointError, nonfinite_tensor, point_alias, read_checkpoint
from utils.config import Config
from utils.config_values import ConfigError
from utils.metrics_csv import CsvMetricsLogger, read_metrics_csv
from utils.runs import RunDir, point_last, with_format_version
from utils.sweep_params import merge_params

# Fields a resumed run may change: budgets, evaluation, checkpointing and optimisation knobs, not shapes; W&B
# logging may be turned on, off or offline, but its project, entity and run id stay (one W&B run per run).
RESUME_CHANGEABLE = {
    "max_timesteps", "eval_freq", "eval_episodes", "eval_deterministic", "reward_threshold", "early_stop",
    "checkpoint_freq", "keep_checkpoints", "policy_lr", "clip_range", "ent_coef", "vf_coef", "target_kl",
    "max_grad_norm", "n_epochs", "description", "torch_threads", "accelerator", "precision", "video",
    "max_videos", "video_fps", "async_context", "fast_paths", "wandb", "wandb_tags", "wandb_dashboard",
}  # fmt: skip


@dataclass
class ResumePlan:
    """A checked request to continue ``run`` from ``checkpoint`` with ``config``."""

    run: RunDir
    config: Config
    checkpoint: CheckpointData
    notes: list[str] = field(default_factory=list)  # what was skipped or repaired, for the user

    @property
    def timesteps(self) -> int:
        """Env steps already trained at the checkpoint."""
        return int(self.checkpoint.state["timesteps"])


def load_usable_checkpoint(path: Path) -> CheckpointData:
    """Read a checkpoint for training on; CheckpointError if it is damaged or holds NaN/inf weights."""
    data = read_checkpoint(path)
    bad = nonfinite_tensor(data)
    if bad is not None:
        raise CheckpointError(f"checkpoint {path.name}: {bad} holds NaN or infinite values (the run diverged)")
    return data


def choose_checkpoint(run: RunDir) -> tuple[CheckpointData, list[str]]:
    """The newest intact checkpoint, starting at ``last``; notes say which were skipped and why."""
    directory = run.checkpoints
    candidates: list[Path] = []
    last = alias_target(directory, "last")
    if last is not None:
        candidates.append(directory / last)
    candidates += [p for p in reversed(own_checkpoints(directory)) if p.name != last]
    notes: list[str] = []
    for path in candidates:
        if not path.is_dir():
            notes.append(f"checkpoint {path.name} ('last') is missing")
            continue
        try:
            return load_usable_checkpoint(path), notes
        except CheckpointError as error:
            notes.append(str(error))
    if notes:
        raise CheckpointError(f"run {run.run_id} has no intact checkpoint to resume from ({notes[0]})")
    raise CheckpointError(f"run {run.run_id} has no checkpoint yet (it stopped before its first update); start anew")


def plan_resume(run: RunDir, overrides: Mapping[str, Any]) -> ResumePlan:
    """Check a ``--resume`` request completely without writing anything."""
    fixed = sorted({key.split(".")[0] for key in overrides} - RESUME_CHANGEABLE)
    if fixed:
        raise ConfigError(
            f"--resume: {fixed[0]} cannot change when resuming (the checkpoint was built with it); "
            f"start a new run, or change only: {', '.join(sorted(RESUME_CHANGEABLE))}"
        )
    checkpoint, notes = choose_checkpoint(run)
    try:
        base = run.read_config()
    except (OSError, ValueError):
        base = checkpoint.config  # config.json lost or damaged: the checkpoint holds the same settings
        notes.append("config.json is missing or damaged; using the checkpoint's copy")
    config = Config.from_dict(merge_params(base, overrides))
    plan = ResumePlan(run, config, checkpoint, notes)
    if config.max_timesteps <= plan.timesteps:
        raise ConfigError(
            f"--resume: the run has already trained {plan.timesteps} of its {config.max_timesteps} steps; "
            f"pass a larger budget, e.g. --max-timesteps {2 * plan.timesteps}"
        )
    best = alias_target(run.checkpoints, "best")
    if best is not None and not (run.checkpoints / best).is_dir():
        kept = checkpoint.state.get("best_checkpoint")
        if not kept or not (run.checkpoints / kept).is_dir():
            raise CheckpointError(
                f"run {run.run_id}: checkpoints/best points at '{best}', which is missing; restore that folder "
                f"or point best at a checkpoint (ln -sfn <name> {run.checkpoints / 'best'})"
            )
    if not run.metrics_csv.exists():
        notes.append("metrics.csv is missing; a new one starts at the resumed step")
    return plan


def rewind_run(plan: ResumePlan) -> None:
    """Make the run's files agree with the checkpoint being resumed (the first write of a resume)."""
    run, checkpoint = plan.run, plan.checkpoint
    write_json_atomic(run.config_path, with_format_version(plan.config.to_dict()))
    point_last(run, run.path.parent)
    resumed = checkpoint_progress(checkpoint.path.name)
    best = alias_target(run.checkpoints, "best")
    kept_best = checkpoint.state.get("best_checkpoint")
    for path in own_checkpoints(run.checkpoints):
        progress = checkpoint_progress(path.name)
        if (
            resumed is not None
            and progress is not None
            and progress > resumed
            and (kept_best is not None or path.name != best)
        ):
            shutil.rmtree(path, ignore_errors=True)  # written after the checkpoint resumed from: never reused
    point_alias(run.checkpoints, "last", checkpoint.path.name)
    if kept_best and (run.checkpoints / kept_best).is_dir() and kept_best != best:
        point_alias(run.checkpoints, "best", kept_best)
    trim_metrics(run, int(checkpoint.state["updates"]))
    trim_episodes(run, plan.timesteps)


def trim_metrics(run: RunDir, last_epoch: int) -> None:
    """Drop metric rows logged after the checkpoint a resumed run continues from."""
    if not run.metrics_csv.exists():
        return
    rows = [row for row in read_metrics_csv(run.metrics_csv) if row.get("train/cnt/epoch", 0) <= last_epoch]
    if not rows:
        run.metrics_csv.unlink()
        return

    def write(temp: Path) -> None:
        with CsvMetricsLogger(temp) as writer:
            for row in rows:
                writer.log(row)

    write_atomic(run.metrics_csv, write)


def trim_episodes(run: RunDir, timesteps: int) -> None:
    """Drop ``episodes.jsonl`` rows of evaluations after ``timesteps``, and their videos."""
    path = run.path / "episodes.jsonl"
    if not path.exists():
        return
    kept: list[dict[str, Any]] = []
    dropped: list[dict[str, Any]] = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            continue  # a line cut off by a kill
        (kept if row.get("timesteps", 0) <= timesteps else dropped).append(row)
    for row in dropped:
        if row.get("video"):
            (run.path / row["video"]).unlink(missing_ok=True)
    write_text_atomic(path, "".join(json.dumps(row) + "\n" for row in kept))
