"""A background process that owns the W&B run, so training never waits for wandb.

Importing wandb takes seconds and each ``run.log`` about a millisecond of CPU: both happen here, in a child
process that ``train.py`` starts before it imports torch (``train()`` starts one itself otherwise). The
trainer sends plain messages through a queue: ``init`` (once the run directory exists), ``log`` (one metrics
row per update, with the eval videos that finished since the last one), ``results`` (report files and model
checkpoints, once training is over), ``finish`` (the end of the session) or ``stop`` (training failed). The
child answers with events: ``started`` (run id, URL, folder), ``dashboard`` (workspace URL), ``error`` (the
first W&B failure; later ones go to ``logs/wandb.log`` only) and ``finished``.

wandb's own output goes to ``runs/<id>/logs/wandb.log``. The child ignores Ctrl-C and SIGTERM in its own
process group (the trainer handles them, then finishes the W&B run), and finishes the run itself if the
trainer dies, so a W&B run folder is complete whatever happens to training.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import queue
import shutil
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trainer_callbacks.child_process import next_message, start_context
from utils.wandb_dashboard import EPISODES_KEY, VIDEO_KEY, X_AXIS, save_workspace

EPISODE_COLUMNS = ("eval", "timesteps", "episode", "seed", "return", "length", "terminated", "truncated", "video",
                   "video_status")  # fmt: skip
# A checkpoint's inference files: what a model artifact holds.
MODEL_FILES = ("policy.safetensors", "policy.json", "normalization.npz", "config.json")
PROGRESS_FILE = "logged_through.json"  # in runs/<id>/wandb/: the W&B run id and the newest update it was sent


def read_progress(wandb_dir: Path, wandb_id: str) -> int:
    """The newest update sent to W&B run ``wandb_id`` from this run directory (0 when none was)."""
    try:
        progress = json.loads((wandb_dir / PROGRESS_FILE).read_text())
    except (OSError, ValueError):
        return 0
    return int(progress["update"]) if progress.get("wandb_id") == wandb_id else 0


class WandbSession:
    """Turns the trainer's messages into wandb calls; every failure becomes one event and never an exception."""

    def __init__(self, wandb: Any, emit: Callable[[dict[str, Any]], None]) -> None:
        self.wandb = wandb  # the wandb module (tests pass a fake)
        self.emit = emit
        self.run: Any = None
        self.mode = "offline"
        self.failed = False
        self.step: int | None = None  # the newest step logged
        self.step_videos: list[tuple[str, str]] = []  # (mp4, caption) logged at that step: W&B keeps one list per step
        self.progress: Path | None = None

    def handle(self, message: dict[str, Any]) -> bool:
        """Act on one message; False once the session is over."""
        kind = message["kind"]
        if kind == "stop":  # the trainer stopped without finishing (an error): end the run as failed
            self.abandon()
            return False
        try:
            if kind == "init":
                self.init(message)
            elif self.run is not None:
                getattr(self, kind)(message)
        except Exception as error:
            self.report(f"{kind}: {type(error).__name__}: {error}")
        if kind == "finish":
            self.emit({"event": "finished"})
            return False
        return True

    def report(self, message: str) -> None:
        """The first failure goes to the trainer; every one goes to this process's log."""
        print(f"W&B error: {message}", file=sys.stderr, flush=True)
        if not self.failed:
            self.failed = True
            self.emit({"event": "error", "message": message.splitlines()[0][:300]})

    def init(self, message: dict[str, Any]) -> None:
        """Start (or, with the same id, continue) the W&B run; x-axis of every metric: ``train/cnt/timesteps``."""
        wandb, self.mode = self.wandb, message["mode"]
        # wandb stages the files of logged tables here until they are uploaded (an offline run: until `wandb
        # sync`); inside the run directory, so a run folder moved elsewhere still syncs completely
        os.environ["WANDB_DATA_DIR"] = str(Path(message["dir"]) / "wandb" / "data")
        settings = wandb.Settings(silent=True, console="off", root_dir=message["root_dir"])
        self.run = wandb.init(
            dir=message["dir"],
            id=message["id"],
            name=message["name"],
            project=message["project"],
            entity=message["entity"] or None,
            tags=message["tags"] or None,
            config=message["config"],
            mode=self.mode,
            resume="allow",
            allow_val_change=True,
            job_type="train",
            settings=settings,
        )
        self.progress = Path(message["dir"]) / "wandb" / PROGRESS_FILE
        self.run.define_metric(X_AXIS)
        self.run.define_metric("*", step_metric=X_AXIS)
        url = self.run.url if self.mode == "online" else None
        folder = Path(self.run.dir).parent
        self.emit({"event": "started", "id": self.run.id, "url": url, "folder": str(folder)})
        if message["dashboard"] and self.mode == "online":
            try:
                saved = save_workspace(self.run.entity, self.run.project)
            except Exception as error:  # the run logs all the same
                self.report(f"workspace: {type(error).__name__}: {error}")
                return
            self.emit({"event": "dashboard", "url": saved.url, "action": saved.action})

    def log(self, message: dict[str, Any]) -> None:
        """One metrics row at ``step`` (the update count), with the videos that finished since the last row."""
        step, videos = message["step"], [tuple(video) for video in message["videos"]]
        if step != self.step:
            self.step, self.step_videos = step, []
        data: dict[str, Any] = dict(message["metrics"])
        if videos:
            self.step_videos += videos
            data[VIDEO_KEY] = [
                self.wandb.Video(path, caption=caption, format="mp4")
                for path, caption in self.step_videos
                if Path(path).exists()  # a video pruned (max_videos) before it was logged is skipped
            ]
        if data:
            self.run.log(data, step=step)
            self._record_progress(step)

    def _record_progress(self, step: int) -> None:
        """Write down the newest update sent, for the next session (temp file and rename: never half written)."""
        assert self.progress is not None
        temp = self.progress.with_suffix(".tmp")
        temp.write_text(json.dumps({"wandb_id": self.run.id, "update": step}))
        os.replace(temp, self.progress)

    def results(self, message: dict[str, Any]) -> None:
        """Training is over: report files and model artifacts (sent while the last videos still encode)."""
        started = time.perf_counter()
        for path in message["files"]:
            if Path(path).is_file():
                saved = Path(self.run.dir) / Path(path).name
                shutil.copyfile(path, saved)
                self.run.save(str(saved), base_path=self.run.dir, policy="now")
        for checkpoint in message["checkpoints"]:
            self.log_model(checkpoint, Path(message["staging"]))
        print(f"results: {time.perf_counter() - started:.2f} s", file=sys.stderr)

    def finish(self, message: dict[str, Any]) -> None:
        """The end of a session: the last videos, the episodes table, the summary; then the run ends."""
        run, started = self.run, time.perf_counter()
        try:
            if self.step is not None:
                self.log({"step": self.step, "metrics": {}, "videos": message["videos"]})
                episodes = _read_episodes(Path(message["episodes"]))
                rows = [[row.get(column) for column in EPISODE_COLUMNS] for row in episodes]
                run.log({EPISODES_KEY: self.wandb.Table(columns=list(EPISODE_COLUMNS), data=rows)}, step=self.step)
            run.summary.update(message["summary"])
        finally:  # whatever failed above, the run ends with complete records
            logged = time.perf_counter()
            self.run = None
            run.finish(exit_code=message["exit_code"])
            self.wandb.teardown()
        print(f"finish: {logged - started:.2f} s logging, {time.perf_counter() - logged:.2f} s ending", file=sys.stderr)

    def log_model(self, checkpoint: dict[str, Any], staging: Path) -> None:
        """A checkpoint's inference files as a ``model`` artifact version with its aliases (best, last).

        The files are hard-linked into ``staging`` (inside the run directory) and added as immutable, so an
        offline run syncs later even after pruning deleted the checkpoint, and nothing is copied outside the run.
        """
        source = Path(checkpoint["path"])
        target = staging / source.name
        target.mkdir(parents=True, exist_ok=True)
        artifact = self.wandb.Artifact(f"model-{self.run.id}", type="model", metadata=checkpoint["metadata"])
        for name in MODEL_FILES:
            if not (source / name).is_file():
                continue  # format-0 checkpoints have no policy.json or normalization.npz
            if not (target / name).exists():
                try:
                    os.link(source / name, target / name)
                except OSError:
                    shutil.copyfile(source / name, target / name)
            artifact.add_file(str(target / name), name=name, policy="immutable")
        self.run.log_artifact(artifact, aliases=checkpoint["aliases"])

    def abandon(self) -> None:
        """The trainer died or stopped without finishing: end the W&B run as failed, so its records are complete."""
        if self.run is not None:
            try:
                self.run.finish(exit_code=1)
            except Exception as error:
                self.report(f"finish: {type(error).__name__}: {error}")
            self.run = None


