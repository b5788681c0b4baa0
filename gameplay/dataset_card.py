"""The dataset card (``README.md``) of a pushed recording: front matter for the Hub (task, tags, where the
Parquet files are), then the env, episodes, steps, rewards and fps, how it was recorded, the columns and
their row convention, and the commands to load it and to play it back."""

from __future__ import annotations

import json
from typing import Any

from huggingface_hub import DatasetCard, DatasetCardData

from gameplay.dataset_recorder import RECORDING_FILE
from utils.report import markdown_table

LIBRARY_NAME = "gymnasium-solver"
COLUMN_MEANINGS = (
    ("episode_id", "int64", "the episode, numbered from 0 in the order played"),
    ("timestamp", "float64", "wall-clock time (Unix seconds) when the step was recorded"),
    ("image", "Image (PNG)", "the frame shown before the action (row 0: the frame after the reset), lossless"),
    ("step", "int64", "the step within the episode, from 0"),
    ("action", "as the action space", "the action taken on that frame"),
    ("reward", "float64", "what the step returned (the env's own reward)"),
    ("terminated", "bool", "what the step returned"),
    ("truncated", "bool", "what the step returned"),
    ("seed", "int64", "the seed the episode was reset with"),
)


def dataset_card(metadata: dict[str, Any], repo_id: str, data_files: str) -> str:
    """The README.md text for the recording ``metadata`` (``recording.json``) pushed as ``repo_id``, whose
    Parquet files match ``data_files`` (e.g. ``data/*.parquet``)."""
    env_id = metadata["env_id"]
    source = metadata.get("source") or {}
    data = DatasetCardData(
        task_categories=["reinforcement-learning"],
        tags=["gymnasium", "gameplay", LIBRARY_NAME, env_id, f"played-by-{source.get('kind', 'unknown')}"],
        pretty_name=f"{env_id} gameplay",
        configs=[{"config_name": "default", "data_files": [{"split": "train", "path": data_files}]}],
    )
    card = DatasetCard(f"---\n{data.to_yaml()}\n---\n\n{_body(metadata, repo_id)}")  # parsing checks the YAML
    return str(card)


def _body(metadata: dict[str, Any], repo_id: str) -> str:
    env_id = metadata["env_id"]
    episodes = metadata.get("episodes") or []
    steps = metadata.get("steps", 0)
    total = float(metadata.get("total_reward", 0.0))
    mean = total / len(episodes) if episodes else 0.0
    lines = [f"# {env_id} gameplay", ""]
    lines += [
        f"{len(episodes)} episodes ({steps:,} steps) of the Gymnasium environment `{env_id}`, played by "
        f"{describe_source(metadata.get('source') or {})}, recorded with {LIBRARY_NAME} "
        "(`run_play.py --record-dataset`). Every frame is a lossless PNG, so the episodes can be played back and "
        "checked frame by frame.",
        "",
    ]
    summary = [
        ("env", f"`{env_id}`, {describe_env(metadata)}"),
        ("episodes", str(len(episodes))),
        ("steps", f"{steps:,}"),
        ("total reward", f"{total:.2f} (mean {mean:.2f} per episode)"),
        ("fps", f"{metadata.get('fps')}"),
        ("played by", describe_source(metadata.get("source") or {})),
        ("recorded", str(metadata.get("recorded_at", "unknown"))),
        ("versions", ", ".join(f"{name} {version}" for name, version in (metadata.get("versions") or {}).items())),
        ("git commit", f"`{metadata.get('git_commit')}`"),
    ]
    lines += ["## Summary", "", *markdown_table(("", ""), summary), ""]
    rows = [
        (str(e["episode_id"]), str(e["seed"]), str(e["steps"]), f"{e['total_reward']:.2f}", _ending(e))
        for e in episodes
    ]
    lines += ["## Episodes", "", *markdown_table(("episode", "seed", "steps", "return", "ending"), rows), ""]
    lines += ["## Columns", "", *markdown_table(("column", "type", "meaning"), COLUMN_MEANINGS), ""]
    lines += [
        f"Row convention: {metadata.get('rows')}. An episode of N steps has N rows; the frame after its last step "
        f"is not stored. `{RECORDING_FILE}` holds what is above as JSON, and how the env was built.",
        "",
    ]
    lines += ["## How it was recorded", "", _how_recorded(metadata), ""]
    lines += ["## Load", "", "```python", "from datasets import load_dataset", "",
              f'dataset = load_dataset("{repo_id}", split="train")',
              "frame = dataset[0][\"image\"]  # a PIL image", "```", ""]  # fmt: skip
    lines += [
        "## Replay",
        "",
        'In a gymnasium-solver checkout (`pip install -e ".[datasets]"`), each episode is reset with its seed, '
        "the recorded actions are fed back, and every frame is compared with the recorded one; the exit status is "
        "0 when all of them match:",
        "",
        "```bash",
        f"python run_play.py --playback {repo_id}",
        f"python run_play.py --playback {repo_id} --render     # and watch it",
        "```",
        "",
    ]
    return "\n".join(lines)


def describe_source(source: dict[str, Any]) -> str:
    """``a person at the keyboard``, ``checkpoint best of run 20250101-abc``, ... from ``recording.json``'s source."""
    kind = source.get("kind")
    if kind == "human":
        return "a person at the keyboard"
    if kind == "checkpoint":
        return f"checkpoint `{source.get('checkpoint')}` of run `{source.get('run_id')}`"
    if kind == "hub":
        return f"the model `{source.get('repo_id')}` (commit `{str(source.get('commit'))[:8]}`)"
    if kind == "random":
        return str(source.get("weights") or source.get("actions") or "random actions")
    return f"`{json.dumps(source)}`"


def describe_env(metadata: dict[str, Any]) -> str:
    """How playback builds the env again."""
    recipe = metadata.get("env") or {}
    if recipe.get("kind") == "config":
        config = recipe.get("config") or {}
        name = config.get("config_id") or config.get("env_id")
        return f"built as config `{name}` builds it for evaluation (the whole config is in `{RECORDING_FILE}`)"
    kwargs = recipe.get("kwargs") or {}
    return (
        f"made with `gymnasium.make` and {json.dumps(kwargs)}" if kwargs else "made with `gymnasium.make` as registered"
    )


def _how_recorded(metadata: dict[str, Any]) -> str:
    source = metadata.get("source") or {}
    played = describe_source(source)
    deterministic = source.get("deterministic")
    acting = "" if deterministic is None else (" (most likely actions)" if deterministic else " (sampled actions)")
    return (
        f"Played by {played}{acting} in `{metadata['env_id']}` ({describe_env(metadata)}), rendering `rgb_array` "
        f"frames at {metadata.get('fps')} fps. Each episode was reset with the seed in its rows; each step's frame "
        "(the one shown before the action) was encoded as PNG when it was taken, with the action and what the "
        "step returned."
    )


def _ending(episode: dict[str, Any]) -> str:
    if episode.get("terminated"):
        return "terminated"
    return "truncated" if episode.get("truncated") else "stopped"
