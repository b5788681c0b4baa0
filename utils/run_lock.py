"""One writer per run directory: an exclusive ``flock`` on ``runs/<id>/.lock``, held while training.

The kernel drops the lock when its holder dies (even by SIGKILL), so a lock left by a killed run is
simply free again; the pid written in the file only names the holder in the error a second writer gets.
Processes forked while the lock is held (video worker, async env workers) close their copy of it, so a
child that outlives a killed trainer never keeps the run locked.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from pathlib import Path

from utils.config_values import ConfigError

LOCK_FILE = ".lock"
_held: list[RunLock] = []  # locks this process holds, closed in forked children


class RunLockedError(ConfigError):
    """Another process is writing this run."""


class RunLock:
    """An exclusive lock on one run directory; release() or process exit frees it."""

    def __init__(self, run_path: Path) -> None:
        self.path = run_path / LOCK_FILE
        self._fd: int | None = None
        self.previous_holder: str | None = None  # pid of a holder that died holding it (the file was not emptied)

    def acquire(self) -> RunLock:
        """Take the lock now or raise RunLockedError naming the holder's pid."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").split()
            os.close(fd)
            pid = holder[0] if holder else "unknown"
            raise RunLockedError(
                f"run {self.path.parent.name} is being written by another process (pid {pid}); "
                "wait for it to finish or stop it, then retry"
            ) from None
        previous = os.pread(fd, 200, 0).decode(errors="replace").split()
        if previous and previous[0] != str(os.getpid()):
            self.previous_holder = previous[0]
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {socket.gethostname()} {time.strftime('%Y-%m-%dT%H:%M:%S')}\n".encode(), 0)
        self._fd = fd
        _held.append(self)
        return self

    def release(self) -> None:
        """Give the lock up: the file stays, emptied, so a pid left in it means its holder died holding it."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)
            self._fd = None
            _held.remove(self)

    def _close_in_child(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # the parent's copy still holds the lock
            self._fd = None


def _after_fork_in_child() -> None:
    for lock in list(_held):
        lock._close_in_child()
    _held.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


def lock_run(run_path: Path) -> RunLock:
    """Lock ``run_path`` for this process, failing at once if another process holds it."""
    return RunLock(run_path).acquire()


def release_run(run_path: Path) -> None:
    """Release this process's lock on ``run_path``, if it holds one."""
    for lock in list(_held):
        if lock.path.parent == run_path:
            lock.release()
