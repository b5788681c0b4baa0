"""Every metrics row, eval video and the session's end to Weights & Biases, through the W&B process.

At each update's end this callback puts one message on a queue (``trainer_callbacks/wandb_worker.py``
makes the wandb calls in its own process), so W&B never slows the training loop. The W&B step is the
update count (``train/cnt/epoch``) and every metric is plotted against ``train/cnt/timesteps``. A resumed
run continues the same W&B run (``config.wandb_id``): the W&B process notes the newest update it sent
(``wandb/logged_through.json``), and a resumed session first sends the rows of ``metrics.csv`` after that
one, then live updates after it. So the W&B curves hold every update once, whether the resume starts from
a checkpoint older than the last row, W&B was off in an earlier session, or the trainer was killed mid-row.
Videos come from their mp4 files as the recording callback settles them (``on_video``), captioned with
their ``episodes.jsonl`` row. A W&B failure is reported once; training and the run directory never depend
on W&B.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from agents.base import BaseAgent
from trainer_callbacks.wandb_worker import WandbWorker, read_progress
from utils.checkpoint_names import alias_target, checkpoint_progress
from utils.config import Config
from utils.lean_lightning import pl
from utils.runs import RunDir
from utils.wandb_mode import wandb_project

STARTUP_WAIT_S = 120.0  # for the run's id and URL before the report is written (online init can be slow)
FINISH_WAIT_S = 300.0  # for the last uploads after training; then the run folder is left for `wandb sync`
SIGTERM_WAIT_S = 5.0


def video_caption(row: Mapping[str, Any]) -> str:
    """An eval video's ``episodes.jsonl`` row as its W&B caption."""
    fields = [f"eval={row['eval']}", f"step={row['timesteps']}", f"episode={row['episode']}", f"seed={row['seed']}"]
    fields += [f"return={row['return']:g}", f"length={row['length']}"]
    return " ".join(fields)


def model_checkpoints(run: RunDir, config: Config) -> list[dict[str, Any]]:
    """The ``best`` and ``last`` checkpoints as artifact requests: one per directory, with its aliases."""
    by_target: dict[str, list[str]] = {}
    for alias in ("best", "last"):
        target = alias_target(run.checkpoints, alias)
        if target is not None and (run.checkpoints / target).is_dir():
            by_target.setdefault(target, []).append(alias)
    requests = []
    for target, aliases in by_target.items():
        epoch, timesteps = checkpoint_progress(target) or (None, None)
        metadata = {"checkpoint": target, "epoch": epoch, "timesteps": timesteps, "run_id": run.run_id,
                    "env_id": config.env_id, "algo_id": config.algo_id, "config_id": config.config_id}  # fmt: skip
        requests.append({"path": str(run.checkpoints / target), "aliases": aliases, "metadata": metadata})
    return requests


