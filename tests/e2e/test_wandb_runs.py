"""train.py with W&B: offline runs read back from wandb's own run files, resume into one W&B run, no-credential runs.

The run files (``runs/<id>/wandb/offline-run-*/run-<id>.wandb``) are LevelDB-style logs of wandb's protobuf
records; ``wandb_records`` reads them with wandb's own message classes.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from cli_runner import REPO, cli_env, last_run, run_cli
from google.protobuf.message import DecodeError

from trainer_callbacks.wandb_logging import video_caption
from utils.wandb_dashboard import workspace_spec

BLOCK, HEADER = 32768, 7  # wandb's log format: 32 KiB blocks; a 7-byte file header, then 7-byte record headers
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4
QUICK = ["-q", "--set", "eval_freq=1024", "--set", "eval_episodes=2", "--set", "early_stop=false"]


def wandb_records(path: Path) -> list[Any]:
    """Every record of a ``.wandb`` run file, as wandb's protobuf ``Record`` messages."""
    from wandb.proto import wandb_internal_pb2

    data = path.read_bytes()
    assert data[:4] == b":W&B"
    records, pending, position = [], b"", HEADER
    while position + HEADER <= len(data):
        if BLOCK - position % BLOCK < HEADER:  # a block's tail too short for a header is padding
            position += BLOCK - position % BLOCK
            continue
        _, length, kind = struct.unpack("<IHB", data[position : position + HEADER])
        chunk = data[position + HEADER : position + HEADER + length]
        position += HEADER + length
        if kind in (FULL, FIRST):
            pending = chunk
        elif kind in (MIDDLE, LAST):
            pending += chunk
        if kind in (FULL, LAST):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            records.append(record)
    return records


def of_type(records: list[Any], kind: str) -> list[Any]:
    return [record for record in records if record.WhichOneof("record_type") == kind]


def history(records: list[Any]) -> list[dict[str, Any]]:
    """History rows as ``{key: value}``; a media value's fields as ``key/field``."""
    rows = []
    for record in of_type(records, "history"):
        rows.append(
            {item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in record.history.item}
        )
    return rows


def logged_keys(records: list[Any]) -> set[str]:
    """The keys training logged (wandb's own ``_step``, ``_runtime``, ``_timestamp`` left out)."""
    keys = set()
    for record in of_type(records, "history"):
        for item in record.history.item:
            key = item.key or item.nested_key[0]
            if not key.startswith("_"):
                keys.add(key)
    return keys


def wait_for_exit_records(run: Path, wandb_id: str, timeout: float) -> tuple[list[Path], list[Any]]:
    """The run's W&B session folders and the first one's ``exit`` records, once written (or at ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while True:
        folders = run_folders(run, wandb_id)
        exits = []
        if folders and (folders[0] / f"run-{wandb_id}.wandb").exists():
            try:
                exits = of_type(wandb_records(folders[0] / f"run-{wandb_id}.wandb"), "exit")
            except (AssertionError, DecodeError):
                exits = []  # the file is still being written (a record cut short)
        if exits or time.monotonic() > deadline:
            return folders, exits
        time.sleep(0.5)


def run_folders(run: Path, wandb_id: str) -> list[Path]:
    """The run's W&B session folders, oldest first."""
    return sorted((run / "wandb").glob(f"offline-run-*-{wandb_id}"))


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def no_credentials_env(runs_dir: Path, home: Path) -> dict[str, str]:
    drop = ("WANDB_API_KEY", "WANDB_IDENTITY_TOKEN_FILE", "WANDB_MODE", "NETRC", "WANDB_BASE_URL")
    return {key: value for key, value in cli_env(runs_dir).items() if key not in drop} | {"HOME": str(home)}


