"""Reading a run directory back in tests: its files as a comparable snapshot, its CSV and JSONL rows."""

from __future__ import annotations

import csv
import hashlib
import json
import os
from pathlib import Path


def snapshot(root: Path) -> dict[str, str]:
    """Every file (by sha256) and link (by target) under ``root``, so a test can assert nothing changed.

    ``.lock`` files are left out: a process that takes a run's lock writes its pid there, data unchanged.
    """
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        if path.name == ".lock":
            continue
        key = str(path.relative_to(root))
        if path.is_symlink():
            found[key] = "-> " + os.readlink(path)
        elif path.is_file():
            found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def metric_rows(run: Path) -> list[dict[str, str]]:
    """metrics.csv rows."""
    with (run / "metrics.csv").open() as handle:
        return list(csv.DictReader(handle))


def epochs(run: Path) -> list[int]:
    """The epoch column of metrics.csv, in file order."""
    return [int(float(row["train/cnt/epoch"])) for row in metric_rows(run)]


def episode_rows(run: Path) -> list[dict]:
    """episodes.jsonl rows."""
    path = run / "episodes.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def checkpoint_state(run: Path, alias: str = "last") -> dict:
    """state.json of checkpoints/<alias>."""
    return json.loads((run / "checkpoints" / alias / "state.json").read_text())
