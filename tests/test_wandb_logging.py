"""W&B logging up to the API boundary: wandb is replaced by a fake that records every call.

The fake is a module put in ``sys.modules["wandb"]``; the W&B process is forked from the test, so it
imports the fake too, and writes each call as a JSON line that the test reads back.
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from trainer_callbacks.wandb_logging import WandbLoggingCallback, model_checkpoints, video_caption
from trainer_callbacks.wandb_worker import WandbSession, read_progress
from utils.config import load_config
from utils.config_values import ConfigError
from utils.report import write_report
from utils.runs import RunDir


class FakeWandb(types.ModuleType):
    """The parts of the wandb module the trainer uses; each call is appended to ``calls_path`` as JSON."""

    def __init__(self, calls_path: Path, fail: dict[str, int] | None = None) -> None:
        super().__init__("wandb")
        self.calls_path = calls_path
        self.fail = fail or {}  # method -> the call number that raises (a quota error, a dropped connection)
        self.counts: dict[str, int] = {}

    def record(self, call: str, **fields: Any) -> None:
        self.counts[call] = self.counts.get(call, 0) + 1
        if self.fail.get(call) == self.counts[call]:
            raise RuntimeError(f"{call} failed: quota exceeded")
        with self.calls_path.open("a") as handle:
            handle.write(json.dumps({"call": call, **fields}, default=str) + "\n")

    def setup(self) -> None:
        self.record("setup")

    def teardown(self) -> None:
        self.record("teardown")

    def Settings(self, **settings: Any) -> dict[str, Any]:  # wandb's names, capitalised
        return settings

    def init(self, **kwargs: Any) -> FakeRun:
        self.record("init", **kwargs)
        return FakeRun(self, kwargs)

    def Video(self, path: str, caption: str = "", format: str = "") -> dict[str, Any]:
        assert Path(path).is_file()
        return {"video": path, "caption": caption, "format": format}

    def Table(self, columns: list[str], data: list[list[Any]]) -> dict[str, Any]:
        return {"columns": columns, "rows": data}

    def Artifact(self, name: str, type: str, metadata: dict[str, Any]) -> FakeArtifact:
        return FakeArtifact(name, type, metadata)


class FakeArtifact:
    def __init__(self, name: str, type: str, metadata: dict[str, Any]) -> None:
        self.name, self.type, self.metadata, self.files = name, type, metadata, []

    def add_file(self, path: str, name: str, policy: str) -> None:
        assert Path(path).is_file()
        self.files.append({"path": path, "name": name, "policy": policy})


class FakeSummary(dict):
    def __init__(self, wandb: FakeWandb) -> None:
        super().__init__()
        self.wandb = wandb

    def update(self, *args: Any, **kwargs: Any) -> None:
        super().update(*args, **kwargs)
        self.wandb.record("summary", values=dict(self))


class FakeRun:
    def __init__(self, wandb: FakeWandb, kwargs: dict[str, Any]) -> None:
        self.wandb = wandb
        self.id, self.project = kwargs["id"], kwargs["project"]
        self.entity = kwargs["entity"] or "me"
        self.url = f"https://wandb.test/{self.entity}/{self.project}/runs/{self.id}"
        folder = Path(kwargs["dir"]) / "wandb" / f"{kwargs['mode']}-run-fake-{self.id}"
        (folder / "files").mkdir(parents=True, exist_ok=True)
        self.dir = str(folder / "files")
        self.summary = FakeSummary(wandb)

    def define_metric(self, name: str, step_metric: str | None = None) -> None:
        self.wandb.record("define_metric", name=name, step_metric=step_metric)

    def log(self, data: dict[str, Any], step: int) -> None:
        self.wandb.record("log", data=data, step=step)

    def save(self, path: str, base_path: str, policy: str) -> None:
        assert Path(path).is_file()
        self.wandb.record("save", path=path, policy=policy)

    def log_artifact(self, artifact: FakeArtifact, aliases: list[str]) -> None:
        self.wandb.record("log_artifact", name=artifact.name, type=artifact.type, aliases=aliases,
                          files=[f["name"] for f in artifact.files], metadata=artifact.metadata)  # fmt: skip

    def finish(self, exit_code: int) -> None:
        self.wandb.record("finish", exit_code=exit_code)


@pytest.fixture(autouse=True)
def _restore_wandb_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A session sets WANDB_DATA_DIR (the W&B process's own environment); undone after each test here."""
    monkeypatch.setenv("WANDB_DATA_DIR", str(tmp_path / "wandb-data"))


