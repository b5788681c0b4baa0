"""Sweep mode: a trial's swept values merged into its config before the run starts.

A sweep trial is an ordinary ``train.py <env>:<variant>`` run whose process environment names the sweep and
the trial's values:

- W&B's agent sets ``WANDB_SWEEP_ID``, ``WANDB_RUN_ID`` and ``WANDB_SWEEP_PARAM_PATH``: the file ``wandb.init``
  itself builds ``wandb.config`` from (``{name: {value: v}}``). It is read here, before the W&B process starts,
  so the config W&B records is the config that trains.
- ``scripts/sweep.py --backend local`` (and the Modal workers) set ``GYMSOLVER_SWEEP_ID``,
  ``GYMSOLVER_SWEEP_TRIAL`` and ``GYMSOLVER_SWEEP_PARAMS`` (JSON), and ``GYMSOLVER_SWEEP_WORKER`` on Modal.

Parameter names are config fields; a dotted name sets one part of a schedule or mapping field
(``policy_lr.start``, ``env_kwargs.render_mode``) and leaves the rest of it as configured.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from utils.config_values import ConfigError

SWEEP_ID_VAR, TRIAL_VAR, PARAMS_VAR, WORKER_VAR = (
    "GYMSOLVER_SWEEP_ID",
    "GYMSOLVER_SWEEP_TRIAL",
    "GYMSOLVER_SWEEP_PARAMS",
    "GYMSOLVER_SWEEP_WORKER",
)


@dataclass(frozen=True)
class SweepTrial:
    """One trial of a sweep, as its process environment describes it."""

    sweep_id: str
    trial: int | str  # the local trial number, or the W&B run id the agent assigned
    params: dict[str, Any]  # dotted parameter name -> value
    worker: int | None = None  # the Modal worker running it
    wandb_run_id: str = ""  # W&B sweeps: the run the agent created for this trial
    wandb_project: str = ""
    wandb_entity: str = ""

    def record(self) -> dict[str, Any]:
        """The ``sweep`` field of the trial's config."""
        out: dict[str, Any] = {"id": self.sweep_id, "trial": self.trial, "params": dict(self.params)}
        if self.worker is not None:
            out["worker"] = self.worker
        return out


def trial_env(sweep_id: str, trial: int, params: Mapping[str, Any], worker: int | None = None) -> dict[str, str]:
    """The environment variables that make ``train.py`` run ``params`` as trial ``trial`` of ``sweep_id``."""
    env = {SWEEP_ID_VAR: sweep_id, TRIAL_VAR: str(trial), PARAMS_VAR: json.dumps(dict(params))}
    if worker is not None:
        env[WORKER_VAR] = str(worker)
    return env


def trial_from_environ(environ: Mapping[str, str] | None = None) -> SweepTrial | None:
    """The sweep trial this process runs, or None outside a sweep; ConfigError when the variables are broken."""
    environ = os.environ if environ is None else environ
    worker_text = environ.get(WORKER_VAR, "")
    worker = int(worker_text) if worker_text.isdigit() else None
    if environ.get(SWEEP_ID_VAR):
        try:
            params = json.loads(environ.get(PARAMS_VAR) or "{}")
        except ValueError:
            raise ConfigError(f"{PARAMS_VAR} is not JSON; it is set by scripts/sweep.py, unset it") from None
        if not isinstance(params, dict):
            raise ConfigError(f"{PARAMS_VAR} must be a JSON object of parameter -> value")
        trial_text = environ.get(TRIAL_VAR, "0")
        trial = int(trial_text) if trial_text.isdigit() else trial_text
        return SweepTrial(environ[SWEEP_ID_VAR], trial, params, worker=worker)
    if environ.get("WANDB_SWEEP_ID"):
        path = environ.get("WANDB_SWEEP_PARAM_PATH", "")
        run_id = environ.get("WANDB_RUN_ID", "")
        return SweepTrial(
            environ["WANDB_SWEEP_ID"],
            run_id,
            read_wandb_params(Path(path)) if path else {},
            worker=worker,  # a Modal worker running `wandb agent`
            wandb_run_id=run_id,
            wandb_project=environ.get("WANDB_PROJECT", ""),
            wandb_entity=environ.get("WANDB_ENTITY", ""),
        )
    return None


def read_wandb_params(path: Path) -> dict[str, Any]:
    """The swept values from the agent's parameter file (``{name: {value: v}}`` after ``wandb_version: 1``)."""
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"WANDB_SWEEP_PARAM_PATH {path}: cannot read the sweep's values ({error})") from None
    data.pop("wandb_version", None)
    params = {}
    for name, entry in data.items():
        params[str(name)] = entry["value"] if isinstance(entry, Mapping) and "value" in entry else entry
    return params


def set_dotted(settings: dict[str, Any], name: str, value: Any) -> None:
    """Set ``name`` (``field`` or ``field.part[.part]``) in ``settings``, keeping the rest of a nested value."""
    from utils.config import Config, check_known_keys

    head, *parts = name.split(".")
    check_known_keys({head: None})
    if not parts:
        settings[head] = copy.deepcopy(value)
        return
    if head in settings:
        current = settings[head]
    else:
        default = Config.__dataclass_fields__[head]
        current = default.default_factory() if callable(default.default_factory) else default.default
    if not isinstance(current, Mapping):
        raise ConfigError(
            f"{name}: {head} is {current!r} here, not a schedule or mapping; set {head} itself, or make it a "
            f"schedule in the config (e.g. {head}: {{start: {current!r}, end: {current!r}}})"
        )
    node = settings[head] = copy.deepcopy(dict(current))
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = {}
        elif not isinstance(child, Mapping):
            raise ConfigError(f"{name}: {head}.{part} is {child!r}, not a mapping")
        node[part] = dict(child)
        node = node[part]
    node[parts[-1]] = copy.deepcopy(value)


def merge_params(settings: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """``settings`` with every swept value set (dotted names into schedules and mappings)."""
    merged = copy.deepcopy(dict(settings))
    for name, value in params.items():
        set_dotted(merged, name, value)
    return merged


def check_no_contradiction(merged: Mapping[str, Any], overrides: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    """A ConfigError when the swept values changed what a ``--set`` override asked for (``merged``: both applied)."""
    for key, value in overrides.items():
        if merge_params(merged, {key: value}) == merged:
            continue  # the override holds in the trial's settings
        head = key.split(".")[0]
        name = next(n for n in params if n.split(".")[0] == head)
        raise ConfigError(
            f"--set {key}={json.dumps(value)} contradicts the sweep's {name}={json.dumps(params[name])}; the sweep "
            f"chooses {name}, so drop that override (or the parameter from the sweep spec)"
        )


def trial_settings(settings: Mapping[str, Any], overrides: Mapping[str, Any], trial: SweepTrial) -> dict[str, Any]:
    """The settings a sweep trial trains with: the config, the CLI overrides, then the swept values."""
    merged = merge_params(merge_params(settings, overrides), trial.params)
    check_no_contradiction(merged, overrides, trial.params)
    merged["sweep"] = trial.record()
    if trial.wandb_run_id:  # the W&B run the agent created for this trial, in the sweep's project
        if str(merged.get("wandb", "auto")) in ("off", "False"):
            raise ConfigError("W&B sweep: this config has wandb: off, so the sweep would never see a result; "
                              "remove wandb: off (the agent needs W&B credentials anyway)")  # fmt: skip
        merged["wandb_id"] = trial.wandb_run_id
        merged["wandb_project"] = trial.wandb_project or merged.get("wandb_project", "")
        merged["wandb_entity"] = trial.wandb_entity or merged.get("wandb_entity", "")
    return merged
