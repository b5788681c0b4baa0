"""Atomic writes and symlink swaps: the target holds the old or the new content, and no temp file is left."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from utils.atomic_files import replace_symlink, temp_path, write_atomic, write_json_atomic, write_text_atomic


def test_write_json_atomic_replaces_the_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "data.json"
    write_json_atomic(target, {"a": 1})
    write_json_atomic(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["data.json"]


def test_a_writer_that_fails_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "report.md"
    write_text_atomic(target, "old")

    def half_write(temp: Path) -> None:
        temp.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic(target, half_write)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]


def test_an_oserror_without_a_file_name_is_re_raised_naming_the_target(tmp_path: Path) -> None:
    def no_space(temp: Path) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError) as error:
        write_atomic(tmp_path / "metrics.csv", no_space)
    assert error.value.filename == str(tmp_path / "metrics.csv")


def test_replace_symlink_swaps_the_target_even_over_a_stale_temp_link(tmp_path: Path) -> None:
    link = tmp_path / "@last"
    replace_symlink(link, "run-1")
    temp_path(link).symlink_to("leftover-of-a-killed-swap")
    replace_symlink(link, "run-2")
    assert os.readlink(link) == "run-2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["@last"]
