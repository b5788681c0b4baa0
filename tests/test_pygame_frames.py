"""PygameFrameGrabber returns exactly the env's own rgb_array frames, or steps aside."""

import gymnasium as gym
import numpy as np
import pytest

from gym_wrappers.pygame_frames import PygameFrameGrabber


@pytest.mark.parametrize("env_id", ["CartPole-v1", "MountainCar-v0", "Acrobot-v1", "Pendulum-v1"])
def test_frames_match_the_env_render(env_id: str) -> None:
    stock = gym.make(env_id, render_mode="rgb_array")
    fast = PygameFrameGrabber(gym.make(env_id, render_mode="rgb_array"))
    stock.reset(seed=3)
    fast.reset(seed=3)
    for step in range(30):
        expected, got = stock.render(), fast.render()
        assert got.shape == expected.shape and got.dtype == np.uint8
        assert np.array_equal(got, expected), f"frame {step} differs"
        action = stock.action_space.sample()
        _, _, terminated, truncated, _ = stock.step(action)
        fast.step(action)
        if terminated or truncated:
            stock.reset(seed=step)
            fast.reset(seed=step)
    assert fast.fast is True  # the bulk-copy path was actually used after the first frame
    assert fast.unwrapped.render_mode == "rgb_array"


def test_env_without_a_pygame_screen_uses_its_own_render() -> None:
    env = PygameFrameGrabber(gym.make("FrozenLake-v1", render_mode="rgb_array"))
    env.reset(seed=0)
    first, second = env.render(), env.render()
    assert env.fast is False
    assert first.ndim == 3 and np.array_equal(first, second)


def test_non_rgb_render_mode_is_left_alone() -> None:
    env = PygameFrameGrabber(gym.make("CartPole-v1"))
    assert env.fast is False
