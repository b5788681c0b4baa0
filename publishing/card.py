"""The model card (``README.md``): YAML front matter the Hub's RL leaderboards read, then the agent, its
results, replay, learning curve, hyperparameters, and the exact commands to play it and to train it again.

The front matter is built with ``huggingface_hub.ModelCardData`` in the form Stable-Baselines3 and CleanRL
use: ``library_name``, the tags, and a ``model-index`` result with task ``reinforcement-learning``, dataset
= the env id and metric ``mean_reward`` whose value is the string ``"<mean> +/- <std>"``.
"""

from __future__ import annotations

import json
import math
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import huggingface_hub.constants
import yaml
from huggingface_hub import EvalResult, ModelCard, ModelCardData

from publishing.replay import REPLAY_FILE, Replay
from publishing.results import PublishedResults
from utils.config import Config, load_config
from utils.config_files import split_config_id
from utils.config_values import ConfigError
from utils.report import CURVE_FILE, config_section, markdown_table
from utils.run_reader import CheckpointInfo

LIBRARY_NAME = "gymnasium-solver"
ALGO_NAMES = {"ppo": "PPO", "reinforce": "REINFORCE"}


@dataclass(frozen=True)
class CardFacts:
    """What the card says, gathered by the publisher."""

    repo_id: str
    config: Config
    spec: dict[str, Any]  # the checkpoint's policy.json
    checkpoint: CheckpointInfo
    status: str  # how the run ended (solved, finished, ...)
    results: PublishedResults
    replay: Replay | None
    files: Sequence[tuple[str, str]]  # (name, what it holds) of every file in the repo


def front_matter(repo_id: str, config: Config, results: PublishedResults) -> ModelCardData:
    """Library, tags and the model-index entry of the Hub's RL leaderboards."""
    return ModelCardData(
        library_name=LIBRARY_NAME,
        tags=["reinforcement-learning", "deep-reinforcement-learning", config.env_id, config.algo_id],
        model_name=repo_id.split("/")[-1],
        eval_results=[
            EvalResult(
                task_type="reinforcement-learning",
                task_name="reinforcement-learning",
                dataset_type=config.env_id,
                dataset_name=config.env_id,
                metric_type="mean_reward",
                metric_name="mean_reward",
                metric_value=results.leaderboard_value,
                verified=False,
            )
        ],
    )


def model_card(facts: CardFacts) -> str:
    """The README.md text: front matter, then the body."""
    data = front_matter(facts.repo_id, facts.config, facts.results)
    card = ModelCard(f"---\n{data.to_yaml()}\n---\n\n{_body(facts)}")  # parsing it back checks the front matter
    return str(card)


def _body(facts: CardFacts) -> str:
    config = facts.config
    algo = ALGO_NAMES.get(config.algo_id, config.algo_id)
    lines = [f"# {algo} agent playing {config.env_id}", "", _introduction(facts, algo), ""]
    lines += ["## Results", "", *markdown_table(("result", "value"), _result_rows(facts)), ""]
    lines += [
        "The checkpoint was evaluated again when it was published, on seeds that none of training's evaluations "
        "used, so this is not the number it was selected on. `results.json` holds each episode's return and "
        "length; the play command under Usage replays the same episodes.",
        "",
    ]
    if facts.replay is not None:
        url = f"{huggingface_hub.constants.ENDPOINT}/{facts.repo_id}/resolve/main/{REPLAY_FILE}"
        episode = facts.replay.source
        episode += "" if facts.replay.seed is None else f", seed {facts.replay.seed}"
        episode += "" if facts.replay.episode_return is None else f", return {facts.replay.episode_return:.2f}"
        lines += ["## Replay", "", f'<video src="{url}" controls autoplay loop muted></video>', ""]
        lines += [f"[{REPLAY_FILE}]({REPLAY_FILE}): {episode}.", ""]
    lines += ["## Learning curve", "", f"![learning curve]({CURVE_FILE})", ""]
    lines += [
        "Returns against environment steps. `metrics.csv` holds every metric of every update, `episodes.jsonl` "
        "every evaluation episode of training, and `report.md` is the run's training report.",
        "",
    ]
    lines += ["## Hyperparameters", "", *config_section(config.to_dict()), ""]
    lines += ["The full config is `config.json` (`python train.py --list-fields` explains every field).", ""]
    lines += ["## Usage", "", "```bash", *_commands(facts), "```", ""]
    lines += [
        "From Python (in a gymnasium-solver checkout), the downloaded folder is a checkpoint directory: every "
        "file's sha256 is checked against `manifest.json` before anything loads, and nothing is unpickled.",
        "",
        "```python",
        "from pathlib import Path",
        "",
        "from huggingface_hub import snapshot_download",
        "",
        "from agents.loading import load_checkpoint_policy",
        "",
        f'trained = load_checkpoint_policy(Path(snapshot_download("{facts.repo_id}")))',
        "```",
        "",
    ]
    lines += ["## Files", "", *markdown_table(("file", "holds"), [(f"`{n}`", what) for n, what in facts.files]), ""]
    return "\n".join(lines)


