"""Publish, then load back without network: ``run_play.py --hub`` with ``HF_HUB_OFFLINE=1`` plays a model laid
out as the Hugging Face cache and reports the published returns; a tampered file is refused."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from publish_cli import REPO_ID, cli_env, run_cli

from publishing.replay import browser_playable
from utils.run_reader import list_checkpoints, open_run

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def cache_snapshot(cache: Path, repo_id: str, commit: str = COMMIT) -> Path:
    """``models--USER--NAME/refs/main`` naming ``commit``; returns ``snapshots/<commit>`` (not created)."""
    user, name = repo_id.split("/")
    repo = cache / f"models--{user}--{name}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    return repo / "snapshots" / commit


@pytest.fixture(scope="module")
def hub_cache(trained_run: Path) -> Path:
    """The run's first checkpoint (no eval video: the replay is recorded) published into an HF cache."""
    cache = trained_run.parents[1] / "hf_cache"
    first = list_checkpoints(open_run(trained_run))[0]
    assert first.epoch == 1 and first.eval_return is None
    snapshot = cache_snapshot(cache, REPO_ID)
    args = ["run_publish.py", "--run-id", trained_run.name, "--repo", REPO_ID, "--checkpoint", str(first.epoch),
            "--eval-episodes", "3", "--dry-run", str(snapshot)]  # fmt: skip
    published = run_cli(args, cli_env(trained_run.parent, trained_run.parents[1] / "hf_home"))
    assert published.returncode == 0, published.stderr[-2000:]
    assert f"recording replay.mp4: seed {json.loads((snapshot / 'results.json').read_text())['eval_seeds'][0]}" in (
        published.stdout
    )
    return cache


def play_offline(trained_run: Path, cache: Path, *args: str) -> tuple[int, str, str]:
    env = cli_env(trained_run.parent, trained_run.parents[1] / "hf_home", HF_HUB_OFFLINE="1", HF_HUB_CACHE=str(cache))
    played = run_cli(["run_play.py", *args], env, timeout=300)
    return played.returncode, played.stdout, played.stderr


def test_offline_run_play_hub_plays_the_published_episodes(trained_run: Path, hub_cache: Path) -> None:
    results = json.loads((hub_cache / f"models--alice--ppo-CartPole-v1/snapshots/{COMMIT}/results.json").read_text())
    code, stdout, stderr = play_offline(trained_run, hub_cache, "--hub", REPO_ID, "--episodes", "3", "--headless")
    assert code == 0, stderr
    assert f"model {REPO_ID} (main, commit {COMMIT[:8]})" in stdout
    played = [(int(seed), float(ret)) for seed, ret in re.findall(r"seed (\d+)  return ([-\d.]+)", stdout)]
    assert played == list(zip(results["eval_seeds"], results["episode_returns"], strict=True))
    assert f"return mean {results['mean_reward']:.2f} ± {results['std_reward']:.2f}" in stdout


def test_the_recorded_replay_decodes_as_h264(hub_cache: Path) -> None:
    assert browser_playable(hub_cache / f"models--alice--ppo-CartPole-v1/snapshots/{COMMIT}/replay.mp4")


def test_a_tampered_weights_file_is_refused_with_one_line(trained_run: Path, hub_cache: Path) -> None:
    snapshot = cache_snapshot(hub_cache, "mallory/ppo-CartPole-v1")
    shutil.copytree(hub_cache / f"models--alice--ppo-CartPole-v1/snapshots/{COMMIT}", snapshot)
    weights = bytearray((snapshot / "policy.safetensors").read_bytes())
    weights[-1] ^= 0xFF
    (snapshot / "policy.safetensors").write_bytes(bytes(weights))
    code, stdout, stderr = play_offline(trained_run, hub_cache, "--hub", "mallory/ppo-CartPole-v1", "--headless")
    assert code == 2
    assert stderr.strip().splitlines() == [
        f"error: mallory/ppo-CartPole-v1 (main, commit {COMMIT[:8]}): policy.safetensors does not match its "
        "checksum (altered or damaged); nothing was loaded"
    ]
    assert "episode" not in stdout
