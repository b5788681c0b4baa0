"""scan_env and scan_config: spaces, bounds, render modes, action meanings, limits and vectorization, without a step."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

from gameplay.plain_env import make_plain_env
from gameplay.scan import config_vectorization_modes, scan_config, scan_env
from utils.config import load_config
from utils.config_values import ConfigError


class SpacesOnly(gym.Env):
    """An env that only declares its spaces (scan never steps it)."""

    metadata: dict[str, Any] = {"render_modes": ["ansi"]}  # noqa: RUF012  (gymnasium's class attribute)

    def __init__(self, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        self.observation_space = observation_space
        self.action_space = action_space

    def step(self, action: Any) -> Any:
        raise AssertionError("scan must not step the env")

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> Any:
        raise AssertionError("scan must not reset the env")


def test_cartpole_report_gives_spaces_bounds_rendering_threshold_limit_and_native_vectorization() -> None:
    summary = scan_env(gym.make("CartPole-v1"))
    assert summary.observation_space.kind == "Box" and summary.observation_space.shape == (4,)
    assert summary.observation_space.dtype == "float32"
    assert summary.observation_space.high is not None
    np.testing.assert_allclose(summary.observation_space.high, [4.8, np.inf, 0.41887903, np.inf])
    assert summary.action_space.kind == "Discrete" and summary.action_space.dtype == "int64"
    assert summary.render_modes == ("human", "rgb_array") and summary.can_record_video
    assert summary.reward_threshold == 475 and summary.max_episode_steps == 500
    assert summary.vectorization_modes == ("sync", "async", "native")
    assert summary.action_meanings == ("LEFT", "RIGHT")
    assert summary.export_error is None
    lines = summary.report().splitlines()
    assert lines[0] == "env: CartPole-v1"
    assert "observation space: Box shape (4,) float32, low [-4.8 -inf -0.4189 -inf], high [4.8 inf 0.4189 inf]" in lines
    assert "action space: Discrete(2) int64, values 0..1" in lines
    assert "action meanings: 0 LEFT, 1 RIGHT" in lines
    assert "render modes: human, rgb_array (made with: none)" in lines
    assert "video: yes (rgb_array frames, written as H.264 mp4)" in lines
    assert "reward threshold: 475" in lines
    assert "time limit: 500 steps" in lines
    assert "vectorization: sync, async, native" in lines
    assert "export: yes" in lines


def test_pong_report_lists_the_ale_action_meanings() -> None:
    env = make_plain_env("ALE/Pong-v5")  # registers the ALE ids first, as training does
    summary = scan_env(env)
    env.close()
    assert summary.action_meanings == ("NOOP", "FIRE", "RIGHT", "LEFT", "RIGHTFIRE", "LEFTFIRE")
    report = summary.report()
    assert "action meanings: 0 NOOP, 1 FIRE, 2 RIGHT, 3 LEFT, 4 RIGHTFIRE, 5 LEFTFIRE" in report
    assert "observation space: Box shape (210, 160, 3) uint8, values 0..255" in report
    assert "native" in summary.vectorization_modes  # ale_py registers AtariVectorEnv as its vector entry point


def test_an_env_without_a_vector_entry_point_offers_sync_and_async_only() -> None:
    summary = scan_env(gym.make("Pendulum-v1"))
    assert summary.vectorization_modes == ("sync", "async")
    assert summary.action_meanings is None
    assert "action space: Box shape (1,) float32, values -2..2" in summary.report()
    assert "time limit: 200 steps" in summary.report()


def test_dict_and_tuple_spaces_are_reported_part_by_part() -> None:
    observation = spaces.Dict(
        {"camera": spaces.Box(0, 255, (8, 8, 3), np.uint8), "pose": spaces.Tuple((spaces.Discrete(3, start=-1),))}
    )
    summary = scan_env(SpacesOnly(observation, spaces.MultiBinary(4)))
    lines = summary.report().splitlines()
    assert lines[1:5] == [
        "observation space: Dict of 2 keys",
        "  camera: Box shape (8, 8, 3) uint8, values 0..255",
        "  pose: Tuple of 1 entry",
        "    0: Discrete(3, start=-1) int64, values -1..1",
    ]
    assert "action space: MultiBinary shape (4,) int8, values 0..1" in lines
    assert "video: no (no rgb_array mode)" in lines
    assert "reward threshold: none" in lines and "time limit: none" in lines


def test_an_unexportable_space_is_reported_not_raised() -> None:
    summary = scan_env(SpacesOnly(spaces.Text(4), spaces.Discrete(2)))
    assert summary.export_error is not None and "Text" in summary.export_error
    report = summary.report()
    assert "observation space: Text: Text(1, 4, charset=" in report
    assert "export: no, observation space: Text cannot be exported" in report


def test_a_vector_env_is_refused() -> None:
    envs = gym.make_vec("CartPole-v1", 2, vectorization_mode="sync")
    with pytest.raises(TypeError, match="not a vector env"):
        scan_env(envs)  # type: ignore[arg-type]
    envs.close()


def test_a_config_is_scanned_as_it_builds_its_env_with_its_own_threshold_and_modes() -> None:
    summary = scan_config(load_config("ALE-Pong-v5", "ppo"))
    assert summary.name == "ALE-Pong-v5:ppo" and summary.env_id == "ALE/Pong-v5"
    assert summary.observation_space.shape == (4, 84, 84)  # AtariVectorFrames and the frame stack
    assert summary.reward_threshold == 18  # the config's, not the registry's (none)
    assert summary.vectorization_modes == ("sync", "async", "native")  # native: ale_py's AtariVectorEnv


def test_config_vectorization_follows_training_rules() -> None:
    assert config_vectorization_modes(load_config("CartPole-v1", "ppo")) == ("sync", "async", "native")
    assert config_vectorization_modes(load_config("Airstriker-Genesis-v0", "ppo")) == ("async",)  # one emulator


def test_an_unknown_env_id_is_a_one_line_error_with_a_suggestion() -> None:
    with pytest.raises(ConfigError, match="did you mean 'CartPole-v1'"):
        make_plain_env("CartPol-v1")