def _introduction(facts: CardFacts, algo: str) -> str:
    config, checkpoint, spec = facts.config, facts.checkpoint, facts.spec
    aliases = " and ".join(f"`{alias}`" for alias in checkpoint.aliases)
    which = f" (the run's {aliases} checkpoint)" if aliases else ""
    trained_with = f"config `{config.config_id}`, seed {config.seed}" if config.config_id else f"seed {config.seed}"
    normalization = spec.get("normalization")
    observations = "normalized observations" if normalization else "raw observations"
    return (
        f"A {algo} agent for the Gymnasium environment `{config.env_id}`, trained with gymnasium-solver for "
        f"{checkpoint.timesteps:,} environment steps ({trained_with}; the run ended: {facts.status}). This repo "
        f"holds checkpoint `{checkpoint.name}`{which}: {_network(spec)} on {observations} "
        f"{_space(spec.get('observation_space', {}))}, acting in {_space(spec.get('action_space', {}))}. "
        "The weights are safetensors; nothing here is a pickle."
    )


def _network(spec: dict[str, Any]) -> str:
    network = spec.get("network", {})
    kind = "actor-critic" if network.get("critic") else "policy network"
    if network.get("body") == "cnn":
        return f"a Nature-CNN {kind} ({network.get('activation', 'relu')})"
    dims = "×".join(str(d) for d in network.get("hidden_dims", []))
    return f"an MLP {kind} ({dims or 'no hidden layers'}, {network.get('activation', '?')})"


def _space(space: dict[str, Any]) -> str:
    kind = space.get("type", "?")
    if kind == "Box":
        return f"Box{tuple(space.get('shape', ()))} {space.get('dtype', '')}".rstrip()
    if kind == "MultiDiscrete":
        return f"MultiDiscrete({space.get('nvec')})"
    return f"{kind}({space.get('n', '')})"


def _result_rows(facts: CardFacts) -> list[tuple[str, str]]:
    results = facts.results
    seeds = results.eval_seeds
    mode = "deterministic (most likely action)" if results.is_deterministic else "stochastic (sampled actions)"
    rows = [
        ("mean reward", f"**{results.leaderboard_value}**"),
        ("episodes", f"{len(seeds)}, {mode}"),
        ("return min / max", f"{min(results.episode_returns):.2f} / {max(results.episode_returns):.2f}"),
        ("mean episode length", f"{sum(results.episode_lengths) / len(seeds):.1f}"),
        ("seeds", f"{seeds[0]} to {seeds[-1]} (episode k: seed {seeds[0]} + k)"),
        ("evaluated", results.eval_datetime),
    ]
    if facts.checkpoint.eval_return is not None:
        rows.append(("training's evaluation of this checkpoint", f"{facts.checkpoint.eval_return:.2f}"))
    return rows


def _commands(facts: CardFacts) -> list[str]:
    results = facts.results
    mode = "--deterministic" if results.is_deterministic else "--stochastic"
    lines = [
        "# play the published episodes (downloaded into the Hugging Face cache; --record out.mp4 films them)",
        f"python run_play.py --hub {facts.repo_id} --episodes {len(results.eval_seeds)} "
        f"--seed {results.eval_seeds[0]} {mode}",
    ]
    command = train_command(facts.config)
    if command is None:
        lines += ["# training: this config was not loaded from a config file; config.json holds all of it"]
    else:
        lines += ["# train it again (the same config: variant, seed and every changed field)", command]
    return lines


def train_command(config: Config) -> str | None:
    """The ``train.py`` command whose config equals ``config`` (its variant plus the fields that differ).

    None when the config did not come from a config file, or when its file no longer rebuilds it.
    """
    if not config.config_id:
        return None
    env, variant = split_config_id(config.config_id)
    try:
        base = load_config(env, variant).to_dict()
    except (ConfigError, FileNotFoundError):
        return None
    wanted = config.to_dict()
    changed = {key: value for key, value in wanted.items() if base.get(key) != value}
    flags = [f"--seed {config.seed}", f"--max-timesteps {config.max_timesteps}"]
    sets = [f"--set {shlex.quote(f'{key}={_yaml_value(value)}')}" for key, value in changed.items()
            if key not in ("seed", "max_timesteps")]  # fmt: skip
    try:
        rebuilt = load_config(env, variant, changed).to_dict()
    except ConfigError:
        return None
    if rebuilt != wanted:
        return None
    return " ".join(["python train.py", config.config_id, *flags, *sets])


def _yaml_value(value: Any) -> str:
    """``value`` as ``--set`` reads it back (YAML): plain when it reads back as itself, else JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    if isinstance(value, str) and value and yaml.safe_load(value) == value:
        return value
    return json.dumps(value)
