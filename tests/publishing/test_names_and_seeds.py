"""Repo names (default, completion, refusal) and the held-out seeds a publish evaluates on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from publishing.repo_names import check_repo_id, default_repo_name, repo_id_for
from publishing.results import held_out_seeds
from utils.config_values import ConfigError
from utils.evaluation import eval_base_seed
from utils.runs import RunDir


@pytest.mark.parametrize(
    ("algo", "env_id", "name"),
    [("ppo", "CartPole-v1", "ppo-CartPole-v1"), ("ppo", "ALE/Pong-v5", "ppo-ALE-Pong-v5"),
     ("reinforce", "gym_envs:Bandit-v0", "reinforce-gym_envs-Bandit-v0")],
)  # fmt: skip
def test_default_name_is_algo_dash_env_id_with_slashes_replaced(algo: str, env_id: str, name: str) -> None:
    assert default_repo_name(algo, env_id) == name
    assert repo_id_for(None, "alice", algo, env_id) == f"alice/{name}"


def test_repo_is_completed_with_the_user_only_when_it_has_no_namespace() -> None:
    assert repo_id_for("my-agent", "alice", "ppo", "CartPole-v1") == "alice/my-agent"
    assert repo_id_for("team/my-agent", "alice", "ppo", "CartPole-v1") == "team/my-agent"


@pytest.mark.parametrize("bad", ["a/b/c", "has space/x", "alice/x--y", "alice/-x", "alice/x.git", "", "a/" + "x" * 97])
def test_an_invalid_repo_name_is_one_line(bad: str) -> None:
    with pytest.raises(ConfigError) as raised:
        check_repo_id(bad)
    assert str(raised.value).startswith(f"--repo: {bad!r} is not a Hub model name; write USER/NAME")
    assert "\n" not in str(raised.value)


def test_seeds_follow_every_seed_training_evaluated_on(tmp_path: Path) -> None:
    rows = [{"eval": 0, "episode": k, "seed": 4000014 + k, "return": 9.0} for k in range(5)]
    rows.append({"eval": 1, "episode": 0, "seed": 4000019, "return": 10.0})
    (tmp_path / "episodes.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows) + '{"cut off')
    assert held_out_seeds(RunDir(tmp_path), seed=3, eval_seed=None, episodes=3) == [4000020, 4000021, 4000022]


def test_a_run_without_evaluations_uses_the_eval_base_seed(tmp_path: Path) -> None:
    base = eval_base_seed(3, None)
    assert held_out_seeds(RunDir(tmp_path), seed=3, eval_seed=None, episodes=2) == [base, base + 1]
    assert held_out_seeds(RunDir(tmp_path), seed=3, eval_seed=77, episodes=1) == [77]
