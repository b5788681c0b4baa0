"""Gymnasium conformance: every wrapper and custom env passes Gymnasium's own ``check_env`` and rebuilds from its spec.

``gym.make(env.spec)`` must rebuild a wrapped env (spawned AsyncVectorEnv workers, remote workers and playback rely
on it), which needs each wrapper to record its constructor arguments (``gymnasium.utils.RecordConstructorArgs``).
Every registered wrapper needs an entry in ``REGISTERED_WRAPPER_TARGETS``: a wrapper added without one fails here.
"""

from __future__ import annotations

import copy
import importlib
import pkgutil
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.envs.registration import EnvSpec
from gymnasium.utils import RecordConstructorArgs
from gymnasium.utils.env_checker import check_env

import gym_envs
import gym_wrappers
from gym_wrappers import EnvWrapperRegistry, apply_wrappers
from gym_wrappers.atari_frames import AtariVectorFrames
from gym_wrappers.pygame_frames import PygameFrameGrabber
from gym_wrappers.vizdoom_scratch import VizDoomScratchDir
from utils.config import load_config
from utils.envs import make_single_env, register_family

REPO = Path(__file__).resolve().parents[1]
SEEDS = (0, 7)
STEPS = 5


@dataclass(frozen=True)
class Target:
    """An env a wrapper is meant for: ``gym.make(env_id, **make_kwargs)``, then the wrapper with ``kwargs``."""

    env_id: str
    make_kwargs: dict[str, Any] = field(default_factory=dict)
    kwargs: dict[str, Any] = field(default_factory=dict)


PONG_RAM = {"obs_type": "ram"}
# Per registered wrapper id, an env it is meant for (cheap ones, no ROM download: ALE ships Pong's ROM).
REGISTERED_WRAPPER_TARGETS: dict[str, Target] = {
    "CartPoleV1_RewardShaper": Target("CartPole-v1", kwargs={"angle_reward_scale": 1.0, "gamma": 0.98}),
    "DiscreteActionSpaceRemapperWrapper": Target("Taxi-v4", kwargs={"mapping": [0, 1, 2, 3]}),
    "DiscreteEncoder": Target("FrozenLake-v1", kwargs={"encoding": "binary"}),
    "GrayscaleObservation": Target("ALE/Pong-v5"),
    "MountainCarV0_RewardShaper": Target("MountainCar-v0", kwargs={"velocity_scale": 400.0}),
    "NoopStartWrapper": Target(
        "ALE/Pong-v5", {**PONG_RAM, "repeat_action_probability": 0.0}, {"noop_max": 30, "noop_action": 0}
    ),
    "PixelObservationWrapper": Target("CartPole-v1", {"render_mode": "rgb_array"}),
    "PongV5_FeatureExtractor": Target("ALE/Pong-v5", PONG_RAM),
    "PongV5_RewardShaper": Target("ALE/Pong-v5", PONG_RAM, {"tracking_scale": 2.0}),
    "ResizeObservation": Target("ALE/Pong-v5", kwargs={"shape": [84, 84]}),
    "ScreenObservation": Target("VizdoomBasic-v1"),
    "ValidActionMask": Target("Bandit-v0", kwargs={"valid_actions": [3, 5]}),
    "VizDoom_RewardShaper": Target("VizdoomBasic-v1", kwargs={"gamevariable_scale": 0.1, "weights": [1.0]}),
}
# Wrappers of ours the framework applies itself (not through env_wrappers), on an env they are meant for.
FRAMEWORK_WRAPPER_TARGETS: dict[type[gym.Wrapper], Target] = {
    VizDoomScratchDir: Target("VizdoomBasic-v1"),  # make_single_env puts it under every VizDoom env
    PygameFrameGrabber: Target("CartPole-v1", {"render_mode": "rgb_array"}),  # video recording's frame source
    # every Atari pixel env of eval, play and video (AtariVectorEnv's preprocessing)
    AtariVectorFrames: Target("ALE/Pong-v5", {"frameskip": 1, "max_num_frames_per_episode": None}),
}
# Wrapper classes of ours this file does not build on their own, and why. They still record their arguments.
NOT_BUILT_HERE = {
    "gym_wrappers.reward_shaping.PotentialBasedRewardShaper": "abstract base (no Φ); subclasses are checked",
    "gym_wrappers.ocatari_episode_end.OCAtariEpisodeEnd": "wraps an OCAtari env (optional extra), which OCAtari builds "
    "itself rather than through gym.make, so an obs_type: objects env has no spec to rebuild from",
}
# Wrappers of ours whose constructor takes arguments a spec cannot carry, and why; exempt from recording them.
# None in gym_wrappers/: every wrapper there takes numbers, strings and lists.
NOT_RECREATABLE = {
    "utils.frame_capture.FrameCapture": "records play/eval episodes to a file, never part of a training env: it takes an "
    "output path, and the RecordVideo it extends records an episode_trigger callable (a spec cannot hold callables) "
    "and RecordVideo's arguments instead of its own",
    "inspector.frames.FrameRecorder": "the inspector's frame recorder around one roll-out's eval env, never part of a "
    "training env: it takes the FrameStore object the frames go into, which a spec cannot carry",
}
# ALE-Pong-v5:objects' wrappers, on RAM observations (OCAtari, an optional extra, is not needed)
PONG_RAM_OVERRIDES = {
    "obs_type": "ram",
    "frame_stack": 1,
    "policy": "mlp",
    "env_kwargs": {"repeat_action_probability": 0.0},
    "env_wrappers": [
        {"id": "NoopStartWrapper", "noop_max": 10},
        {"id": "DiscreteActionSpaceRemapperWrapper", "mapping": [0, 2, 3]},
        {"id": "PongV5_FeatureExtractor"},
        {"id": "PongV5_RewardShaper", "tracking_scale": 2.0},
    ],
}
# Configs whose built training sub-env (make_single_env: the framework's wrappers, env_wrappers, frame stacking)
# must rebuild from its spec (stable-retro has its own test below). ALE-Pong-v5:objects is left out: its OCAtari env is
# built without gym.make (see NOT_BUILT_HERE).
BUILT_CONFIGS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "CartPole-v1:ppo_rewardshaped": ("CartPole-v1", "ppo_rewardshaped", {}),
    "ALE-Pong-v5:ppo": ("ALE-Pong-v5", "ppo", {}),  # AtariVectorFrames + 4 stacked frames
    "ALE-Pong-v5:ram+wrappers": ("ALE-Pong-v5", "ppo", PONG_RAM_OVERRIDES),
    "VizdoomBasic-v1:ppo": ("VizdoomBasic-v1", "ppo", {}),  # scratch dir, screen, resize, grayscale, 4 frames
    "FrozenLake-v1:ppo": ("FrozenLake-v1", "ppo", {}),
    "Bandit-v0:ppo": ("Bandit-v0", "ppo", {}),
}


