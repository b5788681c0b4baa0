"""``runs/<id>/episodes.jsonl``: one row per evaluation episode, the index linking metrics to videos.

Row fields: ``eval`` (evaluation index), ``timesteps``, ``episode`` (index within the evaluation), ``seed``,
``return``, ``length``, ``terminated``, ``truncated``, and for recorded episodes ``video`` (path relative to
the run directory), ``video_status`` (``pending`` → ``ok`` | ``failed`` | ``pruned``), ``sha256``,
``frames``. Only the training process writes it; updates rewrite the file atomically.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from utils.atomic_files import write_text_atomic


class EpisodeTelemetry:
    """Appends evaluation-episode rows and updates the rows of recorded episodes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: list[dict[str, Any]] = []
        if path.exists():
            self.rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def append(self, rows: list[dict[str, Any]]) -> None:
        """Add rows at the end of the file."""
        self.rows.extend(rows)
        with self.path.open("a") as handle:
            handle.write("".join(json.dumps(row) + "\n" for row in rows))

    def update(self, eval_index: int, episode: int, changes: dict[str, Any]) -> None:
        """Change the row of one evaluation episode and rewrite the file atomically."""
        for row in self.rows:
            if row["eval"] == eval_index and row["episode"] == episode:
                row.update(changes)
        write_text_atomic(self.path, "".join(json.dumps(row) + "\n" for row in self.rows))

    def video_rows(self, status: str = "ok") -> list[dict[str, Any]]:
        """Rows whose video has the given status."""
        return [row for row in self.rows if row.get("video_status") == status]
