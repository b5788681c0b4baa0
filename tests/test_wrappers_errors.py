"""Wrappers and env kwargs that do not fit the env fail with one line naming the wrapper and the fix."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from gym_wrappers import EnvWrapperRegistry, WrapperError, apply_wrappers
from utils.config import Config
from utils.envs import EnvError, build_env


def _wrap_error(env_id: str, specs: list[dict], **make_kwargs: object) -> str:
    with pytest.raises(WrapperError) as error:
        apply_wrappers(gym.make(env_id, **make_kwargs), specs)
    message = str(error.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"id": "DiscreteActionSpaceRemapperWrapper", "mapping": 3}, "'mapping' must be of type list[int], got 3"),
        ({"id": "DiscreteActionSpaceRemapperWrapper", "mapping": [0, "a"]}, "'mapping' must be of type list[int]"),
        ({"id": "ResizeObservation", "shape": 84}, "'shape' must be of type list[int] | tuple[int, int], got 84"),
        ({"id": "CartPoleV1_RewardShaper", "gamma": "high"}, "'gamma' must be of type float, got 'high'"),
        ({"id": "CartPoleV1_RewardShaper", "gamma": float("nan")}, "'gamma' must be of type float"),
        ({"id": "GrayscaleObservation", "keep_dim": "yes"}, "'keep_dim' must be of type bool"),
    ],
)
def test_wrapper_kwargs_of_the_wrong_type_are_rejected_before_any_env_exists(spec: dict, expected: str) -> None:
    with pytest.raises(ValueError) as error:
        EnvWrapperRegistry.validate_spec(spec)
    assert str(error.value).startswith(f"wrapper '{spec['id']}': {expected}")


def test_numeric_text_reaches_wrappers_as_numbers_as_pyyaml_reads_1e_minus_1() -> None:
    env = apply_wrappers(gym.make("CartPole-v1"), [{"id": "CartPoleV1_RewardShaper", "gamma": "9.8e-1"}])
    assert env.gamma == pytest.approx(0.98)
    env = apply_wrappers(gym.make("CartPole-v1"), [{"id": "NoopStartWrapper", "noop_max": "1e1"}])
    assert env.noop_max == 10 and type(env.noop_max) is int


def test_remapper_mapping_outside_the_action_space_names_the_valid_actions() -> None:
    message = _wrap_error("CartPole-v1", [{"id": "DiscreteActionSpaceRemapperWrapper", "mapping": [0, 5]}])
    assert (
        message
        == "env_wrappers[0]: DiscreteActionSpaceRemapperWrapper: mapping[1] = 5 is not an env action (valid: 0..1)"
    )


@pytest.mark.parametrize("wrapper_id", ["ResizeObservation", "GrayscaleObservation"])
def test_image_wrappers_on_vector_observations_say_they_need_images(wrapper_id: str) -> None:
    spec = {"id": wrapper_id, "shape": [32, 32]} if wrapper_id == "ResizeObservation" else {"id": wrapper_id}
    message = _wrap_error("CartPole-v1", [{"id": "NoopStartWrapper"}, spec])
    assert message.startswith(f"env_wrappers[1]: {wrapper_id} needs ")
    assert "image observations" in message and "CartPole-v1 observes shape (4,)" in message


def test_image_wrappers_still_resize_and_gray_rendered_frames() -> None:
    specs = [{"id": "PixelObservationWrapper"}, {"id": "ResizeObservation", "shape": [40, 60]},
             {"id": "GrayscaleObservation"}]  # fmt: skip
    env = apply_wrappers(gym.make("CartPole-v1", render_mode="rgb_array"), specs)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (40, 60) and obs.dtype == np.uint8


def test_resize_shape_must_be_two_positive_sizes() -> None:
    message = _wrap_error("CartPole-v1", [{"id": "ResizeObservation", "shape": [0, 84]}], render_mode="rgb_array")
    assert "shape must be [height, width] with both >= 1, got [0, 84]" in message


@pytest.mark.parametrize(
    ("wrapper_id", "env_id", "expected"),
    [
        ("CartPoleV1_RewardShaper", "MountainCar-v0", "CartPoleV1_RewardShaper is written for CartPole-v1, not MountainCar-v0"),
        ("MountainCarV0_RewardShaper", "CartPole-v1", "MountainCarV0_RewardShaper is written for MountainCar-v0, not CartPole-v1"),
        ("CartPoleV1_RewardShaper", "Acrobot-v1", "written for CartPole-v1, not Acrobot-v1"),
        ("VizDoom_RewardShaper", "CartPole-v1", "written for VizDoom envs (Vizdoom*), not CartPole-v1"),
        ("PongV5_RewardShaper", "CartPole-v1", "PongV5_RewardShaper is written for ALE/Pong-v5, not CartPole-v1"),
        ("PongV5_FeatureExtractor", "Pendulum-v1", "PongV5_FeatureExtractor is written for ALE/Pong-v5, not Pendulum-v1"),
    ],
)  # fmt: skip
def test_env_specific_wrappers_on_another_env_name_both_and_the_fix(
    wrapper_id: str, env_id: str, expected: str
) -> None:
    message = _wrap_error(env_id, [{"id": wrapper_id}])
    assert message.startswith("env_wrappers[0]: ") and expected in message and "remove it from env_wrappers" in message


def _build_error(**settings: object) -> str:
    config = Config(**{"env_id": "CartPole-v1", "n_envs": 2, "n_steps": 32, "batch_size": 32, **settings})
    with pytest.raises(EnvError) as error:
        build_env(config, "train")
    message = str(error.value)
    assert "\n" not in message
    return message


def test_build_env_turns_a_failing_wrapper_into_one_env_error() -> None:
    message = _build_error(env_wrappers=[{"id": "MountainCarV0_RewardShaper"}])
    assert message.startswith("CartPole-v1: env_wrappers[0]: MountainCarV0_RewardShaper is written for MountainCar-v0")


@pytest.mark.parametrize(
    ("env_kwargs", "expected"),
    [
        ({"render_mode": 7}, "env_kwargs: render_mode 7 is not a render mode of CartPole-v1; use one of human, rgb_array"),
        ({"render_mode": "ansi"}, "env_kwargs: render_mode 'ansi' is not a render mode of CartPole-v1"),
        ({"foo": 1}, "env_kwargs: CartPole-v1 does not take 'foo'; it takes: sutton_barto_reward, render_mode"),
        ({"render_mod": "rgb_array"}, "does not take 'render_mod'; did you mean 'render_mode'?"),
    ],
)  # fmt: skip
def test_bad_env_kwargs_name_the_kwarg_and_what_the_env_takes(env_kwargs: dict, expected: str) -> None:
    assert expected in _build_error(env_kwargs=env_kwargs)


def test_env_kwargs_gymnasium_make_takes_itself_are_accepted() -> None:
    config = Config(env_id="CartPole-v1", n_envs=2, n_steps=32, batch_size=32, vectorization_mode="sync",
                    env_kwargs={"max_episode_steps": 20, "render_mode": "rgb_array"})  # fmt: skip
    env = build_env(config, "eval", n_envs=1)
    assert env.render_mode == "rgb_array"
    env.close()
