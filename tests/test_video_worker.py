"""The video worker process: survives Ctrl-C meant for the trainer, reports failed jobs, exits cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from trainer_callbacks.video_worker import VideoWorker


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


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's exit may wait for a reaper)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads process states from /proc")
def test_worker_exits_when_its_trainer_is_killed() -> None:
    trainer = subprocess.Popen([sys.executable, "-c", TRAINER_THAT_HANGS], cwd=REPO, stdout=subprocess.PIPE, text=True)
    worker_pid = int(trainer.stdout.readline())
    assert _running(worker_pid)
    trainer.kill()  # as a SIGKILLed training run: no cleanup code runs
    trainer.wait()
    deadline = time.monotonic() + 120  # the orphan notices after its imports: ~40 s seen with both cores busy
    while _running(worker_pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _running(worker_pid), "the orphaned video worker kept running"


REPO = Path(__file__).resolve().parents[1]
TRAINER_THAT_HANGS = """
import time
from trainer_callbacks.video_worker import VideoWorker
worker = VideoWorker()
worker.start()
print(worker.process.pid, flush=True)
time.sleep(600)
"""


RENDER_FAULTS = """
import os, resource, sys
os.environ["SDL_VIDEODRIVER"] = "dummy"
if sys.argv[1] == "tuned":
    from trainer_callbacks.video_worker import _keep_freed_heap
    _keep_freed_heap()
import gymnasium as gym
from gym_wrappers.pygame_frames import PygameFrameGrabber
env = PygameFrameGrabber(gym.make("CartPole-v1", render_mode="rgb_array"))
env.reset(seed=0)
env.render()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(100):
    env.render()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc heap tuning is Linux-only")
def test_worker_heap_keeps_frame_memory_instead_of_faulting_it_in_per_frame() -> None:
    """Untuned, glibc hands each freed ~1 MB CartPole frame back to the OS: ~200 page faults a frame here."""

    def faults(mode: str) -> int:
        done = subprocess.run([sys.executable, "-c", RENDER_FAULTS, mode], capture_output=True, text=True, check=True)
        return int(done.stdout.split()[-1])

    assert faults("tuned") < 100 * 20  # fewer than 20 faults a frame
