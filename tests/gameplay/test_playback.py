"""Playback of a recorded dataset: every frame compared, 'deterministic' for seeded CartPole (plain and through a
config) and ALE Pong with sticky actions, a divergence reported at the first step that differs when a recorded
action is altered, and nothing unpickled on the way."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path
from typing import Any

import datasets
import gymnasium as gym
import numpy as np
import pytest

from gameplay.dataset_recorder import (
    RECORDING_FILE,
    DatasetError,
    DatasetRecorder,
    config_env,
    record_episode,
)
from gameplay.plain_env import make_plain_env
from gameplay.playback import EpisodeCheck, build_recorded_env, open_recording, play_back
from utils.config import load_config
from utils.envs import build_env


def sampler(env: gym.Env) -> Any:
    return lambda obs, info: env.action_space.sample()


def record_plain(env_id: str, folder: Path, seeds: list[int], max_steps: int | None = None) -> Path:
    """Uniformly random actions in ``gymnasium.make(env_id)``, one episode per seed, saved to ``folder``."""
    env = make_plain_env(env_id, "rgb_array")
    recorder = DatasetRecorder(env_id, 30, {"kind": "random"})
    for seed in seeds:
        record_episode(env, recorder, sampler(env), seed, max_steps)
    env.close()
    return recorder.save(folder)


def replay(folder: Path | str) -> tuple[list[EpisodeCheck], list[str]]:
    lines: list[str] = []
    with open_recording(str(folder)) as recording:
        return play_back(recording, lines.append), lines


def with_action_changed(folder: Path, out: Path, index: int, action: int) -> Path:
    """A copy of the recording in ``folder`` whose row ``index`` holds ``action``, as a user would edit it."""
    edited = datasets.load_from_disk(str(folder)).map(
        lambda row, i: {"action": action if i == index else row["action"]}, with_indices=True
    )
    edited.save_to_disk(str(out))
    shutil.copyfile(folder / RECORDING_FILE, out / RECORDING_FILE)
    return out


def test_a_seeded_cartpole_recording_plays_back_deterministic(tmp_path: Path) -> None:
    folder = record_plain("CartPole-v1", tmp_path / "rec", seeds=[5, 6])
    checks, lines = replay(folder)
    assert [check.deterministic for check in checks] == [True, True]
    assert [check.seed for check in checks] == [5, 6]
    assert all(c.replayed_steps == c.recorded_steps and c.replayed_return == c.recorded_return for c in checks)
    assert lines[0].startswith("episode 1/2  seed 5  steps ") and lines[0].endswith("(matched)  deterministic")


def test_a_config_env_is_rebuilt_from_the_recording_as_the_config_builds_it(tmp_path: Path) -> None:
    config = load_config("CartPole-v1", "ppo")
    vector = build_env(config, "eval", n_envs=1, render_mode="rgb_array")
    assert isinstance(vector, gym.vector.SyncVectorEnv)
    env = vector.envs[0]
    recorder = DatasetRecorder(config.env_id, 50, {"kind": "random"}, {"env": config_env(config)})
    record_episode(env, recorder, sampler(env), seed=9)
    vector.close()
    folder = recorder.save(tmp_path / "rec")
    with open_recording(str(folder)) as recording:
        rebuilt, close = build_recorded_env(recording.metadata)
        assert type(rebuilt) is type(env) and rebuilt.spec is not None and rebuilt.spec.id == "CartPole-v1"
        close()
    checks, _ = replay(folder)
    assert [check.deterministic for check in checks] == [True]


@pytest.mark.parametrize("env_id", ["ALE/Pong-v5", "ALE/Breakout-v5"])
def test_ale_with_sticky_actions_plays_back_deterministic(tmp_path: Path, env_id: str) -> None:
    env = make_plain_env(env_id)
    assert env.spec is not None and env.spec.kwargs["repeat_action_probability"] == 0.25  # sticky actions on
    env.close()
    folder = record_plain(env_id, tmp_path / "rec", seeds=[21], max_steps=150)
    checks, lines = replay(folder)
    assert checks[0].recorded_steps == 150 and checks[0].deterministic, lines


def first_difference(env_id: str, folder: Path, actions: list[Any], seed: int) -> int:
    """The first step at which a play of ``actions`` shows another frame, reward or ending than the recording."""
    recorded = datasets.load_from_disk(str(folder))
    env = make_plain_env(env_id, "rgb_array")
    env.reset(seed=seed)
    for t, action in enumerate(actions):
        if not np.array_equal(env.render(), np.asarray(recorded[t]["image"])):
            return t
        _, reward, terminated, truncated, _ = env.step(action)
        if (reward, terminated, truncated) != (
            recorded[t]["reward"],
            recorded[t]["terminated"],
            recorded[t]["truncated"],
        ):
            return t
    raise AssertionError("the altered actions played the same episode")


@pytest.mark.parametrize("env_id", ["CartPole-v1", "ALE/Pong-v5"])
def test_an_altered_action_is_reported_at_the_first_step_that_differs(tmp_path: Path, env_id: str) -> None:
    folder = record_plain(env_id, tmp_path / "rec", seeds=[4], max_steps=120)
    recorded = datasets.load_from_disk(str(folder))["action"][:]
    k = 3
    other = 1 - recorded[k] if env_id == "CartPole-v1" else (2 if recorded[k] != 2 else 3)  # up instead of ...
    edited = with_action_changed(folder, tmp_path / "edited", k, other)
    expected = first_difference(env_id, folder, [*recorded[:k], other, *recorded[k + 1 :]], seed=4)
    assert expected > k  # the frame before action k is the recorded one

    checks, lines = replay(edited)
    assert not checks[0].deterministic
    assert checks[0].divergence is not None and checks[0].divergence[0] == expected, lines
    assert f"diverged at step {expected}: " in lines[0]
    if "frame differs" in lines[0]:
        assert "pixels (max abs diff " in lines[0]


def test_an_episode_recorded_without_a_seed_is_reported_not_replayed(tmp_path: Path) -> None:
    env = gym.make("CartPole-v1", render_mode="rgb_array")
    recorder = DatasetRecorder("CartPole-v1", 50, {"kind": "human"})
    record_episode(env, recorder, sampler(env), seed=None, max_steps=5)
    checks, lines = replay(recorder.save(tmp_path / "rec"))
    assert not checks[0].deterministic and "not replayed: recorded without a seed" in lines[0]


def test_loading_and_playing_back_never_unpickles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = record_plain("CartPole-v1", tmp_path / "rec", seeds=[1], max_steps=10)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("something was unpickled")

    for module in (pickle, pytest.importorskip("dill")):
        monkeypatch.setattr(module, "load", refuse)
        monkeypatch.setattr(module, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    checks, _ = replay(folder)
    assert checks[0].deterministic


def test_a_folder_that_is_no_recording_and_a_name_that_is_neither_are_one_line_errors(tmp_path: Path) -> None:
    folder = record_plain("CartPole-v1", tmp_path / "rec", seeds=[1], max_steps=3)
    (folder / RECORDING_FILE).unlink()
    with pytest.raises(DatasetError, match=f"has no {RECORDING_FILE}") as raised, open_recording(str(folder)):
        pass
    assert "\n" not in str(raised.value)
    with pytest.raises(DatasetError, match=r"no folder .* not a Hub dataset name"), open_recording("no/such/folder"):
        pass


def test_the_cli_plays_back_in_a_window_with_render(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import run_play

    folder = record_plain("CartPole-v1", tmp_path / "rec", seeds=[2], max_steps=8)
    assert run_play.main(["--playback", str(folder), "--render", "--fps", "1000"]) == 0  # SDL's dummy video driver
    assert "playback: 1/1 episodes deterministic" in capsys.readouterr().out