@pytest.mark.e2e
@pytest.mark.slow
def test_an_offline_run_holds_every_metrics_row_the_config_its_videos_and_models(runs_dir: Path) -> None:
    args = ["train.py", "CartPole-v1:ppo_rewardshaped", *QUICK, "--wandb", "offline", "--max-timesteps", "3072"]
    result = run_cli([*args, "--video", "every_n_evals:1"], runs_dir)
    assert result.returncode == 0, result.stderr[-2000:]
    run = last_run(runs_dir)
    config = json.loads((run / "config.json").read_text())
    wandb_id = config["wandb_id"]
    (folder,) = run_folders(run, wandb_id)
    records = wandb_records(folder / f"run-{wandb_id}.wandb")

    rows, csv_rows = history(records), read_rows(run / "metrics.csv")
    assert [row["_step"] for row in rows] == [int(row["train/cnt/epoch"]) for row in csv_rows]
    for row, csv_row in zip(rows, csv_rows, strict=True):
        assert {key: float(value) for key, value in csv_row.items() if value} == pytest.approx(
            {key: row[key] for key, value in csv_row.items() if value}
        )
    defined = {(m.metric.glob_name or m.metric.name, m.metric.step_metric) for m in of_type(records, "metric")}
    assert ("*", "train/cnt/timesteps") in defined

    (run_record,) = of_type(records, "run")
    logged_config = {item.key: json.loads(item.value_json) for item in run_record.run.config.update}
    assert logged_config["policy_lr"] == config["policy_lr"] and logged_config["policy_lr"]["end"] == 0.0
    assert logged_config["env_wrappers"] == config["env_wrappers"] and logged_config["wandb_id"] == wandb_id
    assert (run_record.run.run_id, run_record.run.display_name) == (wandb_id, run.name)

    episodes = [json.loads(line) for line in (run / "episodes.jsonl").read_text().splitlines()]
    recorded = [row for row in episodes if row.get("video_status") == "ok"]
    captions = [caption for row in rows for caption in row.get("val/videos/captions", [])]
    assert len(recorded) == 3 and sorted(captions) == sorted(video_caption(row) for row in recorded)
    # every recorded video is in W&B's media; a step whose list grew (a video finishing after that step's row) is
    # logged again with the whole list, so a file may appear twice: compare contents, not file counts
    media = {hashlib.sha256(path.read_bytes()).hexdigest() for path in (folder / "files" / "media").rglob("*.mp4")}
    assert media == {row["sha256"] for row in recorded}
    assert rows[-1]["val/episodes/nrows"] == len(episodes)

    uploaded = {file.path for record in of_type(records, "files") for file in record.files.files}
    assert {"report.md", "learning_curve.png"} <= uploaded
    models = [record.artifact for record in of_type(records, "artifact") if record.artifact.type == "model"]
    assert {alias for model in models for alias in model.aliases} >= {"best", "last"}
    assert all(model.name == f"model-{wandb_id}" for model in models)
    assert {entry.path for entry in models[0].manifest.contents} == {
        "policy.safetensors", "policy.json", "normalization.npz", "config.json"
    }  # fmt: skip
    assert of_type(records, "exit")[0].exit.exit_code == 0

    spec = workspace_spec("me", "CartPole-v1")  # every key the trainer logged has a panel
    from utils.wandb_dashboard import spec_keys

    assert logged_keys(records) <= spec_keys(spec)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["wandb_id"] == wandb_id and summary["wandb_sync"].startswith("wandb sync ")
    assert f"offline run {wandb_id}" in (run / "report.md").read_text()
    assert (run / "logs" / "wandb.log").is_file()


@pytest.mark.e2e
@pytest.mark.slow
def test_a_resume_continues_the_same_wandb_run_and_logs_each_update_once(runs_dir: Path) -> None:
    args = ["train.py", "CartPole-v1:ppo", *QUICK, "--set", "checkpoint_freq=1024", "--video", "off"]
    first = run_cli([*args, "--wandb", "offline", "--max-timesteps", "3072"], runs_dir)
    assert first.returncode == 0, first.stderr[-2000:]
    run = last_run(runs_dir)
    wandb_id = json.loads((run / "config.json").read_text())["wandb_id"]
    # As after a kill between checkpoints: updates 17-24 were logged, but the resume starts from update 16.
    checkpoints = run / "checkpoints"
    for alias in ("last", "best"):
        (checkpoints / alias).unlink()
        (checkpoints / alias).symlink_to("epoch=0016-step=0002048")
    for newer in checkpoints.glob("epoch=0024-*"):
        for file in newer.iterdir():
            file.unlink()
        newer.rmdir()

    resumed = run_cli(["train.py", "--resume", "@last", "-q", "--max-timesteps", "4096"], runs_dir)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert json.loads((run / "config.json").read_text())["wandb_id"] == wandb_id
    assert json.loads((checkpoints / "last" / "config.json").read_text())["wandb_id"] == wandb_id
    folders = run_folders(run, wandb_id)
    assert len(folders) == 2  # one per session, both of the one W&B run
    sessions = [wandb_records(folder / f"run-{wandb_id}.wandb") for folder in folders]
    assert all(of_type(records, "run")[0].run.run_id == wandb_id for records in sessions)
    steps = [[row["_step"] for row in history(records)] for records in sessions]
    assert steps == [list(range(1, 25)), list(range(25, 33))]  # no update twice, none missing
    assert [int(row["train/cnt/epoch"]) for row in read_rows(run / "metrics.csv")] == list(range(1, 33))


