"""Ctrl-C and SIGTERM: the first finishes the current update, saves 'last' and stops cleanly.

SIGTERM is what Modal preemption, Kubernetes and systemd send before a kill; it is handled like Ctrl-C
(exit status 143 instead of 130). A second signal aborts at once with ``AbortRequested``.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

from utils.lean_lightning import pl

SIGNAL_NAMES: dict[int, str] = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}
# What signal.signal takes and returns: a function, SIG_DFL / SIG_IGN, or None (a handler not set from Python).
SignalHandler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


class AbortRequested(BaseException):
    """A second Ctrl-C or SIGTERM while the first was being handled (not a KeyboardInterrupt: Lightning
    would turn that into ``sys.exit(1)``)."""

    def __init__(self, signum: int) -> None:
        super().__init__(SIGNAL_NAMES.get(signum, str(signum)))
        self.signum = signum


class StopRequestCallback(pl.Callback):
    """Turns SIGINT and SIGTERM into ``trainer.should_stop``; a second one aborts at once."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, SignalHandler] = {}

    @property
    def requested(self) -> bool:
        """Whether a stop was asked for."""
        return self.signum is not None

    @property
    def reason(self) -> str:
        """'Ctrl-C' or 'SIGTERM' (empty before any signal)."""
        return SIGNAL_NAMES.get(self.signum, "") if self.signum is not None else ""

    def install(self) -> None:
        """Start catching SIGINT and SIGTERM (main thread only)."""
        for signum in SIGNAL_NAMES:
            self._previous[signum] = signal.signal(signum, self._handle)

    def uninstall(self) -> None:
        """Give both signals back to their previous handlers."""
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # Lightning registered its own SIGTERM handler when fit() began; it would end fit() with a bare
        # SystemExit in the middle of an epoch. Ours finishes the update and saves instead.
        signal.signal(signal.SIGTERM, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            self.uninstall()
            raise AbortRequested(signum)
        self.signum = signum
        print(
            f"\n{SIGNAL_NAMES.get(signum, signum)}: finishing this update and saving 'last' "
            "(send it again to abort at once)",
            file=sys.stderr,
        )

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.requested:
            trainer.should_stop = True
