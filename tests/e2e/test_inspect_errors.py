"""run_inspect.py: every user error is one line and exit status 2 before the server starts; --help loads no Gradio."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_runner import REPO, cli_env, run_cli

from utils.runs import create_run

FORMAT0_RUN = REPO / "tests" / "fixtures" / "runs_format0" / "20261130-023502-f5e2"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _runs_with_the_fixture(tmp_path: Path) -> Path:
    shutil.copytree(FORMAT0_RUN, tmp_path / FORMAT0_RUN.name, symlinks=True)
    (tmp_path / "@last").symlink_to(FORMAT0_RUN.name)
    return tmp_path


def _one_line_error(result: subprocess.CompletedProcess, expected: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], result.stderr
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.e2e
def test_no_runs_yet_is_one_line(tmp_path: Path) -> None:
    _one_line_error(run_cli(["run_inspect.py"], tmp_path / "runs"), "no runs yet")


@pytest.mark.e2e
@pytest.mark.parametrize(("run_id", "expected"), [("nope", "no run 'nope'"), ("../x", "is not a run name")])
def test_an_unknown_or_path_like_run_id_is_one_line(tmp_path: Path, run_id: str, expected: str) -> None:
    runs = _runs_with_the_fixture(tmp_path)
    _one_line_error(run_cli(["run_inspect.py", "--run-id", run_id], runs), expected)


@pytest.mark.e2e
def test_a_run_without_a_checkpoint_is_one_line(tmp_path: Path) -> None:
    run = create_run({"env_id": "CartPole-v1"}, root=tmp_path)
    _one_line_error(run_cli(["run_inspect.py", "--run-id", run.run_id], tmp_path), "has no checkpoint yet")


@pytest.mark.e2e
def test_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    runs = _runs_with_the_fixture(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(["run_inspect.py", "--port", str(port)], runs)
    _one_line_error(result, f"port {port} on 127.0.0.1 is in use; pick another with --port")


@pytest.mark.e2e
def test_a_port_out_of_range_is_one_line(tmp_path: Path) -> None:
    runs = _runs_with_the_fixture(tmp_path)
    _one_line_error(run_cli(["run_inspect.py", "--port", "70000"], runs), "--port: 70000 is not a port number")


@pytest.mark.e2e
def test_an_env_whose_optional_extra_is_missing_is_one_line(tmp_path: Path) -> None:
    pytest.importorskip("ale_py")
    if subprocess.run([sys.executable, "-c", "import ocatari"], capture_output=True).returncode == 0:
        pytest.skip("OCAtari is installed here; this checks the message shown without it")
    runs = _runs_with_the_fixture(tmp_path)
    config_path = runs / FORMAT0_RUN.name / "config.json"
    config = json.loads(config_path.read_text())
    config.update(env_id="ALE/Pong-v5", obs_type="objects", config_id="ALE-Pong-v5:objects")
    config_path.write_text(json.dumps(config))
    _one_line_error(run_cli(["run_inspect.py"], runs), "pip install -e '.[atari-objects]'")


@pytest.mark.e2e
def test_help_answers_without_importing_gradio_or_torch(tmp_path: Path) -> None:
    result = run_cli(["-X", "importtime", "run_inspect.py", "--help"], tmp_path)
    assert result.returncode == 0 and "--run-id" in result.stdout and "--share" in result.stdout
    imported = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines() if "|" in line}
    assert not imported & {"gradio", "torch", "gymnasium", "lightning"}


@pytest.mark.e2e
@pytest.mark.slow
def test_binding_every_interface_warns_and_prints_the_url(tmp_path: Path) -> None:
    runs = _runs_with_the_fixture(tmp_path)
    port = _free_port()
    log = tmp_path / "server.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "run_inspect.py", "--host", "0.0.0.0", "--port", str(port)],
            cwd=REPO, env=cli_env(runs), stdout=output, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while "inspector: http://" not in log.read_text() and time.monotonic() < deadline:
                assert server.poll() is None, log.read_text()
                time.sleep(0.5)
        finally:
            server.terminate()
            server.wait(timeout=30)
    lines = log.read_text().splitlines()
    assert lines[0] == "warning: the inspector is reachable by others on 0.0.0.0; it shows this machine's runs"
    assert f"inspector: http://127.0.0.1:{port}/" in log.read_text()
