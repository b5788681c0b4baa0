"""What a short real training run leaves behind: normalization stats, honest returns, schedules, report."""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from agents.loading import load_trained_policy
from training.launch import train
from utils.checkpoints import read_checkpoint, resolve_checkpoint
from utils.config import Config, load_config


def rows(run_path: Path) -> list[dict[str, str]]:
    with (run_path / "metrics.csv").open() as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_normalization_statistics_are_saved_and_restored_for_play(runs_dir: Path) -> None:
    config = load_config(
        "CartPole-v1", "ppo", {"max_timesteps": 4096, "normalize_obs": "rolling", "normalize_reward": True}
    )
    result = train(config, quiet=True)
    data = read_checkpoint(resolve_checkpoint(result.run.checkpoints, "last"))
    assert data.arrays["obs_norm.count"] > 4000  # every collected observation was counted
    assert np.any(data.arrays["obs_norm.mean"] != 0.0) and np.any(data.arrays["obs_norm.var"] != 1.0)
    assert data.arrays["reward_norm.var"] > 0
    trained = load_trained_policy(result.run, "last")
    np.testing.assert_array_equal(trained.obs_normalizer.rms.mean, data.arrays["obs_norm.mean"])
    obs = np.array([[0.1, 0.2, 0.03, -0.1]], dtype=np.float32)
    assert not np.allclose(trained.obs_normalizer(obs), obs)


@pytest.mark.slow
def test_episode_returns_report_env_reward_while_shaping_is_active(runs_dir: Path) -> None:
    result = train(load_config("CartPole-v1", "ppo_rewardshaped", {"max_timesteps": 4096}), quiet=True)
    final = rows(result.run.path)[-1]
    env_return, length = float(final["train/roll/ep_rew/mean"]), float(final["train/roll/ep_len/mean"])
    assert env_return == pytest.approx(length)  # CartPole pays exactly 1 per step
    assert float(final["train/roll/ep_rew_shaped/mean"]) != pytest.approx(env_return)


def test_scheduled_learning_rate_is_logged_and_decays(runs_dir: Path) -> None:
    result = train(load_config("CartPole-v1", "ppo_zoo", {"max_timesteps": 4096, "eval_freq": 0}), quiet=True)
    learning_rates = [float(r["train/policy_lr"]) for r in rows(result.run.path)]
    assert learning_rates[0] == pytest.approx(1e-3)
    assert all(a > b for a, b in itertools.pairwise(learning_rates))
    assert learning_rates[-1] == pytest.approx(1e-3 * (1 - 3840 / 4096))


def test_config_json_round_trips_to_an_equal_config(runs_dir: Path) -> None:
    result = train(load_config("CartPole-v1", "ppo", {"max_timesteps": 1024}), quiet=True)
    saved = json.loads((result.run.path / "config.json").read_text())
    assert saved.pop("format_version") == 1
    assert Config.from_dict(saved).to_dict() == saved
    assert saved["policy_lr"] == {"start": 0.001, "end": 0.0, "from": 0.0, "to": 1.0, "schedule": "linear"}


def test_target_kl_ends_the_update_early(runs_dir: Path) -> None:
    overrides = {"max_timesteps": 4096, "target_kl": 1e-6, "policy_lr": 1e-3}
    result = train(load_config("CartPole-v1", "ppo_zoo", overrides), quiet=True)
    epochs = [float(r["train/opt/epochs"]) for r in rows(result.run.path)]
    # One minibatch per epoch here: the first sees KL 0 (nothing changed yet), the second exceeds 1e-6 and
    # ends this update instead of running all 20 epochs; every later update starts again.
    assert len(epochs) == 16 and all(1.0 <= e <= 2.0 for e in epochs)


