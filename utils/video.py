"""Recording one evaluation episode to mp4 through Gymnasium's ``RecordVideo``.

``RecordVideo`` captures the frames (it calls ``render()`` on the ``rgb_array``
env after every reset and step); instead of its synchronous moviepy write, each
frame streams into an ffmpeg encoder (``utils/mp4_encoder.py``; a temp file renamed when done). ``record_episode`` runs the same ``evaluate_policy`` loop as training's
evaluation, on a one-env eval vector env, so a recorded episode with the same
seed and weights is the same episode.
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import gymnasium as gym
import numpy as np
from gymnasium.wrappers import RecordVideo

from gym_wrappers.pygame_frames import PygameFrameGrabber
from utils.acting_policy import ActingPolicy
from utils.config import Config
from utils.config_values import ConfigError
from utils.evaluation import evaluate_policy
from utils.mp4_encoder import Mp4Encoder
from utils.normalization import ObsNormalizer
from utils.runs import file_sha256

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


def check_can_render(config: Config) -> None:
    """Fail fast when video is asked for an env without an ``rgb_array`` render mode."""
    from utils.envs import make_single_env

    env = make_single_env(config)
    modes = env.metadata.get("render_modes", [])
    env.close()
    if "rgb_array" not in modes:
        raise ConfigError(
            f"video: {config.env_id} cannot render rgb_array frames (render modes: {modes}); set video: off"
        )


def count_video_frames(path: Path) -> int:
    """Number of frames in an mp4, by decoding it."""
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    next(reader)  # metadata
    return sum(1 for _ in reader)


@dataclass
class RecordedEpisode:
    """One recorded episode and what it cost."""

    seed: int
    episode_return: float
    length: int
    terminated: bool
    frames: int
    render_seconds: float
    encode_seconds: float
    path: Path
    sha256: str


def record_episode(
    config: Config,
    policy: ActingPolicy,
    obs_normalizer: ObsNormalizer,
    seed: int,
    path: Path,
    deterministic: bool = True,
    fps: int | None = None,
) -> RecordedEpisode:
    """Play the episode of ``seed`` with ``policy`` on a rendering eval env and write it to ``path``."""
    from utils.envs import build_env

    path.parent.mkdir(parents=True, exist_ok=True)
    captures: list[FrameCapture] = []

    def wrap(env: gym.Env) -> gym.Env:
        captures.append(FrameCapture(env, path, fps=fps))
        return captures[-1]

    env = build_env(config, "eval", n_envs=1, render_mode="rgb_array", wrap_first=wrap)
    started = time.perf_counter()
    try:
        result = evaluate_policy(policy, env, obs_normalizer, [seed], deterministic)
        frames = captures[0].finish()
    finally:
        env.close()
    capture = captures[0]
    return RecordedEpisode(
        seed=seed,
        episode_return=result.returns[0],
        length=result.lengths[0],
        terminated=result.terminated[0],
        frames=frames,
        render_seconds=capture.render_seconds,
        encode_seconds=time.perf_counter() - started - capture.render_seconds,
        path=path,
        sha256=file_sha256(path),
    )
