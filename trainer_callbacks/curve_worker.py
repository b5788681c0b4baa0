"""A background process that draws the report's learning curve, with matplotlib imported while training runs.

Importing matplotlib (~0.5-0.8 s of CPU here) and drawing ``learning_curve.png`` were the largest cost between
the last update and the end of a short run, after the final evaluation. ``train.py`` starts this child before
it imports torch (``train()`` starts one itself otherwise); the child imports matplotlib at ``nice 10`` on the
core training leaves free, then waits. It ignores Ctrl-C (the trainer handles it) and ends quietly on SIGTERM. ``draw`` sends it one curve and waits for the file; if the child is gone
or fails, the curve is drawn in this process, so a report never lacks its curve. The child exits when told to
or when the trainer dies.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
from pathlib import Path
from typing import Any

from trainer_callbacks.child_process import next_message, start_context

DRAW_TIMEOUT_S = 60.0


def _serve(inbox: multiprocessing.Queue, outbox: multiprocessing.Queue, trainer: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the trainer handles it
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # end quietly (not the trainer's handler); draw() then draws here
    os.nice(10)
    from utils.report import preload_plotting, write_learning_curve

    preload_plotting()
    while (job := next_message(inbox, trainer)) is not None:
        path, rows, threshold = job
        try:
            write_learning_curve(Path(path), rows, threshold)
            outbox.put(None)
        except Exception as error:  # reported to the trainer, which draws the curve itself
            outbox.put(f"{type(error).__name__}: {error}")


class CurveWorker:
    """The learning-curve process: ``start()`` early, ``draw(...)`` at the report, ``close()`` at the end."""

    def __init__(self) -> None:
        self._context = start_context(renders=False)
        self.inbox: multiprocessing.Queue = self._context.Queue()
        self.outbox: multiprocessing.Queue = self._context.Queue()
        self.process: multiprocessing.process.BaseProcess | None = None

    def start(self) -> None:
        """Fork (or spawn) the child; it starts importing matplotlib at once."""
        self.process = self._context.Process(
            target=_serve, args=(self.inbox, self.outbox, os.getpid()), name="learning-curve", daemon=True
        )
        self.process.start()

    def draw(self, path: Path, rows: list[dict[str, float]], threshold: Any) -> None:
        """Write the learning curve to ``path``: in the child when it answers, else here."""
        if self.process is not None and self.process.is_alive():
            self.inbox.put((str(path), rows, threshold))
            try:
                failure = self.outbox.get(timeout=DRAW_TIMEOUT_S)
            except queue.Empty:
                failure = "no answer"
            if failure is None:
                return
        from utils.report import write_learning_curve

        write_learning_curve(path, rows, threshold)

    def close(self) -> None:
        """Stop the child (it is idle by now) and reap it."""
        if self.process is None:
            return
        if self.process.is_alive():
            self.inbox.put(None)
            self.process.join(timeout=2.0)
            if self.process.is_alive():
                self.process.kill()
                self.process.join()
        self.process = None
