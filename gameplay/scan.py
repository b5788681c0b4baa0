"""What an env offers, without playing it: spaces (shapes, dtypes, bounds), render modes, whether video can be
recorded, action meanings, reward threshold, time limit, vectorization modes, and whether it can be exported.

``scan_env(env)`` reads a built env (and its registered spec); ``scan_config(config)`` builds the env the way a
shipped config does (``utils/envs.build_env``) and reports what that config can use; ``scan_target(text)`` is
either, for ``run_play.py --scan ENV_OR_CONFIG``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from gameplay.plain_env import make_plain_env, names_a_config
from gameplay.space_layout import UnsupportedSpaceError, check_space
from inspector.labels import action_labels
from utils.config import Config, load_config
from utils.config_files import split_config_id
from utils.config_values import ConfigError
from utils.envs import build_env, is_retro, resolve_vectorization, reward_threshold

MAX_LISTED = 8  # bounds of a Box with more elements than this are given as their range


@dataclass(frozen=True, eq=False)
class SpaceSummary:
    """One space: its type, shape, dtype and value range, and its parts (Dict keys, Tuple entries)."""

    kind: str  # the space's class name: Box, Discrete, MultiDiscrete, MultiBinary, Dict, Tuple or another
    shape: tuple[int, ...] | None  # of one value (None for Dict, Tuple and spaces without one)
    dtype: str | None
    low: np.ndarray | None  # smallest value of each element (Box bounds, the start of Discrete/MultiDiscrete)
    high: np.ndarray | None  # largest value of each element
    parts: tuple[tuple[str, SpaceSummary], ...] = ()  # Dict keys or Tuple indices, with their spaces
    text: str = ""  # ``str(space)``, for the spaces this summary has no layout for

    def lines(self) -> list[str]:
        """The space as text: one line, then one indented line per part of a Dict or Tuple."""
        if self.parts:
            noun = ("key", "keys") if self.kind == "Dict" else ("entry", "entries")
            head = f"{self.kind} of {len(self.parts)} {noun[len(self.parts) != 1]}"
            lines = [head]
            for name, part in self.parts:
                first, *rest = part.lines()
                lines += [f"  {name}: {first}", *(f"  {line}" for line in rest)]
            return lines
        if self.low is None or self.high is None:
            return [self.text]
        head = self.text if self.kind == "Discrete" else f"{self.kind} shape {self.shape}"
        return [f"{head} {self.dtype}, {_bounds(self.low, self.high)}"]


@dataclass(frozen=True, eq=False)
class EnvSummary:
    """What ``scan_env`` found; ``report()`` is the text ``run_play.py --scan`` prints."""

    name: str  # the env id, or the config id it was built from
    env_id: str | None  # the registered id (None for an env made without gymnasium.make)
    observation_space: SpaceSummary
    action_space: SpaceSummary
    render_modes: tuple[str, ...]  # the env's metadata["render_modes"]
    render_mode: str | None  # the mode this env was made with
    render_fps: float | None  # metadata["render_fps"]: the default rate of exported clocks and videos
    can_record_video: bool  # whether it renders rgb_array frames (made with render_mode="rgb_array")
    action_meanings: tuple[str, ...] | None  # per Discrete action or MultiBinary button, where known
    reward_threshold: float | None  # the return that counts as solved
    max_episode_steps: int | None  # the time limit (TimeLimit or the spec), None when there is none
    vectorization_modes: tuple[str, ...]  # of sync, async, native: the ones this env (or config) can use
    export_error: str | None  # why export_rollout would refuse its spaces; None when it can export them

    def report(self) -> str:
        """The summary as text, one fact per line."""
        lines = [f"env: {self.name}" + (f" ({self.env_id})" if self.env_id and self.env_id != self.name else "")]
        for label, space in (("observation space", self.observation_space), ("action space", self.action_space)):
            first, *rest = space.lines()
            lines += [f"{label}: {first}", *rest]
        if self.action_meanings is not None:
            lines.append("action meanings: " + ", ".join(f"{i} {m}" for i, m in enumerate(self.action_meanings)))
        else:
            lines.append("action meanings: unknown")
        lines.append(
            f"render modes: {', '.join(self.render_modes) or 'none'} (made with: {self.render_mode or 'none'})"
        )
        lines.append(f"render fps: {_number(self.render_fps)}")
        video = "yes (rgb_array frames, written as H.264 mp4)" if self.can_record_video else "no (no rgb_array mode)"
        lines.append(f"video: {video}")
        lines.append(f"reward threshold: {_number(self.reward_threshold)}")
        limit = f"{self.max_episode_steps} steps" if self.max_episode_steps is not None else "none"
        lines.append(f"time limit: {limit}")
        lines.append(f"vectorization: {', '.join(self.vectorization_modes) or 'none'}")
        lines.append(f"export: {'yes' if self.export_error is None else 'no, ' + self.export_error}")
        return "\n".join(lines)


def scan_env(env: gym.Env, name: str | None = None) -> EnvSummary:
    """Read ``env``'s spaces, rendering, action meanings, limits and vectorization modes; no step is taken."""
    if isinstance(env, gym.vector.VectorEnv):
        raise TypeError("scan_env reads one env; give a gymnasium.Env, not a vector env")
    spec = env.spec
    render_modes = tuple(env.metadata.get("render_modes") or ())
    meanings = action_labels(env)
    try:
        check_space(env.observation_space, "observation")
        check_space(env.action_space, "action")
        export_error = None
    except UnsupportedSpaceError as error:
        export_error = str(error)
    return EnvSummary(
        name=name or (spec.id if spec is not None else type(env.unwrapped).__name__),
        env_id=spec.id if spec is not None else None,
        observation_space=summarize_space(env.observation_space),
        action_space=summarize_space(env.action_space),
        render_modes=render_modes,
        render_mode=env.render_mode,
        render_fps=env.metadata.get("render_fps"),
        can_record_video="rgb_array" in render_modes,
        action_meanings=tuple(meanings) if meanings is not None else None,
        reward_threshold=spec.reward_threshold if spec is not None else None,
        max_episode_steps=_time_limit(env),
        vectorization_modes=_vectorization_modes(spec),
        export_error=export_error,
    )


