"""Names in a run's ``checkpoints/`` folder: ``epoch=0012-step=0049152`` directories and the best/last links.

Kept free of torch so that listing a run's checkpoints (the inspector, run listings) stays cheap.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

ALIASES = ("best", "last")
NAME_PATTERN = re.compile(r"^epoch=(\d{4,})-step=(\d{7,})$")


def checkpoint_name(epoch: int, timesteps: int) -> str:
    """Directory name that sorts by training progress."""
    return f"epoch={epoch:04d}-step={timesteps:07d}"


def checkpoint_progress(name: str) -> tuple[int, int] | None:
    """``(epoch, step)`` of a checkpoint directory name; None for names this project did not write."""
    match = NAME_PATTERN.match(name)
    return (int(match.group(1)), int(match.group(2))) if match else None


def own_checkpoints(directory: Path) -> list[Path]:
    """The checkpoint directories this project wrote, oldest first (aliases and user folders excluded)."""
    if not directory.is_dir():
        return []
    found = {
        p: progress
        for p in directory.iterdir()
        if not p.is_symlink() and p.is_dir() and (progress := checkpoint_progress(p.name)) is not None
    }
    return sorted(found, key=found.__getitem__)


def alias_target(directory: Path, alias: str) -> str | None:
    """The checkpoint name ``alias`` points at (it may be missing), or None without the link."""
    link = directory / alias
    return os.readlink(link) if link.is_symlink() else None
