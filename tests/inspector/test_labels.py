"""Action and observation names for the run inspector, as the envs' documentation gives them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from inspector.labels import action_label, action_labels, observation_labels
from utils.config import load_config
from utils.envs import build_env, make_single_env

PONG_ACTIONS = ["NOOP", "FIRE", "RIGHT", "LEFT", "RIGHTFIRE", "LEFTFIRE"]  # ALE docs, Pong's minimal action set


@pytest.fixture
def eval_env() -> Iterator[Any]:
    """Builds one-env eval envs from ``env:variant`` plus overrides, as roll-outs do, and closes them after."""
    built: list[gym.vector.VectorEnv] = []

    def build(env: str, variant: str | None = None, **overrides: Any) -> gym.vector.VectorEnv:
        built.append(build_env(load_config(env, variant, overrides), "eval", n_envs=1))
        return built[-1]

    yield build
    for env in built:
        env.close()


def test_cartpole_actions_and_observations_have_their_documented_names(eval_env: Any) -> None:
    env = eval_env("CartPole-v1", "ppo")
    assert action_labels(env) == ["LEFT", "RIGHT"]
    assert observation_labels(env) == ["cart position", "cart velocity", "pole angle", "pole angular velocity"]


def test_classic_control_observation_names(eval_env: Any) -> None:
    assert observation_labels(eval_env("Acrobot-v1")) == [
        "cos(theta1)", "sin(theta1)", "cos(theta2)", "sin(theta2)",
        "angular velocity of theta1", "angular velocity of theta2",
    ]  # fmt: skip
    assert observation_labels(eval_env("MountainCar-v0")) == ["position", "velocity"]
    assert observation_labels(eval_env("Pendulum-v1")) == ["x = cos(theta)", "y = sin(theta)", "angular velocity"]
    lander = eval_env("LunarLander-v3")
    assert observation_labels(lander) == ["x", "y", "x velocity", "y velocity", "angle", "angular velocity",
                                          "left leg contact", "right leg contact"]  # fmt: skip
    assert action_labels(lander) == ["NOOP", "FIRE LEFT", "FIRE MAIN", "FIRE RIGHT"]


def test_toy_text_and_bandit_actions(eval_env: Any) -> None:
    assert action_labels(eval_env("FrozenLake-v1")) == ["LEFT", "DOWN", "RIGHT", "UP"]
    assert action_labels(eval_env("Taxi-v4")) == ["SOUTH", "NORTH", "EAST", "WEST", "PICKUP", "DROPOFF"]
    assert action_labels(eval_env("Bandit-v0")) == [f"ARM {i}" for i in range(10)]
    assert observation_labels(eval_env("Taxi-v4")) is None  # a state index, not named dimensions


def test_frame_stacked_observations_are_named_per_stacked_step(eval_env: Any) -> None:
    names = observation_labels(eval_env("CartPole-v1", "ppo", frame_stack=2))
    assert names is not None and len(names) == 8
    assert names[0] == "cart position [t-1]" and names[-1] == "pole angular velocity [t]"


def test_an_observation_wrapper_without_names_gives_none(eval_env: Any) -> None:
    pixels = eval_env(
        "CartPole-v1", "ppo", env_kwargs={"render_mode": "rgb_array"}, env_wrappers=[{"id": "PixelObservationWrapper"}]
    )
    assert observation_labels(pixels) is None
    assert action_labels(pixels) == ["LEFT", "RIGHT"]


def test_pong_actions_are_the_ale_action_meanings(eval_env: Any) -> None:
    env = eval_env("ALE-Pong-v5", "ppo")
    assert action_labels(env) == PONG_ACTIONS
    assert observation_labels(env) is None  # pixels


def test_remapped_actions_name_the_env_action_they_stand_for(eval_env: Any) -> None:
    remap = {"id": "DiscreteActionSpaceRemapperWrapper", "mapping": [0, 2, 3]}
    assert action_labels(eval_env("ALE-Pong-v5", "ppo", env_wrappers=[remap])) == ["NOOP", "RIGHT", "LEFT"]
    swapped = {"id": "DiscreteActionSpaceRemapperWrapper", "mapping": [1, 0]}
    assert action_labels(eval_env("CartPole-v1", "ppo", env_wrappers=[swapped])) == ["RIGHT", "LEFT"]


def test_vizdoom_actions_name_the_buttons_each_presses() -> None:
    env = make_single_env(load_config("VizdoomBasic-v1", "ppo"))
    try:
        labels = action_labels(env)
    finally:
        env.close()
    assert labels is not None and sorted(labels) == ["ATTACK", "MOVE_LEFT", "MOVE_RIGHT", "NOOP"]


def test_retro_multibinary_actions_name_the_console_buttons() -> None:
    env = make_single_env(load_config("Airstriker-Genesis-v0", "ppo"))
    try:
        labels = action_labels(env)
    finally:
        env.close()
    assert labels is not None and len(labels) == 12
    assert {"A", "B", "C", "START", "UP", "DOWN", "LEFT", "RIGHT"} <= set(labels)


def test_one_action_as_text() -> None:
    assert action_label(np.int64(1), ["LEFT", "RIGHT"], gym.spaces.Discrete(2)) == "RIGHT"
    assert action_label(np.int64(1), None, gym.spaces.Discrete(2)) == "1"
    box = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    assert action_label(np.array([0.12, -0.3], np.float32), None, box) == "[0.12, -0.3]"
    buttons = ["B", "A", "START"]
    assert action_label(np.array([1, 0, 1]), buttons, gym.spaces.MultiBinary(3)) == "B+START"
    assert action_label(np.array([0, 0, 0]), buttons, gym.spaces.MultiBinary(3)) == "NOOP"
    assert action_label(np.array([2, 0]), None, gym.spaces.MultiDiscrete([3, 2])) == "[2, 0]"
