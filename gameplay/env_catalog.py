"""The envs ``run_play.py --human`` can play, by platform (``run_play.py --list-envs [FILTER]``): the ALE games,
VizDoom's scenarios, stable-retro's games (whether their ROM is imported or not) and Gymnasium's classic control,
toy text and box2d envs that have a keyboard binding."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import gymnasium as gym

from gameplay.key_bindings import NoKeyBinding, bindings_for
from gameplay.key_maps import ATARI, BOX2D, CLASSIC, RETRO, TOY_TEXT, VIZDOOM
from utils.envs import register_family

PLATFORMS = (ATARI, VIZDOOM, RETRO, CLASSIC, TOY_TEXT, BOX2D)  # the order --list-envs prints them in
GYMNASIUM_MODULES = {
    "gymnasium.envs.classic_control": CLASSIC,
    "gymnasium.envs.toy_text": TOY_TEXT,
    "gymnasium.envs.box2d": BOX2D,
}
NO_ROM = "no ROM (import yours: python -m stable_retro.import /path/to/roms)"
# VizDoom ids whose game data ships with vizdoom (its scenarios and Freedoom); Doom and Doom 2 need id's WADs.
COMMERCIAL_WADS = {"VizdoomDoom2": "doom2.wad", "VizdoomDoom": "doom.wad"}


@dataclass(frozen=True)
class PlayableEnv:
    """One env id ``run_play.py --human`` plays, its platform, and what it still needs (a ROM, a WAD)."""

    env_id: str
    platform: str
    missing: str = ""  # empty when it plays as installed


def list_playable_envs(text: str | None = None) -> list[PlayableEnv]:
    """Every playable env id, grouped by platform in ``PLATFORMS`` order; ``text`` keeps the ids (or platforms)
    that contain it, ignoring case."""
    envs = [*_ale(), *_vizdoom(), *_retro(), *_gymnasium()]
    envs.sort(key=lambda env: PLATFORMS.index(env.platform))  # stable: each platform keeps its own order
    if text:
        wanted = text.lower()
        envs = [env for env in envs if wanted in env.env_id.lower() or wanted in env.platform.lower()]
    return envs


def catalog_report(envs: list[PlayableEnv]) -> str:
    """The list as ``--list-envs`` prints it: a heading per platform (with its count), then one id a line."""
    lines: list[str] = []
    for platform in PLATFORMS:
        group = [env for env in envs if env.platform == platform]
        if not group:
            continue
        missing = sum(bool(env.missing) for env in group)
        ready = f", {len(group) - missing} ready to play" if missing else ""
        lines.append(f"{platform} ({len(group)}{ready}):")
        width = max(len(env.env_id) for env in group)
        lines += [f"  {env.env_id:<{width}}  {env.missing}".rstrip() for env in group]
    return "\n".join(lines)


def _ale() -> list[PlayableEnv]:
    register_family("ALE/Pong-v5")  # imports ale_py, which registers every ALE id
    return [PlayableEnv(env_id, ATARI) for env_id in gym.registry if env_id.startswith("ALE/")]


def _vizdoom() -> list[PlayableEnv]:
    register_family("VizdoomBasic-v1")
    import vizdoom

    envs = []
    for env_id in gym.registry:
        if env_id.startswith("Vizdoom"):
            wad = next((wad for prefix, wad in COMMERCIAL_WADS.items() if env_id.startswith(prefix)), None)
            missing = wad is not None and not os.path.exists(os.path.join(os.path.dirname(vizdoom.__file__), wad))
            envs.append(PlayableEnv(env_id, VIZDOOM, f"needs {wad} (not shipped with vizdoom)" if missing else ""))
    return envs


def _retro() -> list[PlayableEnv]:
    """stable-retro's games, those with an imported ROM first."""
    try:
        import stable_retro
    except ImportError:
        return []
    envs = []
    for game in stable_retro.data.list_games():
        try:
            stable_retro.data.get_romfile_path(game)
            envs.append(PlayableEnv(game, RETRO))
        except FileNotFoundError:
            envs.append(PlayableEnv(game, RETRO, NO_ROM))
    return sorted(envs, key=lambda env: bool(env.missing))


def _gymnasium() -> list[PlayableEnv]:
    """Gymnasium's classic control, toy text and box2d ids that have a key binding (each is built to check)."""
    envs = []
    for env_id, spec in gym.registry.items():
        entry = spec.entry_point if isinstance(spec.entry_point, str) else ""
        platform = GYMNASIUM_MODULES.get(entry.split(":")[0].rsplit(".", 1)[0])
        if platform is None:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # CartPole-v0 is out of date, and playable
                env = gym.make(env_id)
        except (gym.error.Error, ImportError):
            continue  # box2d missing
        try:
            bindings_for(env, env_id)
            envs.append(PlayableEnv(env_id, platform))
        except NoKeyBinding:
            pass
        finally:
            env.close()
    return envs
