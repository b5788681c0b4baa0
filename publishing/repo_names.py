"""Hub model names: checking ``--repo``/``--hub`` and the default ``<user>/<algo>-<env id>``.

Light on purpose (``huggingface_hub``'s own validator and nothing of torch or Gymnasium), so the CLIs
check a name the moment they have parsed it.
"""

from __future__ import annotations

import re

from huggingface_hub.errors import HFValidationError
from huggingface_hub.utils import validate_repo_id

from utils.config_values import ConfigError

USER_PLACEHOLDER = "USER"  # the user in a --dry-run without --repo USER/NAME: it never asks the Hub


def check_repo_id(text: str, option: str = "--repo") -> str:
    """``USER/NAME`` (or ``NAME``) as the Hub accepts it; a one-line error otherwise."""
    try:
        validate_repo_id(text)
    except HFValidationError:
        raise ConfigError(
            f"{option}: {text!r} is not a Hub model name; write USER/NAME with letters, digits, '-', '_' or '.' "
            "(no '--' or '..', not starting or ending with '-' or '.', at most 96 characters)"
        ) from None
    return text


def default_repo_name(algo_id: str, env_id: str) -> str:
    """``<algo>-<env id>`` with ``/`` (and anything else the Hub refuses) turned into ``-``: ``ppo-ALE-Pong-v5``."""
    name = re.sub(r"[^A-Za-z0-9._-]", "-", f"{algo_id}-{env_id}")
    name = re.sub(r"-{2,}", "-", re.sub(r"\.{2,}", ".", name))
    return name.strip("-.")[:96].rstrip("-.")


def repo_id_for(repo: str | None, user: str, algo_id: str, env_id: str) -> str:
    """``--repo`` completed with the user (``NAME`` alone is the user's), or the default name."""
    name = repo or default_repo_name(algo_id, env_id)
    return check_repo_id(name if "/" in name else f"{user}/{name}")
