"""run_play.py rejects bad arguments with one ``error:`` line and exit status 2, before it loads any run."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runner import run_cli

SEED_RANGE = "is not a whole number from 0 to 4611686018427387904 (2**62)"

# The run does not exist: each argument error must be reported before the run is looked up.
BAD_ARGUMENTS = {
    "negative seed": (["--seed", "-5"], f"--seed: '-5' {SEED_RANGE}"),
    "infinite seed": (["--seed", "inf"], f"--seed: 'inf' {SEED_RANGE}"),
    "nan seed": (["--seed", "nan"], f"--seed: 'nan' {SEED_RANGE}"),
    "seed beyond 2**62": (["--seed", "1e20"], f"--seed: '1e20' {SEED_RANGE}"),
    "fractional seed": (["--seed", "1.5"], f"--seed: '1.5' {SEED_RANGE}"),
    "zero fps": (["--fps", "0"], "--fps: 0 must be >= 1"),
    "negative fps": (["--fps", "-3"], "--fps: -3 must be >= 1"),
    "zero episodes": (["--episodes", "0"], "--episodes: 0 must be >= 1"),
    "episodes not a number": (["--episodes", "lots"], "argument --episodes: invalid int value: 'lots'"),
    "record without mp4": (["--record", "out.avi"], "--record: 'out.avi' must end in .mp4"),
}


@pytest.mark.e2e
@pytest.mark.parametrize("case", list(BAD_ARGUMENTS))
def test_bad_argument_gives_one_line_error_before_loading_the_run(case: str, tmp_path: Path) -> None:
    args, expected = BAD_ARGUMENTS[case]
    result = run_cli(["run_play.py", "--run-id", "nosuchrun", "--headless", *args], tmp_path / "runs", timeout=60)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and expected in lines[0]


@pytest.mark.slow
@pytest.mark.e2e
def test_good_arguments_reach_the_run_lookup(tmp_path: Path) -> None:
    result = run_cli(["run_play.py", "--run-id", "nosuchrun", "--seed", "4611686018427387904", "--fps", "30"],
                     tmp_path / "runs", timeout=60)  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith("error: no run 'nosuchrun'")
