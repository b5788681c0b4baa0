"""Whether a run logs to Weights & Biases, and how: the ``wandb`` setting, ``WANDB_MODE`` and credentials.

Nothing here imports wandb (its import takes seconds): credentials are looked up where wandb looks,
``WANDB_API_KEY`` / ``WANDB_IDENTITY_TOKEN_FILE``, then the W&B host's entry in the netrc file
(``NETRC``, else ``~/.netrc``) that ``wandb login`` writes.

| ``wandb`` | no credentials | credentials |
|---|---|---|
| ``off`` | off | off |
| ``auto`` (default) | off, silently | online |
| ``online`` | error: ``wandb login`` / ``WANDB_API_KEY`` | online |
| ``offline`` | offline | offline |

``WANDB_MODE`` in the environment is honoured over the setting: ``disabled`` turns logging off, ``offline``
(or ``dryrun``) makes a run that logs log offline, with or without credentials. It never turns logging on:
``auto`` without credentials stays off, so the ``WANDB_MODE=offline`` that test and CI environments export
costs nothing.
"""

from __future__ import annotations

import configparser
import netrc
import os
import secrets
import string
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from utils.config import WANDB_SETTINGS
from utils.config_values import ConfigError

DEFAULT_HOST = "https://api.wandb.ai"
ONLINE_NEEDS_LOGIN = (
    "wandb: online logging needs W&B credentials and none were found; run `wandb login` or set WANDB_API_KEY "
    "(or log offline with --wandb offline, or turn W&B off with --no-wandb)"
)


def wandb_setting(value: bool | str) -> str:
    """The ``wandb`` config value as one of WANDB_SETTINGS (YAML reads ``off`` as false and ``on`` as true)."""
    if value is False:
        return "off"
    if value is True:
        return "online"
    if value not in WANDB_SETTINGS:
        raise ConfigError(f"wandb: {value!r} is not one of {', '.join(WANDB_SETTINGS)}")
    return value


def resolve_wandb_mode(setting: bool | str, environ: Mapping[str, str] | None = None) -> str:
    """``off``, ``online`` or ``offline`` for a run with this ``wandb`` setting (table in the module docstring).

    Raises ConfigError for ``online`` without credentials, before anything is written.
    """
    environ = os.environ if environ is None else environ
    setting = wandb_setting(setting)
    env_mode = environ.get("WANDB_MODE", "").strip().lower()
    disabled = environ.get("WANDB_DISABLED", "").strip().lower() in ("true", "1", "yes")
    if setting == "off" or env_mode == "disabled" or disabled:
        return "off"
    offline_env = env_mode in ("offline", "dryrun")
    if setting == "offline":
        return "offline"
    if setting == "auto":
        if wandb_credentials(environ) is None:
            return "off"
        return "offline" if offline_env else "online"
    if offline_env:
        return "offline"
    if wandb_credentials(environ) is None:
        raise ConfigError(ONLINE_NEEDS_LOGIN)
    return "online"


def wandb_credentials(environ: Mapping[str, str] | None = None) -> str | None:
    """Where this machine's W&B credentials come from (a variable name or a netrc path); None when it has none."""
    environ = os.environ if environ is None else environ
    for variable in ("WANDB_API_KEY", "WANDB_IDENTITY_TOKEN_FILE"):
        if environ.get(variable, "").strip():
            return variable
    path = netrc_path(environ)
    host = urlsplit(wandb_host(environ)).netloc
    try:
        entry = netrc.netrc(path).authenticators(host)
    except (OSError, netrc.NetrcParseError):
        return None
    return str(path) if entry and entry[2] else None


def netrc_path(environ: Mapping[str, str]) -> Path:
    """The netrc file wandb reads and ``wandb login`` writes."""
    if environ.get("NETRC"):
        return Path(environ["NETRC"]).expanduser()
    home = Path(environ.get("HOME") or Path.home())
    windows = home / "_netrc"
    return windows if windows.exists() and not (home / ".netrc").exists() else home / ".netrc"


def wandb_host(environ: Mapping[str, str]) -> str:
    """The W&B server: ``WANDB_BASE_URL``, else the ``base_url`` that ``wandb login --host`` saved, else W&B's cloud."""
    if environ.get("WANDB_BASE_URL"):
        return environ["WANDB_BASE_URL"].rstrip("/")
    config_dir = environ.get("WANDB_CONFIG_DIR") or str(Path(environ.get("HOME") or Path.home()) / ".config" / "wandb")
    parser = configparser.ConfigParser()
    try:
        parser.read(Path(config_dir) / "settings")
    except configparser.Error:
        return DEFAULT_HOST
    return parser.get("default", "base_url", fallback=DEFAULT_HOST).rstrip("/")


def new_wandb_id() -> str:
    """A fresh W&B run id: 8 lowercase letters and digits, like wandb's own."""
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(8))


def wandb_project(project: str, project_id: str, env_id: str) -> str:
    """The W&B project of a run: ``wandb_project``, else ``project_id``, else the env id (``/`` made ``-``)."""
    return project or project_id or env_id.replace("/", "-")
