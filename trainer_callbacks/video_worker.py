"""A background process that records and encodes evaluation videos, so training never waits for them.

The training process writes a policy snapshot (a checkpoint directory) and submits a job naming it;
the worker loads it exactly as ``run_play.py`` would, replays the evaluation episode's seed on a
rendering eval env through ``RecordVideo``, encodes the mp4 and reports back through a queue.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import queue
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any

from trainer_callbacks.child_process import next_message, start_context


def _record_job(job: dict[str, Any]) -> dict[str, Any]:
    from agents.loading import load_checkpoint_policy
    from utils.episode_recording import record_episode

    snapshot = Path(job["snapshot"])
    trained = load_checkpoint_policy(snapshot)
    episode = record_episode(
        trained.config,
        trained.policy,
        trained.obs_normalizer,
        job["seed"],
        Path(job["path"]),
        deterministic=job["deterministic"],
        fps=job.get("fps"),
    )
    shutil.rmtree(snapshot, ignore_errors=True)
    return {
        **job,
        "status": "ok",
        "return": episode.episode_return,
        "length": episode.length,
        "frames": episode.frames,
        "sha256": episode.sha256,
        "render_seconds": episode.render_seconds,
        "encode_seconds": episode.encode_seconds,
    }


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters


def _keep_freed_heap() -> None:
    """Let this process keep freed heap memory instead of handing it back to the OS after every frame.

    Renderers allocate and free a frame-sized surface per frame (~1 MB for CartPole). With glibc's
    defaults the freed top of the heap is trimmed and the next frame faults fresh pages back in: a
    cold worker's first 500-frame CartPole video spent ~0.5 s rendering instead of ~0.28 s.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the process's own C library
    except (OSError, AttributeError):
        return
    mallopt(M_MMAP_THRESHOLD, 16 << 20)
    mallopt(M_TRIM_THRESHOLD, 128 << 20)


def _worker_main(jobs: multiprocessing.Queue, results: multiprocessing.Queue, trainer: int) -> None:
    # Ctrl-C and SIGTERM (sent to the whole group by systemd) are the trainer's to handle; it drains or stops us
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.nice(10)  # training keeps priority on a busy CPU; ffmpeg inherits this
    _keep_freed_heap()
    import torch

    torch.set_num_threads(1)
    from utils.frame_capture import warm_up

    warm_up()  # imports and first-use costs, paid before the first job arrives

    while (job := next_message(jobs, trainer)) is not None:
        try:
            results.put(_record_job(job))
        except Exception as error:  # reported to the trainer, which marks the row failed
            results.put({**job, "status": "failed", "error": f"{type(error).__name__}: {error}"})
    results.close()
    results.join_thread()  # every result is in the pipe
    os._exit(0)  # skip interpreter teardown (~0.5 s with torch loaded): the trainer waits on this exit


class VideoWorker:
    """Owns the recording process: submit jobs, poll finished ones, drain at the end."""

    def __init__(self) -> None:
        context = start_context()
        self._context = context
        self.jobs: multiprocessing.Queue = context.Queue()
        self.results: multiprocessing.Queue = context.Queue()
        self.process: multiprocessing.process.BaseProcess | None = None
        self.pending = 0

    def start(self) -> None:
        """Start the process now (before any env or thread exists, so forking is safe) rather than at the first video."""
        if self.process is None:
            self.process = self._context.Process(
                target=_worker_main, args=(self.jobs, self.results, os.getpid()), daemon=True
            )
            self.process.start()

    def submit(self, job: dict[str, Any]) -> None:
        """Queue a recording (starting the process if needed)."""
        self.start()
        self.jobs.put(job)
        self.pending += 1

    def poll(self) -> list[dict[str, Any]]:
        """Finished jobs so far, without waiting."""
        done = []
        while self.pending:
            try:
                done.append(self.results.get_nowait())
            except queue.Empty:
                break
            self.pending -= 1
        return done

    def drain(self, timeout: float = 300.0) -> list[dict[str, Any]]:
        """Wait for every submitted job (up to ``timeout`` seconds in all)."""
        done = []
        deadline = time.monotonic() + timeout
        while self.pending and time.monotonic() < deadline:
            if self.process is not None and not self.process.is_alive():
                break
            try:
                done.append(self.results.get(timeout=0.5))
                self.pending -= 1
            except queue.Empty:
                continue
        return done

    def close(self, wait: float = 10.0) -> None:
        """Stop the process (after ``drain`` when videos are still wanted), killing it after ``wait`` seconds."""
        if self.process is not None:
            self.jobs.put(None)
            self.process.join(timeout=wait)
            if self.process.is_alive():
                self.process.kill()
            self.process = None
