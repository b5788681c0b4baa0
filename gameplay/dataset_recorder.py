"""Played episodes recorded as a Hugging Face ``datasets.Dataset``: one row per step, frames as lossless PNG.

Row convention (also written into ``recording.json`` as ``rows``): row ``t`` of an episode holds ``image``, the
frame shown before action ``t`` (``t = 0``: the frame right after the reset), ``action``, action ``t``, and
``reward``, ``terminated``, ``truncated``, what ``env.step(action t)`` returned. An episode of N steps has N rows;
the frame after its last step is not stored, so playback compares each of the N frames before feeding the
action, then the step's reward and ending. Every row also holds ``episode_id``, ``step`` (``t``), the episode's
reset ``seed`` and ``timestamp``, the wall-clock time (Unix seconds) at which the step was recorded.

The folder ``save`` writes is ``Dataset.save_to_disk``'s (Arrow files, no pickle) plus ``recording.json``: env
id, how to rebuild the env (``env``), fps, what played (``source``), each episode's seed, steps and return,
package versions and the git commit. Frames are PNG-encoded when recorded and spooled to an unnamed temporary
file, so a long recording holds only a few numbers per step in memory.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np

from gameplay.versions import ENV_PACKAGES, git_commit, package_versions
from utils.config_values import ConfigError
from utils.runs import runs_root

if TYPE_CHECKING:
    from utils.config import Config

RECORDING_FILE = "recording.json"
RECORDING_FORMAT = 1
INSTALL_HINT = 'pip install -e ".[datasets]"'
COLUMNS = ("episode_id", "timestamp", "image", "step", "action", "reward", "terminated", "truncated", "seed")
ROWS = (
    "row t of an episode: image = the frame shown before action t (t = 0: the frame after the reset), "
    "action = action t, reward/terminated/truncated = what env.step(action t) returned; "
    "timestamp = wall-clock time (Unix seconds) when the step was recorded"
)
FRAMES = "PNG (lossless), HxWx3 uint8 RGB as env.render() returned it"
VERSIONED_PACKAGES = (*ENV_PACKAGES, "numpy", "datasets", "pillow")
PNG_LEVEL = 1  # zlib level: the fastest; PNG is lossless at every level
_RESERVED = {"recording_format", "env_id", "fps", "source", "episodes", "steps", "total_reward", "rows", "frames",
             "action", "versions", "git_commit", "recorded_at"}  # fmt: skip

Policy = Callable[[Any, dict[str, Any]], Any]


class DatasetError(ConfigError):
    """A recording or a dataset that cannot be used as asked; one line for the user."""


def require_datasets() -> None:
    """A one-line ``DatasetError`` naming the extra to install when Hugging Face ``datasets`` is missing."""
    if importlib.util.find_spec("datasets") is None:  # found, not imported: that takes seconds
        raise DatasetError(
            f"--record-dataset, --push-dataset and --playback need Hugging Face datasets; install it: {INSTALL_HINT}"
        )


def config_env(config: Config) -> dict[str, Any]:
    """``recording.json``'s ``env`` for an env built from a config for evaluation (``utils/envs.build_env``)."""
    return {"kind": "config", "config": config.to_dict()}


