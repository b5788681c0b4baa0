"""DatasetRecorder: what was played comes back from ``datasets.load_from_disk`` exactly (frames bit for bit), rows
follow the documented convention, and recording.json says what env, seeds and versions it came from."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import datasets
import gymnasium as gym
import numpy as np
import pytest

from gameplay.dataset_recorder import (
    COLUMNS,
    RECORDING_FILE,
    DatasetError,
    DatasetRecorder,
    default_dataset_dir,
    record_episode,
)


def synthetic_episodes(rng: np.random.Generator, action_shape: tuple[int, ...]) -> list[dict]:
    """Two episodes of random frames, actions and rewards; the second ends truncated."""
    episodes = []
    for seed, steps in ((11, 5), (12, 3)):
        frames = [rng.integers(0, 256, (24, 32, 3), dtype=np.uint8) for _ in range(steps)]
        if action_shape:
            actions = [rng.uniform(-1, 1, action_shape).astype(np.float32) for _ in range(steps)]
        else:
            actions = [int(rng.integers(0, 6)) for _ in range(steps)]
        rewards = [float(rng.normal()) for _ in range(steps)]
        ends = [(False, False)] * (steps - 1) + [(seed == 11, seed == 12)]
        episodes.append({"seed": seed, "frames": frames, "actions": actions, "rewards": rewards, "ends": ends})
    return episodes


def record(recorder: DatasetRecorder, episodes: list[dict]) -> None:
    for episode in episodes:
        recorder.begin_episode(episode["seed"])
        for frame, action, reward, (terminated, truncated) in zip(
            episode["frames"], episode["actions"], episode["rewards"], episode["ends"], strict=True
        ):
            recorder.record_step(frame, action, reward, terminated, truncated)
        recorder.end_episode()


@pytest.mark.parametrize("action_shape", [(), (2, 3)], ids=["discrete", "box-2x3"])
def test_what_was_recorded_comes_back_from_load_from_disk_bit_exact(
    tmp_path: Path, action_shape: tuple[int, ...]
) -> None:
    episodes = synthetic_episodes(np.random.default_rng(0), action_shape)
    recorder = DatasetRecorder("ALE/Pong-v5", 30, {"kind": "human"}, {"player": "tester"})
    record(recorder, episodes)
    assert recorder.episodes == 2 and recorder.steps == 8
    out = recorder.save(tmp_path / "rec")

    dataset = datasets.load_from_disk(str(out))
    assert dataset.column_names == list(COLUMNS)
    rows = list(dataset)
    expected = [
        (k, t, episode["seed"], frame, action, reward, end)
        for k, episode in enumerate(episodes)
        for t, (frame, action, reward, end) in enumerate(
            zip(episode["frames"], episode["actions"], episode["rewards"], episode["ends"], strict=True)
        )
    ]
    assert len(rows) == len(expected)
    for row, (episode_id, step, seed, frame, action, reward, (terminated, truncated)) in zip(
        rows, expected, strict=True
    ):
        assert (row["episode_id"], row["step"], row["seed"]) == (episode_id, step, seed)
        assert np.array_equal(np.asarray(row["image"]), frame)  # lossless: every pixel
        assert np.array_equal(np.asarray(row["action"], dtype=np.asarray(action).dtype), action)
        assert row["reward"] == reward
        assert (row["terminated"], row["truncated"]) == (terminated, truncated)
        assert row["timestamp"] > 1e9  # Unix seconds
    timestamps = [row["timestamp"] for row in rows]
    assert timestamps == sorted(timestamps)

    metadata = json.loads((out / RECORDING_FILE).read_text())
    assert metadata["env_id"] == "ALE/Pong-v5" and metadata["fps"] == 30
    assert metadata["source"] == {"kind": "human"} and metadata["player"] == "tester"
    assert metadata["env"] == {"kind": "gymnasium", "kwargs": {}}
    assert [(e["seed"], e["steps"]) for e in metadata["episodes"]] == [(11, 5), (12, 3)]
    assert [(e["terminated"], e["truncated"]) for e in metadata["episodes"]] == [(True, False), (False, True)]
    assert metadata["episodes"][0]["total_reward"] == pytest.approx(sum(episodes[0]["rewards"]))
    assert metadata["steps"] == 8
    assert {"gymnasium", "numpy", "datasets"} <= set(metadata["versions"])
    assert metadata["versions"]["datasets"] == datasets.__version__
    assert "frame shown before action t" in metadata["rows"]
    assert metadata["action"] == {"dtype": "float32" if action_shape else "int64", "shape": list(action_shape)}


def test_every_recording_builds_its_own_dataset_not_a_cached_one(tmp_path: Path) -> None:
    """Two recordings with the same features and row count hold their own frames (no stale generator cache)."""
    folders = []
    for value in (10, 200):
        recorder = DatasetRecorder("CartPole-v1", 50, {"kind": "random"})
        recorder.begin_episode(0)
        recorder.record_step(np.full((4, 4, 3), value, np.uint8), 1, 1.0, True, False)
        folders.append(recorder.save(tmp_path / f"rec{value}"))
    for value, folder in zip((10, 200), folders, strict=True):
        assert np.asarray(datasets.load_from_disk(str(folder))[0]["image"]).max() == value
    assert sorted(path.name for path in tmp_path.iterdir()) == ["rec10", "rec200"]  # no cache or temp left


def test_record_episode_stores_the_frame_before_each_action_and_what_the_step_returned(tmp_path: Path) -> None:
    env = gym.make("CartPole-v1", render_mode="rgb_array")
    recorder = DatasetRecorder("CartPole-v1", 50, {"kind": "random"})
    episode = record_episode(env, recorder, lambda obs, info: env.action_space.sample(), seed=3)
    dataset = datasets.load_from_disk(str(recorder.save(tmp_path / "rec")))

    again = gym.make("CartPole-v1", render_mode="rgb_array")
    again.reset(seed=3)
    assert np.array_equal(np.asarray(dataset[0]["image"]), again.render())  # row 0: the frame after the reset
    for t, action in enumerate(dataset["action"][:-1]):
        again.step(action)
        assert np.array_equal(np.asarray(dataset[t + 1]["image"]), again.render()), t  # row t+1: after action t
    assert dataset["step"][:] == list(range(episode.steps)) and set(dataset["seed"][:]) == {3}
    assert dataset["terminated"][:] == [False] * (episode.steps - 1) + [True]
    assert sum(dataset["reward"][:]) == episode.total_reward == episode.steps


def test_an_open_episode_is_kept_by_save_and_an_empty_one_is_dropped(tmp_path: Path) -> None:
    recorder = DatasetRecorder("CartPole-v1", 50, {"kind": "human"})
    recorder.begin_episode(1)
    recorder.begin_episode(2)  # the first had no step
    recorder.record_step(np.zeros((2, 2, 3), np.uint8), 0, 1.0, False, False)  # stopped mid-episode
    metadata = json.loads((recorder.save(tmp_path / "rec") / RECORDING_FILE).read_text())
    assert [(e["episode_id"], e["seed"], e["steps"]) for e in metadata["episodes"]] == [(0, 2, 1)]


def test_save_refuses_a_folder_that_is_not_empty_and_a_recording_without_steps(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")
    recorder = DatasetRecorder("CartPole-v1", 50, {"kind": "random"})
    with pytest.raises(DatasetError, match="nothing was recorded"):
        recorder.save(tmp_path / "empty")
    recorder.begin_episode(0)
    recorder.record_step(np.zeros((2, 2, 3), np.uint8), 0, 1.0, True, False)
    with pytest.raises(DatasetError, match="not an empty folder"):
        recorder.save(tmp_path / "taken")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["taken"]


def test_actions_a_dataset_cannot_hold_are_refused_in_one_line() -> None:
    recorder = DatasetRecorder("X-v0", 30, {"kind": "random"})
    recorder.begin_episode(0)
    with pytest.raises(DatasetError, match="Discrete, Box, MultiDiscrete and MultiBinary") as raised:
        recorder.record_step(np.zeros((2, 2, 3), np.uint8), {"move": 1}, 0.0, False, False)
    assert "\n" not in str(raised.value)
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        recorder.record_step(np.zeros((2, 2), np.float32), 0, 0.0, False, False)


def test_the_default_folder_is_under_the_runs_folder_named_for_the_env_and_time(runs_dir: Path) -> None:
    now = datetime(2025, 1, 2, 3, 4, 5)
    first = default_dataset_dir("ALE/Pong-v5", now)
    assert first == runs_dir / "datasets" / "ALE-Pong-v5-20250102-030405"
    first.mkdir(parents=True)
    assert default_dataset_dir("ALE/Pong-v5", now) == runs_dir / "datasets" / "ALE-Pong-v5-20250102-030405-2"


def test_record_dataset_without_a_folder_saves_under_the_runs_folder(
    runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import run_play

    assert run_play.main(["CartPole-v1:ppo", "--random", "--episodes", "1", "--headless", "--record-dataset"]) == 0
    (folder,) = (runs_dir / "datasets").iterdir()
    assert folder.name.startswith("CartPole-v1-") and (folder / RECORDING_FILE).is_file()
    assert f"dataset: {folder} (1 episodes, " in capsys.readouterr().out
