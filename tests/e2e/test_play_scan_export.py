"""run_play.py --scan reports on an env without playing it; --export writes one folder per played episode."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_runner import REPO, cli_env, run_cli

from utils.mp4_encoder import count_video_frames

# A process that registers an env whose observations are text, then runs run_play.py's main with its arguments.
TEXT_ENV_PLAY = """
import sys
import gymnasium as gym

class TextObservations(gym.Env):
    observation_space = gym.spaces.Text(8)
    action_space = gym.spaces.Discrete(2)

gym.register("TextObservations-v0", entry_point=TextObservations)
import run_play
sys.exit(run_play.main(sys.argv[1:]))
"""


def one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith(("A.L.E:", "[Powered by Stella]"))]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.e2e
@pytest.mark.parametrize("target", ["CartPole-v1", "CartPole-v1:ppo"])
def test_scan_prints_the_report_and_plays_nothing(target: str, tmp_path: Path) -> None:
    result = run_cli(["run_play.py", target, "--scan"], tmp_path / "runs", timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"env: {target}")
    for expected in ("action space: Discrete(2) int64, values 0..1", "reward threshold: 475", "time limit: 500 steps",
                     "vectorization: sync, async, native", "video: yes (rgb_array frames, written as H.264 mp4)"):  # fmt: skip
        assert expected in lines, result.stdout
    assert "episode" not in result.stdout and not (tmp_path / "runs").exists()


@pytest.mark.e2e
def test_export_writes_one_folder_per_episode_with_the_returns_it_printed(tmp_path: Path) -> None:
    out = tmp_path / "export"
    args = ["run_play.py", "CartPole-v1:ppo", "--random", "--episodes", "2", "--headless", "--export", str(out)]
    result = run_cli(args, tmp_path / "runs", timeout=300)
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in out.iterdir()) == ["episode_000", "episode_001"]
    printed = [float(x) for x in re.findall(r"return (-?[\d.]+)  length", result.stdout)]
    for k, folder in enumerate(sorted(out.iterdir())):
        assert sorted(path.name for path in folder.iterdir()) == [
            "actions.npz", "metadata.json", "sensors.npz", "video.mp4"]  # fmt: skip
        metadata = json.loads((folder / "metadata.json").read_text())
        steps = metadata["steps"]
        assert metadata["total_reward"] == printed[k]
        assert metadata["policy"]["kind"] == "random" and metadata["policy"]["config_id"] == "CartPole-v1:ppo"
        assert metadata["render_mode"] == "rgb_array" and metadata["fps"] == 50
        with np.load(folder / "sensors.npz") as sensors:
            assert sensors["observation/value"].shape == (steps + 1, 4)
        with np.load(folder / "actions.npz") as actions:
            assert actions["action/value"].shape == (steps,)
        assert count_video_frames(folder / "video.mp4") == steps + 1
    assert metadata["seed"] == json.loads((out / "episode_000" / "metadata.json").read_text())["seed"] + 1
    assert f"exported 2 episodes to {out}" in result.stdout


@pytest.mark.slow
@pytest.mark.e2e
def test_export_plays_the_episodes_play_plays(tmp_path: Path) -> None:
    args = ["run_play.py", "CartPole-v1:ppo", "--random", "--episodes", "3", "--headless", "--stochastic"]
    played = run_cli(args, tmp_path / "runs", timeout=300)
    exported = run_cli([*args, "--export", str(tmp_path / "export")], tmp_path / "runs", timeout=300)
    assert played.returncode == exported.returncode == 0, played.stderr + exported.stderr
    episodes = [line for line in played.stdout.splitlines() if line.startswith("episode ")]
    assert len(episodes) == 3
    assert episodes == [line for line in exported.stdout.splitlines() if line.startswith("episode ")]


@pytest.mark.e2e
def test_export_of_a_gymnasium_id_without_a_config_plays_random_actions(tmp_path: Path) -> None:
    out = tmp_path / "export"
    args = ["run_play.py", "Blackjack-v1", "--random", "--episodes", "2", "--export", str(out), "--seed", "9"]
    result = run_cli(args, tmp_path / "runs", timeout=120)
    assert result.returncode == 0, result.stderr
    metadata = json.loads((out / "episode_001" / "metadata.json").read_text())
    assert metadata["seed"] == 10 and metadata["policy"]["kind"] == "random" and metadata["env_id"] == "Blackjack-v1"
    with np.load(out / "episode_001" / "sensors.npz") as sensors:
        assert {"observation.0/value", "observation.1/value", "observation.2/value"} <= set(sensors.files)


@pytest.mark.e2e
def test_an_unsupported_space_is_one_error_line_and_nothing_is_written(tmp_path: Path) -> None:
    out = tmp_path / "export"
    args = ["TextObservations-v0", "--random", "--episodes", "1", "--headless", "--export", str(out)]
    result = subprocess.run([sys.executable, "-c", TEXT_ENV_PLAY, *args], cwd=REPO, env=cli_env(tmp_path / "runs"),
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    line = one_error_line(result)
    assert "observation space: Text cannot be exported" in line
    assert list(tmp_path.iterdir()) == []


BAD_USES = {
    "unknown env id": (["CartPol-v1", "--scan"], "did you mean 'CartPole-v1'?"),
    "unknown env id for export": (["NoSuchEnv-v0", "--random", "--export", "{tmp}/out"], "'NoSuchEnv-v0' is not a"),
    "unknown variant": (["CartPole-v1:nosuch", "--scan"], "has no variant 'nosuch'"),
    "scan with a run": (["CartPole-v1", "--scan", "--run-id", "x"], "--scan only reports on ENV_OR_CONFIG"),
    "scan without a target": (["--scan"], "--scan needs ENV_OR_CONFIG"),
    "export with record": (["--export", "{tmp}/out", "--record", "{tmp}/a.mp4"], "drop --record"),
    "export into a full folder": (["--random", "CartPole-v1:ppo", "--export", "{tmp}"], "is not an empty folder"),
    "id without config, not random": (["Blackjack-v1", "--export", "{tmp}/out"], "has no shipped config"),
}


@pytest.mark.e2e
@pytest.mark.parametrize("case", list(BAD_USES))
def test_a_bad_scan_or_export_is_one_error_line_with_status_2(case: str, tmp_path: Path) -> None:
    args, expected = BAD_USES[case]
    (tmp_path / "keep.txt").write_text("a file the export must not touch")
    result = run_cli(["run_play.py", *(a.format(tmp=tmp_path) for a in args)], tmp_path / "runs", timeout=120)
    assert expected in one_error_line(result)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["keep.txt"]
