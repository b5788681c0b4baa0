"""run_play.py --human plays with the keyboard in a pygame window (dummy video driver here) and --list-envs lists
what it can play."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runner import run_cli


def error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if not line.startswith(("A.L.E:", "[Powered by Stella]"))]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.e2e
def test_human_play_of_pong_shows_the_keys_and_ends_after_max_frames(tmp_path: Path) -> None:
    args = ["run_play.py", "ALE/Pong-v5", "--human", "--max-frames", "20", "--fps", "500", "--seed", "4"]
    result = run_cli(args, tmp_path / "runs", timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["ALE/Pong-v5 (Atari, 15 fps)", "Left: LEFT   Right: RIGHT   Space: FIRE"]
    assert "P: pause   Esc: quit" in lines
    assert "episode 1  seed 4  return 0.00  length 20  (stopped)" in lines


@pytest.mark.e2e
def test_human_play_of_a_config_builds_its_env(tmp_path: Path) -> None:
    result = run_cli(["run_play.py", "CartPole-v1:ppo", "--human", "--max-frames", "5", "--fps", "500"],
                     tmp_path / "runs", timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "length 5  (stopped)" in result.stdout


@pytest.mark.e2e
def test_episodes_ends_a_keyboard_session_after_that_many_episodes(tmp_path: Path) -> None:
    # no key held: CartPole's no-key action pushes one way until the pole falls, ~10 steps; 2,000 frames would be many
    result = run_cli(["run_play.py", "CartPole-v1", "--human", "--episodes", "1", "--max-frames", "2000", "--fps", "1000"],
                     tmp_path / "runs", timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    played = [line for line in result.stdout.splitlines() if line.startswith("episode ")]
    assert len(played) == 1 and played[0].endswith("(terminated)"), result.stdout


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["BipedalWalker-v3", "--human"], "error: BipedalWalker-v3: no keyboard binding for its actions"),
        (["--human"], "error: --human needs ENV_OR_CONFIG"),
        (
            ["CartPole-v1", "--human", "--random"],
            "error: --human takes no policy, render or export options; drop --random",
        ),
        (["CartPole-v1", "--max-frames", "3"], "error: --max-frames goes with --human"),
        (["CartPole-v1", "--human", "--episodes", "0"], "error: --episodes: 0 must be >= 1"),
        (["--list-envs", "no-such-env"], "error: --list-envs: no playable env id contains 'no-such-env'"),
    ],
)
def test_keyboard_mistakes_are_one_line_and_exit_2(args: list[str], expected: str, tmp_path: Path) -> None:
    result = run_cli(["run_play.py", *args], tmp_path / "runs", timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert error_line(result.stderr).startswith(expected)


@pytest.mark.e2e
def test_list_envs_prints_each_platform_and_filters(tmp_path: Path) -> None:
    result = run_cli(["run_play.py", "--list-envs"], tmp_path / "runs", timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    headings = [line.split(" (")[0] for line in lines if not line.startswith("  ")]
    assert headings == ["Atari", "VizDoom", "stable-retro", "classic control", "toy text", "box2d"]
    for env_id in ("ALE/Pong-v5", "VizdoomBasic-v1", "Airstriker-Genesis-v0", "CartPole-v1"):
        assert f"  {env_id}" in lines
    filtered = run_cli(["run_play.py", "--list-envs", "cartpole"], tmp_path / "runs", timeout=120)
    assert filtered.returncode == 0, filtered.stderr
    assert filtered.stdout.splitlines() == ["classic control (2):", "  CartPole-v0", "  CartPole-v1"]


@pytest.mark.e2e
def test_human_recording_without_space_writes_no_dataset(tmp_path: Path) -> None:
    out = tmp_path / "dataset"
    args = ["run_play.py", "ALE/Pong-v5", "--human", "--record-dataset", str(out), "--max-frames", "5", "--fps", "500"]
    result = run_cli(args, tmp_path / "runs", timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Space: start recording   Esc: stop and save" in result.stdout.splitlines()
    assert "nothing was recorded" in result.stdout and not out.exists()


@pytest.mark.e2e
def test_human_recording_refuses_actions_a_dataset_cannot_hold(tmp_path: Path) -> None:
    args = ["run_play.py", "VizdoomDeathmatch-v1", "--human", "--record-dataset", str(tmp_path / "dataset")]
    result = run_cli(args, tmp_path / "runs", timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert error_line(result.stderr).startswith("error: VizdoomDeathmatch-v1: its Dict actions cannot be recorded")
