"""Training end to end: envs, agent, Lightning trainer, callbacks, run directory, report."""

from __future__ import annotations

import logging
import math
import os
import signal
import sys
import time
import warnings
from contextlib import ExitStack, closing
from dataclasses import dataclass

import torch
from torch.utils.data import DataLoader

from agents import agent_class
from agents.base import TrainingDiverged
from loggers.console import ConsoleLogger
from trainer_callbacks.checkpointing import CheckpointCallback, restore_agent, save_agent_checkpoint
from trainer_callbacks.curve_worker import CurveWorker
from trainer_callbacks.eval_recording import VIDEO_METRICS, EvalRecordingCallback
from trainer_callbacks.evaluation import EvaluationCallback
from trainer_callbacks.metrics_logging import MetricsLoggingCallback
from trainer_callbacks.stop_request import StopRequestCallback
from trainer_callbacks.video_worker import VideoWorker
from trainer_callbacks.wandb_logging import STARTUP_WAIT_S, WandbLoggingCallback, model_checkpoints
from trainer_callbacks.wandb_worker import WandbWorker
from utils.atomic_files import write_json_atomic
from utils.checkpoint_names import alias_target
from utils.checkpoints import checkpoint_logs_enabled
from utils.config import Config
from utils.config_values import ConfigError
from utils.envs import build_env, check_can_render, reward_threshold
from utils.lean_lightning import pl
from utils.metric_names import VAL_METRICS
from utils.metrics_csv import CsvMetricsLogger, read_metrics_csv
from utils.precision import emulated_bf16_note, resolve_precision
from utils.report import CURVE_FILE, write_report
from utils.resume import ResumePlan, rewind_run
from utils.run_lock import release_run
from utils.runs import RunDir, check_runs_root, create_run
from utils.wandb_mode import new_wandb_id, resolve_wandb_mode

TORCH_DEFAULT_THREADS = torch.get_num_threads()  # torch's own choice (one per physical core), before any run sets it


@dataclass
class TrainingResult:
    """What a finished (or stopped) training run produced."""

    run: RunDir
    timesteps: int
    best_eval_return: float | None
    last_eval_return: float | None
    solved: bool
    stop_signal: int | None  # SIGINT or SIGTERM when a signal stopped it early
    diverged: str | None  # the one-line reason when a non-finite value stopped training

    @property
    def interrupted(self) -> bool:
        """Whether Ctrl-C or SIGTERM stopped it."""
        return self.stop_signal is not None


