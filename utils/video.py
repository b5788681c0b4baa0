"""Recording one evaluation episode to mp4 through Gymnasium's ``RecordVideo``.

``RecordVideo`` captures the frames (it calls ``render()`` on the ``rgb_array``
env after every reset and step); instead of its synchronous moviepy write, the
frames are handed to ``encode_mp4`` (imageio-ffmpeg, written to a temp name and
renamed). ``record_episode`` runs the same ``evaluate_policy`` loop as training's
evaluation, on a one-env eval vector env, so a recorded episode with the same
seed and weights is the same episode.
"""

from __future__ import annotations

import hashlib
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from gymnasium.wrappers import RecordVideo

from utils.config import Config
from utils.config_values import ConfigError
from utils.evaluation import evaluate_policy
from utils.normalization import ObsNormalizer

# Every recording builds a fresh env whose RecordVideo points at the run's videos/ folder.
warnings.filterwarnings("ignore", message=".*Overwriting existing videos.*")


class FrameCapture(RecordVideo):
    """``RecordVideo`` that keeps finished recordings in memory for our own encoder."""

    def __init__(self, env: gym.Env, video_folder: str, fps: int | None = None) -> None:
        super().__init__(env, video_folder, episode_trigger=lambda _: True, fps=fps, disable_logger=True)
        self.finished: list[list[np.ndarray]] = []
        self.render_seconds = 0.0

    def _capture_frame(self) -> None:
        started = time.perf_counter()
        super()._capture_frame()
        self.render_seconds += time.perf_counter() - started

    def stop_recording(self) -> None:
        """Keep the frames instead of writing them synchronously with moviepy."""
        if self.recorded_frames:
            self.finished.append(self.recorded_frames)
        self.recorded_frames = []
        self.recording = False
        self._video_name = None


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


def encode_mp4(frames: list[np.ndarray], path: Path, fps: int) -> None:
    """Write frames (H, W, 3 uint8) as an H.264 mp4, atomically (temp file + rename)."""
    import imageio_ffmpeg

    height, width = frames[0].shape[:2]
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}.mp4")
    writer = imageio_ffmpeg.write_frames(
        str(temp), (width, height), fps=fps, macro_block_size=1, quality=6, output_params=["-preset", "veryfast"]
    )
    writer.send(None)
    for frame in frames:
        writer.send(np.ascontiguousarray(frame[..., :3], dtype=np.uint8))
    writer.close()
    os.replace(temp, path)


def file_sha256(path: Path) -> str:
    """Checksum that telemetry stores beside each video path."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
    policy: torch.nn.Module,
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
        capture = FrameCapture(env, str(path.parent), fps=fps)
        captures.append(capture)
        return capture

    env = build_env(config, "eval", n_envs=1, render_mode="rgb_array", wrap_first=wrap)
    try:
        result = evaluate_policy(policy, env, obs_normalizer, [seed], deterministic)
        capture = captures[0]
        if capture.recording:
            capture.stop_recording()
    finally:
        env.close()
    frames = capture.finished[0]
    started = time.perf_counter()
    encode_mp4(frames, path, fps or capture.frames_per_sec)
    return RecordedEpisode(
        seed=seed,
        episode_return=result.returns[0],
        length=result.lengths[0],
        terminated=result.terminated[0],
        frames=len(frames),
        render_seconds=capture.render_seconds,
        encode_seconds=time.perf_counter() - started,
        path=path,
        sha256=file_sha256(path),
    )
