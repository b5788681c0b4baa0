"""Finding and reading ``config/environments/<env>.yaml`` and its variants.

Each file holds a base block (keys starting with ``_`` are never variants, so
``_base: &base`` is the usual anchor) and one mapping per variant, usually
``<<: *base`` plus the variant's own fields. Only PyYAML is imported here, so
``--list-envs`` and ``--help`` stay fast.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from utils.config_values import ConfigError

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config" / "environments"
DEFAULT_CONFIG_ID = "Bandit-v0:ppo"


def split_config_id(config_id: str) -> tuple[str, str | None]:
    """``'CartPole-v1:ppo'`` -> ``('CartPole-v1', 'ppo')``; no colon means no variant."""
    env, sep, variant = config_id.rpartition(":")
    if not sep:
        return config_id, None
    if not env or not variant:
        raise ConfigError(f"config id {config_id!r} is malformed; write <env>:<variant>, e.g. CartPole-v1:ppo")
    return env, variant


def _config_files(directory: Path) -> dict[str, Path]:
    return {path.stem: path for path in sorted(directory.glob("*.yaml"))}


def read_variants(path: Path) -> dict[str, dict[str, Any]]:
    """Every variant of one environment file, merges resolved, with ``project_id`` filled."""
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path.name}{where}: invalid YAML ({getattr(error, 'problem', error)})") from None
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path.name}: must be a mapping of variant name -> settings")
    variants = {}
    for name, body in data.items():
        if str(name).startswith("_"):
            continue
        if not isinstance(body, Mapping):
            raise ConfigError(f"{path.name}: variant '{name}' must be a mapping of settings")
        settings = dict(body)
        settings.setdefault("project_id", path.stem)
        settings["config_id"] = f"{path.stem}:{name}"
        variants[str(name)] = settings
    return variants


def find_config_file(env: str, directory: Path = CONFIG_DIR) -> Path:
    """The YAML file for an env given by file stem or by ``env_id``, or a path to a YAML file of variants (such as
    a sweep's ``best.yaml``)."""
    from utils.config import renamed_env_id

    if env.endswith((".yaml", ".yml")):
        path = Path(env)
        if not path.is_file():
            raise ConfigError(f"config file {env} does not exist; give <env>:<variant> or the path of a YAML file")
        return path

    env = renamed_env_id(env)
    files = _config_files(directory)
    if env in files:
        return files[env]
    for path in files.values():
        for settings in read_variants(path).values():
            if settings.get("env_id") == env:
                return path
    close = difflib.get_close_matches(env, list(files), n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise ConfigError(f"unknown environment '{env}'; {hint}list them with: python train.py --list-envs")


def load_config_dict(env: str, variant: str | None = None, directory: Path = CONFIG_DIR) -> dict[str, Any]:
    """The raw settings of ``env:variant`` (unvalidated)."""
    path = find_config_file(env, directory)
    variants = read_variants(path)
    if not variants:
        raise ConfigError(f"{path.name}: defines no variants; add e.g. 'ppo: {{<<: *base, algo_id: ppo}}'")
    if variant is None:
        variant = "ppo" if "ppo" in variants else next(iter(variants))
    if variant not in variants:
        close = difflib.get_close_matches(variant, list(variants), n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise ConfigError(f"'{path.stem}' has no variant '{variant}'; {hint}variants: {', '.join(variants)}")
    return variants[variant]


def list_config_ids(filter_text: str = "", directory: Path = CONFIG_DIR) -> list[tuple[str, str]]:
    """``(env:variant, description)`` for every shipped config matching ``filter_text``."""
    rows = []
    needle = filter_text.lower()
    for path in _config_files(directory).values():
        for settings in read_variants(path).values():
            config_id = settings["config_id"]
            text = f"{config_id} {settings.get('env_id', '')} {settings.get('description', '')}"
            if needle in text.lower():
                rows.append((config_id, str(settings.get("description", ""))))
    return rows


def parse_override(text: str) -> tuple[str, Any]:
    """``'key=value'`` with the value read as YAML, exactly like a config file."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"override {text!r} is malformed; write --set key=value, e.g. --set n_envs=4")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        raise ConfigError(f"override {key}: value {raw!r} is not valid YAML") from None
    return key, value