@pytest.mark.e2e
@pytest.mark.slow
def test_a_killed_run_resumes_into_its_wandb_run_with_every_update_once(runs_dir: Path) -> None:
    args = [sys.executable, "train.py", "CartPole-v1:ppo", *QUICK, "--set", "checkpoint_freq=2048", "--video", "off"]
    process = subprocess.Popen([*args, "--wandb", "offline", "--max-timesteps", "1e6"], cwd=REPO,
                               env=cli_env(runs_dir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(0.3)
        last = runs_dir / "@last"
        if last.exists() and "step=0004096" in os.path.realpath(last_run(runs_dir) / "checkpoints" / "last"):
            break
    process.send_signal(signal.SIGKILL)  # mid-run: rows after the last checkpoint are in W&B and metrics.csv
    process.wait()
    run = last_run(runs_dir)
    wandb_id = json.loads((run / "config.json").read_text())["wandb_id"]
    # the W&B process works through what the trainer queued (its init too, under load), then closes the session
    # as failed: seconds, more on a busy machine
    folders, exits = wait_for_exit_records(run, wandb_id, timeout=120)
    assert len(folders) == 1
    assert exits and exits[0].exit.exit_code == 1

    killed_at = int(os.path.realpath(run / "checkpoints" / "last").split("step=")[1])
    budget = str(killed_at + 2048)
    resumed = run_cli(["train.py", "--resume", "@last", "-q", "--max-timesteps", budget], runs_dir)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    steps = sorted(
        row["_step"]
        for folder in run_folders(run, wandb_id)
        for row in history(wandb_records(folder / f"run-{wandb_id}.wandb"))
    )
    assert steps == list(range(1, (killed_at + 2048) // 128 + 1))


@pytest.mark.e2e
@pytest.mark.slow
def test_turning_wandb_on_at_a_resume_logs_the_earlier_rows_first(runs_dir: Path) -> None:
    args = ["train.py", "CartPole-v1:ppo", *QUICK, "--video", "off"]
    assert run_cli([*args, "--no-wandb", "--max-timesteps", "1024"], runs_dir).returncode == 0
    run = last_run(runs_dir)
    resumed = run_cli(
        ["train.py", "--resume", "@last", "-q", "--wandb", "offline", "--max-timesteps", "2048"], runs_dir
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    wandb_id = json.loads((run / "config.json").read_text())["wandb_id"]
    (folder,) = run_folders(run, wandb_id)
    assert [row["_step"] for row in history(wandb_records(folder / f"run-{wandb_id}.wandb"))] == list(range(1, 17))


@pytest.mark.e2e
@pytest.mark.slow
def test_without_credentials_the_default_run_never_touches_wandb(runs_dir: Path, tmp_path: Path) -> None:
    args = [sys.executable, "train.py", "CartPole-v1:ppo", "-q", "--max-timesteps", "1024", "--video", "off"]
    result = subprocess.run(args, cwd=REPO, env=no_credentials_env(runs_dir, tmp_path), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "wandb" not in (result.stdout + result.stderr).lower() and "W&B" not in result.stdout + result.stderr
    run = last_run(runs_dir)
    assert not (run / "wandb").exists() and not (run / "logs" / "wandb.log").exists()
    assert json.loads((run / "config.json").read_text())["wandb_id"] == ""
    assert not [key for key in json.loads((run / "summary.json").read_text()) if key.startswith("wandb")]


@pytest.mark.e2e
def test_online_without_credentials_is_one_error_line_before_any_run_directory(runs_dir: Path, tmp_path: Path) -> None:
    args = [sys.executable, "train.py", "CartPole-v1:ppo", "--wandb"]
    result = subprocess.run(args, cwd=REPO, env=no_credentials_env(runs_dir, tmp_path), capture_output=True, text=True)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("error: wandb: ") and result.stderr.count("\n") == 1
    assert "`wandb login`" in result.stderr and "WANDB_API_KEY" in result.stderr
    assert not runs_dir.exists()
    assert os.listdir(tmp_path) == []  # nothing written in the home directory either
