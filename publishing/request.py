"""What a publish is asked to do, and the checks that need no run, so a bad argument fails at once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from publishing.repo_names import check_repo_id
from utils.config_values import ConfigError


@dataclass(frozen=True)
class PublishRequest:
    """What ``run_publish.py`` was asked to do."""

    run_id: str = "@last"
    repo: str | None = None  # USER/NAME or NAME; None: <user>/<algo>-<env id>
    private: bool = False
    checkpoint: str = "best"  # best | last | an epoch number
    eval_episodes: int = 10
    message: str | None = None  # the commit message
    dry_run: Path | None = None  # write the folder here instead of uploading


def check_request(request: PublishRequest) -> None:
    """One-line errors for a bad episode count, repo name or ``--dry-run`` folder; nothing is loaded."""
    if request.eval_episodes < 1:
        raise ConfigError(f"--eval-episodes: {request.eval_episodes} must be >= 1 (the published mean needs episodes)")
    if request.repo is not None:
        check_repo_id(request.repo)
    if request.dry_run is not None:
        check_output_dir(request.dry_run)


def check_output_dir(path: Path) -> None:
    """Refuse a ``--dry-run`` folder that exists and is not empty: nothing is ever overwritten."""
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        kind = "folder" if path.is_dir() else "file"
        raise ConfigError(f"--dry-run: {path} is a {kind} that exists and is not empty; give a new or empty folder")
