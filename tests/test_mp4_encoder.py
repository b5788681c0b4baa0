"""The mp4 writer: BT.601 YUV 4:2:0 conversion, frame counts, odd sizes and ffmpeg failures."""

from __future__ import annotations

from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from utils.mp4_encoder import Mp4Encoder, to_yuv420

# BT.601 limited range: Y = 16 + 219 * luma, U and V = 128 + 224 * (scaled colour difference)
BT601 = {
    (255, 255, 255): (235, 128, 128),
    (0, 0, 0): (16, 128, 128),
    (255, 0, 0): (82, 90, 240),
    (0, 0, 255): (41, 240, 110),
}


def decode(path: Path) -> tuple[tuple[int, int], list[np.ndarray]]:
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    width, height = meta["size"]
    return (width, height), [np.frombuffer(raw, np.uint8).reshape(height, width, 3) for raw in reader]


@pytest.mark.parametrize("layout", ["RGB", "RGBX", "BGRX"])
@pytest.mark.parametrize("colour", list(BT601))
def test_to_yuv420_gives_bt601_limited_range_planes(colour: tuple[int, int, int], layout: str) -> None:
    frame = np.full((4, 6, len(layout)), 77, np.uint8)  # the X byte is ignored whatever it holds
    frame[..., :3] = colour[::-1] if layout == "BGRX" else colour
    planes = to_yuv420(frame, layout)
    assert planes.shape == (6, 6)  # 4 rows of Y, then U and V (2x3 each) packed into 2 more rows
    y, u, v = planes[:4].ravel(), planes[4:5].ravel(), planes[5:6].ravel()
    expected_y, expected_u, expected_v = BT601[colour]
    assert np.abs(y.astype(int) - expected_y).max() <= 1
    assert np.abs(u.astype(int) - expected_u).max() <= 1
    assert np.abs(v.astype(int) - expected_v).max() <= 1


def test_a_layout_with_the_wrong_channel_count_is_refused() -> None:
    with pytest.raises(ValueError, match="a BGRX frame has 4 channels, not 3"):
        to_yuv420(np.zeros((4, 6, 3), np.uint8), "BGRX")


@pytest.mark.parametrize("frame", [np.zeros((4, 6), np.uint8), np.zeros((4, 6, 3), np.float32)])
def test_a_frame_that_is_not_hwc_uint8_is_refused(frame: np.ndarray) -> None:
    with pytest.raises(ValueError, match="height x width x channels uint8"):
        to_yuv420(frame)


def test_encoded_video_decodes_to_every_frame_with_its_colours(tmp_path: Path) -> None:
    colours = [(255, 0, 0), (0, 0, 255), (255, 255, 255)] * 4
    encoder = Mp4Encoder(tmp_path / "colours.mp4", 64, 48, fps=30)
    for colour in colours:
        encoder.write(np.full((48, 64, 3), colour, np.uint8))
    encoder.close()
    size, frames = decode(tmp_path / "colours.mp4")
    assert size == (64, 48)
    assert len(frames) == len(colours)
    for frame, colour in zip(frames, colours, strict=True):
        assert np.abs(frame.reshape(-1, 3).mean(axis=0) - colour).max() < 8


def test_odd_frame_sizes_are_padded_to_even(tmp_path: Path) -> None:
    encoder = Mp4Encoder(tmp_path / "odd.mp4", 33, 21, fps=10)
    for _ in range(3):
        encoder.write(np.full((21, 33, 3), 200, np.uint8))
    encoder.close()
    size, frames = decode(tmp_path / "odd.mp4")
    assert size == (34, 22) and len(frames) == 3


def test_a_frame_of_another_size_is_refused(tmp_path: Path) -> None:
    encoder = Mp4Encoder(tmp_path / "sizes.mp4", 64, 48, fps=30)
    with pytest.raises(ValueError, match="frame of 32x48 in a 64x48 video"):
        encoder.write(np.zeros((48, 32, 3), np.uint8))
    encoder.close()


def test_ffmpeg_failure_is_reported_with_its_message(tmp_path: Path) -> None:
    encoder = Mp4Encoder(tmp_path / "missing-dir" / "out.mp4", 64, 48, fps=30)
    with pytest.raises(RuntimeError, match=r"ffmpeg .*out\.mp4: .*(No such file|Error)"):
        for _ in range(100):  # ffmpeg exits at once; a write or the close notices
            encoder.write(np.zeros((48, 64, 3), np.uint8))
        encoder.close()