def _quiet_lightning() -> None:
    for name in ("lightning", "lightning.pytorch", "lightning.fabric", "pytorch_lightning"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*GPU available but not used.*")
    warnings.filterwarnings("ignore", message=".*`training_step` returned `None`.*")
    warnings.filterwarnings("ignore", message=".*LeafSpec.*is deprecated.*")


def _accelerator(config: Config) -> str:
    if config.accelerator == "gpu" and not torch.cuda.is_available():
        raise ConfigError("accelerator: gpu requested but no CUDA device is visible; use accelerator: cpu")
    return config.accelerator


def _session_log(run: RunDir, stack: ExitStack) -> logging.Logger:
    """``logs/train.log`` (unless ``GYMSOLVER_DISABLE_SESSION_LOGS`` or ``VIBES_DISABLE_SESSION_LOGS`` is set),
    closed when ``stack`` closes."""
    logger = logging.getLogger(f"gymnasium_solver.run.{run.run_id}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    if not any(os.environ.get(name) for name in ("GYMSOLVER_DISABLE_SESSION_LOGS", "VIBES_DISABLE_SESSION_LOGS")):
        handler = logging.FileHandler(run.logs / "train.log")
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        logger.addHandler(handler)
        stack.callback(logger.removeHandler, handler)
        stack.callback(handler.close)
    return logger


def intra_op_threads(config: Config) -> int:
    """``torch_threads``, or for 0: one thread for MLPs (op overhead dominates), every core for a CNN."""
    if config.torch_threads > 0:
        return config.torch_threads
    return 1 if config.policy == "mlp" else TORCH_DEFAULT_THREADS


def train(
    config: Config,
    quiet: bool = False,
    resume: ResumePlan | None = None,
    wandb_worker: WandbWorker | None = None,
    curve_worker: CurveWorker | None = None,
) -> TrainingResult:
    """Train ``config`` into a new run directory (or continue ``resume``) and write its report.

    A resumed run must already be locked by this process (``utils.run_lock.lock_run``); a new run is
    locked as it is created. Either lock is released when this returns. ``wandb_worker``: a W&B process
    started early (train.py starts it before importing torch); one is started here when W&B is on.
    ``curve_worker``: the process that draws the learning curve, likewise started here when not given.
    """
    worker = None
    if curve_worker is None:
        curve_worker = CurveWorker()
        curve_worker.start()
    run: list[RunDir] = [resume.run] if resume is not None else []
    try:
        wandb_mode = resolve_wandb_mode(config.wandb)  # online without credentials: ConfigError before any write
        if wandb_mode != "off" and not config.wandb_id:
            config = config.replace(wandb_id=new_wandb_id())  # in config.json and every checkpoint: resumes continue
            if resume is not None:
                resume.config = config
        if wandb_mode == "off" and wandb_worker is not None:
            wandb_worker.close()
            wandb_worker = None
        elif wandb_mode != "off" and wandb_worker is None:
            wandb_worker = WandbWorker()
            wandb_worker.start()  # forked before envs and threads exist, like the video worker
        _quiet_lightning()
        torch.set_num_threads(intra_op_threads(config))
        torch.manual_seed(config.seed)
        accelerator = _accelerator(config)
        worker = VideoWorker() if config.video != "off" else None
        if worker is not None:
            worker.start()  # before envs and threads exist: the worker is forked from this process on Linux
        with ExitStack() as stack:  # envs and the session log close even when setup fails
            return _train(
                config, quiet, resume, accelerator, worker, run, stack, wandb_worker, wandb_mode, curve_worker
            )
    finally:
        curve_worker.close()
        if worker is not None:
            worker.close()
        if wandb_worker is not None:
            wandb_worker.close()  # after an error: the W&B run ends as failed; after finish: already closed
        if run:
            release_run(run[0].path)


def _train(
    config: Config,
    quiet: bool,
    resume: ResumePlan | None,
    accelerator: str,
    worker: VideoWorker | None,
    created: list[RunDir],
    stack: ExitStack,
    wandb_worker: WandbWorker | None = None,
    wandb_mode: str = "off",
    curve_worker: CurveWorker | None = None,
) -> TrainingResult:
    check_runs_root()
    train_env = stack.enter_context(closing(build_env(config, "train")))
    eval_env = stack.enter_context(closing(build_env(config, "eval")))
    threshold = reward_threshold(config)
    agent = agent_class(config.algo_id)(config, train_env)
    if config.video != "off":
        check_can_render(config)
    evaluator = EvaluationCallback(config, eval_env, threshold)
    exact_resume = False
    if resume is not None:
        exact_resume = restore_agent(agent, evaluator, resume.checkpoint)  # the last check before any write
        rewind_run(resume)
        run = resume.run
    else:
        run = create_run(config.to_dict())
        created.append(run)
    log = _session_log(run, stack)
    recorder = EvalRecordingCallback(config, run, worker)
    evaluator.on_result, evaluator.on_start = recorder.on_evaluation, recorder.before_evaluation
    checkpoints = CheckpointCallback(run, evaluator, log)
    if resume is not None:
        checkpoints.last_saved_timesteps = agent.collector.timesteps
        notes = [*resume.notes, f"continuing from checkpoint {resume.checkpoint.path.name} at step {resume.timesteps}"]
        if not checkpoint_logs_enabled() and not resume.notes:
            notes = []  # VIBES_QUIET: nothing went wrong, so nothing to say
        for note in notes:
            print(f"resume: {note}", file=sys.stderr)
            log.info("resume: %s", note)
        log.info("resumed from %s (exact env state: %s)", resume.checkpoint.path.name, exact_resume)

    total_epochs = math.ceil(config.max_timesteps / config.rollout_size)
    remaining = max(total_epochs - agent.updates, 0)
    console = ConsoleLogger(config.max_timesteps, quiet=quiet)
    wandb_callback = None
    if wandb_worker is not None:
        wandb_callback = WandbLoggingCallback(
            wandb_worker, run, config, wandb_mode,
            lambda message: console.console.print(message, markup=False, highlight=False, soft_wrap=True), log, quiet,
        )  # fmt: skip
        recorder.on_video = wandb_callback.on_video
        if resume is not None and run.metrics_csv.exists():
            wandb_callback.send_earlier_rows(read_metrics_csv(run.metrics_csv))  # those W&B has not had yet
    elif resume is not None and config.wandb_id:
        print(f"resume: W&B is off; W&B run {config.wandb_id} gets this session's rows when a later one logs to it",
              file=sys.stderr)  # fmt: skip
    csv_logger = CsvMetricsLogger(run.metrics_csv)
    stopper = StopRequestCallback()
    title = f"{config.config_id or config.env_id}  run {run.run_id}"
    console.start(title)
    console.update_progress(agent.collector.timesteps)
    if resume is not None and not exact_resume and not quiet:
        console.console.print("resume: this env's state cannot be saved, so episodes restart from a reset")
    precision = resolve_precision(config, accelerator)
    bf16_note = emulated_bf16_note(config, accelerator)
    if bf16_note is not None:
        print(f"warning: {bf16_note}", file=sys.stderr)
        log.warning(bf16_note)
    log.info(
        "training %s for %d steps (%d updates left), precision %s", title, config.max_timesteps, remaining, precision
    )

    late_metrics = [*agent.episode_metric_names(), *VAL_METRICS, *(VIDEO_METRICS if config.video != "off" else ())]
    trainer = pl.Trainer(
        max_epochs=remaining,
        accelerator=accelerator,
        precision=precision,
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        callbacks=[
            evaluator,
            recorder,
            MetricsLoggingCallback(console, csv_logger, late_metrics),
            *([wandb_callback] if wandb_callback is not None else []),
            checkpoints,
            stopper,
        ],
    )
    updates_before = agent.updates
    diverged: TrainingDiverged | None = None
    stopper.install()
    try:
        if remaining > 0:
            # one dummy batch per epoch (training_step collects its own data); torch types DataLoader's
            # dataset as Dataset, though any sequence works
            trainer.fit(agent, train_dataloaders=DataLoader([0], batch_size=None))  # type: ignore[arg-type]
    except TrainingDiverged as error:
        diverged = error
        log.info("%s", error)
    finally:
        stopper.uninstall()
        csv_logger.close()
    if diverged is None and agent.updates > updates_before:
        save_agent_checkpoint(run, agent, evaluator, ("last",))
    train_env.close()
    eval_env.close()
    last = evaluator.last_result.mean_return if evaluator.last_result else None
    best = evaluator.best_return if evaluator.eval_count else None
    if diverged is not None:
        status = f"diverged: {diverged.metric} became {diverged.value} at step {diverged.timesteps}"
    elif stopper.requested:
        status = f"stopped by {stopper.reason}"
    else:
        status = "solved" if evaluator.solved else "finished"
    summary: dict[str, float | str] = {
        "run_id": run.run_id,
        "timesteps": agent.collector.timesteps if diverged is None else diverged.timesteps,
        "updates": agent.updates,
        "train_seconds": round(agent.train_seconds, 2),
        "status": status,
        "precision": precision,
    }
    if diverged is not None:
        kept = alias_target(run.checkpoints, "last")
        summary["checkpoint_kept"] = f"last = {kept}" if kept else "none (diverged before the first checkpoint)"
    if last is not None and best is not None:
        summary["eval_return_last"] = round(last, 3)
        summary["eval_return_best"] = round(best, 3)
    if threshold is not None:
        summary["reward_threshold"] = threshold
    if wandb_callback is not None:
        wandb_callback.wait_started(timeout=1.0 if stopper.signum == signal.SIGTERM else STARTUP_WAIT_S)
        summary.update(wandb_callback.summary_fields())
    draw = curve_worker.draw if curve_worker is not None else None
    report = write_report(run.path, title, config.to_dict(), summary, draw)  # while the last videos encode
    if wandb_callback is not None:
        wandb_callback.send_results([report, run.path / CURVE_FILE], model_checkpoints(run, config))
    if recorder.worker is not None and recorder.worker.pending and stopper.signum != signal.SIGTERM:
        console.console.print(f"waiting for {recorder.worker.pending} eval video(s) to finish encoding…")
    waited = time.perf_counter()
    unfinished = recorder.finish(wait=stopper.signum != signal.SIGTERM)
    log.info("waited %.2f s for the last eval videos", time.perf_counter() - waited)
    if config.video != "off":
        summary["videos"] = len(recorder.telemetry.video_rows("ok")) if not unfinished else f"{unfinished} unfinished"
    summary["report"] = str(report)
    if wandb_callback is not None:
        wandb_callback.finish(summary, 1 if diverged is not None else 0, wait=stopper.signum != signal.SIGTERM)
        summary.update(wandb_callback.summary_fields())  # a failure at the end is recorded too
    write_json_atomic(run.summary_path, summary)
    console.finish(summary)
    log.info("finished: %s", summary)
    return TrainingResult(
        run, agent.collector.timesteps, best, last, evaluator.solved, stopper.signum, str(diverged or "") or None
    )
