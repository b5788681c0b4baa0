"""The model card: front matter the Hub's RL leaderboards read, and commands that reproduce the run exactly."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

import train
from publishing.card import CardFacts, model_card, train_command
from publishing.replay import Replay
from publishing.results import PublishedResults
from utils.config import Config, load_config
from utils.config_files import split_config_id
from utils.run_reader import CheckpointInfo

SPEC = {
    "observation_space": {"type": "Box", "shape": [4], "dtype": "float32"},
    "action_space": {"type": "Discrete", "n": 2, "start": 0},
    "network": {"body": "mlp", "hidden_dims": [64, 64], "activation": "tanh", "critic": True},
    "normalization": False,
}


def results() -> PublishedResults:
    return PublishedResults(
        env_id="CartPole-v1",
        episode_returns=[500.0, 480.5, 431.0],
        episode_lengths=[500, 481, 431],
        eval_seeds=[2000016, 2000017, 2000018],
        is_deterministic=True,
        eval_datetime="2026-11-30T03:05:07+00:00",
    )


def card(config: Config, replay: Replay | None = None) -> str:
    checkpoint = CheckpointInfo("epoch=0032-step=0004096", Path("x"), 32, 4096, ("best",), 497.25)
    facts = CardFacts("alice/ppo-CartPole-v1", config, SPEC, checkpoint, "solved", results(), replay,
                      [("README.md", "the card"), ("replay.mp4", "a video")])  # fmt: skip
    return model_card(facts)


def front_matter(text: str) -> dict:
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def test_front_matter_has_the_library_tags_and_the_leaderboard_entry() -> None:
    meta = front_matter(card(load_config("CartPole-v1", "ppo")))
    assert meta["library_name"] == "gymnasium-solver"
    assert {"reinforcement-learning", "deep-reinforcement-learning", "CartPole-v1", "ppo"} <= set(meta["tags"])
    (entry,) = meta["model-index"]
    (result,) = entry["results"]
    assert result["task"]["type"] == "reinforcement-learning"
    assert result["dataset"] == {"name": "CartPole-v1", "type": "CartPole-v1"}
    (metric,) = result["metrics"]
    assert metric["type"] == "mean_reward"
    mean, std = results().mean_reward, results().std_reward
    assert metric["value"] == f"{mean:.2f} +/- {std:.2f}" == "470.50 +/- 29.04"  # a string, as the Hub reads it


def test_body_shows_results_replay_curve_and_the_commands() -> None:
    text = card(load_config("CartPole-v1", "ppo"), Replay(2000006, 500.0, "the evaluation at step 4,096"))
    assert "# PPO agent playing CartPole-v1" in text
    assert "**470.50 +/- 29.04**" in text
    assert '<video src="https://huggingface.co/alice/ppo-CartPole-v1/resolve/main/replay.mp4"' in text
    assert "![learning curve](learning_curve.png)" in text
    assert "python run_play.py --hub alice/ppo-CartPole-v1 --episodes 3 --seed 2000016 --deterministic" in text
    assert "python train.py CartPole-v1:ppo --seed 42" in text
    assert "| `replay.mp4` | a video |" in text


def test_a_card_without_a_replay_has_no_video() -> None:
    assert "<video" not in card(load_config("CartPole-v1", "ppo"))


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"seed": 3, "max_timesteps": 4096, "eval_episodes": 5},
        {"policy_lr": {"start": 3e-4, "end": 0.0}, "hidden_dims": [32, 16], "video": "off", "eval_seed": 12345},
        {"env_wrappers": [{"id": "CartPoleV1_RewardShaper", "angle_reward_scale": 0.5, "gamma": 0.98}]},
    ],
)
def test_train_command_rebuilds_the_same_config_through_train_py(overrides: dict) -> None:
    config = load_config("CartPole-v1", "ppo", overrides)
    command = train_command(config)
    assert command is not None
    argv = shlex.split(command)
    assert argv[:3] == ["python", "train.py", "CartPole-v1:ppo"]
    args = train.build_parser().parse_args(argv[2:])
    rebuilt = load_config(*split_config_id(args.config), train.collect_overrides(args))
    assert rebuilt.to_dict() == config.to_dict()


def test_a_config_built_in_python_has_no_train_command() -> None:
    assert train_command(Config.from_dict({"env_id": "CartPole-v1"})) is None
