"""Evaluation episodes to ``episodes.jsonl``, and eval videos through the background video worker.

Which evaluations are recorded comes from ``video``: ``best`` records each new best and the final
evaluation, ``{every_n_evals: N}`` every N-th evaluation (and the final one), ``off`` none. A recording
replays episode 0 of that evaluation (its seed, the weights of that moment) in the worker; with
deterministic evaluation it is the same episode. When the worker is idle the recording starts before
the evaluation runs, so it overlaps it, and is dropped if the evaluation turns out not to want it.
``max_videos`` keeps the newest videos plus the best.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agents.base import BaseAgent
from trainer_callbacks.checkpointing import checkpoint_spec
from trainer_callbacks.video_worker import VideoWorker
from utils.checkpoint_names import checkpoint_name
from utils.checkpoints import write_checkpoint
from utils.config import Config
from utils.episode_log import EpisodeTelemetry
from utils.evaluation import EvalResult
from utils.lean_lightning import pl
from utils.runs import RunDir


def video_name(eval_index: int, timesteps: int, episode: int, seed: int) -> str:
    """File name saying which evaluation, step and episode a video shows."""
    return f"eval={eval_index:04d}-step={timesteps:07d}-episode={episode:02d}-seed={seed}.mp4"


# Recording costs, logged at the epoch end after a video finished (declared in metrics.csv's header).
VIDEO_METRICS = ("val/video/render_ms_per_frame", "val/video/encode_s")
DRAIN_TIMEOUT_S = 300.0  # how long the end of a run waits for the last eval videos


class EvalRecordingCallback(pl.Callback):
    """Writes a telemetry row per eval episode; submits, collects and prunes eval videos."""

    def __init__(self, config: Config, run: RunDir, worker: VideoWorker | None) -> None:
        self.config = config
        self.run = run
        self.worker = worker if config.video != "off" else None
        self.telemetry = EpisodeTelemetry(run.path / "episodes.jsonl")
        for row in self.telemetry.video_rows("pending"):  # a resumed run whose worker was killed mid-video
            self.telemetry.update(
                row["eval"], row["episode"], {"video_status": "failed", "error": "run stopped before it was written"}
            )
        self.videos_dir = run.path / "videos"
        self.jobs_dir = self.videos_dir / ".jobs"  # snapshots and recordings in progress
        shutil.rmtree(self.jobs_dir, ignore_errors=True)  # a killed run's leftovers must not be reused on resume
        self.submitted: dict[int, str] = {}  # eval index -> video file name
        self.decisions: dict[int, dict[str, Any] | None] = {}  # eval -> how to keep its video; None: discard
        self.undecided: dict[int, dict[str, Any]] = {}  # recordings finished before their evaluation
        self.best_video_eval: int | None = None
        self.unlinked_best: tuple[Path, str] | None = None  # (video, checkpoint name) waiting for the checkpoint
        self.last_timing: dict[str, float] = {}
        self.on_video: Callable[[Path, dict[str, Any]], None] | None = None  # told of each video kept (W&B)

    # --- called by EvaluationCallback before and after each evaluation ---
    def before_evaluation(self, agent: BaseAgent, eval_index: int, seeds: list[int]) -> None:
        """Start recording the evaluation's first episode now, while the evaluation itself runs.

        Whether the video is kept depends on the evaluation's outcome (a new best, the final one), known
        only afterwards: ``on_evaluation`` decides, and an unwanted recording is deleted. Recording only
        starts early when the worker is idle, so speculation never delays a video that is wanted.
        """
        if self.worker is None:
            return
        self._handle(self.worker.poll())
        if self.worker.pending:
            return
        if self.config.video_every is not None and not self._on_cadence(eval_index, self.config.video_every):
            return  # the cadence does not want this one (unless it turns out final: recorded afterwards)
        self._submit(agent, eval_index, agent.collector.timesteps, seeds[0])

    def on_evaluation(self, agent: BaseAgent, result: EvalResult, eval_index: int, new_best: bool, final: bool) -> None:
        """Log every episode of the evaluation; keep (or queue) its recording when the cadence wants one."""
        timesteps = agent.collector.timesteps
        rows: list[dict[str, Any]] = [
            {
                "eval": eval_index,
                "timesteps": timesteps,
                "episode": episode,
                "seed": seed,
                "return": result.returns[episode],
                "length": result.lengths[episode],
                "terminated": result.terminated[episode],
                "truncated": not result.terminated[episode],
            }
            for episode, seed in enumerate(result.seeds)
        ]
        self.telemetry.append(rows)
        if self.worker is None:
            return
        wanted = self._wants_video(eval_index, new_best, final)
        if wanted and eval_index not in self.submitted:
            self._submit(agent, eval_index, timesteps, rows[0]["seed"])
        if wanted:
            name = self.submitted[eval_index]
            self.telemetry.update(eval_index, 0, {"video": f"videos/{name}", "video_status": "pending"})
        if eval_index in self.submitted:
            # a new best's checkpoint is written at the end of this epoch (CheckpointCallback), under this name
            checkpoint = checkpoint_name(agent.updates, timesteps) if new_best else None
            self._decide(eval_index, {"best": new_best, "checkpoint": checkpoint} if wanted else None)

    def _on_cadence(self, eval_index: int, every: int) -> bool:
        return (eval_index + 1) % every == 0

    def _wants_video(self, eval_index: int, new_best: bool, final: bool) -> bool:
        if self.config.video_every is not None:
            return final or self._on_cadence(eval_index, self.config.video_every)
        return new_best or final

    def _submit(self, agent: BaseAgent, eval_index: int, timesteps: int, seed: int) -> None:
        name = video_name(eval_index, timesteps, 0, seed)
        arrays = {f"obs_norm.{k}": v for k, v in agent.collector.obs_normalizer.state().items()}
        weights, config = agent.policy.state_dict(), self.config.to_dict()
        snapshot = write_checkpoint(
            self.jobs_dir, f"eval={eval_index:04d}", weights, None, arrays, {}, config, checkpoint_spec(agent)
        )
        assert self.worker is not None  # both callers return early without a worker
        self.submitted[eval_index] = name
        self.worker.submit(
            {
                "snapshot": str(snapshot),
                "path": str(self.jobs_dir / name),
                "seed": seed,
                "eval": eval_index,
                "episode": 0,
                "deterministic": self.config.eval_deterministic,
                "fps": self.config.video_fps,
            }
        )

    def _decide(self, eval_index: int, keep: dict[str, Any] | None) -> None:
        """Record whether an evaluation's recording is kept (and how), and settle it if it already finished."""
        self.decisions[eval_index] = keep
        if eval_index in self.undecided:
            self._settle(self.undecided.pop(eval_index))
            self._prune()

    # --- collecting finished videos ---
    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.worker is None:
            return
        if self.unlinked_best is not None:
            self._link_beside_checkpoint(*self.unlinked_best)
        self._handle(self.worker.poll())
        if self.last_timing:
            assert isinstance(pl_module, BaseAgent)
            pl_module.epoch_metrics.update(self.last_timing)
            self.last_timing = {}

    def finish(self, wait: bool = True) -> int:
        """Wait for queued videos (unless ``wait`` is False: SIGTERM leaves no time), stop the worker;
        returns how many wanted ones did not finish."""
        if self.worker is None:
            return 0
        if wait:
            self._handle(self.worker.drain(DRAIN_TIMEOUT_S))
            alive = self.worker.process is not None and self.worker.process.is_alive()
            reason = f"not written within {DRAIN_TIMEOUT_S:.0f} s" if alive else "the video worker exited first"
        else:
            self._handle(self.worker.poll())
            reason = "run stopped by SIGTERM before it was written"
        unfinished = self.telemetry.video_rows("pending")
        for row in unfinished:  # the run is over: nothing will write them (a resume would mark them failed too)
            self.telemetry.update(row["eval"], row["episode"], {"video_status": "failed", "error": reason})
        if self.unlinked_best is not None:
            self._link_beside_checkpoint(*self.unlinked_best)
        self.worker.close(wait=10.0 if wait else 0.5)
        shutil.rmtree(self.jobs_dir, ignore_errors=True)  # snapshots and any recording nobody wanted
        return len(unfinished)

    def _handle(self, results: list[dict[str, Any]]) -> None:
        for job in results:
            if job["eval"] in self.decisions:
                self._settle(job)
            else:
                self.undecided[job["eval"]] = job  # finished before its evaluation did
        if results:
            self._prune()

    def _settle(self, job: dict[str, Any]) -> None:
        """Move a wanted recording into videos/ and index it; delete an unwanted one."""
        keep = self.decisions.pop(job["eval"])
        recorded = Path(job["path"])
        if keep is None:
            recorded.unlink(missing_ok=True)
            return
        if job["status"] != "ok":
            self.telemetry.update(job["eval"], job["episode"], {"video_status": "failed", "error": job["error"]})
            return
        video = self.videos_dir / recorded.name
        os.replace(recorded, video)
        render_ms = 1000 * job["render_seconds"] / max(job["frames"], 1)
        self.telemetry.update(
            job["eval"],
            job["episode"],
            {"video_status": "ok", "sha256": job["sha256"], "frames": job["frames"],
             "video_return": job["return"], "video_length": job["length"],
             "render_ms_per_frame": round(render_ms, 3), "encode_s": round(job["encode_seconds"], 3)},
        )  # fmt: skip
        if self.on_video is not None:
            key = (job["eval"], job["episode"])
            self.on_video(video, next(row for row in self.telemetry.rows if (row["eval"], row["episode"]) == key))
        if keep["best"]:
            self.best_video_eval = job["eval"]
            self._link_beside_checkpoint(video, keep["checkpoint"])
        # metrics.csv gets these at the next epoch end; a video finishing after training (the final
        # evaluation's) has its timings in its telemetry row only
        self.last_timing = dict(zip(VIDEO_METRICS, (render_ms, job["encode_seconds"]), strict=True))

    def _link_beside_checkpoint(self, video: Path, checkpoint: str | None) -> None:
        """Hard-link the best video into its checkpoint directory (once that directory exists)."""
        self.unlinked_best = None
        if not checkpoint or not video.exists():
            return
        target_dir = self.run.checkpoints / checkpoint
        if not target_dir.is_dir():
            self.unlinked_best = (video, checkpoint)  # the video finished before its checkpoint was written
            return
        target = target_dir / "video.mp4"
        target.unlink(missing_ok=True)
        try:
            os.link(video, target)
        except OSError:
            shutil.copyfile(video, target)

    def _prune(self) -> None:
        """Keep the newest ``max_videos`` videos plus the best one; delete the rest, mark their rows."""
        rows = sorted(self.telemetry.video_rows("ok"), key=lambda row: row["eval"])
        keep = {row["eval"] for row in rows[-self.config.max_videos :]}
        if self.best_video_eval is not None:
            keep.add(self.best_video_eval)
        for row in rows:
            if row["eval"] not in keep:
                (self.run.path / row["video"]).unlink(missing_ok=True)
                self.telemetry.update(row["eval"], row["episode"], {"video_status": "pruned"})