def _read_episodes(path: Path) -> list[dict[str, Any]]:
    rows = []
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except ValueError:
                continue  # a line cut off by a kill
    return rows


def _write_output_to(path: str) -> None:
    """Send this process's stdout and stderr (and wandb-core's, which inherits them) to ``path``."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _worker_main(requests: multiprocessing.Queue, events: multiprocessing.Queue, trainer: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)  # Ctrl-C in a terminal signals the foreground group: not this one, nor wandb-core
    os.environ["WANDB_SILENT"] = "true"
    os.nice(10)  # training keeps priority on a busy CPU; wandb-core inherits this
    emit = events.put
    module: Any
    try:
        import wandb

        wandb.setup()  # starts wandb's service process now, while the trainer is still importing torch
        module = wandb
        # What wandb imports lazily, ~1.5 s of CPU on the training machine's cores: during init (its launch
        # module) and at the first logged media (pandas). Now, while the trainer imports torch, not mid-training.
        with contextlib.suppress(ImportError):
            import wandb.sdk.launch
        with contextlib.suppress(ImportError):
            import pandas  # noqa: F401
    except Exception as error:  # reported when the run should start
        module = _Unavailable(f"{type(error).__name__}: {error}")
    session = WandbSession(module, emit)
    while True:
        message = next_message(requests, trainer)
        if message is None:
            session.abandon()
            break
        if message["kind"] == "init":
            _write_output_to(message["log_path"])
        if not session.handle(message):
            break
    events.close()
    events.join_thread()  # every event is in the pipe
    os._exit(0)


class _Unavailable:
    """Stands in for a wandb that failed to import: its first use raises that error."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"wandb could not be loaded ({self.reason})")


