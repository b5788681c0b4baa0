"""Async training envs under the ``spawn`` start method: workers rebuild the wrapped env from picklable factories."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from cli_runner import last_run, run_cli

from utils.config import load_config
from utils.envs import build_env

SPAWN = {"vectorization_mode": "async", "async_context": "spawn"}


def test_spawned_workers_step_the_wrapped_env_exactly_as_a_sync_env_does() -> None:
    config = load_config("CartPole-v1", "ppo_rewardshaped", {**SPAWN, "n_envs": 2, "batch_size": 1.0})
    spawned = build_env(config)
    plain = build_env(config.replace(vectorization_mode="sync"))
    try:
        assert {type(process).__name__ for process in spawned.processes} == {"SpawnProcess"}
        obs, _ = spawned.reset(seed=5)
        expected_obs, _ = plain.reset(seed=5)
        np.testing.assert_array_equal(obs, expected_obs)
        ended = np.zeros(2, dtype=bool)
        for step in range(20):  # both episodes end (fixed actions) and autoreset within these steps
            actions = np.array([0, 1])
            obs, rewards, terminated, truncated, info = spawned.step(actions)
            expected = plain.step(actions)
            np.testing.assert_array_equal(obs, expected[0])
            np.testing.assert_array_equal(rewards, expected[1])
            np.testing.assert_array_equal(terminated, expected[2])
            np.testing.assert_array_equal(truncated, expected[3])
            ended |= terminated | truncated
            if step == 0:
                assert info["shaping_reward"].all()  # the reward shaper runs in the spawned workers
        assert ended.all()
    finally:
        spawned.close()
        plain.close()


@pytest.mark.slow
@pytest.mark.e2e
def test_train_evaluate_and_play_a_wrapped_env_with_spawned_async_workers(runs_dir: Path) -> None:
    trained = run_cli(["train.py", "CartPole-v1:ppo_rewardshaped", "-q", "--video", "off", "--max-timesteps", "2048",
                       "--set", "vectorization_mode=async", "--set", "async_context=spawn"], runs_dir)  # fmt: skip
    assert trained.returncode == 0, trained.stderr[-2000:]
    run = last_run(runs_dir)
    config = json.loads((run / "config.json").read_text())
    assert (config["vectorization_mode"], config["async_context"]) == ("async", "spawn")
    assert (run / "metrics.csv").read_text().count("\n") > 1  # training and evaluation wrote rows
    played = run_cli(["run_play.py", "--run-id", "@last", "--episodes", "2", "--headless"], runs_dir)
    assert played.returncode == 0, played.stderr[-2000:]
    assert len(re.findall(r"^episode \d/2 ", played.stdout, re.MULTILINE)) == 2
    assert "summary: 2 episodes" in played.stdout
