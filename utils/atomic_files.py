"""Writing a file or swapping a symlink so that a reader, or a kill at any instant, sees the old or the new one.

Each write goes to a temp entry beside the target (``.tmp-<name>-<pid>``: same directory, so the rename
never crosses a file system), is flushed to disk, and is renamed over the target with ``os.replace``. A
failed write removes its temp file; a kill can leave one, which nothing reads and checkpoint pruning removes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

TEMP_PREFIX = ".tmp-"


def temp_path(path: Path) -> Path:
    """The temp entry beside ``path`` that this process writes before renaming it into place."""
    return path.with_name(f"{TEMP_PREFIX}{path.name}-{os.getpid()}")


@contextmanager
def naming_file(path: Path) -> Iterator[None]:
    """Re-raise an OSError without a file name (a write that hit a full disk) as one naming ``path``."""
    try:
        yield
    except OSError as error:
        if error.filename is not None or error.errno is None:
            raise
        raise OSError(error.errno, error.strerror, str(path)) from error


def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write`` on a temp file beside ``path``, flush it to disk, then rename it over ``path``."""
    temp = temp_path(path)
    try:
        with naming_file(path):
            write(temp)  # created by the writer's open(): the run's file mode
            with temp.open("rb+") as written:
                os.fsync(written.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``."""
    write_atomic(path, lambda temp: temp.write_text(text))


def write_json_atomic(path: Path, data: Any) -> None:
    """Replace ``path`` with ``data`` as indented JSON."""
    write_text_atomic(path, json.dumps(data, indent=2))


def replace_symlink(link: Path, target: str) -> None:
    """Point ``link`` at ``target`` (a name relative to the link's directory), replacing any link there."""
    temp = temp_path(link)
    if temp.is_symlink() or temp.exists():
        temp.unlink()
    temp.symlink_to(target)
    os.replace(temp, link)
