"""run_publish.py and run_play.py --hub refuse mistakes with one ``error:`` line and exit status 2, before any
network: bad arguments, a run without checkpoints, a repo that is not in the cache or holds only pickles."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import REPO, cli_env, run_cli

pytestmark = pytest.mark.e2e
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--eval-episodes", "0"], "error: --eval-episodes: 0 must be >= 1"),
        (["--eval-episodes", "-3"], "error: --eval-episodes: -3 must be >= 1"),
        (["--eval-episodes", "many"], "error: argument --eval-episodes/--eval_episodes: invalid int value: 'many'"),
        (["--repo", "alice/ppo/CartPole"], "error: --repo: 'alice/ppo/CartPole' is not a Hub model name"),
        (["--repo", "alice/ppo--CartPole"], "error: --repo: 'alice/ppo--CartPole' is not a Hub model name"),
        (["--run-id", "../elsewhere"], "error: run id '../elsewhere' is not a run name"),
        (["--run-id", "nosuchrun"], "error: no run 'nosuchrun'"),
    ],
)
def test_a_bad_argument_is_one_line_before_anything_loads(args: list[str], expected: str, tmp_path: Path) -> None:
    result = run_cli(["run_publish.py", "--dry-run", str(tmp_path / "out"), *args], tmp_path / "runs", timeout=60)
    assert one_error_line(result).startswith(expected)
    assert not (tmp_path / "out").exists()


def test_a_dry_run_folder_that_is_not_empty_is_refused_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    result = run_cli(["run_publish.py", "--dry-run", str(out)], tmp_path / "runs", timeout=60)
    assert one_error_line(result) == (
        f"error: --dry-run: {out} is a folder that exists and is not empty; give a new or empty folder"
    )
    assert [path.name for path in out.iterdir()] == ["mine.txt"]


def test_a_run_without_checkpoints_is_one_line(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "20261130-000000-abcd"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"format_version": 1, "env_id": "CartPole-v1", "algo_id": "ppo"}))
    result = run_cli(["run_publish.py", "--run-id", run.name, "--dry-run", str(tmp_path / "out")], tmp_path / "runs")
    assert one_error_line(result) == (
        f"error: run {run.name} has no checkpoints (it stopped before its first update ended); "
        "give another run with --run-id"
    )


def hub_env(tmp_path: Path) -> dict[str, str]:
    return {**cli_env(tmp_path / "runs"), "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "cache"),
            "HF_HOME": str(tmp_path / "hf_home")}  # fmt: skip


def play_hub(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "run_play.py", "--headless", *args], cwd=REPO, env=hub_env(tmp_path),
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_a_repo_holding_only_pickles_is_refused_without_unpickling(tmp_path: Path) -> None:
    repo = tmp_path / "cache" / "models--bob--ppo-CartPole-v1"
    snapshot = repo / "snapshots" / COMMIT
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)
    witness = tmp_path / "unpickled"
    # unpickling this would create the witness file
    (snapshot / "model.pkl").write_bytes(pickle.dumps(_Witness(str(witness))))
    (snapshot / "policy.pt").write_bytes(pickle.dumps(_Witness(str(witness))))
    line = one_error_line(play_hub(tmp_path, "--hub", "bob/ppo-CartPole-v1"))
    assert line.startswith("error: bob/ppo-CartPole-v1 (main) has no policy.safetensors")
    assert "never loaded" in line
    assert not witness.exists()


class _Witness:
    """An object whose unpickling touches a file: proof that nothing was unpickled."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple:
        return (Path(self.path).touch, ())


def test_a_model_missing_from_the_cache_offline_is_one_line(tmp_path: Path) -> None:
    line = one_error_line(play_hub(tmp_path, "--hub", "carol/ppo-CartPole-v1", "--revision", "v2"))
    assert line == (
        f"error: carol/ppo-CartPole-v1 (v2) is not in the Hugging Face cache ({tmp_path / 'cache'}) and "
        "HF_HUB_OFFLINE is set; unset HF_HUB_OFFLINE to download it"
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--hub", "alice/x", "--run-id", "@last"], "error: --hub plays the published model; drop --run-id"),
        (["--hub", "alice/x", "--checkpoint", "last"], "error: --hub plays the published model; drop --checkpoint"),
        (["--hub", "not a name"], "error: --hub: 'not a name' is not a Hub model name"),
        (["--revision", "v2"], "error: --revision goes with --hub USER/NAME"),
    ],
)
def test_run_play_hub_argument_mistakes_are_one_line(args: list[str], expected: str, tmp_path: Path) -> None:
    assert one_error_line(play_hub(tmp_path, *args)).startswith(expected)