class WandbLoggingCallback(pl.Callback):
    """Sends each update's metrics row and the videos finished since the last one to the W&B process."""

    def __init__(
        self,
        worker: WandbWorker,
        run: RunDir,
        config: Config,
        mode: str,
        say: Callable[[str], None] = print,
        log: logging.Logger | None = None,
        quiet: bool = False,
    ) -> None:
        self.worker = worker
        self.run = run
        self.mode = mode
        self.wandb_id = config.wandb_id
        self.logged_through = read_progress(run.path / "wandb", config.wandb_id)  # sent by earlier sessions
        self.say = say
        self.session_log = log
        self.quiet = quiet
        self.videos: list[tuple[str, str]] = []  # finished since the last row: (mp4, caption)
        self.started: dict[str, Any] | None = None
        self.workspace: str | None = None
        self.error: str | None = None
        self.finished = False
        worker.send(
            {
                "kind": "init",
                "mode": mode,
                "dir": str(run.path.resolve()),
                "root_dir": str(Path.cwd()),
                "log_path": str((run.logs / "wandb.log").resolve()),
                "id": config.wandb_id,
                "name": run.run_id,
                "project": wandb_project(config.wandb_project, config.project_id, config.env_id),
                "entity": config.wandb_entity,
                "tags": list(config.wandb_tags),
                "config": config.to_dict(),
                "dashboard": config.wandb_dashboard,
            }
        )

    def send_earlier_rows(self, rows: list[dict[str, float]]) -> None:
        """A resumed session: send the rows of ``metrics.csv`` (trimmed to the checkpoint) W&B has not had."""
        for row in rows:
            self.log_row(int(row["train/cnt/epoch"]), row)

    def on_video(self, video: Path, row: Mapping[str, Any]) -> None:
        """A recorded eval video is in ``videos/``: log it with the next row."""
        self.videos.append((str(video.resolve()), video_caption(row)))

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        assert isinstance(pl_module, BaseAgent)
        self.log_row(pl_module.updates, pl_module.epoch_metrics)

    def log_row(self, step: int, metrics: Mapping[str, float]) -> None:
        """Send one update's row, unless an earlier session of this run already logged that update."""
        if step > self.logged_through:
            self.worker.send({"kind": "log", "step": step, "metrics": dict(metrics), "videos": self.videos})
            self.videos = []
        self._handle(self.worker.poll())

    def wait_started(self, timeout: float = STARTUP_WAIT_S) -> None:
        """Online: wait (up to ``timeout`` s) until the W&B run exists, so its URL reaches the report."""
        if self.mode == "online" and self.started is None and self.error is None:
            self._handle(self.worker.wait_for("started", "error", timeout=timeout))
        else:
            self._handle(self.worker.poll())

    def summary_fields(self) -> dict[str, str]:
        """What summary.json and report.md say about W&B: run id, then the URL (online) or how to upload it."""
        fields = {"wandb_id": self.wandb_id}
        if self.mode == "offline" and not (self.error and self.started is None):
            fields["wandb_sync"] = f"wandb sync {self.run.path / 'wandb' / 'offline-run-*'}"
        elif self.started is not None and self.started["url"]:
            fields["wandb_url"] = self.started["url"]
        if self.workspace is not None:
            fields["wandb_workspace"] = self.workspace
        if self.error is not None:
            fields["wandb_error"] = self.error
        return fields

    def send_results(self, files: list[Path], checkpoints: list[dict[str, Any]]) -> None:
        """Training is over: upload the report files and the checkpoints as models (while the last videos encode)."""
        staging = str(self.run.path / "wandb" / "artifacts")
        message = {"kind": "results", "files": [str(path) for path in files], "checkpoints": checkpoints}
        self.worker.send({**message, "staging": staging})

    def finish(self, summary: Mapping[str, Any], exit_code: int, wait: bool = True) -> None:
        """Log the last videos, the episodes table and the summary; end the W&B run and its process."""
        self.worker.send(
            {
                "kind": "finish",
                "videos": self.videos,
                "episodes": str(self.run.path / "episodes.jsonl"),
                "summary": dict(summary),
                "exit_code": exit_code,
            }
        )
        self.videos = []
        if self.mode == "online" and wait:
            self.say("waiting for W&B to finish uploading…")
        waited = time.perf_counter()
        events = self.worker.wait_for("finished", timeout=FINISH_WAIT_S if wait else SIGTERM_WAIT_S)
        self._handle(events)
        self.finished = any(event["event"] == "finished" for event in events)
        self.worker.close(wait=10.0)
        self._note(f"waited {time.perf_counter() - waited:.2f} s for the W&B run to finish", show=False)
        if not self.finished:
            folder = self.started["folder"] if self.started else str(self.run.path / "wandb")
            self._warn(f"the W&B run did not finish in time; upload what was saved with: wandb sync {folder}")

    def _handle(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            if event["event"] == "started":
                self.started = event
                where = event["url"] or f"offline run {event['id']} in {event['folder']}"
                self._note(f"W&B: {where}", show=not self.quiet)
            elif event["event"] == "dashboard":
                self.workspace = event["url"]
                self._note(f"W&B workspace: {event['url']} ({event['action']})", show=not self.quiet)
            elif event["event"] == "error" and self.error is None:
                self.error = event["message"]
                self._warn(f"W&B failed ({self.error}); training continues and the run directory stays complete")

    def _note(self, message: str, show: bool) -> None:
        if show:
            self.say(message)
        if self.session_log is not None:
            self.session_log.info("%s", message)

    def _warn(self, message: str) -> None:
        self._note(f"warning: {message}", show=True)