@pytest.fixture(autouse=True)
def _scratch_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in a temp dir: a VizDoom engine started without VizDoomScratchDir would litter the repo."""
    monkeypatch.chdir(tmp_path)


def _make(target: Target) -> gym.Env:
    """The env a wrapper is applied to, built as make_single_env builds it (VizDoom runs in a scratch dir)."""
    register_family(target.env_id)
    env = gym.make(target.env_id, **target.make_kwargs)
    return VizDoomScratchDir(env) if target.env_id.startswith("Vizdoom") else env


def _check(env: gym.Env) -> None:
    """Gymnasium's checker; its warnings (about the underlying envs' spaces, mostly) are allowed, errors are not."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(env, skip_render_check=True)


def _rollouts(env: gym.Env) -> list[tuple[Any, Any, bool, bool]]:
    """Per seed: the reset observation, then up to STEPS steps of seeded random actions (obs, reward, flags)."""
    steps = []
    for seed in SEEDS:
        obs, _ = env.reset(seed=seed)
        steps.append((copy.deepcopy(obs), None, False, False))
        env.action_space.seed(seed)
        for _ in range(STEPS):
            obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            steps.append((copy.deepcopy(obs), reward, terminated, truncated))
            if terminated or truncated:
                break
    return steps


def _assert_same_rollouts(actual: list[tuple], expected: list[tuple]) -> None:
    assert len(actual) == len(expected)
    for (obs, *outcome), (expected_obs, *expected_outcome) in zip(actual, expected, strict=True):
        assert outcome == expected_outcome
        if isinstance(expected_obs, dict):
            assert obs.keys() == expected_obs.keys()
            for key in expected_obs:
                np.testing.assert_array_equal(obs[key], expected_obs[key])
        else:
            np.testing.assert_array_equal(obs, expected_obs)


def _assert_rebuilds_from_spec(env: gym.Env) -> None:
    """``gym.make(env.spec)`` (and the spec through JSON) gives the same spaces, and the same episodes for a seed."""
    spec = env.spec
    assert spec is not None
    expected = _rollouts(env)
    for rebuilt_spec in (spec, EnvSpec.from_json(spec.to_json())):
        rebuilt = gym.make(rebuilt_spec)
        try:
            assert rebuilt.spec == spec
            assert rebuilt.observation_space == env.observation_space
            assert rebuilt.action_space == env.action_space
            _assert_same_rollouts(_rollouts(rebuilt), expected)
        finally:
            rebuilt.close()


def _our_wrapper_classes() -> dict[str, type]:
    """Every gym.Wrapper subclass defined in this repository's code (tests aside), by ``module.qualname``."""
    for module in pkgutil.iter_modules(gym_wrappers.__path__, "gym_wrappers."):
        importlib.import_module(module.name)
    importlib.import_module("utils.frame_capture")
    importlib.import_module("inspector.frames")
    found, todo = {}, [gym.Wrapper]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        file = Path(getattr(sys.modules.get(cls.__module__), "__file__", None) or "/").resolve()
        parts = file.relative_to(REPO).parts if file.is_relative_to(REPO) else ("/",)
        # ours: not tests, not a virtualenv inside the checkout (.venv, CI's .ci-venv: any dot folder or site-packages)
        if parts[0] != "tests" and not any(part.startswith(".") or part == "site-packages" for part in parts):
            found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return found