def scan_config(config: Config) -> EnvSummary:
    """``scan_env`` of the env a config builds for evaluation (its wrappers, frame stack, time limit), with the config's reward
    threshold and the vectorization modes the config may set."""
    vector = build_env(config, "eval", n_envs=1)  # checks env_kwargs and wrappers; one sync sub-env
    try:
        assert isinstance(vector, gym.vector.SyncVectorEnv)  # eval envs of one sub-env are sync
        summary = scan_env(vector.envs[0], config.config_id or config.env_id)
    finally:
        vector.close()
    modes = config_vectorization_modes(config)
    return dataclasses.replace(summary, reward_threshold=reward_threshold(config), vectorization_modes=modes)


def scan_target(target: str) -> EnvSummary:
    """ENV_OR_CONFIG's summary (``run_play.py --scan``): a config's env as it builds it for evaluation, or a plain
    Gymnasium id's env as ``gymnasium.make`` builds it."""
    if names_a_config(target):
        return scan_config(load_config(*split_config_id(target)))
    env = make_plain_env(target)
    try:
        return scan_env(env, target)
    finally:
        env.close()


def config_vectorization_modes(config: Config) -> tuple[str, ...]:
    """The ``vectorization_mode`` values training accepts for this config (``utils/envs.resolve_vectorization``)."""
    modes = []
    for mode in ("sync", "async", "native"):
        try:
            if resolve_vectorization(dataclasses.replace(config, vectorization_mode=mode)) == mode:
                modes.append(mode)
        except ConfigError:
            continue
    return tuple(modes)


def summarize_space(space: spaces.Space) -> SpaceSummary:
    """The ``SpaceSummary`` of ``space`` (and of its parts)."""
    dtype = str(space.dtype) if space.dtype is not None else None
    if isinstance(space, spaces.Box):
        return SpaceSummary("Box", space.shape, dtype, space.low, space.high)
    if isinstance(space, spaces.Discrete):
        start = np.asarray(space.start)
        return SpaceSummary("Discrete", space.shape, dtype, start, start + space.n - 1, text=str(space))
    if isinstance(space, spaces.MultiDiscrete):
        return SpaceSummary("MultiDiscrete", space.shape, dtype, space.start, space.start + space.nvec - 1)
    if isinstance(space, spaces.MultiBinary):
        return SpaceSummary("MultiBinary", space.shape, dtype, np.zeros(space.shape, np.int8), np.ones(space.shape))
    if isinstance(space, spaces.Dict):
        parts = tuple((str(key), summarize_space(part)) for key, part in space.spaces.items())
        return SpaceSummary("Dict", None, None, None, None, parts)
    if isinstance(space, spaces.Tuple):
        parts = tuple((str(index), summarize_space(part)) for index, part in enumerate(space.spaces))
        return SpaceSummary("Tuple", None, None, None, None, parts)
    text = " ".join(f"{type(space).__name__}: {space}".split())
    return SpaceSummary(type(space).__name__, space.shape, dtype, None, None, text=text)


def _time_limit(env: gym.Env) -> int | None:
    layer: Any = env
    while isinstance(layer, gym.Wrapper):
        if isinstance(layer, gym.wrappers.TimeLimit):
            return int(layer._max_episode_steps)
        layer = layer.env
    return env.spec.max_episode_steps if env.spec is not None else None


def _vectorization_modes(spec: gym.envs.registration.EnvSpec | None) -> tuple[str, ...]:
    """sync and async for any env (only async for stable-retro: one emulator per process), native when the
    registry has a vector entry point for it."""
    if spec is not None and is_retro(spec.id):
        return ("async",)
    native = spec is not None and spec.vector_entry_point is not None
    return ("sync", "async", "native") if native else ("sync", "async")


def _number(value: float | None) -> str:
    return "none" if value is None else format(value, "g")


def _values(array: np.ndarray) -> str:
    return "[" + " ".join(format(value, ".4g") for value in array.reshape(-1).tolist()) + "]"


def _bounds(low: np.ndarray, high: np.ndarray) -> str:
    """``values 0..1``, ``low [..] high [..]`` or, for large spaces, the range of the bounds."""
    low, high = np.asarray(low), np.asarray(high)
    if low.size and np.all(low == low.flat[0]) and np.all(high == high.flat[0]):
        return f"values {format(low.flat[0].item(), '.4g')}..{format(high.flat[0].item(), '.4g')}"
    if low.size <= MAX_LISTED:
        return f"low {_values(low)}, high {_values(high)}"
    return f"low {_values(np.array([low.min(), low.max()]))} (min, max), high {_values(np.array([high.min(), high.max()]))}"
