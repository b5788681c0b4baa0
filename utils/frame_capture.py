"""Frames of a rendering env streamed into an mp4 while the episode plays (Gymnasium's ``RecordVideo``).

``RecordVideo`` captures the frames (it calls ``render()`` on the ``rgb_array`` env after every reset
and step); instead of its synchronous moviepy write, each frame streams into an ffmpeg encoder
(``utils/mp4_encoder.py``; a temp file renamed when done).
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path
from typing import cast

import gymnasium as gym
import numpy as np
from gymnasium.wrappers import RecordVideo

from gym_wrappers.pygame_frames import PygameFrameGrabber
from utils.mp4_encoder import Mp4Encoder

# Every recording builds a fresh env whose RecordVideo points at the run's videos/ folder.
warnings.filterwarnings("ignore", message=".*Overwriting existing videos.*")


class FrameCapture(RecordVideo):
    """``RecordVideo`` whose frames stream straight into an ffmpeg encoder writing ``path``.

    Encoding runs in the ffmpeg process while the episode is still being played, instead of
    RecordVideo's synchronous moviepy write after it; every recorded episode goes into the one file.
    """

    def __init__(self, env: gym.Env, path: Path, fps: int | None = None) -> None:
        self.grabber = PygameFrameGrabber(env)
        super().__init__(self.grabber, str(path.parent), episode_trigger=lambda _: True, fps=fps, disable_logger=True)
        self.path = path
        self.temp = path.with_name(f".{path.name}.tmp-{os.getpid()}.mp4")
        self.encoder: Mp4Encoder | None = None
        self.frames = 0
        self.render_seconds = 0.0

    def _capture_frame(self) -> None:
        started = time.perf_counter()
        super()._capture_frame()
        self.render_seconds += time.perf_counter() - started
        for frame in self.recorded_frames:
            self._send(cast(np.ndarray, frame))  # RecordVideo records only array frames
        self.recorded_frames = []

    def _send(self, frame: np.ndarray) -> None:
        if self.encoder is None:
            height, width = frame.shape[:2]
            self.encoder = Mp4Encoder(self.temp, width, height, self.frames_per_sec)
        padded = self.grabber.padded(frame)  # the 4-byte copy a grabbed frame is a view of: converted as is
        if padded is not None:
            self.encoder.write(padded, self.grabber.layout)
        else:
            self.encoder.write(frame[..., :3])
        self.frames += 1

    def stop_recording(self) -> None:
        """End this episode's recording; the file stays open for the next episode."""
        self.recorded_frames = []
        self.recording = False
        self._video_name = None

    def finish(self) -> int:
        """Close the encoder and move the finished mp4 into place; returns the frame count."""
        if self.recording:
            self.stop_recording()
        if self.encoder is not None:
            encoder, self.encoder = self.encoder, None
            encoder.close()
            os.replace(self.temp, self.path)
        return self.frames


def warm_up() -> None:
    """Pay the recording stack's one-time costs now (the video worker calls this while training runs).

    Measured on a cold worker's first CartPole video: importing moviepy (RecordVideo's import check,
    ~0.14 s), importing pygame and loading the ffmpeg binary. A run that solves at its
    first evaluation would otherwise pay them after training, while its only video is recorded.
    """
    import contextlib
    import subprocess

    import cv2  # noqa: F401  (the frames' YUV conversion)
    import imageio_ffmpeg

    with contextlib.suppress(ImportError):
        import moviepy  # noqa: F401
    with contextlib.suppress(ImportError):
        import pygame.gfxdraw  # noqa: F401  (what the classic-control renderers draw with)
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-version"], capture_output=True, check=False)
