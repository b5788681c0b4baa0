"""Building the vectorized training and evaluation environments from a config."""

from __future__ import annotations

import difflib
import functools
import importlib
import inspect
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

import gym_envs  # noqa: F401  (registers Bandit-v0)
from gym_wrappers import EnvWrapperRegistry, WrapperError, apply_wrappers
from gym_wrappers.observations import ScreenObservation
from gym_wrappers.ocatari_episode_end import OCAtariEpisodeEnd
from gym_wrappers.vizdoom_scratch import VizDoomScratchDir
from utils.config import Config
from utils.config_values import ConfigError

MAX_EVAL_ENVS = 16


class EnvError(ConfigError):
    """An environment that cannot be built as configured."""


# Env families whose ids appear in Gymnasium's registry only once their package is imported.
FAMILY_PACKAGES = {"ALE/": "ale_py", "Vizdoom": "vizdoom.gymnasium_wrapper"}


def register_family(env_id: str) -> None:
    """Import the package that registers ``env_id`` (ALE, VizDoom) if it is not registered yet."""
    if env_id in gym.registry:
        return
    for prefix, package in FAMILY_PACKAGES.items():
        if env_id.startswith(prefix):
            module = importlib.import_module(package)
            if package == "ale_py":
                gym.register_envs(module)
            return
    _register_retro(env_id)


def _retro_games() -> list[str]:
    try:
        import stable_retro
    except ImportError:
        return []
    return list(stable_retro.data.list_games())


def is_retro(env_id: str) -> bool:
    """Whether ``env_id`` is a stable-retro game (those allow one emulator per process)."""
    spec = gym.registry.get(env_id)
    return spec is not None and (spec.kwargs or {}).get("retro_game") == env_id


def make_retro_env(retro_game: str, render_mode: str | None = None, **kwargs: object) -> gym.Env:
    """Entry point of the stable-retro ids registered here (by module path, so ``gym.make(env.spec)`` finds it)."""
    import stable_retro

    try:
        # stable-retro defaults to render_mode="human", which fails without a display
        return stable_retro.make(retro_game, render_mode=render_mode or "rgb_array", **kwargs)
    except FileNotFoundError:
        raise ConfigError(
            f"env_id: stable-retro has no ROM for {retro_game}; import your ROMs with: "
            "python -m stable_retro.import /path/to/your/roms"
        ) from None


def _register_retro(env_id: str) -> None:
    if env_id in _retro_games():
        gym.register(id=env_id, entry_point="utils.envs:make_retro_env", kwargs={"retro_game": env_id})


def is_atari_rgb(config: Config) -> bool:
    """ALE env observed as pixels (preprocessed as AtariVectorEnv does unless atari_preprocessing is off)."""
    return config.env_id.startswith("ALE/") and config.obs_type == "rgb"


def env_spec(env_id: str) -> gym.envs.registration.EnvSpec:
    """The registered spec of ``env_id``, or a one-line error with a did-you-mean."""
    register_family(env_id)
    try:
        return gym.spec(env_id)
    except gym.error.Error:
        close = difflib.get_close_matches(env_id, list(gym.registry), n=1)
        hint = f"did you mean '{close[0]}'?" if close else "check the id in config/environments/*.yaml"
        raise ConfigError(f"env_id: '{env_id}' is not a registered Gymnasium environment; {hint}") from None


def validate_wrappers(config: Config) -> None:
    """Check every ``env_wrappers`` entry names a registered wrapper with accepted kwargs."""
    for index, spec in enumerate(config.env_wrappers):
        try:
            EnvWrapperRegistry.validate_spec(spec)
        except (ValueError, TypeError) as error:
            raise ConfigError(f"env_wrappers[{index}]: {error}") from None


# Keyword arguments gymnasium.make takes itself, whatever the env.
MAKE_KWARGS = ("max_episode_steps", "disable_env_checker")


