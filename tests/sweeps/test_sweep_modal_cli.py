"""scripts/sweep_modal.py with Modal's client faked at its boundary (the app's run, the worker function's
``with_options``/``spawn``, the volume): what it launches, and the one-line errors before anything is created."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import modal
import modal.config
import pytest
from fake_volume import FakeVolume

from sweeps import modal_app, wandb_backend


def load_script() -> ModuleType:
    """scripts/sweep_modal.py as a module (scripts/ is not a package), so its main() runs in this process."""
    path = Path(__file__).resolve().parents[2] / "scripts" / "sweep_modal.py"
    spec = importlib.util.spec_from_file_location("sweep_modal", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sweep_modal = load_script()
MakeSpec = Callable[..., dict[str, Any]]
SaveSpec = Callable[[Path, Mapping[str, Any]], Path]
GRID = {  # 5 x 2 = 10 grid points
    "max_timesteps": {"value": 2048},
    "policy_lr.start": {"values": [0.003, 0.002, 0.001, 0.0005, 0.0003]},
    "n_epochs": {"values": [5, 10]},
}


@dataclass
class FakeCall:
    """A ``modal.FunctionCall``: its id, and the worker's report (or the failure) that ``get`` returns."""

    object_id: str
    job: dict[str, Any]
    detached: bool

    def get(self) -> dict[str, Any]:
        assert not self.detached, "a detached launcher must not wait for its workers"
        trials = [{"status": "ok"}] * (len(self.job["trials"]) or self.job["count"])
        return {"worker": self.job["worker"], "attempts": 1, "note": "", "trials": trials}


@dataclass
class FakeModal:
    """The app and the worker function as the launcher uses them; records what it asked for."""

    options: list[dict[str, Any]] = field(default_factory=list)
    jobs: list[dict[str, Any]] = field(default_factory=list)
    runs: list[bool] = field(default_factory=list)  # detach flag of each app.run
    app_id: str = "ap-fake"

    @contextmanager
    def run(self, detach: bool = False) -> Iterator[FakeModal]:
        self.runs.append(detach)
        yield self

    def with_options(self, **options: Any) -> FakeModal:
        self.options.append(options)
        return self

    def spawn(self, job: dict[str, Any]) -> FakeCall:
        assert self.runs, "spawn outside app.run()"
        self.jobs.append(json.loads(json.dumps(job)))  # what crosses the wire is plain data
        return FakeCall(f"fc-{len(self.jobs) - 1}", job, self.runs[-1])


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, runs_dir: Path) -> FakeModal:
    """Modal faked at the client, a token present, and W&B's sweep creation faked (it would need the server)."""
    fake = FakeModal()
    monkeypatch.setattr(modal_app, "app", fake)
    monkeypatch.setattr(modal_app, "sweep_worker", fake)
    monkeypatch.setenv("MODAL_TOKEN_ID", "ak-test")
    monkeypatch.setenv("MODAL_TOKEN_SECRET", "as-test")
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)

    def create_sweep(spec: Any, wandb: Any = None, trials_here: bool = True) -> str:
        assert not trials_here  # the trials run on Modal, whatever WANDB_MODE says here
        return "me/proj/abc123"

    monkeypatch.setattr(wandb_backend, "create_sweep", create_sweep)
    return fake


@pytest.fixture
def grid_spec(tmp_path: Path, make_spec: MakeSpec, save_spec: SaveSpec) -> Path:
    return save_spec(tmp_path / "grid.yaml", make_spec(GRID))