def read_calls(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def calls_named(calls: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [call for call in calls if call["call"] == name]


def init_message(tmp_path: Path, mode: str = "offline") -> dict[str, Any]:
    return {"kind": "init", "mode": mode, "dir": str(tmp_path), "root_dir": str(tmp_path), "id": "abc12345",
            "name": "20261130-000000-0000", "project": "CartPole-v1", "entity": "", "tags": ["t"],
            "config": {"policy_lr": {"start": 0.001, "end": 0.0}}, "dashboard": False}  # fmt: skip


# --- the W&B process's session, driven message by message ---
def test_session_starts_one_resumable_run_with_timesteps_as_every_metrics_x_axis(tmp_path: Path) -> None:
    fake, events = FakeWandb(tmp_path / "calls.jsonl"), []
    session = WandbSession(fake, events.append)
    session.handle(init_message(tmp_path))
    calls = read_calls(fake.calls_path)
    (init,) = calls_named(calls, "init")
    assert (init["id"], init["resume"], init["mode"], init["tags"]) == ("abc12345", "allow", "offline", ["t"])
    assert init["config"]["policy_lr"] == {"start": 0.001, "end": 0.0}  # schedules intact
    assert init["settings"]["console"] == "off"
    assert [(c["name"], c["step_metric"]) for c in calls_named(calls, "define_metric")] == [
        ("train/cnt/timesteps", None),
        ("*", "train/cnt/timesteps"),
    ]
    assert events[0]["event"] == "started" and events[0]["id"] == "abc12345" and events[0]["url"] is None


def test_videos_that_finish_at_one_update_are_logged_together_at_its_step(tmp_path: Path) -> None:
    fake = FakeWandb(tmp_path / "calls.jsonl")
    session = WandbSession(fake, lambda event: None)
    session.handle(init_message(tmp_path))
    first, second = tmp_path / "a.mp4", tmp_path / "b.mp4"
    first.write_bytes(b"mp4"), second.write_bytes(b"mp4")
    session.handle({"kind": "log", "step": 3, "metrics": {"train/cnt/timesteps": 384.0}, "videos": [(str(first), "a")]})
    session.handle({"kind": "log", "step": 3, "metrics": {}, "videos": [(str(second), "b")]})
    session.handle({"kind": "log", "step": 4, "metrics": {"train/cnt/timesteps": 512.0}, "videos": []})
    logs = calls_named(read_calls(fake.calls_path), "log")
    assert [log["step"] for log in logs] == [3, 3, 4]
    assert read_progress(tmp_path / "wandb", "abc12345") == 4  # what the next session starts after
    assert read_progress(tmp_path / "wandb", "another1") == 0
    assert [video["caption"] for video in logs[1]["data"]["val/videos"]] == ["a", "b"]  # W&B keeps one list a step
    assert "val/videos" not in logs[2]["data"]


def test_finish_logs_episodes_report_files_and_each_checkpoint_once_with_its_aliases(tmp_path: Path) -> None:
    fake, events = FakeWandb(tmp_path / "calls.jsonl"), []
    session = WandbSession(fake, events.append)
    session.handle(init_message(tmp_path))
    session.handle({"kind": "log", "step": 8, "metrics": {"train/cnt/timesteps": 1024.0}, "videos": []})
    (tmp_path / "episodes.jsonl").write_text('{"eval": 0, "episode": 0, "return": 9.0}\n{"eval": 0, "epis')
    (tmp_path / "report.md").write_text("# report")
    checkpoint = tmp_path / "checkpoints" / "epoch=0008-step=0001024"
    checkpoint.mkdir(parents=True)
    for name in ("policy.safetensors", "policy.json", "normalization.npz", "config.json", "optimizer.pt"):
        (checkpoint / name).write_bytes(b"x")
    request = {"path": str(checkpoint), "aliases": ["best", "last"], "metadata": {"epoch": 8}}
    session.handle({"kind": "results", "files": [str(tmp_path / "report.md")], "checkpoints": [request],
                    "staging": str(tmp_path / "wandb" / "artifacts")})  # fmt: skip
    session.handle({"kind": "finish", "videos": [], "episodes": str(tmp_path / "episodes.jsonl"),
                    "summary": {"status": "solved"}, "exit_code": 0})  # fmt: skip
    calls = read_calls(fake.calls_path)
    table = calls_named(calls, "log")[-1]
    assert table["step"] == 8 and table["data"]["val/episodes"]["rows"][0][:5] == [0, None, 0, None, 9.0]
    assert Path(calls_named(calls, "save")[0]["path"]).name == "report.md"
    (artifact,) = calls_named(calls, "log_artifact")
    assert artifact["type"] == "model" and artifact["aliases"] == ["best", "last"]
    assert artifact["files"] == ["policy.safetensors", "policy.json", "normalization.npz", "config.json"]
    assert (tmp_path / "wandb" / "artifacts" / checkpoint.name / "policy.safetensors").stat().st_nlink == 2
    assert calls_named(calls, "summary")[-1]["values"] == {"status": "solved"}
    assert calls_named(calls, "finish") == [{"call": "finish", "exit_code": 0}]
    assert events[-1] == {"event": "finished"}


def test_a_failing_wandb_call_is_reported_once_and_the_session_goes_on(tmp_path: Path) -> None:
    fake, events = FakeWandb(tmp_path / "calls.jsonl", fail={"log": 2}), []
    session = WandbSession(fake, events.append)
    session.handle(init_message(tmp_path))
    for step in (1, 2, 3):
        assert session.handle({"kind": "log", "step": step, "metrics": {"x": 1.0}, "videos": []})
    fake.fail = {"log": 4}
    session.handle({"kind": "log", "step": 4, "metrics": {"x": 1.0}, "videos": []})
    errors = [event for event in events if event["event"] == "error"]
    assert len(errors) == 1 and "quota exceeded" in errors[0]["message"]
    assert [log["step"] for log in calls_named(read_calls(fake.calls_path), "log")] == [1, 3]


def test_an_unfinished_session_ends_the_run_as_failed_when_the_trainer_stops(tmp_path: Path) -> None:
    fake = FakeWandb(tmp_path / "calls.jsonl")
    session = WandbSession(fake, lambda event: None)
    session.handle(init_message(tmp_path))
    assert session.handle({"kind": "stop"}) is False
    assert calls_named(read_calls(fake.calls_path), "finish") == [{"call": "finish", "exit_code": 1}]


# --- the trainer's side ---
class RecordingWorker:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    def poll(self) -> list[dict[str, Any]]:
        return []


def test_a_resumed_session_sends_only_updates_after_those_already_logged(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "run")
    (run.path / "logs").mkdir(parents=True)
    (run.path / "wandb").mkdir()
    (run.path / "wandb" / "logged_through.json").write_text('{"wandb_id": "abc12345", "update": 5}')
    worker = RecordingWorker()
    config = load_config("CartPole-v1", "ppo", {"wandb_id": "abc12345"})
    callback = WandbLoggingCallback(worker, run, config, "offline")  # type: ignore[arg-type]
    assert worker.sent[0]["kind"] == "init" and worker.sent[0]["id"] == "abc12345"
    assert worker.sent[0]["project"] == "CartPole-v1" and worker.sent[0]["config"]["policy_lr"]["start"] == 0.001
    video = tmp_path / "v.mp4"
    callback.on_video(video, {"eval": 1, "timesteps": 640, "episode": 0, "seed": 7, "return": 21.0, "length": 21})
    callback.send_earlier_rows([{"train/cnt/epoch": float(step)} for step in range(1, 5)])  # trimmed metrics.csv
    for step in range(5, 8):
        callback.log_row(step, {"train/cnt/epoch": float(step)})
    logs = [message for message in worker.sent if message["kind"] == "log"]
    assert [message["step"] for message in logs] == [6, 7]
    assert logs[0]["videos"] == [(str(video.resolve()), "eval=1 step=640 episode=0 seed=7 return=21 length=21")]
    assert logs[1]["videos"] == []


def test_video_caption_holds_the_episode_row_that_replays_it() -> None:
    row = {"eval": 3, "timesteps": 12288, "episode": 0, "seed": 4000014, "return": 500.0, "length": 500}
    assert video_caption(row) == "eval=3 step=12288 episode=0 seed=4000014 return=500 length=500"


def test_best_and_last_on_one_checkpoint_make_one_model_with_both_aliases(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "run")
    for name in ("epoch=0008-step=0001024", "epoch=0016-step=0002048"):
        (run.checkpoints / name).mkdir(parents=True)
    (run.checkpoints / "best").symlink_to("epoch=0016-step=0002048")
    (run.checkpoints / "last").symlink_to("epoch=0016-step=0002048")
    (request,) = model_checkpoints(run, load_config("CartPole-v1", "ppo"))
    assert request["aliases"] == ["best", "last"]
    assert request["metadata"]["timesteps"] == 2048 and request["metadata"]["epoch"] == 16


def test_report_has_one_wandb_row_linking_the_run_or_saying_how_to_upload_it(tmp_path: Path) -> None:
    (tmp_path / "metrics.csv").write_text("train/cnt/timesteps,train/cnt/epoch\n128,1\n")
    online = {"status": "finished", "wandb_id": "abc12345", "wandb_url": "https://wandb.ai/me/p/runs/abc12345",
              "wandb_workspace": "https://wandb.ai/me/p?nw=gymsolver"}  # fmt: skip
    report = write_report(tmp_path, "t", {}, online).read_text()
    assert (
        "| W&B | [abc12345](https://wandb.ai/me/p/runs/abc12345); [workspace](https://wandb.ai/me/p?nw=gymsolver) |"
        in report
    )
    assert "wandb_url" not in report
    offline = {"wandb_id": "abc12345", "wandb_sync": "wandb sync runs/x/wandb/offline-run-*", "wandb_error": "boom"}
    report = write_report(tmp_path, "t", {}, offline).read_text()
    assert (
        "| W&B | offline run abc12345; upload it with `wandb sync runs/x/wandb/offline-run-*`; failed: boom |" in report
    )


# --- whole runs with the fake, in this process (the W&B process is forked from it) ---
@pytest.fixture
def fake_wandb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeWandb:
    """Online credentials, no WANDB_MODE, wandb faked; wandb-workspaces' two API calls faked too."""
    from utils.wandb_dashboard import workspace_model

    workspace_model("me", "p")  # loads wandb-workspaces with the real wandb, before wandb is replaced
    from wandb_workspaces.workspaces import internal

    def find(entity: str, project: str, name: str) -> dict[str, Any]:
        raise ValueError(f"Workspace `{name}` not found in project `{project}`")

    def upsert(view: Any) -> dict[str, Any]:
        with (tmp_path / "views.jsonl").open("a") as handle:
            handle.write(json.dumps({"name": view.name, "entity": view.entity, "project": view.project}) + "\n")
        return {"upsertView": {"view": {"name": view.name, "id": "v1"}}}

    monkeypatch.setattr(internal, "get_view_dict", find)
    monkeypatch.setattr(internal, "upsert_view2", upsert)
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    fake = FakeWandb(tmp_path / "calls.jsonl")
    monkeypatch.setitem(sys.modules, "wandb", fake)
    return fake


@pytest.mark.slow
def test_an_online_run_logs_every_row_and_records_its_url_and_workspace(
    runs_dir: Path, fake_wandb: FakeWandb, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from training.launch import train

    config = load_config("CartPole-v1", "ppo", {"max_timesteps": 2048, "eval_freq": 1024, "eval_episodes": 2,
                                                "video": {"every_n_evals": 1}, "wandb_tags": ["smoke"]})  # fmt: skip
    result = train(config, quiet=True)
    run_config = json.loads((result.run.path / "config.json").read_text())
    calls = read_calls(fake_wandb.calls_path)
    (init,) = calls_named(calls, "init")
    assert init["mode"] == "online" and init["id"] == run_config["wandb_id"] and len(init["id"]) == 8
    assert init["project"] == "CartPole-v1" and init["tags"] == ["smoke"] and init["name"] == result.run.run_id
    logs = calls_named(calls, "log")
    assert sorted({log["step"] for log in logs}) == list(range(1, 17))
    assert logs[0]["data"]["train/cnt/timesteps"] == 128
    videos = [video for log in logs for video in log["data"].get("val/videos", [])]
    assert videos and all("seed=" in video["caption"] for video in videos)
    assert {call["aliases"][0] for call in calls_named(calls, "log_artifact")} >= {"best"}
    assert calls_named(calls, "finish") == [{"call": "finish", "exit_code": 0}]
    summary = json.loads((result.run.path / "summary.json").read_text())
    url = f"https://wandb.test/me/CartPole-v1/runs/{run_config['wandb_id']}"
    assert summary["wandb_url"] == url and summary["wandb_workspace"] == "https://wandb.ai/me/CartPole-v1?nw=gymsolver"
    assert f"]({url})" in (result.run.path / "report.md").read_text()
    views = read_calls(tmp_path / "views.jsonl")
    assert views == [{"name": "nw-gymsolver-v", "entity": "me", "project": "CartPole-v1"}]
    assert "warning" not in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.parametrize("failing", ["init", "log"])
def test_a_wandb_failure_is_reported_once_and_the_run_completes(
    runs_dir: Path, fake_wandb: FakeWandb, capsys: pytest.CaptureFixture[str], failing: str
) -> None:
    from training.launch import train

    fake_wandb.fail = {failing: 1 if failing == "init" else 3}  # no server at the start, or a quota mid-run
    result = train(load_config("CartPole-v1", "ppo", {"max_timesteps": 1024, "wandb_dashboard": False}), quiet=True)
    out = capsys.readouterr().out
    assert out.count("warning: W&B failed") == 1 and "quota exceeded" in out
    summary = json.loads((result.run.path / "summary.json").read_text())
    assert "quota exceeded" in summary["wandb_error"] and summary["status"] == "finished"
    assert ("wandb_url" in summary) == (failing == "log")
    assert len((result.run.path / "metrics.csv").read_text().splitlines()) == 1 + 8
    assert (result.run.path / "report.md").is_file() and (result.run.checkpoints / "last").is_dir()


def test_online_without_credentials_fails_before_wandb_or_a_run_directory(
    runs_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from training.launch import train

    for name in ("WANDB_API_KEY", "WANDB_IDENTITY_TOKEN_FILE", "WANDB_MODE", "WANDB_BASE_URL", "NETRC"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    fake = FakeWandb(tmp_path / "calls.jsonl")
    monkeypatch.setitem(sys.modules, "wandb", fake)
    with pytest.raises(ConfigError, match=r"wandb login.*WANDB_API_KEY"):
        train(load_config("CartPole-v1", "ppo", {"wandb": "online"}), quiet=True)
    assert not runs_dir.exists() and read_calls(fake.calls_path) == []
