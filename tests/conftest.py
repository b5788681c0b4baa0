"""Shared test setup: headless rendering, offline W&B, runs in a temp dir."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("WANDB_MODE", "offline")


@pytest.fixture
def runs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private runs/ directory for this test."""
    path = tmp_path / "runs"
    monkeypatch.setenv("GYMSOLVER_RUNS_DIR", str(path))
    return path