def test_local_backend_launches_one_worker_per_five_trials(
    fake: FakeModal, grid_spec: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [str(grid_spec), "--backend", "local", "--count", "10", "--runs-per-worker", "5", "--cpu", "3",
            "--memory", "2048", "--timeout-per-trial", "600", "--retries", "2", "--secret", "hf-secret"]  # fmt: skip
    assert sweep_modal.main(argv) == 0
    (options,) = fake.options
    assert (options["cpu"], options["memory"], options["timeout"]) == (3.0, 2048, 5 * 600 + 600)
    assert options["retries"].max_retries == 2
    assert [secret.name for secret in options["secrets"]] == ["hf-secret"]
    assert fake.runs == [False] and len(fake.jobs) == 2
    assert [[t["trial"] for t in job["trials"]] for job in fake.jobs] == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    assert {job["backend"] for job in fake.jobs} == {"local"} and fake.jobs[1]["worker"] == 1
    sweep_id = fake.jobs[0]["sweep_id"]
    assert (runs_dir / "sweeps" / sweep_id / "spec.yaml").read_text() == grid_spec.read_text()
    out = capsys.readouterr().out
    assert "worker 1: 5 ok" in out and f"--fetch {sweep_id}" in out


def test_wandb_backend_creates_the_sweep_and_gives_each_worker_a_count(
    fake: FakeModal, grid_spec: Path, runs_dir: Path
) -> None:
    assert sweep_modal.main([str(grid_spec), "--count", "10", "--runs-per-worker", "5"]) == 0
    assert [(job["count"], job["trials"], job["sweep_path"]) for job in fake.jobs] == [(5, [], "me/proj/abc123")] * 2
    assert {job["sweep_id"] for job in fake.jobs} == {"abc123"}
    (options,) = fake.options
    assert [secret.name for secret in options["secrets"]] == ["wandb-secret"]
    assert (options["cpu"], options["memory"], options["timeout"]) == (2.0, 4096, 5 * 3600 + 600)
    assert (runs_dir / "sweeps/abc123/sweep.json").is_file()


def test_detach_returns_at_once_printing_the_call_ids(
    fake: FakeModal, grid_spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sweep_modal.main([str(grid_spec), "--count", "4", "--runs-per-worker", "2", "--detach"]) == 0
    assert fake.runs == [True] and len(fake.jobs) == 2
    out = capsys.readouterr().out
    assert "fc-0" in out and "fc-1" in out
    assert "modal app logs ap-fake" in out and "python scripts/sweep_modal.py --fetch abc123" in out


def one_error(capsys: pytest.CaptureFixture[str]) -> str:
    """The single line on stderr."""
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("error: ")
    return err


def test_no_modal_token_is_one_line_before_anything_is_created(
    fake: FakeModal, grid_spec: Path, runs_dir: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.delenv("MODAL_TOKEN_ID")
    monkeypatch.delenv("MODAL_TOKEN_SECRET")
    monkeypatch.setattr(modal.config, "_user_config", {})  # as if there were no ~/.modal.toml

    def no_sweep(spec: Any, wandb: Any = None, trials_here: bool = True) -> str:
        raise AssertionError("a W&B sweep was created without a Modal token")

    monkeypatch.setattr(wandb_backend, "create_sweep", no_sweep)
    assert sweep_modal.main([str(grid_spec), "--count", "4"]) == 2
    assert "no Modal token; run `modal token new`" in one_error(capsys)
    assert not fake.jobs and not (runs_dir / "sweeps").exists()


def test_usage_mistakes_are_one_line(
    fake: FakeModal, tmp_path: Path, make_spec: MakeSpec, save_spec: SaveSpec, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    bayes = {"policy_lr.start": {"distribution": "log_uniform_values", "min": 0.0001, "max": 0.01}}
    bayes_spec = save_spec(tmp_path / "bayes.yaml", make_spec(bayes, method="bayes"))
    assert sweep_modal.main([str(bayes_spec), "--backend", "local", "--count", "4"]) == 2
    assert "use --backend wandb" in one_error(capsys)

    random_spec = save_spec(tmp_path / "random.yaml", make_spec(GRID, method="random"))
    assert sweep_modal.main([str(random_spec), "--backend", "local"]) == 2
    assert "--count" in one_error(capsys)

    assert sweep_modal.main([str(random_spec), "--count", "4", "--runs-per-worker", "30"]) == 2
    assert "24 h" in one_error(capsys)

    monkeypatch.setitem(sys.modules, "modal", None)  # `import modal` fails as if it were not installed
    assert sweep_modal.main([str(random_spec), "--count", "4"]) == 2
    assert 'pip install -e ".[modal]"' in one_error(capsys)
    assert not fake.jobs


def test_wandb_backend_without_credentials_is_one_line(
    fake: FakeModal, grid_spec: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    for name in ("WANDB_API_KEY", "WANDB_MODE", "WANDB_IDENTITY_TOKEN_FILE", "WANDB_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    assert sweep_modal.main([str(grid_spec), "--count", "4"]) == 2
    assert "wandb login" in one_error(capsys)
    assert not fake.jobs


def test_spec_problems_are_listed_before_anything_is_created(
    fake: FakeModal, tmp_path: Path, make_spec: MakeSpec, save_spec: SaveSpec, runs_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    bad = make_spec({"n_epochs": {"values": [5]}}, method="gird", metric={"name": "val/roll/ep_rew/best", "goal": "up"})
    assert sweep_modal.main([str(save_spec(tmp_path / "bad.yaml", bad)), "--count", "4"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) >= 2 and all(line.startswith("error: ") for line in lines)
    assert not fake.jobs and not (runs_dir / "sweeps").exists()


def test_fetch_copies_the_sweep_from_the_volume(
    fake: FakeModal, tmp_path: Path, runs_dir: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    volume = tmp_path / "volume"  # one finished trial of sweep 'fetch1', as a worker leaves it
    run = volume / "20260101-000000-abcd"
    (run / "checkpoints").mkdir(parents=True)
    sweep = {"id": "fetch1", "trial": 0, "params": {"n_epochs": 5}, "worker": 0}
    (run / "config.json").write_text(json.dumps({"format_version": 1, "config_id": "CartPole-v1:ppo", "sweep": sweep}))
    (run / "metrics.csv").write_text("step,val/roll/ep_rew/best\n1024,42.5\n")
    (run / "summary.json").write_text(json.dumps({"status": "finished"}))
    job = {"sweep_id": "fetch1", "worker": 0, "backend": "local", "config_id": "CartPole-v1:ppo", "goal": "maximize",
           "metric": "val/roll/ep_rew/best", "method": "grid", "total": 1}  # fmt: skip
    trial = {"trial": 0, "params": {"n_epochs": 5}, "status": "ok", "run_id": run.name, "metric": 42.5,
             "reason": "", "seconds": 3.0, "extra": {}}  # fmt: skip
    state = {"job": job, "attempts": 1, "note": "", "trials": [trial], "links": {}}
    (volume / "sweeps/fetch1/workers").mkdir(parents=True)
    (volume / "sweeps/fetch1/workers/worker-0.json").write_text(json.dumps(state))
    names: list[str] = []

    def from_name(name: str, **kwargs: Any) -> FakeVolume:
        names.append(name)
        return FakeVolume(volume)

    monkeypatch.setattr(modal.Volume, "from_name", from_name)
    assert sweep_modal.main(["--fetch", "fetch1"]) == 0
    assert names == ["gymnasium-solver-runs"]
    assert (runs_dir / run.name / "metrics.csv").is_file()
    rows = (runs_dir / "sweeps/fetch1/trials.csv").read_text().splitlines()
    assert rows[1].startswith(f"0,ok,42.5,{run.name},")
    assert "best: trial 0" in capsys.readouterr().out

    assert sweep_modal.main(["--fetch", "nope"]) == 2
    assert "no sweep 'nope'" in one_error(capsys)
