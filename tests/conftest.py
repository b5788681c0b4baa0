"""Shared test setup: headless rendering, offline W&B, runs in a temp dir."""

from __future__ import annotations

import os
from collections.abc import Iterator
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


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """Tiny networks step fastest on one thread (as training uses); the setting is restored after."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
