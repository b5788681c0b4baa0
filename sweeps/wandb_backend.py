"""The W&B backend: W&B's server chooses the values (grid, random, bayes), ``wandb agent`` processes run them.

Each agent runs the spec's ``command`` (``train.py <env>:<variant>``) with ``WANDB_SWEEP_ID`` set, so every
trial is an ordinary run directory in this runs folder that logs to the sweep's W&B run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from sweeps.spec import SweepSpec
from sweeps.trial_process import REPO
from utils.config_values import ConfigError


def wandb_target(spec: SweepSpec) -> tuple[str, str | None]:
    """The W&B project and entity of the sweep: the spec's, else the base config's."""
    from utils.config import Config
    from utils.wandb_mode import wandb_project

    config = Config.from_dict(spec.base_settings())
    project = str(spec.raw.get("project") or wandb_project(config.wandb_project, config.project_id, config.env_id))
    entity = spec.raw.get("entity") or config.wandb_entity or None
    return project, entity


def sweep_config(spec: SweepSpec) -> dict[str, Any]:
    """The spec as W&B gets it: the CLI's ``--set`` values appended to the command, so every trial has them."""
    import json

    raw = dict(spec.raw)
    command = list(raw["command"])
    for key, value in spec.overrides.items():
        command += ["--set", f"{key}={json.dumps(value)}"]
    raw["command"] = command
    return raw


def check_wandb_online(environ: Mapping[str, str] | None = None, trials_here: bool = True) -> None:
    """A one-line ConfigError unless W&B's server can run the sweep: credentials, and (``trials_here``: the
    trials run on this machine, with this environment) trials that log online: W&B chooses each trial's values
    and reads its result, and an offline trial never reports one."""
    from utils.wandb_mode import wandb_credentials

    environ = os.environ if environ is None else environ
    mode = environ.get("WANDB_MODE", "").strip().lower()
    disabled = environ.get("WANDB_DISABLED", "").strip().lower() in ("true", "1", "yes")
    if trials_here and (mode in ("offline", "dryrun", "disabled") or disabled):
        setting = f"WANDB_MODE={mode}" if mode else "WANDB_DISABLED"
        raise ConfigError(
            f"--backend wandb: {setting} is set, but W&B's server runs this sweep and needs online trials; unset "
            f"it, or run the sweep here without W&B (drop --backend wandb)"
        )
    if wandb_credentials(environ) is None:
        raise ConfigError(
            "--backend wandb needs W&B credentials and none were found; run `wandb login` or set WANDB_API_KEY "
            "(or run the sweep here without W&B: drop --backend wandb)"
        )


def create_sweep(spec: SweepSpec, wandb: Any = None, trials_here: bool = True) -> str:
    """Register the sweep with W&B; ``entity/project/sweep_id``. Needs credentials (checked first)."""
    check_wandb_online(
        trials_here=trials_here
    )  # no credentials, or WANDB_MODE=offline: one line, before anything is made
    if wandb is None:
        import wandb
    project, entity = wandb_target(spec)
    sweep_id = wandb.sweep(sweep=sweep_config(spec), project=project, entity=entity)
    entity = entity or wandb.Api().default_entity
    return f"{entity}/{project}/{sweep_id}"


def agent_counts(count: int | None, agents: int) -> list[int | None]:
    """Trials per agent: ``count`` split as evenly as possible (None: until the sweep runs out)."""
    if count is None:
        return [None] * agents
    agents = max(1, min(agents, count))
    return [count // agents + (1 if index < count % agents else 0) for index in range(agents)]


def agent_command(sweep_path: str, count: int | None) -> list[str]:
    """One ``wandb agent`` process."""
    return [sys.executable, "-m", "wandb", "agent", *(["--count", str(count)] if count else []), sweep_path]


def run_agents(
    sweep_path: str, count: int | None, parallel: int, runs: Path, environ: Mapping[str, str] | None = None,
    popen: Any = subprocess.Popen,
) -> int:  # fmt: skip
    """Run the agents (from the repository, so ``${program}`` is train.py) until they finish; Ctrl-C stops them."""
    from sweeps.local import trial_threads

    env = {**(environ or os.environ), "GYMSOLVER_RUNS_DIR": str(runs.resolve())}
    check_wandb_online(env)
    # The agent runs the spec's ${interpreter} as plain `python`: this interpreter's, also outside an activated venv.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), *filter(None, [env.get("PATH")])])
    counts = agent_counts(count, parallel)
    if len(counts) > 1:
        threads = str(trial_threads(len(counts)))
        env.update({"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads})
    agents = [popen(agent_command(sweep_path, n), cwd=REPO, env=env, start_new_session=True) for n in counts]
    stop: list[int] = []

    def forward(signum: int, frame: FrameType | None) -> None:
        stop.append(signum)
        for agent in agents:
            if agent.poll() is None:
                os.killpg(agent.pid, signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while any(agent.poll() is None for agent in agents):
            time.sleep(0.5)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if stop:
        return 143 if stop[0] == signal.SIGTERM else 130
    failed = [agent.returncode for agent in agents if agent.returncode]
    if failed:
        raise ConfigError(f"wandb agent exited with status {failed[0]}; its output above says why")
    return 0
