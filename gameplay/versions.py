"""What an exported episode was played with: the env packages' versions and this project's git commit."""

from __future__ import annotations

import functools
import subprocess
from importlib import metadata
from pathlib import Path

# The packages whose versions decide what an env does (distribution names, as pip knows them).
ENV_PACKAGES = ("gymnasium", "ale-py", "vizdoom", "stable-retro")
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def package_versions(packages: tuple[str, ...] = ENV_PACKAGES) -> dict[str, str]:
    """``{distribution: version}`` for those of ``packages`` that are installed."""
    versions = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


@functools.cache
def git_commit(root: Path = PROJECT_ROOT) -> str | None:
    """The commit checked out at ``root`` (this project), or ``None`` when ``root`` is not a git checkout's top."""
    try:
        found = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--show-toplevel", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = found.stdout.splitlines()
    if found.returncode != 0 or len(lines) != 2 or Path(lines[0]).resolve() != root.resolve():
        return None  # no git, no repository, or an enclosing repository that is not this project's
    return lines[1]