class WandbWorker:
    """The trainer's end of the W&B process: send messages, read events, close."""

    def __init__(self) -> None:
        self._context = start_context(renders=False)
        self.requests: multiprocessing.Queue = self._context.Queue()
        self.events: multiprocessing.Queue = self._context.Queue()
        self.process: multiprocessing.process.BaseProcess | None = None

    def start(self) -> None:
        """Start the process (it imports wandb and starts wandb's service while the trainer sets up)."""
        if self.process is None:
            self.process = self._context.Process(
                target=_worker_main, args=(self.requests, self.events, os.getpid()), daemon=True
            )
            self.process.start()

    def send(self, message: dict[str, Any]) -> None:
        """Queue a message (never blocks)."""
        self.start()
        self.requests.put(message)

    def poll(self) -> list[dict[str, Any]]:
        """Events so far, without waiting."""
        found = []
        while True:
            try:
                found.append(self.events.get_nowait())
            except queue.Empty:
                return found

    def wait_for(self, *names: str, timeout: float) -> list[dict[str, Any]]:
        """Events until one of ``names`` arrives, the process ends, or ``timeout`` seconds pass."""
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                found.append(self.events.get(timeout=0.2))
            except queue.Empty:
                if self.process is None or not self.process.is_alive():
                    return found + self.poll()
                continue
            if found[-1]["event"] in names:
                break
        return found

    def close(self, wait: float = 5.0) -> bool:
        """Stop the process (a W&B run not finished yet ends as failed), killing it and wandb-core after ``wait``
        seconds; True if it exited by itself."""
        if self.process is None:
            return True
        if self.process.is_alive():
            self.requests.put({"kind": "stop"})  # ignored when the run already finished
        self.process.join(timeout=wait)
        exited = not self.process.is_alive()
        if not exited and self.process.pid is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)  # its own group: the child and wandb-core
            except OSError:
                self.process.kill()
            self.process.join(timeout=5)
        self.process = None
        return exited
