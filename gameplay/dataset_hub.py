"""Pushing a recording to the Hugging Face Hub as a dataset repo (``run_play.py --push-dataset``).

The repo gets the rows as Parquet files under ``data/`` (what the Hub's viewer and ``load_dataset`` read),
``recording.json`` and a dataset card, in one commit through ``publishing/hub.py`` (the one module that talks
to ``HfApi``: the token, retries, one-line errors). ``prepare_push`` checks the token before anything is played.
"""

from __future__ import annotations

import math
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gameplay.dataset_card import dataset_card
from gameplay.dataset_recorder import RECORDING_FILE, quiet_datasets
from gameplay.playback import HUB_DATA, read_metadata
from publishing.hub import DatasetHubClient, commit_dataset, connect, hub_user
from publishing.repo_names import check_repo_id
from utils.config_values import ConfigError

NAME_PREFIX = "GymnasiumRecording__"
MAX_SHARD_BYTES = 500_000_000  # Parquet files of at most about this size (the Hub's viewer reads them one by one)
OFFLINE_FIX = "drop --push-dataset (--record-dataset still saves the recording)"


def default_dataset_name(env_id: str) -> str:
    """``GymnasiumRecording__<env id>`` with ``/`` (and anything else the Hub refuses) as ``-``."""
    name = re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9._-]", "-", env_id)).strip("-.")
    return f"{NAME_PREFIX}{name}"[:96].rstrip("-.")


def check_dataset_name(text: str) -> str:
    """``USER/NAME`` or ``NAME`` as the Hub accepts it; a one-line error otherwise."""
    try:
        return check_repo_id(text, "--push-dataset")
    except ConfigError:
        raise ConfigError(
            f"--push-dataset: {text!r} is not a Hub dataset name; write USER/NAME with letters, digits, '-', '_' "
            "or '.' (no '--' or '..', not starting or ending with '-' or '.', at most 96 characters)"
        ) from None


@dataclass(frozen=True)
class DatasetPush:
    """Where a recording will go: a client holding a checked token, and the full repo id."""

    client: DatasetHubClient
    repo_id: str
    private: bool = False  # for a repo this push creates


def prepare_push(
    repo: str | None,
    env_id: str,
    client: DatasetHubClient | None = None,
    private: bool = False,
    log: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
) -> DatasetPush:
    """Log in and complete the repo id (``NAME`` alone goes under the user; default ``default_dataset_name``)
    now, so a missing or rejected token fails before anything is played."""
    client = client or connect(OFFLINE_FIX)
    user = hub_user(client, log, sleep)
    name = repo or default_dataset_name(env_id)
    return DatasetPush(client, check_dataset_name(name if "/" in name else f"{user}/{name}"), private)


def push_recording(
    push: DatasetPush, folder: Path, log: Callable[[str], None] = print, sleep: Callable[[float], None] = time.sleep
) -> str:
    """Upload the recording saved in ``folder`` as Parquet files, ``recording.json`` and the card; the URL."""
    metadata = read_metadata(folder, str(folder))
    with tempfile.TemporaryDirectory(prefix="gymsolver-push-") as temp:
        upload = Path(temp) / "repo"
        (upload / HUB_DATA).mkdir(parents=True)
        write_parquet(folder, upload / HUB_DATA)
        shutil.copyfile(folder / RECORDING_FILE, upload / RECORDING_FILE)
        (upload / "README.md").write_text(dataset_card(metadata, push.repo_id, f"{HUB_DATA}/*.parquet"))
        episodes = len(metadata.get("episodes") or [])
        message = f"Gameplay of {metadata['env_id']}: {episodes} episodes, {metadata.get('steps')} steps"
        return commit_dataset(
            push.client, upload, push.repo_id, message=message, private=push.private, log=log, sleep=sleep
        )


def write_parquet(folder: Path, out: Path) -> list[Path]:
    """The dataset saved in ``folder`` as ``train-00000-of-0000N.parquet`` files in ``out`` (frames embedded)."""
    import datasets

    with quiet_datasets():
        dataset = datasets.load_from_disk(str(folder))
        shards = max(1, math.ceil(dataset.data.nbytes / MAX_SHARD_BYTES))
        paths = []
        for index in range(shards):
            path = out / f"train-{index:05d}-of-{shards:05d}.parquet"
            dataset.shard(num_shards=shards, index=index, contiguous=True).to_parquet(str(path))
            paths.append(path)
    return paths
