"""The published ``replay.mp4``: the checkpoint's own evaluation video when it plays in a browser, else one
recorded now (the first published episode, through the same loop as evaluation and ``run_play.py --record``).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.loading import TrainedPolicy
from publishing.results import PublishedResults
from utils.config_values import ConfigError
from utils.envs import check_can_render
from utils.episode_recording import record_episode
from utils.run_reader import CheckpointInfo, read_episodes, video_path
from utils.runs import RunDir, file_sha256

REPLAY_FILE = "replay.mp4"


@dataclass(frozen=True)
class Replay:
    """Which episode ``replay.mp4`` shows."""

    seed: int | None
    episode_return: float | None
    source: str  # "the evaluation at step 4,096" or "recorded when published"


def browser_playable(path: Path) -> bool:
    """Whether ``path`` decodes as H.264 in YUV 4:2:0 (what browsers, and so the Hub's page, play) with frames."""
    import imageio_ffmpeg

    try:
        reader = imageio_ffmpeg.read_frames(str(path))
        meta = next(reader)
        playable = meta.get("codec") == "h264" and str(meta.get("pix_fmt", "")).startswith("yuv420p")
        frames = sum(1 for _ in reader) if playable else 0
    except (OSError, RuntimeError, StopIteration):
        return False
    return playable and frames > 0


def eval_videos(run: RunDir, checkpoint: CheckpointInfo) -> list[tuple[Path, dict[str, Any] | None]]:
    """The checkpoint's recorded evaluation episodes, with their ``episodes.jsonl`` row when it is known.

    First the video training linked beside the checkpoint (``video.mp4``, the best evaluation's), then
    the recorded episodes of the evaluation logged at the checkpoint's step.
    """
    rows = [row for row in read_episodes(run) if row.get("video_status", "ok") == "ok" and row.get("video")]
    found: list[tuple[Path, dict[str, Any] | None]] = []
    beside = checkpoint.path / "video.mp4"
    if beside.is_file():
        digest = file_sha256(beside)
        found.append((beside, next((row for row in rows if row.get("sha256") == digest), None)))
    for row in rows:
        path = video_path(run, row)
        if row.get("timesteps") == checkpoint.timesteps and path is not None:
            found.append((path, row))
    return found


def write_replay(
    run: RunDir,
    checkpoint: CheckpointInfo,
    trained: TrainedPolicy,
    results: PublishedResults,
    target: Path,
    log: Callable[[str], None] = print,
) -> Replay | None:
    """Copy the checkpoint's evaluation video to ``target``, or record one; None when the env cannot render."""
    for path, row in eval_videos(run, checkpoint):
        if browser_playable(path):
            shutil.copyfile(path, target)
            step = f"{checkpoint.timesteps:,}" if row is None else f"{row['timesteps']:,}"
            return Replay(
                seed=None if row is None else int(row["seed"]),
                episode_return=None if row is None else float(row["return"]),
                source=f"the evaluation at step {step}",
            )
        log(f"note: {path.name} is not an H.264 video a browser plays; recording a new one")
    try:
        check_can_render(trained.config)
    except ConfigError as error:
        log(f"note: no {REPLAY_FILE}: {error}")
        return None
    seed = results.eval_seeds[0]
    log(f"recording {REPLAY_FILE}: seed {seed}")
    recorded = record_episode(
        trained.config, trained.policy, trained.obs_normalizer, seed, target, results.is_deterministic
    )
    return Replay(seed=seed, episode_return=recorded.episode_return, source="recorded when published")
