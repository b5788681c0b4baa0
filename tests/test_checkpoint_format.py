"""Checkpoint format 1: policy.json describes the policy, inference files apart from resume files; format 0 still loads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from gymnasium import spaces

import utils.envs
from agents.loading import load_trained_policy
from utils.checkpoints import read_checkpoint, resolve_checkpoint
from utils.config import Config, load_config
from utils.evaluation import evaluate_policy
from utils.policy_spec import space_from_json, space_to_json
from utils.runs import RunDir

FORMAT0_RUN = Path(__file__).parent / "fixtures" / "runs_format0" / "20261130-023502-f5e2"


@pytest.mark.parametrize(
    "space",
    [
        spaces.Box(-np.inf, np.inf, shape=(4,), dtype=np.float32),
        spaces.Box(np.array([-1.0, -2.0, 0.0]), np.array([1.0, 2.0, np.inf]), dtype=np.float32),
        spaces.Box(0, 255, shape=(4, 84, 84), dtype=np.uint8),
        spaces.Discrete(6),
        spaces.Discrete(3, start=-1),
        spaces.MultiDiscrete([3, 2, 5]),
        spaces.MultiBinary(12),
    ],
)
def test_spaces_survive_a_json_round_trip(space: spaces.Space) -> None:
    text = json.dumps(space_to_json(space), allow_nan=False)  # strict JSON: infinities are strings
    assert space_from_json(json.loads(text)) == space


def test_a_big_uniform_box_is_stored_as_one_number_per_bound() -> None:
    described = space_to_json(spaces.Box(0, 255, shape=(4, 84, 84), dtype=np.uint8))
    assert described["low"] == 0.0 and described["high"] == 255.0


def _train_tiny(runs: Path, monkeypatch: pytest.MonkeyPatch) -> RunDir:
    from training.launch import train

    monkeypatch.setenv("GYMSOLVER_RUNS_DIR", str(runs))
    config = load_config("CartPole-v1", "ppo", {"max_timesteps": 512, "video": "off", "eval_freq": 256})
    return train(config, quiet=True).run


@pytest.mark.slow
def test_a_checkpoint_keeps_inference_files_apart_and_describes_its_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _train_tiny(tmp_path, monkeypatch)
    last = resolve_checkpoint(run.checkpoints, "last")
    names = {p.name for p in last.iterdir()}
    assert names == {
        "policy.safetensors", "policy.json", "normalization.npz", "config.json",
        "optimizer.pt", "resume.npz", "state.json", "manifest.json",
    }  # fmt: skip
    spec = json.loads((last / "policy.json").read_text())
    assert spec["format_version"] == 1
    assert spec["env_id"] == "CartPole-v1" and spec["algo_id"] == "ppo"
    assert spec["observation_space"]["type"] == "Box" and spec["observation_space"]["shape"] == [4]
    assert spec["action_space"] == {"type": "Discrete", "n": 2, "start": 0}
    assert spec["network"]["hidden_dims"] == [64, 64] and spec["network"]["critic"] is True
    with np.load(last / "normalization.npz", allow_pickle=False) as npz:
        assert not any(key.startswith(("envstate.", "torch_rng")) for key in npz.files)
    with np.load(last / "resume.npz", allow_pickle=False) as npz:
        assert "torch_rng" in npz.files
    assert json.loads((last / "config.json").read_text())["format_version"] == 1

    # a player builds the network from policy.json: no env is built to learn the spaces
    def no_env(*args: object, **kwargs: object) -> None:
        raise AssertionError("the env was built to load a format 1 checkpoint")

    monkeypatch.setattr(utils.envs, "build_env", no_env)
    trained = load_trained_policy(run, "last")
    assert trained.checkpoint == last.name


def test_a_run_written_before_format_1_still_plays_and_resumes_from_its_checkpoints(tmp_path: Path) -> None:
    copy = tmp_path / FORMAT0_RUN.name
    shutil.copytree(FORMAT0_RUN, copy, symlinks=True)
    run = RunDir(copy)
    assert "format_version" not in json.loads(run.config_path.read_text())
    assert Config.from_dict(run.read_config()).env_id == "CartPole-v1"
    trained = load_trained_policy(run, "best")
    assert trained.checkpoint == "epoch=0004-step=0000512"
    env = utils.envs.build_env(trained.config, "eval", n_envs=1)
    try:
        result = evaluate_policy(trained.policy, env, trained.obs_normalizer, [4000012], True)
    finally:
        env.close()
    recorded = json.loads((copy / "episodes.jsonl").read_text().splitlines()[0])
    assert recorded["seed"] == 4000012
    assert result.returns[0] == recorded["return"]  # the same episode the old run recorded
    data = read_checkpoint(resolve_checkpoint(run.checkpoints, "last"), with_optimizer=True)
    assert data.format_version == 0
    assert data.optimizer is not None and "torch_rng" in data.arrays and data.state["timesteps"] == 1024
