"""Rich console output for training: a live progress bar, periodic metric tables, a final summary."""

from __future__ import annotations

import math
import time
from collections import deque

from rich.console import Console
from rich.panel import Panel
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from loggers.metrics_rules import MetricsRules
from loggers.sparklines import sparkline

HISTORY_LEN = 20
PROGRESS_REDRAW_S = 0.1
OUT_OF_BOUNDS_STYLE = "bold yellow"


class StepsPerSecondColumn(ProgressColumn):
    """Progress column showing environment steps per second: recent speed while running, run average at the end."""

    def render(self, task: Task) -> Text:
        """Render the SPS, or a dash before there is enough data."""
        elapsed = task.elapsed or 0.0
        speed = task.completed / elapsed if (task.finished or task.speed is None) and elapsed > 0 else task.speed
        return Text("— sps" if speed is None else f"{speed:,.0f} sps", style="cyan")


class ConsoleLogger:
    """Training console: progress bar with SPS/ETA, metric tables with sparklines, final summary panel.

    Tables: unless `quiet`, `log_epoch` prints a table on the first epoch, on every epoch that carries
    `val/` metrics, and otherwise every `table_every` epochs when given, else at most once per
    `table_interval_s` seconds of wall time (default 2 s, so a ~1e5-step CartPole run prints a few
    dozen tables rather than hundreds). History is recorded on every call regardless.
    `quiet` hides the header and the tables; the progress bar and the final summary are always shown.
    """

    def __init__(
        self,
        total_timesteps: int,
        quiet: bool = False,
        rules: MetricsRules | None = None,
        console: Console | None = None,
        table_every: int | None = None,
        table_interval_s: float = 2.0,
    ) -> None:
        self.total_timesteps = int(total_timesteps)
        self.quiet = quiet
        self.rules = rules if rules is not None else MetricsRules.load()
        self.console = console if console is not None else Console()
        self.table_every = table_every
        self.table_interval_s = table_interval_s
        self.history: dict[str, deque[float]] = {}
        self.title = ""
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._timesteps = 0
        self._last_redraw = -math.inf
        self._last_table_time = -math.inf
        self._last_table_epoch: int | None = None

    def start(self, title: str) -> None:
        """Print the run header (unless quiet) and start the live progress bar."""
        self.title = title
        if not self.quiet:
            self.console.print(Text(title, style="bold"))
        self._progress = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            StepsPerSecondColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=self.console,
            refresh_per_second=4,
        )
        self._task = self._progress.add_task("steps", total=self.total_timesteps)
        self._progress.start()

    def update_progress(self, timesteps: int) -> None:
        """Move the bar to `timesteps` total env steps; redraws at most every PROGRESS_REDRAW_S seconds."""
        self._timesteps = timesteps
        now = time.monotonic()
        if now - self._last_redraw < PROGRESS_REDRAW_S:
            return
        self._last_redraw = now
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=timesteps)

    def log_epoch(self, epoch: int, metrics: dict[str, float]) -> None:
        """Record metric history and, when due and not quiet, print the epoch's metric table."""
        for name, value in metrics.items():
            self.history.setdefault(name, deque(maxlen=HISTORY_LEN)).append(float(value))
        if self.quiet or not self._table_due(epoch, metrics):
            return
        self._last_table_time = time.monotonic()
        self._last_table_epoch = epoch
        self.console.print(self.metrics_table(epoch, metrics))

    def finish(self, summary: dict[str, float | str]) -> None:
        """Stop the progress bar and print the summary panel (also in quiet mode)."""
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=self._timesteps)
            self._progress.stop()
            self._progress = None
        table = Table(show_header=False, box=None, padding=(0, 1))
        table.add_column("key", style="bold")
        table.add_column("value", justify="right")
        table.add_column("trend", style="dim")
        for key, value in summary.items():
            if isinstance(value, str):
                table.add_row(Text(key), Text(value), "")
                continue
            if isinstance(value, int):
                table.add_row(Text(key), Text(f"{value:,}"), "")
                continue
            table.add_row(
                Text(key),
                self._value_text(key, value),
                sparkline(self.history.get(key, ())),
            )
        self.console.print(Panel(table, title=self.title or "summary", expand=False))

    def metrics_table(self, epoch: int, metrics: dict[str, float]) -> Table:
        """One line per metric (name | value | sparkline), grouped under namespace headings."""
        table = Table(
            title=f"epoch {epoch}",
            title_justify="left",
            show_header=False,
            box=None,
            padding=(0, 1),
        )
        table.add_column("name")
        table.add_column("value", justify="right")
        table.add_column("trend", style="dim")
        for namespace, names in group_by_namespace(metrics).items():
            table.add_row(Text(f"{namespace}/", style="bold cyan"), "", "")
            for name in names:
                label = self.rules.rule_for(name).label or name.removeprefix(f"{namespace}/")
                trend = sparkline(self.history.get(name, ()))
                table.add_row(Text(f"  {label}"), self._value_text(name, metrics[name]), trend)
        return table

    def _value_text(self, name: str, value: float) -> Text:
        """Formatted value, highlighted when outside the rule's bounds."""
        value = float(value)
        style = OUT_OF_BOUNDS_STYLE if self.rules.out_of_bounds(name, value) else ""
        return Text(self.rules.format(name, value), style=style)

    def _table_due(self, epoch: int, metrics: dict[str, float]) -> bool:
        """Decide whether this epoch gets a printed table (see class docstring)."""
        if self._last_table_epoch is None or any(name.startswith("val/") for name in metrics):
            return True
        if self.table_every is not None:
            return epoch % self.table_every == 0
        return time.monotonic() - self._last_table_time >= self.table_interval_s


def group_by_namespace(metrics: dict[str, float]) -> dict[str, list[str]]:
    """Metric names grouped by their first path segment, namespaces and names sorted."""
    groups: dict[str, list[str]] = {}
    for name in sorted(metrics):
        groups.setdefault(name.split("/", 1)[0], []).append(name)
    return groups
