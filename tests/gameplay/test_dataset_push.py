"""--push-dataset against a fake Hub client (faked where ``publishing/hub.py`` builds ``HfApi``): one commit of
Parquet files, recording.json and a dataset card; the token is never printed or written; a missing token, offline
mode and a Hub that refuses are one line; what was pushed plays back from the Hugging Face cache offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import huggingface_hub.constants
import pytest
from fake_hub import FakeHub, hub_error

import run_play
from gameplay.dataset_hub import default_dataset_name, prepare_push, push_recording
from gameplay.dataset_recorder import RECORDING_FILE, DatasetRecorder, record_episode
from gameplay.playback import open_recording, play_back
from publishing.hub import HubUnavailable

REPO = Path(__file__).resolve().parents[2]
FAKE_TOKEN = "hf_DatasetPushFakeToken0123456789abcdefXYZ"


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    """Two seeded CartPole episodes of random actions, saved."""
    env = gym.make("CartPole-v1", render_mode="rgb_array")
    recorder = DatasetRecorder("CartPole-v1", 50, {"kind": "random", "actions": "uniform"})
    for seed in (1, 2):
        record_episode(env, recorder, lambda obs, info: env.action_space.sample(), seed)
    return recorder.save(tmp_path / "recording")


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeHub:
    """The fake, handed out wherever publishing/hub.py makes an ``HfApi``; a fake token, no stored login."""
    fake = FakeHub()
    monkeypatch.setattr("publishing.hub.HfApi", lambda token: fake)
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    monkeypatch.setattr(huggingface_hub.constants, "HF_TOKEN_PATH", str(tmp_path / "no-stored-token"))
    return fake


def test_the_default_name_is_gymnasium_recording_and_the_env_id() -> None:
    assert default_dataset_name("CartPole-v1") == "GymnasiumRecording__CartPole-v1"
    assert default_dataset_name("ALE/Pong-v5") == "GymnasiumRecording__ALE-Pong-v5"


def test_a_push_commits_parquet_files_recording_json_and_a_card_once(hub: FakeHub, recording: Path) -> None:
    lines: list[str] = []
    push = prepare_push(None, "CartPole-v1", log=lines.append)
    url = push_recording(push, recording, log=lines.append)
    assert url == "https://huggingface.co/datasets/alice/GymnasiumRecording__CartPole-v1"
    assert hub.repo_types == {"alice/GymnasiumRecording__CartPole-v1": "dataset"}
    assert hub.calls == ["whoami", "create_repo", "create_commit"] and len(hub.commits) == 1
    files = hub.commits[0]["files"]
    assert sorted(files) == ["README.md", "data/train-00000-of-00001.parquet", RECORDING_FILE]
    assert files[RECORDING_FILE] == (recording / RECORDING_FILE).read_bytes()
    metadata = json.loads(files[RECORDING_FILE])

    card = files["README.md"].decode()
    front, body = card.split("---\n", 2)[1:]
    assert "task_categories:\n- reinforcement-learning" in front and "path: data/*.parquet" in front
    steps = metadata["steps"]
    for fact in ("| env | `CartPole-v1`", "| episodes | 2 |", f"| steps | {steps} |",
                 f"| total reward | {metadata['total_reward']:.2f}", "| fps | 50 |", "## How it was recorded",
                 "python run_play.py --playback alice/GymnasiumRecording__CartPole-v1",
                 'load_dataset("alice/GymnasiumRecording__CartPole-v1", split="train")'):  # fmt: skip
        assert fact in body, fact
    assert "| 0 | 1 |" in body and "| 1 | 2 |" in body  # episodes with their seeds
    assert any("uploading 3 files" in line for line in lines)


def test_what_was_pushed_plays_back_from_the_hub_cache_offline(
    hub: FakeHub, recording: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    push_recording(prepare_push("me-recordings", "CartPole-v1"), recording)
    assert hub.commits[0]["repo_id"] == "alice/me-recordings"  # NAME alone goes under the user
    hub.write_cache(tmp_path / "hub-cache")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    lines: list[str] = []
    with open_recording("alice/me-recordings") as opened:
        checks = play_back(opened, lines.append)
        assert opened.where.startswith("alice/me-recordings (commit ")
    assert [check.deterministic for check in checks] == [True, True], lines


def test_the_cli_records_pushes_and_never_prints_or_writes_the_token(
    hub: FakeHub, tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cli-recording"
    args = ["CartPole-v1:ppo", "--random", "--episodes", "1", "--headless", "--record-dataset", str(out),
            "--push-dataset", "alice/cartpole-play"]  # fmt: skip
    assert run_play.main(args) == 0
    printed = capsys.readouterr()
    assert "pushed: https://huggingface.co/datasets/alice/cartpole-play" in printed.out
    assert hub.commits[0]["repo_id"] == "alice/cartpole-play"
    assert FAKE_TOKEN not in printed.out + printed.err
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert written and not any(FAKE_TOKEN.encode() in path.read_bytes() for path in written)
    assert not any(FAKE_TOKEN.encode() in data for data in hub.commits[0]["files"].values())


@pytest.mark.parametrize(
    "setup, expected",
    [
        ("offline", "HF_HUB_OFFLINE is set, so nothing can be uploaded; unset it, or drop --push-dataset"),
        ("no token", "not logged in to the Hugging Face Hub; log in with `hf auth login`"),
    ],
)
def test_offline_or_without_a_token_the_cli_stops_in_one_line_before_playing(
    hub: FakeHub,
    tmp_path: Path,
    runs_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    setup: str,
    expected: str,
) -> None:
    if setup == "offline":
        monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    else:
        monkeypatch.delenv("HF_TOKEN")
    args = ["CartPole-v1:ppo", "--random", "--episodes", "1", "--headless", "--push-dataset"]
    assert run_play.main(args) == 2
    printed = capsys.readouterr()
    assert printed.err.startswith(f"error: {expected}") and printed.err.count("\n") == 1
    assert "episode" not in printed.out and not hub.commits and not (runs_dir / "datasets").exists()


def test_a_refusing_hub_is_one_line_naming_the_flag_and_the_recording_is_kept(
    hub: FakeHub, tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hub.failures["create_commit"] = [hub_error(403)]
    out = tmp_path / "kept"
    args = ["CartPole-v1:ppo", "--random", "--episodes", "1", "--headless", "--record-dataset", str(out),
            "--push-dataset", "bob/not-mine"]  # fmt: skip
    assert run_play.main(args) == 2
    printed = capsys.readouterr()
    assert printed.err.count("\n") == 1 and "--push-dataset YOURNAME/NAME" in printed.err
    assert f"the recording is saved in {out}" in printed.err and (out / RECORDING_FILE).is_file()


def test_private_creates_the_dataset_repo_private(hub: FakeHub, tmp_path: Path, runs_dir: Path) -> None:
    args = ["CartPole-v1:ppo", "--random", "--episodes", "1", "--headless", "--push-dataset", "alice/secret-play",
            "--private"]  # fmt: skip
    assert run_play.main(args) == 0
    assert hub.repos == {"alice/secret-play": True} and hub.repo_types == {"alice/secret-play": "dataset"}
    push_recording(prepare_push("public-play", "CartPole-v1"), next((runs_dir / "datasets").iterdir()))
    assert hub.repos["alice/public-play"] is False  # without --private: public


def test_private_without_push_dataset_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_play.main(["CartPole-v1:ppo", "--random", "--private"]) == 2
    assert capsys.readouterr().err.startswith("error: --private goes with --push-dataset")


def test_push_recording_pushes_a_saved_recording_without_playing(
    hub: FakeHub, recording: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_play.main(["--push-recording", str(recording), "--push-dataset", "later", "--private"]) == 0
    (commit,) = hub.commits
    assert commit["repo_id"] == "alice/later" and hub.repos == {"alice/later": True}
    assert RECORDING_FILE in commit["files"] and any(name.endswith(".parquet") for name in commit["files"])
    printed = capsys.readouterr().out
    assert "episode" not in printed and "pushed: https://huggingface.co/datasets/alice/later" in printed
    assert run_play.main(["--push-recording", str(recording)]) == 0  # the default name, as --push-dataset's
    assert hub.commits[-1]["repo_id"] == "alice/GymnasiumRecording__CartPole-v1"


@pytest.mark.parametrize(
    "extra, expected",
    [
        (["CartPole-v1:ppo"], "--push-recording pushes a saved recording and plays nothing; drop ENV_OR_CONFIG"),
        (["--episodes", "3"], "--push-recording pushes a saved recording and plays nothing; drop --episodes"),
    ],
)
def test_push_recording_refuses_play_options(
    hub: FakeHub, recording: Path, capsys: pytest.CaptureFixture[str], extra: list[str], expected: str
) -> None:
    assert run_play.main(["--push-recording", str(recording), *extra]) == 2
    assert capsys.readouterr().err == f"error: {expected}\n" and not hub.calls


def test_push_recording_of_a_folder_without_a_recording_is_one_line(
    hub: FakeHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_play.main(["--push-recording", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {tmp_path} has no {RECORDING_FILE}") and err.count("\n") == 1 and not hub.calls


def test_a_hub_that_keeps_failing_stops_after_the_retries_with_nothing_committed(hub: FakeHub, recording: Path) -> None:
    hub.failures["create_commit"] = [hub_error(503) for _ in range(5)]
    sleeps: list[float] = []
    push = prepare_push(None, "CartPole-v1")
    with pytest.raises(HubUnavailable, match="nothing was committed"):
        push_recording(push, recording, log=lambda line: None, sleep=sleeps.append)
    assert sleeps == [2.0, 4.0, 8.0, 16.0] and not hub.commits


def test_a_bad_name_fails_before_anything_loads(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_play.main(["CartPole-v1:ppo", "--random", "--push-dataset", "a--b"]) == 2
    assert capsys.readouterr().err.startswith(
        "error: --push-dataset: 'a--b' is not a Hub dataset name; write USER/NAME"
    )


@pytest.mark.e2e
def test_without_a_login_the_cli_process_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("HF_")}
    env.update(HF_HOME=str(tmp_path / "hf_home"), GYMSOLVER_RUNS_DIR=str(tmp_path / "runs"), SDL_VIDEODRIVER="dummy")
    args = ["run_play.py", "CartPole-v1:ppo", "--random", "--episodes", "1", "--headless", "--push-dataset"]
    result = subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.splitlines() == [
        "error: not logged in to the Hugging Face Hub; log in with `hf auth login`, or set HF_TOKEN to a token "
        "with write access"
    ]
