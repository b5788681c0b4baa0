"""``run_publish.py --dry-run DIR`` on a trained CartPole run: the folder that would be committed."""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from publish_cli import FAKE_TOKEN, REPO_ID, cli_env, run_cli

from agents.loading import load_checkpoint_policy
from publishing.folder import PUBLISHED_FILES
from publishing.replay import browser_playable
from utils.mp4_encoder import count_video_frames
from utils.runs import file_sha256

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
DryRun = tuple[Path, subprocess.CompletedProcess]


def test_dry_run_writes_every_published_file_and_lists_them(dry_run: DryRun) -> None:
    out, published = dry_run
    assert sorted(path.name for path in out.iterdir()) == sorted(PUBLISHED_FILES)
    assert f"dry run: nothing was uploaded; {out} holds what would be committed to {REPO_ID}:" in published.stdout
    for name in PUBLISHED_FILES:
        assert f"  {name} " in published.stdout
    assert "  episode 10/10  seed " in published.stdout  # a progress line per re-evaluation episode


def test_card_front_matter_parses_and_its_model_index_value_equals_results_json(dry_run: DryRun) -> None:
    out, _ = dry_run
    card = (out / "README.md").read_text()
    meta = yaml.safe_load(card.split("---\n")[1])
    results = json.loads((out / "results.json").read_text())
    metric = meta["model-index"][0]["results"][0]["metrics"][0]
    assert metric["type"] == "mean_reward"
    assert metric["value"] == f"{results['mean_reward']:.2f} +/- {results['std_reward']:.2f}"
    assert meta["model-index"][0]["results"][0]["dataset"]["type"] == "CartPole-v1"
    assert meta["library_name"] == "gymnasium-solver"
    assert f"python run_play.py --hub {REPO_ID} --episodes 10 --seed {results['eval_seeds'][0]}" in card
    assert "python train.py CartPole-v1:ppo --seed 1 --max-timesteps 4096 --set eval_freq=2048" in card


def test_results_json_is_a_re_evaluation_on_seeds_training_never_used(dry_run: DryRun, trained_run: Path) -> None:
    out, _ = dry_run
    results = json.loads((out / "results.json").read_text())
    assert results["n_eval_episodes"] == len(results["eval_seeds"]) == len(results["episode_returns"]) == 10
    assert results["is_deterministic"] is True
    assert results["mean_reward"] == pytest.approx(np.mean(results["episode_returns"]))
    assert results["std_reward"] == pytest.approx(np.std(results["episode_returns"]))
    assert datetime.datetime.fromisoformat(results["eval_datetime"]).tzinfo is not None
    training_seeds = {json.loads(line)["seed"] for line in (trained_run / "episodes.jsonl").read_text().splitlines()}
    assert results["eval_seeds"][0] == max(training_seeds) + 1
    assert results["eval_seeds"] == list(range(results["eval_seeds"][0], results["eval_seeds"][0] + 10))


def test_the_folder_loads_as_a_checkpoint_holding_the_checkpoint_weights(dry_run: DryRun, trained_run: Path) -> None:
    out, _ = dry_run
    published = load_checkpoint_policy(out)  # checks the manifest first
    original = load_checkpoint_policy(trained_run / "checkpoints" / "best")
    assert published.config.to_dict() == original.config.to_dict()
    for name, tensor in original.policy.state_dict().items():
        assert torch.equal(published.policy.state_dict()[name], tensor), name
    manifest = json.loads((out / "manifest.json").read_text())["files"]
    assert sorted(manifest) == sorted(set(PUBLISHED_FILES) - {"manifest.json"})
    assert all(file_sha256(out / name) == entry["sha256"] for name, entry in manifest.items())


def test_replay_is_the_checkpoints_eval_video_and_decodes_as_h264(dry_run: DryRun, trained_run: Path) -> None:
    out, _ = dry_run
    assert browser_playable(out / "replay.mp4")
    assert count_video_frames(out / "replay.mp4") > 1
    assert file_sha256(out / "replay.mp4") == file_sha256(trained_run / "checkpoints" / "best" / "video.mp4")


def test_no_written_file_or_output_holds_the_token_or_a_local_path(dry_run: DryRun, trained_run: Path) -> None:
    out, published = dry_run
    token = FAKE_TOKEN.encode()
    assert FAKE_TOKEN not in published.stdout + published.stderr
    for root in (out, trained_run):
        for path in root.rglob("*"):
            if path.is_file():
                assert token not in path.read_bytes(), path
    for path in out.iterdir():
        assert str(trained_run.parent).encode() not in path.read_bytes(), path


def test_an_existing_non_empty_dry_run_folder_is_refused_and_left_as_it_was(dry_run: DryRun, trained_run: Path) -> None:
    out, _ = dry_run
    before = {path.name: file_sha256(path) for path in out.iterdir()}
    env = cli_env(trained_run.parent, trained_run.parents[1] / "hf_home")
    again = run_cli(["run_publish.py", "--run-id", trained_run.name, "--dry-run", str(out)], env, timeout=120)
    assert again.returncode == 2
    assert again.stderr.strip().splitlines() == [
        f"error: --dry-run: {out} is a folder that exists and is not empty; give a new or empty folder"
    ]
    assert {path.name: file_sha256(path) for path in out.iterdir()} == before


def test_a_killed_run_without_a_report_gets_one_written_from_its_metrics(trained_run: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    killed = runs / trained_run.name
    shutil.copytree(trained_run, killed, symlinks=True)
    for name in ("report.md", "learning_curve.png", "summary.json"):
        (killed / name).unlink()
    out = tmp_path / "out"
    published = run_cli(["run_publish.py", "--run-id", killed.name, "--eval-episodes", "2", "--dry-run", str(out)],
                        cli_env(runs, tmp_path / "hf_home"))  # fmt: skip
    assert published.returncode == 0, published.stderr
    assert sorted(path.name for path in out.iterdir()) == sorted(PUBLISHED_FILES)
    assert "| status | interrupted |" in (out / "report.md").read_text()
    assert "the run ended: interrupted" in (out / "README.md").read_text()
    assert "note: the card names USER/ppo-CartPole-v1; give --repo YOURNAME/NAME" in published.stdout
