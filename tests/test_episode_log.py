"""episodes.jsonl: rows append, updates rewrite atomically, pending videos of a killed run become failed."""

from __future__ import annotations

import json
from pathlib import Path

from trainer_callbacks.eval_recording import EvalRecordingCallback
from trainer_callbacks.video_worker import VideoWorker
from utils.config import Config
from utils.episode_log import EpisodeTelemetry
from utils.runs import create_run


def test_rows_append_and_updates_rewrite_the_file(tmp_path: Path) -> None:
    telemetry = EpisodeTelemetry(tmp_path / "episodes.jsonl")
    telemetry.append([{"eval": 0, "episode": 0, "return": 1.0}, {"eval": 0, "episode": 1, "return": 2.0}])
    telemetry.update(0, 1, {"video": "videos/x.mp4", "video_status": "ok"})
    rows = [json.loads(line) for line in (tmp_path / "episodes.jsonl").read_text().splitlines()]
    assert rows == [{"eval": 0, "episode": 0, "return": 1.0},
                    {"eval": 0, "episode": 1, "return": 2.0, "video": "videos/x.mp4", "video_status": "ok"}]  # fmt: skip
    assert EpisodeTelemetry(tmp_path / "episodes.jsonl").video_rows("ok") == [rows[1]]


def test_pending_videos_of_a_stopped_run_are_marked_failed_on_resume(tmp_path: Path) -> None:
    config = Config(env_id="CartPole-v1")
    run = create_run(config.to_dict(), root=tmp_path / "runs")
    EpisodeTelemetry(run.path / "episodes.jsonl").append(
        [{"eval": 3, "episode": 0, "video": "videos/a.mp4", "video_status": "pending"}]
    )
    recorder = EvalRecordingCallback(config, run, worker=None)
    assert recorder.telemetry.video_rows("pending") == []
    (failed,) = recorder.telemetry.video_rows("failed")
    assert failed["eval"] == 3 and "stopped" in failed["error"]


def test_a_killed_runs_video_snapshots_are_cleared_so_resume_never_reuses_them(tmp_path: Path) -> None:
    config = Config(env_id="CartPole-v1")
    run = create_run(config.to_dict(), root=tmp_path / "runs")
    stale = run.path / "videos" / ".jobs" / "eval=0003"  # same name a resumed run's eval 3 would write
    stale.mkdir(parents=True)
    (stale / "policy.safetensors").write_bytes(b"old weights")
    EvalRecordingCallback(config, run, worker=None)
    assert not (run.path / "videos" / ".jobs").exists()


def test_videos_a_dead_worker_never_wrote_are_marked_failed_when_the_run_ends(tmp_path: Path) -> None:
    config = Config(env_id="CartPole-v1")
    run = create_run(config.to_dict(), root=tmp_path / "runs")
    worker = VideoWorker()
    worker.start()
    assert worker.process is not None
    worker.process.kill()
    worker.process.join()
    recorder = EvalRecordingCallback(config, run, worker)
    recorder.telemetry.append([{"eval": 2, "episode": 0, "video": "videos/b.mp4", "video_status": "pending"}])
    worker.pending = 1  # submitted, never answered
    assert recorder.finish(wait=True) == 1  # reported as unfinished
    assert recorder.telemetry.video_rows("pending") == []
    (failed,) = EpisodeTelemetry(run.path / "episodes.jsonl").video_rows("failed")
    assert failed["eval"] == 2 and "worker exited" in failed["error"]