def _slow_on_atari(wrapper_id: str) -> Any:
    """An Atari env takes ~3 s through the checker and the rebuilds: those cases are in the slow tier."""
    target = REGISTERED_WRAPPER_TARGETS.get(wrapper_id)
    atari = target is not None and target.env_id.startswith("ALE/")
    return pytest.param(wrapper_id, marks=pytest.mark.slow) if atari else wrapper_id


@pytest.mark.parametrize("wrapper_id", [_slow_on_atari(wrapper_id) for wrapper_id in EnvWrapperRegistry.ids()])
def test_every_registered_wrapper_passes_gymnasiums_env_checker_and_rebuilds_from_its_spec(wrapper_id: str) -> None:
    if wrapper_id not in REGISTERED_WRAPPER_TARGETS:
        pytest.fail(f"{wrapper_id} has no entry in REGISTERED_WRAPPER_TARGETS: add an env it is meant for")
    target = REGISTERED_WRAPPER_TARGETS[wrapper_id]
    env = apply_wrappers(_make(target), [{"id": wrapper_id, **target.kwargs}])
    try:
        listed = env.spec.additional_wrappers[-1]
        assert listed.entry_point == f"{type(env).__module__}:{type(env).__name__}"
        assert listed.kwargs is not None and target.kwargs.items() <= listed.kwargs.items()
        _check(env)
        _assert_rebuilds_from_spec(env)
    finally:
        env.close()


@pytest.mark.parametrize("wrapper_cls", FRAMEWORK_WRAPPER_TARGETS, ids=lambda cls: cls.__name__)
def test_every_wrapper_the_framework_applies_passes_the_checker_and_rebuilds_from_its_spec(wrapper_cls: type) -> None:
    target = FRAMEWORK_WRAPPER_TARGETS[wrapper_cls]
    env = _make(target)
    env = env if isinstance(env, wrapper_cls) else wrapper_cls(env, **target.kwargs)
    try:
        assert env.spec.additional_wrappers[-1].name == wrapper_cls.__name__
        _check(env)
        _assert_rebuilds_from_spec(env)
    finally:
        env.close()


def test_every_wrapper_class_of_ours_records_its_constructor_arguments_or_says_why_not() -> None:
    classes = _our_wrapper_classes()
    registered = {
        f"{cls.__module__}.{cls.__qualname__}" for cls in map(EnvWrapperRegistry.get, EnvWrapperRegistry.ids())
    }
    framework = {f"{cls.__module__}.{cls.__qualname__}" for cls in FRAMEWORK_WRAPPER_TARGETS}
    assert set(NOT_BUILT_HERE) | set(NOT_RECREATABLE) <= set(classes), "stale names in the exemption lists"
    for name, cls in classes.items():
        if name in NOT_RECREATABLE:
            continue
        assert issubclass(cls, RecordConstructorArgs), f"{name} must inherit gymnasium.utils.RecordConstructorArgs"
        covered = name in registered or name in framework or name in NOT_BUILT_HERE
        assert covered, f"{name} is not checked: add it to FRAMEWORK_WRAPPER_TARGETS (or NOT_BUILT_HERE, with why)"


def test_every_custom_env_passes_gymnasiums_env_checker_and_rebuilds_from_its_spec() -> None:
    ours = [env_id for env_id, spec in gym.registry.items() if str(spec.entry_point).startswith("gym_envs.")]
    assert gym_envs.BANDIT_ENV_ID in ours
    for env_id in ours:
        env = gym.make(env_id)
        try:
            _check(env.unwrapped)
            _check(env)
            _assert_rebuilds_from_spec(env)
        finally:
            env.close()


@pytest.mark.parametrize(
    "label", [pytest.param(label, marks=pytest.mark.slow) if "Pong" in label else label for label in BUILT_CONFIGS]
)
def test_a_built_training_sub_env_passes_the_checker_and_rebuilds_from_its_spec(label: str) -> None:
    config = load_config(*BUILT_CONFIGS[label])
    sub_env = make_single_env(config)
    try:
        listed = [wrapper.name for wrapper in sub_env.spec.additional_wrappers]
        configured = [EnvWrapperRegistry.get(spec["id"]).__name__ for spec in config.env_wrappers]
        assert [name for name in listed if name in configured] == configured
        _check(sub_env)
        _assert_rebuilds_from_spec(sub_env)
    finally:
        sub_env.close()


def test_a_stable_retro_sub_env_rebuilds_from_its_spec_as_json() -> None:
    """stable-retro allows one emulator per process, so the rebuilt env is made after the first one is closed."""
    pytest.importorskip("stable_retro")
    sub_env = make_single_env(load_config("Airstriker-Genesis-v0", "ppo"))
    spec, expected = sub_env.spec, _rollouts(sub_env)
    sub_env.close()
    rebuilt = gym.make(EnvSpec.from_json(spec.to_json()))
    try:
        assert rebuilt.spec == spec
        _assert_same_rollouts(_rollouts(rebuilt), expected)
    finally:
        rebuilt.close()