@pytest.mark.slow
def test_a_checkpoint_is_written_only_after_its_metrics_and_episode_rows(
    runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So a kill between the two never leaves a checkpoint whose rows are missing (resume trims extra rows)."""
    import trainer_callbacks.checkpointing as checkpointing

    seen: list[tuple[int, int, int, int]] = []
    original = checkpointing.write_checkpoint

    def recording_write(directory: Path, name: str, *args, **kwargs) -> Path:
        run = directory.parent
        logged = [int(float(row["train/cnt/epoch"])) for row in rows(run)] if (run / "metrics.csv").exists() else []
        evals = []
        if (run / "episodes.jsonl").exists():
            evals = [json.loads(line)["timesteps"] for line in (run / "episodes.jsonl").read_text().splitlines()]
        state = args[3]
        seen.append((state["updates"], max(logged, default=0), state["evaluation"]["last_eval_timesteps"],
                     max(evals, default=-1)))  # fmt: skip
        return original(directory, name, *args, **kwargs)

    monkeypatch.setattr(checkpointing, "write_checkpoint", recording_write)
    settings = {"max_timesteps": 3072, "eval_freq": 512, "checkpoint_freq": 1024, "video": "off", "early_stop": False}
    train(load_config("CartPole-v1", "ppo", settings), quiet=True)
    assert len(seen) >= 4
    for updates, logged_epoch, last_eval, logged_eval in seen:
        assert logged_epoch == updates  # this epoch's metrics row is already in metrics.csv
        assert logged_eval == last_eval  # and the rows of the evaluation the checkpoint has counted


def test_the_session_log_is_closed_when_train_returns_and_can_be_switched_off(
    runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import logging

    config = load_config("CartPole-v1", "ppo", {"max_timesteps": 256, "video": "off"})
    result = train(config, quiet=True)
    assert (result.run.path / "logs" / "train.log").read_text()
    assert logging.getLogger(f"gymnasium_solver.run.{result.run.run_id}").handlers == []  # no leaked descriptor
    monkeypatch.setenv("GYMSOLVER_DISABLE_SESSION_LOGS", "1")
    quiet = train(config, quiet=True)
    assert not (quiet.run.path / "logs" / "train.log").exists()


def test_envs_are_closed_when_setup_fails_after_building_them(runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import training.launch as training

    built, closed = [], []

    def recording_build_env(*args, **kwargs):
        env = original(*args, **kwargs)
        close = env.close
        env.close = lambda: (closed.append(env), close())[1]  # native vector envs keep no closed flag
        built.append(env)
        return env

    def failing_agent_class(name):
        raise RuntimeError("agent construction failed")

    original = training.build_env
    monkeypatch.setattr(training, "build_env", recording_build_env)
    monkeypatch.setattr(training, "agent_class", failing_agent_class)
    with pytest.raises(RuntimeError, match="agent construction failed"):
        train(load_config("CartPole-v1", "ppo", {"max_timesteps": 256, "video": "off"}), quiet=True)
    assert len(built) == 2 and all(any(env is done for done in closed) for env in built)


def test_only_the_hyperparameters_an_algorithm_has_are_logged(runs_dir: Path) -> None:
    ppo = train(load_config("CartPole-v1", "ppo", {"max_timesteps": 256, "video": "off"}), quiet=True)
    reinforce = train(load_config("CartPole-v1", "reinforce", {"max_timesteps": 1024, "video": "off"}), quiet=True)
    assert "train/clip_range" in rows(ppo.run.path)[0]
    assert "train/clip_range" not in rows(reinforce.run.path)[0]
    assert "train/policy_lr" in rows(reinforce.run.path)[0]


def test_a_run_writes_metrics_csv_with_one_header_from_its_first_row(
    runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from utils.metrics_csv import CsvMetricsLogger

    headers: list[list[str]] = []
    rewrite = CsvMetricsLogger._rewrite_with_columns

    def recording_rewrite(self: CsvMetricsLogger, columns: list[str]) -> None:
        headers.append(list(columns))
        rewrite(self, columns)

    monkeypatch.setattr(CsvMetricsLogger, "_rewrite_with_columns", recording_rewrite)
    # the first rows have no finished episode and no evaluation yet; the eval comes at 1024 steps
    # with video on, recording costs arrive whenever a video finishes: their columns are declared too
    overrides = {"max_timesteps": 2048, "eval_freq": 1024, "video": "best", "max_episode_steps": 400}
    result = train(load_config("CartPole-v1", "ppo", overrides), quiet=True)
    assert len(headers) == 1  # written once, with the first row
    with (result.run.path / "metrics.csv").open() as handle:
        header = next(csv.reader(handle))
    assert header == headers[0]
    assert {"val/roll/ep_rew/mean", "val/cnt/evals", "train/roll/ep_rew/mean", "val/video/encode_s"} <= set(header)
    first = rows(result.run.path)[0]
    assert first["val/roll/ep_rew/mean"] == ""  # declared before any evaluation ran
