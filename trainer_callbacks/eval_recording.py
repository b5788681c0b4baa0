"""Evaluation episodes to ``episodes.jsonl``, and eval videos through the background video worker.

Which evaluations are recorded comes from ``video``: ``best`` records each new best and the final
evaluation, ``{every_n_evals: N}`` every N-th evaluation (and the final one), ``off`` none. A recording
replays episode 0 of that evaluation (its seed, the weights of that moment) in the worker; with
deterministic evaluation it is the same episode. ``max_videos`` keeps the newest videos plus the best.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import lightning as pl

from agents.base import BaseAgent
from utils.checkpoints import write_checkpoint
from utils.config import Config
from utils.evaluation import EvalResult
from utils.runs import RunDir
from utils.telemetry import EpisodeTelemetry
from utils.video_worker import VideoWorker


def video_name(eval_index: int, timesteps: int, episode: int, seed: int) -> str:
    """File name saying which evaluation, step and episode a video shows."""
    return f"eval={eval_index:04d}-step={timesteps:07d}-episode={episode:02d}-seed={seed}.mp4"


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
        self.best_video_eval: int | None = None
        self.last_timing: dict[str, float] = {}

    # --- called by EvaluationCallback after each evaluation ---
    def on_evaluation(self, agent: BaseAgent, result: EvalResult, eval_index: int, new_best: bool, final: bool) -> None:
        """Log every episode of the evaluation; queue a recording when the cadence asks for one."""
        timesteps = agent.collector.timesteps
        rows = [
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
        if self.worker is not None and self._wants_video(eval_index, new_best, final):
            self._submit(agent, rows[0], new_best)

    def _wants_video(self, eval_index: int, new_best: bool, final: bool) -> bool:
        every = self.config.video_every
        if every is not None:
            return final or (eval_index + 1) % every == 0
        return new_best or final

    def _submit(self, agent: BaseAgent, row: dict[str, Any], new_best: bool) -> None:
        name = video_name(row["eval"], row["timesteps"], row["episode"], row["seed"])
        arrays = {f"obs_norm.{k}": v for k, v in agent.collector.obs_normalizer.state().items()}
        snapshot = write_checkpoint(
            self.videos_dir / ".jobs", f"eval={row['eval']:04d}", agent.policy.state_dict(), None, arrays, {},
            self.config.to_dict(),
        )  # fmt: skip
        best_link = self.run.checkpoints / "best"
        checkpoint = os.readlink(best_link) if new_best and best_link.is_symlink() else None
        self.telemetry.update(row["eval"], row["episode"], {"video": f"videos/{name}", "video_status": "pending"})
        self.worker.submit(
            {
                "snapshot": str(snapshot),
                "path": str(self.videos_dir / name),
                "seed": row["seed"],
                "eval": row["eval"],
                "episode": row["episode"],
                "deterministic": self.config.eval_deterministic,
                "fps": self.config.video_fps,
                "checkpoint": checkpoint,
                "best": new_best,
            }
        )

    # --- collecting finished videos ---
    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.worker is None:
            return
        self._handle(self.worker.poll())
        if self.last_timing:
            pl_module.epoch_metrics.update(self.last_timing)
            self.last_timing = {}

    def finish(self) -> int:
        """Wait for queued videos, stop the worker; returns how many did not finish."""
        if self.worker is None:
            return 0
        self._handle(self.worker.drain())
        unfinished = self.worker.pending
        self.worker.close()
        shutil.rmtree(self.videos_dir / ".jobs", ignore_errors=True)
        return unfinished

    def _handle(self, results: list[dict[str, Any]]) -> None:
        for job in results:
            if job["status"] != "ok":
                self.telemetry.update(job["eval"], job["episode"], {"video_status": "failed", "error": job["error"]})
                continue
            self.telemetry.update(
                job["eval"],
                job["episode"],
                {"video_status": "ok", "sha256": job["sha256"], "frames": job["frames"],
                 "video_return": job["return"], "video_length": job["length"]},
            )  # fmt: skip
            if job["best"]:
                self.best_video_eval = job["eval"]
                self._link_beside_checkpoint(Path(job["path"]), job["checkpoint"])
            self.last_timing = {
                "val/video/render_ms_per_frame": 1000 * job["render_seconds"] / max(job["frames"], 1),
                "val/video/encode_s": job["encode_seconds"],
            }
        if results:
            self._prune()

    def _link_beside_checkpoint(self, video: Path, checkpoint: str | None) -> None:
        target_dir = self.run.checkpoints / checkpoint if checkpoint else None
        if target_dir is None or not target_dir.is_dir():
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
