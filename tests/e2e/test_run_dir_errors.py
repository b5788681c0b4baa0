"""Where runs go: an unusable runs folder, a full disk or two config ids get one line and a status,
before any run directory exists (or, for a disk that fills up mid-run, with no half-written checkpoint)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cli_runner import REPO, cli_env, last_run, run_cli

QUICK = ["CartPole-v1:ppo", "-q", "--video", "off", "--max-timesteps", "2048"]


def one_error_line(result: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr[-3000:]
    return lines[0]


@contextmanager
def tmpfs(path: Path, options: str) -> Iterator[Path]:
    """A small RAM file system at ``path`` (needs root); the test is skipped, saying why, where mount is refused."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.decode().strip() or 'not root'})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.mark.slow
@pytest.mark.e2e
def test_an_empty_runs_dir_variable_is_an_error_not_the_repository_root(tmp_path: Path) -> None:
    before = sorted(p.name for p in REPO.iterdir())
    env = {**cli_env(tmp_path), "GYMSOLVER_RUNS_DIR": ""}
    result = subprocess.run([sys.executable, "train.py", *QUICK], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert result.returncode == 2
    assert "GYMSOLVER_RUNS_DIR is set but empty" in one_error_line(result)
    assert sorted(p.name for p in REPO.iterdir()) == before


@pytest.mark.slow
@pytest.mark.e2e
def test_a_runs_path_that_is_a_file_is_an_error(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.write_text("not a folder")
    result = run_cli(["train.py", *QUICK], runs, timeout=120)
    assert result.returncode == 2
    assert f"runs folder {runs} is a file, not a folder" in one_error_line(result)
    assert runs.read_text() == "not a folder"


@pytest.mark.slow
@pytest.mark.e2e
def test_a_real_at_last_directory_is_an_error_and_stays(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    (runs / "@last").mkdir(parents=True)
    (runs / "@last" / "mine.txt").write_text("keep")
    result = run_cli(["train.py", *QUICK], runs, timeout=120)
    assert result.returncode == 2
    assert "@last is a real folder, not the link to the newest run" in one_error_line(result)
    assert sorted(p.name for p in runs.iterdir()) == ["@last"]
    assert (runs / "@last" / "mine.txt").read_text() == "keep"


@pytest.mark.e2e
def test_two_different_config_ids_are_an_error(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    result = run_cli(["train.py", "CartPole-v1:ppo", "--config_id", "Bandit-v0:ppo", "-q"], runs, timeout=120)
    assert result.returncode == 2
    assert "two configs given: 'CartPole-v1:ppo' and --config_id 'Bandit-v0:ppo'" in one_error_line(result)
    assert not runs.exists()


@pytest.mark.slow
@pytest.mark.e2e
def test_a_read_only_runs_folder_is_an_error(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "runs", "ro,size=1m") as runs:
        result = run_cli(["train.py", *QUICK], runs, timeout=120)
        assert result.returncode == 2
        line = one_error_line(result)
        assert str(runs) in line and ("not writable" in line or "Read-only file system" in line)
        assert list(runs.iterdir()) == []


@pytest.mark.slow
@pytest.mark.e2e
def test_a_full_disk_names_the_file_and_leaves_no_half_written_checkpoint(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "runs", "size=96k") as runs:
        result = run_cli(["train.py", *QUICK, "--set", "checkpoint_freq=128"], runs, timeout=120)
        assert result.returncode == 1
        line = one_error_line(result)
        assert line.startswith("error: No space left on device while writing ")
        assert str(runs) in line
        run = last_run(runs)
        assert [p.name for p in (run / "checkpoints").iterdir() if p.name.startswith(".tmp-")] == []
        for alias in ("best", "last"):
            link = run / "checkpoints" / alias
            assert not link.is_symlink() or (link / "manifest.json").is_file()  # complete, or not there at all
