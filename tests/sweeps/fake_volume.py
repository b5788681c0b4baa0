"""A stand-in for a ``modal.Volume`` at its client boundary: ``listdir`` and ``read_file`` over a local folder."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

FILE, DIRECTORY, SYMLINK = 1, 2, 3  # modal.volume.FileEntryType


@dataclass
class Entry:
    """A ``modal.volume.FileEntry``: path relative to the volume root, its type and size."""

    path: str
    type: int
    size: int


class FakeVolume:
    """``listdir``/``read_file`` of a ``modal.Volume`` (as ``modal.Volume.from_name`` returns it), over ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def listdir(self, path: str, *, recursive: bool = False) -> list[Entry]:
        top = self.root / path
        found = sorted(top.rglob("*")) if top.is_dir() else []
        return [Entry(p.relative_to(self.root).as_posix(), _kind(p), p.lstat().st_size) for p in found]

    def read_file(self, path: str) -> Iterator[bytes]:
        data = (self.root / path).read_bytes()  # in two chunks, as a streamed read may come
        yield data[: len(data) // 2]
        yield data[len(data) // 2 :]


def _kind(path: Path) -> int:
    if path.is_symlink():
        return SYMLINK
    return DIRECTORY if path.is_dir() else FILE
