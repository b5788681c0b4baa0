"""The video worker process: survives Ctrl-C meant for the trainer, reports failed jobs, exits cleanly."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from utils.video_worker import VideoWorker


def test_worker_ignores_ctrl_c_reports_a_failed_job_and_exits_with_status_0(tmp_path: Path) -> None:
    worker = VideoWorker()
    worker.start()
    assert worker.process is not None
    deadline = time.monotonic() + 60
    job = {"snapshot": str(tmp_path / "missing"), "path": str(tmp_path / "v.mp4"), "seed": 0, "eval": 3,
           "episode": 0, "deterministic": True}  # fmt: skip
    worker.submit(job)
    results = worker.drain(timeout=60)  # the first result proves the worker is up and its handlers are set
    assert [(r["eval"], r["status"]) for r in results] == [(3, "failed")]
    os.kill(worker.process.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the whole process group
    worker.submit({**job, "eval": 4})
    results = worker.drain(timeout=max(deadline - time.monotonic(), 1))
    assert [(r["eval"], r["status"]) for r in results] == [(4, "failed")]
    assert "missing" in results[0]["error"]
    process = worker.process
    worker.close()
    assert process.exitcode == 0 and worker.process is None
    assert not (tmp_path / "v.mp4").exists()
