"""ENV_OR_CONFIG of ``run_play.py --scan/--export``: a shipped config, or a plain Gymnasium id built as registered.

A plain id is registered on demand the way training's envs are (``utils/envs.env_spec``: ALE, VizDoom,
stable-retro) and made with ``gymnasium.make`` and nothing else, so its spaces are the env's own; only
VizDoom's engine is launched from a temporary folder (``gym_wrappers/vizdoom_scratch.py``), as in training.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from gym_wrappers.vizdoom_scratch import VizDoomScratchDir
from utils.config_files import find_config_file
from utils.config_values import ConfigError
from utils.envs import env_spec


def names_a_config(text: str) -> bool:
    """Whether ``text`` is written as a config (``<env>:<variant>`` or a YAML file) rather than an env id."""
    return ":" in text or text.endswith((".yaml", ".yml"))


def has_shipped_config(env: str) -> bool:
    """Whether ``config/environments`` has a file for ``env`` (by file stem or env id)."""
    try:
        find_config_file(env)
    except ConfigError:
        return False
    return True


def video_render_mode(env_id: str) -> str | None:
    """``rgb_array`` unless the registered env says it cannot render it (then ``None``: no video)."""
    creator: Any = env_spec(env_id).entry_point
    if isinstance(creator, str):
        try:
            creator = gym.envs.registration.load_env_creator(creator)
        except (ImportError, AttributeError):
            return "rgb_array"  # gymnasium.make reports it
    metadata = getattr(creator, "metadata", None)
    if not isinstance(metadata, dict) or "render_modes" not in metadata:
        return "rgb_array"  # a factory (stable-retro's renders rgb_array) or a wrapper class: try it
    return "rgb_array" if "rgb_array" in metadata["render_modes"] else None


def make_plain_env(env_id: str, render_mode: str | None = None) -> gym.Env:
    """The env ``gymnasium.make(env_id)`` builds; an unknown id or a failed build is a one-line ``ConfigError``."""
    env_spec(env_id)  # registers the ALE, VizDoom and stable-retro ids; unknown: a did-you-mean
    try:
        env = gym.make(env_id, render_mode=render_mode) if render_mode else gym.make(env_id)
    except ConfigError:
        raise
    except (gym.error.Error, ImportError, TypeError, ValueError, AssertionError) as error:
        text = " ".join(str(error).split()) or type(error).__name__
        raise ConfigError(f"{env_id}: could not build the env ({text})") from error
    return VizDoomScratchDir(env) if env_id.startswith("Vizdoom") else env