def gymnasium_env(kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
    """``recording.json``'s ``env`` for ``gymnasium.make(env_id, render_mode="rgb_array", **kwargs)``."""
    return {"kind": "gymnasium", "kwargs": dict(kwargs or {})}


@dataclass(frozen=True)
class RecordedEpisode:
    """One episode of a recording, as ``recording.json``'s ``episodes`` lists it."""

    episode_id: int
    seed: int | None  # the reset seed (None: not replayable)
    steps: int
    total_reward: float
    terminated: bool
    truncated: bool


@dataclass(frozen=True)
class _Row:
    episode_id: int
    step: int
    timestamp: float
    offset: int  # of the frame's PNG in the spool file
    length: int
    action: Any  # a Python number, or nested lists
    reward: float
    terminated: bool
    truncated: bool
    seed: int | None


class DatasetRecorder:
    """Collects played steps (``begin_episode``, ``record_step``..., ``end_episode``) and ``save``s them as a dataset.

    ``source`` says what played (``{"kind": "human" | "random" | "checkpoint" | "hub", ...}``, as an export's
    ``policy``); ``metadata`` adds keys to ``recording.json``, among them ``env``, how playback rebuilds the env:
    ``config_env(config)`` or ``gymnasium_env(kwargs)`` (the default: ``gymnasium.make(env_id)`` as registered).
    """

    def __init__(self, env_id: str, fps: int, source: dict[str, Any], metadata: dict[str, Any] | None = None) -> None:
        extra = dict(metadata or {})
        clash = sorted(_RESERVED & set(extra))
        if clash:
            raise ValueError(f"metadata: {', '.join(clash)} are written by the recorder itself")
        extra.setdefault("env", gymnasium_env())
        if extra["env"].get("kind") not in ("config", "gymnasium"):
            raise ValueError(f"metadata['env']: {extra['env']!r} is neither config_env(...) nor gymnasium_env(...)")
        if not (isinstance(fps, int | float) and np.isfinite(fps) and fps > 0):
            raise ValueError(f"fps {fps!r} must be a positive number")
        self.env_id = env_id
        self.fps = fps
        self.source = dict(source)
        self.extra = extra
        self.recorded_episodes: list[RecordedEpisode] = []
        self._rows: list[_Row] = []
        # unnamed, so gone when closed or when this process dies; ``save`` or ``close`` closes it
        self._spool = tempfile.TemporaryFile(prefix="gymsolver-frames-")  # noqa: SIM115
        self._open: dict[str, Any] | None = None  # the episode being recorded
        self._action: tuple[str, tuple[int, ...]] | None = None  # dtype and shape of every action

    @property
    def episodes(self) -> int:
        """Episodes recorded so far (ended, with at least one step)."""
        return len(self.recorded_episodes)

    @property
    def steps(self) -> int:
        """Steps recorded so far (rows), the open episode's included."""
        return len(self._rows)

    def begin_episode(self, seed: int | None) -> None:
        """Start an episode that was reset with ``seed`` (an open one is ended first)."""
        if self._open is not None:
            self.end_episode()
        episode_id = self.recorded_episodes[-1].episode_id + 1 if self.recorded_episodes else 0
        self._open = {"episode_id": episode_id, "seed": seed, "steps": 0, "reward": 0.0, "ended": (False, False)}

    def record_step(self, frame: np.ndarray, action: Any, reward: float, terminated: bool, truncated: bool) -> None:
        """frame: the HxWx3 uint8 frame shown before ``action`` was taken; the rest: what the step returned."""
        if self._open is None:
            raise RuntimeError("record_step before begin_episode")
        frame = np.asarray(frame)
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f"a frame must be HxWx3 uint8 RGB, not {frame.dtype} of shape {frame.shape}")
        value = self._action_value(action)
        png = _png(frame)
        offset = self._spool.seek(0, io.SEEK_END)
        self._spool.write(png)
        episode = self._open
        ended = (bool(terminated), bool(truncated))
        row = _Row(episode["episode_id"], episode["steps"], time.time(), offset, len(png), value, float(reward), *ended,
                   episode["seed"])  # fmt: skip
        self._rows.append(row)
        episode["steps"] += 1
        episode["reward"] += float(reward)
        episode["ended"] = ended

    def end_episode(self) -> None:
        """Close the open episode; one without any step is dropped."""
        episode, self._open = self._open, None
        if episode is None or episode["steps"] == 0:
            return
        terminated, truncated = episode["ended"]
        ids = (episode["episode_id"], episode["seed"])
        self.recorded_episodes.append(RecordedEpisode(*ids, episode["steps"], episode["reward"], terminated, truncated))

    def metadata(self) -> dict[str, Any]:
        """What ``recording.json`` holds."""
        dtype, shape = self._action or ("int64", ())
        return {
            "recording_format": RECORDING_FORMAT,
            "env_id": self.env_id,
            **self.extra,
            "fps": self.fps,
            "source": self.source,
            "episodes": [asdict(episode) for episode in self.recorded_episodes],
            "steps": sum(episode.steps for episode in self.recorded_episodes),
            "total_reward": sum(episode.total_reward for episode in self.recorded_episodes),
            "rows": ROWS,
            "frames": FRAMES,
            "action": {"dtype": dtype, "shape": list(shape)},
            "versions": package_versions(VERSIONED_PACKAGES),
            "git_commit": git_commit(),
            "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }

    def save(self, out_dir: Path) -> Path:
        """Build the dataset (in a fresh cache folder, removed after), ``save_to_disk`` it with ``recording.json``
        into ``out_dir`` (new or empty; written under a temporary name and renamed) and return ``out_dir``.
        An open episode is ended first; the frames' spool file is closed."""
        from datasets import Dataset

        self.end_episode()
        if not self.recorded_episodes:
            raise DatasetError("nothing was recorded (no step was taken), so no dataset was written")
        out_dir = Path(out_dir)
        if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
            raise DatasetError(f"{out_dir} already exists and is not an empty folder; save the dataset into a new one")
        work = out_dir.absolute().parent / f".{out_dir.name}.tmp-{os.getpid()}"
        shutil.rmtree(work, ignore_errors=True)  # a leftover of a killed save with this pid
        work.mkdir(parents=True)
        try:
            with quiet_datasets():
                # a fresh cache_dir and fingerprint: from_generator can otherwise hand back another recording's rows
                dataset = Dataset.from_generator(self._generate, features=self._features(),
                                                 cache_dir=str(work / "cache"), fingerprint=uuid.uuid4().hex)  # fmt: skip
                dataset.info.description = f"{self.env_id} gameplay recorded with gymnasium-solver ({RECORDING_FILE})"
                dataset.save_to_disk(str(work / "dataset"))
                del dataset
            (work / "dataset" / RECORDING_FILE).write_text(json.dumps(self.metadata(), indent=2) + "\n")
            if out_dir.is_dir():
                out_dir.rmdir()  # empty (checked above): the rename needs its name free
            os.replace(work / "dataset", out_dir)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        self.close()
        return out_dir

    def close(self) -> None:
        """Drop the spooled frames (``save`` does this)."""
        self._spool.close()

    def _generate(self) -> Iterator[dict[str, Any]]:
        for row in self._rows:
            self._spool.seek(row.offset)
            image = {"bytes": self._spool.read(row.length), "path": None}
            yield {"episode_id": row.episode_id, "timestamp": row.timestamp, "image": image, "step": row.step,
                   "action": row.action, "reward": row.reward, "terminated": row.terminated,
                   "truncated": row.truncated, "seed": row.seed}  # fmt: skip

    def _features(self) -> Any:
        from datasets import Features, Image, List, Value

        dtype, shape = self._action or ("int64", ())
        action: Any = Value(dtype)
        for _ in shape:
            action = List(action)
        columns = {"episode_id": Value("int64"), "timestamp": Value("float64"), "image": Image(),
                   "step": Value("int64"), "action": action, "reward": Value("float64"),
                   "terminated": Value("bool"), "truncated": Value("bool"), "seed": Value("int64")}  # fmt: skip
        return Features(columns)

    def _action_value(self, action: Any) -> Any:
        """The action as a Python number or nested lists; every action must have the first one's dtype and shape."""
        array = np.asarray(action)
        if array.dtype.kind not in "biuf":
            raise DatasetError(
                f"actions of type {type(action).__name__} cannot be recorded; a dataset takes Discrete, Box, "
                "MultiDiscrete and MultiBinary actions"
            )
        dtype = "int64" if array.dtype.kind in "iu" and array.ndim == 0 else str(array.dtype)
        if self._action is None:
            self._action = (dtype, array.shape)
        elif self._action != (dtype, array.shape):
            raise ValueError(f"action {action!r}: {dtype} of shape {array.shape}, the first was {self._action}")
        return array.item() if array.ndim == 0 else array.tolist()


def _png(frame: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(frame)).save(buffer, format="PNG", compress_level=PNG_LEVEL)
    return buffer.getvalue()


@contextlib.contextmanager
def quiet_datasets() -> Iterator[None]:
    """No ``datasets`` progress bars inside (they would fill the console with one bar per step of the build)."""
    import datasets

    shown = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if shown:
            datasets.enable_progress_bars()


def record_episode(
    env: gym.Env, recorder: DatasetRecorder, policy: Policy, seed: int | None, max_steps: int | None = None
) -> RecordedEpisode:
    """Play one episode of ``env`` (made with ``render_mode="rgb_array"``) with ``policy(obs, info) -> action`` and
    record it. ``seed`` resets the env and seeds its action space; ``max_steps`` ends it early (None: no limit).
    The reward recorded is the env's own (``info["env_reward"]`` when a reward shaper put it there)."""
    if seed is not None:
        env.action_space.seed(seed)
    obs, info = env.reset(seed=seed)
    recorder.begin_episode(seed)
    steps = 0
    while max_steps is None or steps < max_steps:
        frame = env.render()
        if not isinstance(frame, np.ndarray):
            raise DatasetError(f"the env's render() returned {type(frame).__name__}, not an rgb_array frame")
        action = policy(obs, info)
        obs, reward, terminated, truncated, info = env.step(action)
        recorder.record_step(frame, action, float(info.get("env_reward", reward)), bool(terminated), bool(truncated))
        steps += 1
        if terminated or truncated:
            break
    recorder.end_episode()
    return recorder.recorded_episodes[-1]


def default_dataset_dir(env_id: str, now: datetime | None = None) -> Path:
    """``<runs>/datasets/<env id with / and the like as ->-<YYYYmmdd-HHMMSS>``, a name not taken yet."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", env_id).strip("-.") or "env"
    base = runs_root() / "datasets" / f"{name}-{(now or datetime.now()).strftime('%Y%m%d-%H%M%S')}"
    path, n = base, 2
    while path.exists():
        path, n = base.with_name(f"{base.name}-{n}"), n + 1
    return path
