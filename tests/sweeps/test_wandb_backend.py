"""The W&B backend up to the client boundary: the sweep config W&B is given, the ``wandb agent`` processes started
(through a fake ``wandb`` module and a fake Popen), and the one-line errors when W&B cannot run the sweep."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from sweeps.spec import load_spec
from sweeps.wandb_backend import create_sweep, run_agents
from train import build_parser, collect_overrides
from utils.config_values import ConfigError

REPO = Path(__file__).resolve().parents[2]
CREDENTIAL_VARIABLES = ("WANDB_API_KEY", "WANDB_IDENTITY_TOKEN_FILE", "WANDB_MODE", "WANDB_DISABLED", "NETRC")
PARAMETERS = {"n_epochs": {"values": [2, 4]}, "policy_lr.start": {"values": [0.003, 0.001]}}


class FakeWandb:
    """The two calls create_sweep makes on the wandb module, recorded."""

    def __init__(self) -> None:
        self.sweeps: list[dict[str, Any]] = []

    def sweep(self, sweep: dict[str, Any], project: str | None = None, entity: str | None = None) -> str:
        self.sweeps.append({"sweep": sweep, "project": project, "entity": entity})
        return "abc123xy"

    def Api(self) -> SimpleNamespace:  # wandb's name
        return SimpleNamespace(default_entity="me-by-default")


class FakeAgent:
    """A finished ``wandb agent`` process."""

    def __init__(self, returncode: int) -> None:
        self.returncode, self.pid = returncode, 0

    def poll(self) -> int:
        return self.returncode


class FakePopen:
    """Records every process started; each exits at once with ``returncode``."""

    def __init__(self, returncode: int = 0) -> None:
        self.calls: list[dict[str, Any]] = []
        self.returncode = returncode

    def __call__(self, command: list[str], **kwargs: Any) -> FakeAgent:
        self.calls.append({"command": command, **kwargs})
        return FakeAgent(self.returncode)


@pytest.fixture
def logged_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An environment with W&B credentials (a key that is never sent anywhere) and online W&B."""
    for name in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    return {"HOME": str(tmp_path / "home"), "WANDB_API_KEY": "x" * 40, "PATH": "/usr/bin:/bin"}


def no_credentials(home: Path, **extra: str) -> dict[str, str]:
    """Variables for a CLI subprocess on a machine that never ran `wandb login`."""
    home.mkdir(parents=True, exist_ok=True)
    return {"HOME": str(home), "NETRC": str(home / "no-netrc"), "WANDB_API_KEY": "", **extra}


def test_create_sweep_gives_wandb_the_spec_with_the_cli_sets_in_its_command(
    tmp_path: Path, logged_in: dict[str, str], make_spec, save_spec
) -> None:
    written = make_spec(PARAMETERS, sets=["eval_episodes=2"], project="gs-sweeps", entity="team-a")
    path = save_spec(tmp_path / "spec.yaml", written)
    spec = load_spec(path, {"video": "off", "env_kwargs.sutton_barto_reward": True}, local=False)
    wandb = FakeWandb()
    assert create_sweep(spec, wandb=wandb) == "team-a/gs-sweeps/abc123xy"
    [call] = wandb.sweeps
    assert (call["project"], call["entity"]) == ("gs-sweeps", "team-a")
    given = call["sweep"]
    assert {k: v for k, v in given.items() if k != "command"} == {k: v for k, v in written.items() if k != "command"}
    command = given["command"]
    assert command[: len(written["command"])] == written["command"]
    # what the agent runs after ${env} ${interpreter} ${program}: train.py's own parser reads the --set values
    args = build_parser().parse_args(command[3:])
    assert args.config == "CartPole-v1:ppo" and args.quiet
    assert collect_overrides(args) == {"eval_episodes": 2, "video": "off", "env_kwargs.sutton_barto_reward": True}


def test_create_sweep_without_a_project_uses_the_configs_and_the_default_entity(
    tmp_path: Path, logged_in: dict[str, str], make_spec, save_spec
) -> None:
    spec = load_spec(save_spec(tmp_path / "spec.yaml", make_spec(PARAMETERS)), {"wandb_project": "cart"}, local=False)
    wandb = FakeWandb()
    assert create_sweep(spec, wandb=wandb) == "me-by-default/cart/abc123xy"
    assert (wandb.sweeps[0]["project"], wandb.sweeps[0]["entity"]) == ("cart", None)


