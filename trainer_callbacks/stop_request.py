"""Ctrl-C handling: the first press finishes the current update and stops cleanly."""

from __future__ import annotations

import signal
import sys
from types import FrameType

import lightning as pl


class StopRequestCallback(pl.Callback):
    """Turns SIGINT into ``trainer.should_stop``; a second press aborts at once."""

    def __init__(self) -> None:
        self.requested = False
        self._previous = None

    def install(self) -> None:
        """Start catching SIGINT (main thread only)."""
        self._previous = signal.signal(signal.SIGINT, self._handle)

    def uninstall(self) -> None:
        """Give SIGINT back to its previous handler."""
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            self.uninstall()
            raise KeyboardInterrupt
        self.requested = True
        print("\nCtrl-C: finishing this update and saving 'last' (press again to abort)", file=sys.stderr)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.requested:
            trainer.should_stop = True
