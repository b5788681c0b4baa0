"""What the trainer's helper processes (the video worker, the W&B process) share: how they are started and how
they read their queue."""

from __future__ import annotations

import multiprocessing
import os
import queue
import sys
from typing import Any


def start_context(
    renders: bool = True,
) -> multiprocessing.context.ForkContext | multiprocessing.context.SpawnContext:
    """``fork`` on Linux: the child starts at once with the trainer's imports (torch, gymnasium) already loaded,
    instead of spending seconds of CPU importing them again while training runs. ``spawn`` elsewhere, and also,
    for a child that ``renders`` (the video worker), when this process already runs a native library's threads
    that the child would use: OpenCV's thread pool (a forked child's first ``cv2.setNumThreads`` waits forever
    on pool threads the fork did not copy) or SDL (pygame). A plain ``train.py`` starts its children before any
    env, so it forks; the W&B process, which renders nothing, always forks on Linux."""
    if sys.platform.startswith("linux") and not (renders and native_threads_started()):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def native_threads_started() -> bool:
    """Whether OpenCV was imported or pygame (SDL) initialised in this process."""
    pygame = sys.modules.get("pygame")
    return "cv2" in sys.modules or (pygame is not None and bool(pygame.get_init()))


def next_message(inbox: multiprocessing.Queue, trainer: int) -> Any:
    """The next item of ``inbox``; None when the trainer (pid ``trainer``) died, so a killed run leaves no orphan."""
    while True:
        try:
            return inbox.get(timeout=1.0)
        except queue.Empty:
            if os.getppid() != trainer:
                return None
