"""run_play.py --record-dataset then --playback: the recorded episodes play back 'deterministic' (exit 0), an
altered action is reported at its divergence (exit 1), a Hub dataset plays from the cache with HF_HUB_OFFLINE=1,
and without Hugging Face datasets installed the dataset flags say what to install, in one line."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import datasets
import pytest
from cli_runner import REPO, cli_env, run_cli

from gameplay.dataset_hub import write_parquet
from gameplay.dataset_recorder import RECORDING_FILE

# run_play.py's main in a process where ``import datasets`` fails, as it does when the extra is not installed.
WITHOUT_DATASETS = "import sys; sys.modules['datasets'] = None; import run_play; sys.exit(run_play.main(sys.argv[1:]))"


def one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("error: "), result.stderr
    return result.stderr.strip()


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    """Two episodes of CartPole-v1:ppo with an untrained policy, recorded by the CLI."""
    root = tmp_path_factory.mktemp("datasets")
    out = root / "recording"
    args = ["run_play.py", "CartPole-v1:ppo", "--random", "--episodes", "2", "--headless", "--record-dataset", str(out)]
    result = run_cli(args, root / "runs", timeout=300)
    assert result.returncode == 0, result.stderr
    return out, result


@pytest.mark.slow
@pytest.mark.e2e
def test_a_recorded_play_plays_back_deterministic(recorded: tuple[Path, subprocess.CompletedProcess]) -> None:
    out, recording = recorded
    returns = [float(x) for x in re.findall(r"return (-?[\d.]+)  length", recording.stdout)]
    assert f"dataset: {out} (2 episodes, " in recording.stdout
    metadata = json.loads((out / RECORDING_FILE).read_text())
    assert metadata["env_id"] == "CartPole-v1" and metadata["env"]["kind"] == "config"
    assert metadata["source"]["kind"] == "random" and metadata["fps"] == 50
    assert [episode["total_reward"] for episode in metadata["episodes"]] == returns

    result = run_cli(["run_play.py", "--playback", str(out)], out.parent / "runs", timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("episode ")]
    assert len(lines) == 2 and all(line.endswith("(matched)  deterministic") for line in lines), result.stdout
    assert "playback: 2/2 episodes deterministic" in result.stdout


@pytest.mark.slow
@pytest.mark.e2e
def test_an_altered_action_makes_playback_report_the_divergence_and_exit_1(
    recorded: tuple[Path, subprocess.CompletedProcess], tmp_path: Path
) -> None:
    out, _ = recorded
    k = 2
    edited = datasets.load_from_disk(str(out)).map(
        lambda row, i: {"action": 1 - row["action"] if i == k else row["action"]}, with_indices=True
    )
    edited.save_to_disk(str(tmp_path / "edited"))
    shutil.copyfile(out / RECORDING_FILE, tmp_path / "edited" / RECORDING_FILE)

    result = run_cli(["run_play.py", "--playback", str(tmp_path / "edited")], tmp_path / "runs", timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    first, second = [line for line in result.stdout.splitlines() if line.startswith("episode ")]
    step = int(re.search(r"diverged at step (\d+): ", first).group(1))  # type: ignore[union-attr]
    assert step > k  # the frames up to the altered action's are the recorded ones
    assert second.endswith("deterministic")  # the other episode was left as it was
    assert "playback: 1/2 episodes deterministic" in result.stdout


@pytest.mark.slow
@pytest.mark.e2e
def test_a_hub_dataset_plays_back_from_the_cache_with_hf_hub_offline(
    recorded: tuple[Path, subprocess.CompletedProcess], tmp_path: Path
) -> None:
    """The repo layout --push-dataset uploads, laid out as the Hugging Face cache holds a downloaded dataset."""
    out, _ = recorded
    snapshot = tmp_path / "hub" / "datasets--alice--cartpole" / "snapshots" / ("0" * 40)
    (snapshot / "data").mkdir(parents=True)
    write_parquet(out, snapshot / "data")
    shutil.copyfile(out / RECORDING_FILE, snapshot / RECORDING_FILE)
    (tmp_path / "hub" / "datasets--alice--cartpole" / "refs").mkdir()
    (tmp_path / "hub" / "datasets--alice--cartpole" / "refs" / "main").write_text("0" * 40)

    env = {**cli_env(tmp_path / "runs"), "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "hub")}
    args = [sys.executable, "run_play.py", "--playback", "alice/cartpole"]
    result = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "from alice/cartpole (commit 00000000)" in result.stdout
    assert "playback: 2/2 episodes deterministic" in result.stdout

    missing = subprocess.run([*args[:-1], "alice/not-cached"], cwd=REPO, env=env, capture_output=True, text=True,
                             timeout=300)  # fmt: skip
    assert "is not in the Hugging Face cache" in one_error_line(missing) and "HF_HUB_OFFLINE is set" in missing.stderr


@pytest.mark.e2e
@pytest.mark.parametrize(
    "args",
    [
        ["CartPole-v1:ppo", "--random", "--headless", "--record-dataset"],
        ["CartPole-v1:ppo", "--random", "--headless", "--push-dataset"],
        ["--playback", "some/dataset"],
    ],
    ids=["record", "push", "playback"],
)
def test_without_datasets_installed_the_dataset_flags_say_what_to_install(args: list[str], tmp_path: Path) -> None:
    env = cli_env(tmp_path / "runs")
    result = subprocess.run([sys.executable, "-c", WITHOUT_DATASETS, *args], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=120)  # fmt: skip
    assert one_error_line(result).endswith('need Hugging Face datasets; install it: pip install -e ".[datasets]"')
    assert not (tmp_path / "runs").exists()


@pytest.mark.e2e
@pytest.mark.parametrize(
    "args, expected",
    [
        (["--playback", "x", "--run-id", "@last"], "--playback replays the recorded seeds and actions; drop --run-id"),
        (
            ["CartPole-v1:ppo", "--random", "--record-dataset", "d", "--export", "e"],
            "--record-dataset records the frames itself; drop --export",
        ),
        (
            ["CartPole-v1:ppo", "--random", "--record-dataset", "d", "--render", "human"],
            "--record-dataset renders rgb_array frames, never a window; drop --render human",
        ),
        (["--playback", "no/such/folder"], "--playback: no folder no/such/folder, and it is not a Hub dataset name"),
    ],
)
def test_dataset_flags_that_cannot_work_are_one_line_errors(args: list[str], expected: str, tmp_path: Path) -> None:
    result = run_cli(["run_play.py", *args], tmp_path / "runs", timeout=120)
    assert one_error_line(result).startswith(f"error: {expected}")
    assert not os.path.exists(tmp_path / "runs" / "datasets")
