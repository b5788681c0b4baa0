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


def test_padded_gives_the_4_byte_copy_behind_the_last_frame_only() -> None:
    env = PygameFrameGrabber(gym.make("CartPole-v1", render_mode="rgb_array"))
    env.reset(seed=0)
    env.render()  # the first frame is compared against the env's own
    frame = env.render()
    padded = env.padded(frame)
    assert padded is not None and padded.shape == (*frame.shape[:2], 4) and padded.flags.c_contiguous
    rgb = padded[..., 2::-1] if env.layout == "BGRX" else padded[..., :3]
    assert env.layout in ("BGRX", "RGBX") and np.array_equal(rgb, frame)
    assert env.padded(frame.copy()) is None
    env.step(0)
    env.render()
    assert env.padded(frame) is None  # no longer the last grabbed frame


def test_recorded_video_keeps_the_colours(tmp_path) -> None:
    """Frames reach the encoder in the surface's byte order: a wrong channel order would swap the cart's brown for blue."""
    import imageio_ffmpeg

    from utils.frame_capture import FrameCapture

    capture = FrameCapture(gym.make("CartPole-v1", render_mode="rgb_array"), tmp_path / "cart.mp4")
    capture.reset(seed=0)
    for _ in range(10):
        capture.step(0)
    expected = capture.grabber.render().astype(np.int16)
    assert capture.finish() == 11
    reader = imageio_ffmpeg.read_frames(str(tmp_path / "cart.mp4"))
    meta = next(reader)
    assert tuple(meta["size"]) == (expected.shape[1], expected.shape[0])
    decoded = [np.frombuffer(raw, np.uint8).reshape(expected.shape) for raw in reader]
    assert len(decoded) == 11
    last = decoded[-1].astype(np.int16)
    assert np.abs(last - expected).mean() < 2.0
    assert np.abs(last[..., ::-1] - expected).mean() > 2 * np.abs(last - expected).mean()
