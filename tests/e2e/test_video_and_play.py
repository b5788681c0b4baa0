"""Eval videos, episodes.jsonl telemetry, retention, and run_play.py replaying eval episodes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from cli_runner import run_cli

from training.launch import train
from utils.config import Config, load_config
from utils.config_values import ConfigError
from utils.mp4_encoder import count_video_frames
from utils.runs import file_sha256


def telemetry(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "episodes.jsonl").read_text().splitlines()]


@pytest.mark.slow
@pytest.mark.e2e
def test_default_run_leaves_decodable_videos_indexed_by_checksummed_telemetry(runs_dir: Path) -> None:
    result = train(load_config("CartPole-v1", "ppo", {"max_timesteps": 20480, "seed": 0}), quiet=True)
    rows = telemetry(result.run.path)
    evals = {row["eval"] for row in rows}
    assert len(rows) == 20 * len(evals)  # one row per eval episode
    video_rows = [row for row in rows if "video" in row]
    assert video_rows and all(row["video_status"] == "ok" for row in video_rows)
    for row in video_rows:
        path = result.run.path / row["video"]
        assert path.is_file()
        assert file_sha256(path) == row["sha256"]
        assert count_video_frames(path) == row["length"] + 1  # the reset frame plus one per step
        assert row["video_return"] == row["return"]  # deterministic replay of the same seeded episode
        assert f"eval={row['eval']:04d}" in path.name and f"seed={row['seed']}" in path.name
        assert row["render_ms_per_frame"] > 0 and row["encode_s"] > 0  # timing probes, the final video's too
    assert max(row["eval"] for row in video_rows) == max(evals)  # the final eval is recorded
    best_video = result.run.checkpoints / "best" / "video.mp4"
    assert best_video.is_file()


@pytest.mark.slow
@pytest.mark.e2e
def test_max_videos_keeps_newest_plus_best_and_marks_the_rest_pruned(runs_dir: Path) -> None:
    overrides = {"max_timesteps": 12288, "eval_freq": 1024, "eval_episodes": 2, "video": {"every_n_evals": 1},
                 "max_videos": 3, "early_stop": False, "seed": 3}  # fmt: skip
    result = train(load_config("CartPole-v1", "ppo", overrides), quiet=True)
    rows = [row for row in telemetry(result.run.path) if "video" in row]
    assert len(rows) == 12
    ok = sorted(row["eval"] for row in rows if row["video_status"] == "ok")
    pruned = sorted(row["eval"] for row in rows if row["video_status"] == "pruned")
    assert len(ok) + len(pruned) == 12
    evals = {row["eval"]: row for row in telemetry(result.run.path) if row["episode"] == 0}
    means = {i: np.mean([r["return"] for r in telemetry(result.run.path) if r["eval"] == i]) for i in evals}
    best_eval = min(i for i in means if means[i] == max(means.values()))
    expected = sorted({9, 10, 11, best_eval})
    assert ok == expected
    on_disk = sorted(int(re.search(r"eval=(\d+)", p.name).group(1)) for p in (result.run.path / "videos").glob("*.mp4"))
    assert on_disk == expected


@pytest.mark.slow
@pytest.mark.e2e
def test_run_play_reports_the_same_returns_as_the_eval_episodes(runs_dir: Path) -> None:
    overrides = {"max_timesteps": 6144, "eval_freq": 0, "early_stop": False, "video": "off", "seed": 2}
    result = train(load_config("CartPole-v1", "ppo", overrides), quiet=True)
    final = [
        row for row in telemetry(result.run.path) if row["eval"] == max(r["eval"] for r in telemetry(result.run.path))
    ]
    assert len({row["return"] for row in final}) > 1  # the episodes differ, so matching them means something
    seed = final[0]["seed"]
    played = run_cli(["run_play.py", "--run-id", result.run.run_id, "--checkpoint", "last", "--episodes", "5",
                      "--headless", "--deterministic", "--seed", str(seed), "--record", str(runs_dir / "out.mp4")],
                     runs_dir)  # fmt: skip
    assert played.returncode == 0, played.stderr[-2000:]
    returns = [float(x) for x in re.findall(r"return (-?[\d.]+)  length", played.stdout)]
    assert returns == [row["return"] for row in final[:5]]
    assert "summary: 5 episodes" in played.stdout
    frames = count_video_frames(runs_dir / "out.mp4")
    assert frames == sum(row["length"] + 1 for row in final[:5])


class _NoPixelsEnv(gym.Env):
    metadata = {"render_modes": []}  # noqa: RUF012
    observation_space = gym.spaces.Box(-1, 1, (2,))
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(2, dtype=np.float32), {}

    def step(self, action):
        return np.zeros(2, dtype=np.float32), 1.0, False, True, {}


def test_video_on_an_env_without_rgb_array_fails_fast_and_video_off_trains(runs_dir: Path) -> None:
    gym.register("NoPixels-v0", entry_point=_NoPixelsEnv) if "NoPixels-v0" not in gym.registry else None
    config = Config(env_id="NoPixels-v0", n_envs=2, n_steps=8, batch_size=16, max_timesteps=64, eval_episodes=2)
    with pytest.raises(ConfigError, match="cannot render rgb_array"):
        train(config, quiet=True)
    assert not runs_dir.exists() or not any(runs_dir.iterdir())
    result = train(config.replace(video="off"), quiet=True)
    assert result.timesteps == 64 and not (result.run.path / "videos").exists()


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.parametrize("env", ["ALE/Pong-v5", "VizdoomBasic-v1"])
def test_atari_and_vizdoom_runs_play_and_record(env: str, runs_dir: Path) -> None:
    overrides = {"n_envs": 2, "n_steps": 32, "batch_size": 32, "n_epochs": 1, "max_timesteps": 64,
                 "eval_episodes": 1, "eval_freq": 0, "video": "off", "max_episode_steps": 40}  # fmt: skip
    result = train(load_config(env, "ppo", overrides), quiet=True)
    out = runs_dir / "play.mp4"
    played = run_cli(["run_play.py", "--run-id", result.run.run_id, "--episodes", "2", "--headless",
                      "--record", str(out)], runs_dir)  # fmt: skip
    assert played.returncode == 0, played.stderr[-2000:]
    assert len(re.findall(r"^episode \d/2", played.stdout, flags=re.MULTILINE)) == 2
    lengths = [int(x) for x in re.findall(r"length (\d+)", played.stdout)]
    assert count_video_frames(out) == sum(length + 1 for length in lengths)


@pytest.mark.slow
@pytest.mark.e2e
def test_recordings_of_evaluations_that_want_no_video_are_discarded(runs_dir: Path) -> None:
    overrides = {"max_timesteps": 12288, "eval_freq": 1024, "eval_episodes": 2, "video": "best",
                 "early_stop": False, "seed": 3}  # fmt: skip
    result = train(load_config("CartPole-v1", "ppo", overrides), quiet=True)
    rows = telemetry(result.run.path)
    evals = {row["eval"] for row in rows}
    recorded = {row["eval"] for row in rows if "video" in row}
    assert recorded < evals  # some evaluations were neither a new best nor the final one
    assert all(row["video_status"] == "ok" for row in rows if "video" in row)
    videos = result.run.path / "videos"
    on_disk = {int(re.search(r"eval=(\d+)", p.name).group(1)) for p in videos.glob("*.mp4")}
    assert on_disk == recorded  # speculative recordings nobody wanted left no file behind
    assert [p.name for p in videos.iterdir() if not p.name.endswith(".mp4")] == []  # no .jobs/ or temp files
