"""One played episode written to a folder: ``sensors.npz``, ``actions.npz``, ``video.mp4`` and ``metadata.json``.

Conventions (also written into ``metadata.json``): an episode of N steps has N + 1 observation rows (the reset
observation, then the observation after each step, the last one being the final observation) and N action
rows (action ``t`` was chosen on observation ``t``). The video has N + 1 frames, the reset frame and one after
each step, so frame ``t`` shows observation ``t``, as the evaluation videos do. The clock ``_t_ns`` puts row
``t`` at ``t * round(1e9 / fps)`` ns: observation ``t``, action ``t`` and frame ``t`` share a time stamp.
The array layout of each space is ``gameplay/space_layout.py``'s.

The folder is written under a temporary name beside ``out_dir`` and renamed when complete, so an
interrupted episode leaves nothing; a space that cannot be exported is refused before anything is written.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import gymnasium as gym
import numpy as np

from gameplay.space_layout import SpaceRecorder, check_space
from gameplay.versions import git_commit, package_versions
from gym_wrappers.pygame_frames import PygameFrameGrabber
from utils.config_values import ConfigError
from utils.mp4_encoder import Mp4Encoder

DEFAULT_FPS = 30  # when the env's metadata gives no render_fps
DEFAULT_MAX_STEPS = 10_000
EXPORT_FORMAT = 1
OBSERVATION_ROWS = "steps + 1: the reset observation, then the observation after each step (the last is the final one)"
ACTION_ROWS = "steps: action t was chosen on observation t"
VIDEO_FRAMES = "steps + 1: the reset frame, then one frame after each step (frame t shows observation t)"

Policy = Callable[[Any, dict[str, Any]], Any]


class ExportError(ConfigError):
    """An export that cannot be done as asked (the folder, the video, the fps); one line for the user."""


@dataclass(frozen=True)
class ExportedRollout:
    """What ``export_rollout`` played and wrote."""

    directory: Path  # the episode's folder
    steps: int  # actions taken (rows of actions.npz; observations have steps + 1)
    total_reward: float  # the env's own reward summed (``info["env_reward"]`` when a reward shaper put it there)
    terminated: bool
    truncated: bool
    video_frames: int  # frames in video.mp4 (steps + 1), 0 when no video was recorded
    files: tuple[Path, ...]  # every file written, metadata.json last
    metadata: dict[str, Any]  # the contents of metadata.json


def export_rollout(
    env: gym.Env,
    out_dir: str | Path,
    policy: Policy,
    *,
    seed: int | None = None,
    fps: float | None = None,
    max_steps: int | None = DEFAULT_MAX_STEPS,
    record_video: bool | None = None,
    policy_info: Mapping[str, Any] | None = None,
    reset_options: dict[str, Any] | None = None,
) -> ExportedRollout:
    """Play one episode of ``env`` with ``policy(obs, info) -> action`` and write it into ``out_dir``.

    ``seed`` resets the env and seeds its action space (so a policy sampling ``env.action_space`` repeats);
    ``fps`` sets the step clock and the video's rate (default: the env's ``render_fps``, else 30);
    ``max_steps`` ends an episode that has not ended by then (``None``: no limit); ``record_video``
    defaults to whether the env renders ``rgb_array``; ``policy_info`` goes into the metadata as
    ``policy`` (default: the callable's name). ``out_dir`` must not exist or be empty. The env stays open.
    """
    if isinstance(env, gym.vector.VectorEnv):
        raise TypeError("export_rollout plays one env; give a gymnasium.Env, not a vector env")
    check_space(env.observation_space, "observation")
    check_space(env.action_space, "action")
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ExportError(f"export: {out_dir} already exists and is not an empty folder; export into a new one")
    video = env.render_mode == "rgb_array" if record_video is None else record_video
    if video and env.render_mode != "rgb_array":
        raise ExportError(
            f"export: a video needs an env made with render_mode='rgb_array' (this one: {env.render_mode!r})"
        )
    fps = fps if fps is not None else env.metadata.get("render_fps") or DEFAULT_FPS
    if not (isinstance(fps, int | float) and np.isfinite(fps) and fps > 0):
        raise ExportError(f"export: fps {fps!r} must be a positive number (frames per second)")
    if max_steps is not None and max_steps < 1:
        raise ExportError(f"export: max_steps {max_steps} must be >= 1 (or None for no limit)")

    temp = out_dir.with_name(f".{out_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(temp, ignore_errors=True)  # a leftover of a killed export with this pid
    temp.mkdir(parents=True)
    try:
        video_path = temp / "video.mp4" if video else None
        played = _play(env, policy, video_path, fps, seed, max_steps, reset_options)
        step_ns = round(1e9 / fps)
        # numpy's stubs type ``**arrays`` as its keyword argument allow_pickle
        np.savez_compressed(temp / "sensors.npz", **played.observations.arrays(step_ns))  # type: ignore[arg-type]
        np.savez_compressed(temp / "actions.npz", **played.actions.arrays(step_ns))  # type: ignore[arg-type]
        metadata = {
            "export_format": EXPORT_FORMAT,
            "env_id": env.spec.id if env.spec is not None else None,
            "total_reward": played.total_reward,
            "steps": played.steps,
            "terminated": played.terminated,
            "truncated": played.truncated,
            "stopped_at_max_steps": not (played.terminated or played.truncated),
            "render_mode": env.render_mode,
            "seed": seed,
            "fps": fps,
            "step_ns": step_ns,
            "policy": dict(policy_info) if policy_info is not None else _callable_info(policy),
            "observation_space": " ".join(str(env.observation_space).split()),
            "action_space": " ".join(str(env.action_space).split()),
            "observation_rows": OBSERVATION_ROWS,
            "action_rows": ACTION_ROWS,
            "video": {"file": "video.mp4", "frames": played.frames, "convention": VIDEO_FRAMES} if video else None,
            "versions": package_versions(),
            "git_commit": git_commit(),
        }
        (temp / "metadata.json").write_text(json.dumps(metadata, indent=2) + "\n")
        if out_dir.is_dir():
            out_dir.rmdir()  # empty (checked above): the rename needs its name free
        os.replace(temp, out_dir)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    names = ["sensors.npz", "actions.npz", *(["video.mp4"] if video else []), "metadata.json"]
    return ExportedRollout(
        directory=out_dir,
        steps=played.steps,
        total_reward=played.total_reward,
        terminated=played.terminated,
        truncated=played.truncated,
        video_frames=played.frames,
        files=tuple(out_dir / name for name in names),
        metadata=metadata,
    )


@dataclass
class _Played:
    observations: SpaceRecorder
    actions: SpaceRecorder
    steps: int = 0
    total_reward: float = 0.0
    terminated: bool = False
    truncated: bool = False
    frames: int = 0


def _play(
    env: gym.Env,
    policy: Policy,
    video_path: Path | None,
    fps: float,
    seed: int | None,
    max_steps: int | None,
    reset_options: dict[str, Any] | None,
) -> _Played:
    """The episode, recorded: observations, actions, reward, how it ended, and its frames streamed to the mp4."""
    played = _Played(SpaceRecorder(env.observation_space, "observation"), SpaceRecorder(env.action_space, "action"))
    video = _FrameWriter(env, video_path, fps) if video_path else None
    try:
        if seed is not None:
            env.action_space.seed(seed)
        obs, info = env.reset(seed=seed, options=reset_options)
        played.observations.append(obs)
        if video is not None:
            video.write()
        while max_steps is None or played.steps < max_steps:
            action = policy(obs, info)
            played.actions.append(action)
            obs, reward, terminated, truncated, info = env.step(action)
            played.observations.append(obs)
            if video is not None:
                video.write()
            played.steps += 1
            played.total_reward += float(info.get("env_reward", reward))
            if terminated or truncated:
                played.terminated, played.truncated = bool(terminated), bool(truncated)
                break
    finally:
        if video is not None:
            played.frames = video.close()
    return played


class _FrameWriter:
    """The env's ``rgb_array`` frames streamed into an H.264 mp4 (``utils/mp4_encoder.py``)."""

    def __init__(self, env: gym.Env, path: Path, fps: float) -> None:
        self.grabber = PygameFrameGrabber(env)  # classic-control frames in one copy; the env's own render otherwise
        self.path = path
        self.fps = fps
        self.encoder: Mp4Encoder | None = None
        self.frames = 0

    def write(self) -> None:
        frame = self.grabber.render()
        if not isinstance(frame, np.ndarray):
            raise ExportError(f"export: the env's render() returned {type(frame).__name__}, not an rgb_array frame")
        frame = cast(np.ndarray, frame)
        if self.encoder is None:
            self.encoder = Mp4Encoder(self.path, frame.shape[1], frame.shape[0], self.fps)
        padded = self.grabber.padded(frame)
        if padded is not None:
            self.encoder.write(padded, self.grabber.layout)
        else:
            self.encoder.write(frame[..., :3])
        self.frames += 1

    def close(self) -> int:
        if self.encoder is not None:
            self.encoder.close()
        return self.frames


def _callable_info(policy: Policy) -> dict[str, Any]:
    name = getattr(policy, "__qualname__", None) or type(policy).__qualname__
    return {"kind": "callable", "name": f"{getattr(policy, '__module__', None) or '?'}.{name}"}
