"""Sends each epoch's metrics to the CSV log and the console."""

from __future__ import annotations

from collections.abc import Sequence

from agents.base import BaseAgent
from loggers.console import ConsoleLogger
from utils.atomic_files import naming_file
from utils.lean_lightning import pl
from utils.metrics_csv import CsvMetricsLogger


class MetricsLoggingCallback(pl.Callback):
    """Writes ``agent.epoch_metrics`` after evaluation has added its ``val/`` metrics."""

    def __init__(self, console: ConsoleLogger, csv_logger: CsvMetricsLogger, expected: Sequence[str] = ()) -> None:
        self.console = console
        self.csv = csv_logger
        self.expected = expected  # metrics missing from the first epoch's row that later rows carry

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        assert isinstance(pl_module, BaseAgent)
        metrics = pl_module.epoch_metrics
        with naming_file(self.csv.path):
            self.csv.log(metrics, self.expected)
        self.console.update_progress(pl_module.collector.timesteps)
        self.console.log_epoch(pl_module.updates, metrics)
