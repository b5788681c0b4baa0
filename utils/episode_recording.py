"""Recording one evaluation episode to mp4.

``record_episode`` runs the same ``evaluate_policy`` loop as training's evaluation, on a one-env eval
vector env whose sub-env is wrapped in ``FrameCapture``, so a recorded episode with the same seed and
weights is the same episode.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym

from utils.acting_policy import ActingPolicy
from utils.config import Config
from utils.evaluation import evaluate_policy
from utils.frame_capture import FrameCapture
from utils.normalization import ObsNormalizer
from utils.runs import file_sha256


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
