"""Append-only metrics.csv: one row per log call, crash-tolerant, header widened atomically."""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Self, TextIO

from utils.atomic_files import write_atomic


class CsvMetricsLogger:
    """Write metric dicts as CSV rows; resumed runs append to the existing file and keep its columns."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.columns: list[str] = []
        if self.path.exists():
            drop_partial_last_line(self.path)
            with self.path.open(newline="") as f:
                self.columns = next(csv.reader(f), [])
        self._file: TextIO | None = None

    def log(self, metrics: Mapping[str, float], expected: Sequence[str] = ()) -> None:
        """Append one row. The first row's header is its keys plus ``expected`` (metrics that appear later:
        evaluation, episode statistics), so a run's header never changes and the file can be tailed live. A key
        outside the header (a file from an older version, resumed) widens it with an atomic rewrite."""
        if not self.columns:
            self._rewrite_with_columns([*metrics, *(name for name in expected if name not in metrics)])
        known = set(self.columns)
        new_columns = [name for name in metrics if name not in known]
        if new_columns:
            self._rewrite_with_columns(self.columns + new_columns)
        handle = self._handle()
        csv.writer(handle, lineterminator="\n").writerow([format_cell(metrics.get(name)) for name in self.columns])
        handle.flush()

    def close(self) -> None:
        """Close the file; later log calls reopen it."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _handle(self) -> TextIO:
        if self._file is None:
            self._file = self.path.open("a", newline="")
        return self._file

    def _rewrite_with_columns(self, columns: list[str]) -> None:
        """Rewrite header plus existing rows into a temp file in the same dir, then os.replace it in."""
        self.close()
        old_rows: list[list[str]] = []
        if self.path.exists():
            with self.path.open(newline="") as f:
                old_rows = list(csv.reader(f))[1:]

        def write(temp: Path) -> None:
            with temp.open("w", newline="") as handle:
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow(columns)
                writer.writerows(row + [""] * (len(columns) - len(row)) for row in old_rows)

        write_atomic(self.path, write)
        self.columns = columns


def format_cell(value: float | None) -> str:
    """Serialize a value losslessly; integral floats are written as ints to keep the file readable."""
    if value is None:
        return ""
    number = float(value)
    if math.isfinite(number) and number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


def drop_partial_last_line(path: Path) -> None:
    """Truncate a row cut off mid-write (e.g. by SIGKILL) so appended rows stay aligned."""
    with path.open("rb+") as f:
        data = f.read()
        if data and not data.endswith(b"\n"):
            f.truncate(data.rfind(b"\n") + 1)


def read_metrics_csv(path: Path) -> list[dict[str, float]]:
    """Rows of metrics.csv as float dicts, omitting empty or unparsable cells; [] when the file is missing."""
    path = Path(path)
    if not path.exists():
        return []
    rows: list[dict[str, float]] = []
    with path.open(newline="") as f:
        for raw in csv.DictReader(f):
            row: dict[str, float] = {}
            for name, cell in raw.items():
                if name is None or not cell:
                    continue
                try:
                    row[name] = float(cell)
                except ValueError:
                    continue
            rows.append(row)
    return rows
