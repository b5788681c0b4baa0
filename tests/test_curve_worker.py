"""The learning-curve process (trainer_callbacks/curve_worker.py): it draws the report's curve, and when it is
gone the trainer draws it itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from trainer_callbacks.curve_worker import CurveWorker

ROOT = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ROWS = [
    {"train/cnt/timesteps": 1000.0, "train/roll/ep_rew/mean": 20.0},
    {"train/cnt/timesteps": 2000.0, "train/roll/ep_rew/mean": 60.0, "val/roll/ep_rew/mean": 80.0},
]


def test_the_child_draws_the_curve_and_the_trainer_never_imports_matplotlib(tmp_path: Path) -> None:
    code = f"""
import json, sys
from pathlib import Path
from trainer_callbacks.curve_worker import CurveWorker
worker = CurveWorker()
worker.start()
worker.draw(Path({str(tmp_path / "curve.png")!r}), {ROWS!r}, 475.0)
child = worker.process.pid
worker.close()
print(json.dumps({{"matplotlib": "matplotlib" in sys.modules, "child": child, "closed": worker.process is None}}))
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["matplotlib"] is False  # so the child drew it
    assert result["closed"] is True
    assert (tmp_path / "curve.png").read_bytes().startswith(PNG_MAGIC)


def test_a_dead_child_means_the_trainer_draws_it(tmp_path: Path) -> None:
    worker = CurveWorker()
    worker.start()
    assert worker.process is not None and worker.process.pid is not None
    os.kill(worker.process.pid, 9)
    worker.process.join(timeout=10)
    worker.draw(tmp_path / "curve.png", ROWS, None)
    worker.close()
    assert (tmp_path / "curve.png").read_bytes().startswith(PNG_MAGIC)


def test_a_failed_drawing_in_the_child_is_redone_here(tmp_path: Path) -> None:
    worker = CurveWorker()
    worker.start()
    target = tmp_path / "missing-dir" / "curve.png"  # the child's write fails: the folder does not exist yet
    worker.inbox.put((str(target), ROWS, None))
    assert worker.outbox.get(timeout=60) is not None  # the child reports the failure instead of dying
    target.parent.mkdir()
    worker.draw(target, ROWS, None)  # and still serves the next curve
    worker.close()
    assert target.read_bytes().startswith(PNG_MAGIC)