def validate_env_kwargs(config: Config) -> None:
    """Check ``env_kwargs`` names arguments the env takes, and a render mode it has, before building it."""
    spec = env_spec(config.env_id)
    creator: Callable[..., Any] | str | None = spec.entry_point
    if isinstance(creator, str):
        try:
            creator = gym.envs.registration.load_env_creator(creator)
        except (ImportError, AttributeError):
            return  # gym.make reports it
    if "render_mode" in config.env_kwargs:
        mode = config.env_kwargs["render_mode"]
        modes = list((getattr(creator, "metadata", None) or {}).get("render_modes", []))
        if mode is not None and (not isinstance(mode, str) or (modes and mode not in modes)):
            shown = ", ".join(modes) or "rgb_array"
            raise EnvError(
                f"env_kwargs: render_mode {mode!r} is not a render mode of {config.env_id}; use one of {shown}"
            )
    if creator is None:
        return  # a vector-only entry point: no signature to check
    try:
        params = inspect.signature(creator).parameters.values()
    except (TypeError, ValueError):
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return
    accepted = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    for key in config.env_kwargs:
        if key not in accepted and key not in MAKE_KWARGS:
            close = difflib.get_close_matches(key, accepted, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise EnvError(
                f"env_kwargs: {config.env_id} does not take {key!r}; {hint}it takes: {', '.join(accepted) or '(none)'}"
            )


def reward_threshold(config: Config) -> float | None:
    """The eval mean that counts as solved: the config's, else the env's registered one."""
    if config.reward_threshold is not None:
        return config.reward_threshold
    return env_spec(config.env_id).reward_threshold


def resolve_vectorization(config: Config) -> str:
    """The concrete vectorization mode for the training env."""
    spec = env_spec(config.env_id)
    if spec.vector_entry_point is None:
        problem: str | None = "it has no native vector version"
    elif config.env_id.startswith("ALE/"):
        from utils.atari_native import native_problem

        problem = native_problem(config)
    elif config.env_wrappers or config.frame_stack != 1:
        problem = "env_wrappers/frame_stack need per-env wrapping"
    else:
        problem = None
    mode = config.vectorization_mode
    if is_retro(config.env_id):
        if mode not in ("auto", "async"):
            raise ConfigError(
                f"vectorization_mode: {mode} is not possible for stable-retro (one emulator per process); use async"
            )
        return "async"
    if mode == "auto":
        return "sync" if problem else "native"
    if mode == "native" and problem:
        raise ConfigError(
            f"vectorization_mode: native is not possible for {config.env_id} ({problem}); use sync or async"
        )
    return mode


def _make_kwargs(config: Config, render_mode: str | None) -> dict[str, Any]:
    kwargs = dict(config.env_kwargs)
    if config.env_id.startswith("ALE/") and config.obs_type != "objects":
        kwargs.setdefault("obs_type", config.obs_type)
    if config.max_episode_steps is not None:
        kwargs["max_episode_steps"] = config.max_episode_steps
    if render_mode is not None:
        kwargs["render_mode"] = render_mode
    if is_atari_rgb(config) and config.atari_preprocessing:
        # AtariVectorFrames skips frames and counts the episode's frames itself (as AtariVectorEnv does)
        kwargs.update(frameskip=1, max_num_frames_per_episode=None)
        kwargs.pop("max_episode_steps", None)
    return kwargs


def _as_float32(obs: Any) -> np.ndarray:
    return np.asarray(obs, np.float32)


def _make_ocatari(config: Config, render_mode: str | None) -> gym.Env:
    """ALE with OCAtari's object-list observations (objects x features, from the RAM)."""
    try:
        from ocatari.core import OCAtari
    except ImportError:
        raise ConfigError(
            "obs_type: objects needs OCAtari, an optional extra; install it with: pip install -e '.[atari-objects]'"
        ) from None
    kwargs = {k: v for k, v in _make_kwargs(config, render_mode).items() if k != "max_episode_steps"}
    ocatari = OCAtari(config.env_id, mode="ram", hud=False, obs_mode="obj", **kwargs)
    ocatari.metadata = dict(ocatari._env.metadata)  # OCAtari reports no render modes; its ALE env renders fine
    ocatari.render_mode = ocatari._env.render_mode
    env: gym.Env = OCAtariEpisodeEnd(ocatari)
    env.observation_space = gym.spaces.Box(-np.inf, np.inf, env.observation_space.shape, np.float32)
    env = gym.wrappers.TransformObservation(env, _as_float32, env.observation_space)
    if config.max_episode_steps is not None:
        env = gym.wrappers.TimeLimit(env, config.max_episode_steps)
    return env


def make_single_env(config: Config, render_mode: str | None = None) -> gym.Env:
    """One env with the config's wrappers, exactly as each training/eval sub-env is built."""
    register_family(config.env_id)
    if config.env_id.startswith("ALE/") and config.obs_type == "objects":
        env = _make_ocatari(config, render_mode)
    else:
        env = gym.make(config.env_id, **_make_kwargs(config, render_mode))
    if config.env_id.startswith("Vizdoom"):
        env = VizDoomScratchDir(env)
    if isinstance(env.observation_space, gym.spaces.Dict) and "screen" in env.observation_space.spaces:
        env = ScreenObservation(env)
    atari_frames = is_atari_rgb(config) and config.atari_preprocessing
    if atari_frames:
        from gym_wrappers.atari_frames import AtariVectorFrames
        from utils.atari_native import frame_limit

        env = AtariVectorFrames(env, max_frames=frame_limit(config, env_spec(config.env_id).kwargs))
    env = apply_wrappers(env, config.env_wrappers)
    if config.frame_stack > 1:
        # AtariVectorEnv starts an episode's stack with zero frames; other envs repeat the first frame
        padding = "zero" if atari_frames else "reset"
        env = gym.wrappers.FrameStackObservation(env, config.frame_stack, padding_type=padding)
    return env


def _wrapped(make: Callable[[], gym.Env], wrap: Callable[[gym.Env], gym.Env]) -> gym.Env:
    return wrap(make())


def build_env(
    config: Config,
    role: str = "train",
    n_envs: int | None = None,
    render_mode: str | None = None,
    wrap_first: Callable[[gym.Env], gym.Env] | None = None,
) -> gym.vector.VectorEnv:
    """The vectorized env for ``role`` ('train' or 'eval'); eval always uses sync mode.

    ``wrap_first`` wraps sub-env 0 only (used to record its episodes).
    All envs use Gymnasium's default next-step autoreset: the step after an
    episode ends returns the reset observation and its action is ignored.
    """
    validate_env_kwargs(config)
    validate_wrappers(config)
    if role == "eval":
        mode = "async" if is_retro(config.env_id) and (n_envs or 2) > 1 else "sync"
        n_envs = n_envs or min(config.eval_episodes, MAX_EVAL_ENVS)
    else:
        mode = resolve_vectorization(config)
        n_envs = n_envs or config.n_envs
    try:
        if mode == "native" and config.env_id.startswith("ALE/"):
            from utils.atari_native import make_atari_vector_env

            return make_atari_vector_env(config, env_spec(config.env_id).kwargs, n_envs)
        if mode == "native":
            return gym.make_vec(
                config.env_id, n_envs, vectorization_mode="vector_entry_point", **_make_kwargs(config, render_mode)
            )
        # spawn/forkserver workers get these pickled (Gymnasium cloudpickles them); a partial travels by name
        factories = [functools.partial(make_single_env, config, render_mode) for _ in range(n_envs)]
        if wrap_first is not None:
            factories[0] = functools.partial(_wrapped, factories[0], wrap_first)
        if mode == "async":
            context = None if config.async_context == "auto" else config.async_context  # None: platform default
            return gym.vector.AsyncVectorEnv(factories, context=context)
        return gym.vector.SyncVectorEnv(factories)
    except ConfigError:
        raise
    except WrapperError as error:
        raise EnvError(f"{config.env_id}: {error}") from error
    except (TypeError, ValueError, AssertionError, gym.error.Error) as error:
        text = " ".join(str(error).split()) or type(error).__name__
        raise EnvError(
            f"{config.env_id}: could not build the env ({text}); check env_kwargs and env_wrappers"
        ) from error


def check_can_render(config: Config) -> None:
    """Fail fast when video is asked for an env without an ``rgb_array`` render mode."""
    env = make_single_env(config)
    modes = env.metadata.get("render_modes", [])
    env.close()
    if "rgb_array" not in modes:
        raise ConfigError(
            f"video: {config.env_id} cannot render rgb_array frames (render modes: {modes}); set video: off"
        )