@pytest.mark.parametrize(("count", "agents", "expected"), [(5, 2, [3, 2]), (4, 4, [1, 1, 1, 1]), (1, 3, [1])])
def test_run_agents_splits_the_count_between_wandb_agent_processes(
    count: int, agents: int, expected: list[int], tmp_path: Path, logged_in: dict[str, str]
) -> None:
    popen = FakePopen()
    runs = tmp_path / "runs"
    assert run_agents("team-a/gs/abc123xy", count, agents, runs, environ=logged_in, popen=popen) == 0
    counts = []
    for call in popen.calls:
        command = call["command"]
        assert command[:4] == [sys.executable, "-m", "wandb", "agent"]
        assert command[4] == "--count" and command[-1] == "team-a/gs/abc123xy"
        counts.append(int(command[5]))
        assert Path(call["cwd"]) == REPO  # the spec's ${program} (train.py) is found from here
        assert call["env"]["GYMSOLVER_RUNS_DIR"] == str(runs.resolve())
        assert call["env"]["WANDB_API_KEY"] == logged_in["WANDB_API_KEY"]
    assert counts == expected


def test_run_agents_without_count_runs_until_the_sweep_ends(tmp_path: Path, logged_in: dict[str, str]) -> None:
    popen = FakePopen()
    run_agents("team-a/gs/abc123xy", None, 2, tmp_path / "runs", environ=logged_in, popen=popen)
    assert [call["command"][4:] for call in popen.calls] == [["team-a/gs/abc123xy"]] * 2


def test_agents_run_this_interpreter_as_the_specs_python(tmp_path: Path, logged_in: dict[str, str]) -> None:
    """wandb agent runs ${interpreter} as plain `python` from PATH: it must be the Python running the sweep."""
    popen = FakePopen()
    run_agents("team-a/gs/abc123xy", 1, 1, tmp_path / "runs", environ=logged_in, popen=popen)
    found = shutil.which("python", path=popen.calls[0]["env"]["PATH"])
    assert found is not None and Path(found).parent == Path(sys.executable).parent


def test_failed_agent_is_a_one_line_error(tmp_path: Path, logged_in: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="wandb agent exited with status 1"):
        run_agents("team-a/gs/abc123xy", 2, 1, tmp_path / "runs", environ=logged_in, popen=FakePopen(returncode=1))


@pytest.mark.parametrize("mode", ["offline", "disabled"])
def test_wandb_sweep_with_wandb_mode_offline_is_refused_before_anything_starts(
    mode: str, tmp_path: Path, logged_in: dict[str, str], make_spec, save_spec
) -> None:
    spec = load_spec(save_spec(tmp_path / "spec.yaml", make_spec(PARAMETERS)), local=False)
    wandb, popen = FakeWandb(), FakePopen()
    with pytest.raises(ConfigError, match=f"WANDB_MODE={mode}"):
        run_agents(
            "team-a/gs/abc123xy", 1, 1, tmp_path / "runs", environ={**logged_in, "WANDB_MODE": mode}, popen=popen
        )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WANDB_MODE", mode)
        with pytest.raises(ConfigError, match=f"WANDB_MODE={mode}"):
            create_sweep(spec, wandb=wandb)
    assert wandb.sweeps == [] and popen.calls == []


@pytest.mark.e2e
@pytest.mark.parametrize("mode", ["", "online", "offline"])
def test_wandb_backend_without_credentials_is_one_line_exit_2(
    mode: str, tmp_path: Path, make_spec, save_spec, run_cli
) -> None:
    path = save_spec(tmp_path / "spec.yaml", make_spec(PARAMETERS))
    runs = tmp_path / "runs"
    env = no_credentials(tmp_path / "home", WANDB_MODE=mode)
    done = run_cli(["scripts/sweep.py", str(path), "--backend", "wandb"], runs, env, timeout=120)
    assert done.returncode == 2, done.stderr[-3000:]
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "wandb login" in lines[0] or "WANDB_MODE=offline" in lines[0]
    assert not runs.exists()
