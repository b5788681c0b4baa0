"""The run-directory reader: ids are names, listings newest first with status, metrics as columns, checkpoints."""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from utils.run_reader import (
    list_checkpoints,
    list_run_summaries,
    open_run,
    read_episodes,
    read_metrics,
    run_status,
    video_path,
)
from utils.runs import RunIdError, create_run

FORMAT0_RUN = Path(__file__).parent / "fixtures" / "runs_format0" / "20261130-023502-f5e2"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    shutil.copytree(FORMAT0_RUN, tmp_path / FORMAT0_RUN.name, symlinks=True)
    return tmp_path


@pytest.mark.parametrize("bad", ["../x", "/etc", "a/b", "..", ".", "", "runs\\x"])
def test_run_ids_that_are_paths_are_refused_in_one_line(runs: Path, bad: str) -> None:
    with pytest.raises(RunIdError) as error:
        open_run(bad, runs)
    assert "\n" not in str(error.value) and "run id" in str(error.value)


def test_a_tampered_last_link_pointing_outside_is_refused(runs: Path) -> None:
    (runs / "@last").symlink_to("../elsewhere")
    with pytest.raises(RunIdError):
        open_run("@last", runs)


def test_runs_open_by_id_and_by_path(runs: Path) -> None:
    assert open_run(FORMAT0_RUN.name, runs).run_id == FORMAT0_RUN.name
    assert open_run(runs / FORMAT0_RUN.name).path == (runs / FORMAT0_RUN.name).resolve()
    with pytest.raises(FileNotFoundError, match="not a run directory"):
        open_run(runs)


def test_listing_is_newest_first_with_status_best_eval_and_steps(runs: Path) -> None:
    newer = create_run({"env_id": "Pendulum-v1", "config_id": "Pendulum-v1:ppo", "algo_id": "ppo"}, root=runs)
    (newer.path / ".lock").write_text(f"{os.getpid()} {socket.gethostname()} now\n")  # as the trainer writes it
    summaries = list_run_summaries(runs)
    assert [s.run_id for s in summaries] == [newer.run_id, FORMAT0_RUN.name]
    assert summaries[0].status == "running" and summaries[0].best_eval is None and summaries[0].env_id == "Pendulum-v1"
    old = summaries[1]
    assert (old.env_id, old.variant, old.algo_id, old.status) == ("CartPole-v1", "CartPole-v1:ppo", "ppo", "finished")
    assert old.best_eval == 19.0 and old.timesteps == 1024  # from metrics.csv: evals of 19 and 18
    assert old.created == "2026-11-30 02:35:02"


def test_status_comes_from_summary_json_and_a_killed_run_is_interrupted(runs: Path) -> None:
    run = create_run({"env_id": "CartPole-v1"}, root=runs)
    (run.path / ".lock").write_text("999999999 " + socket.gethostname() + " then\n")  # a holder that died
    assert run_status(run) == "interrupted"
    run.summary_path.write_text(json.dumps({"status": "diverged: train/loss/total became nan at step 128"}))
    assert run_status(run) == "diverged: train/loss/total became nan at step 128"


def test_metrics_are_columns_of_equal_length_with_nan_where_a_row_is_empty(runs: Path) -> None:
    run = open_run(FORMAT0_RUN.name, runs)
    columns = read_metrics(run)
    with run.metrics_csv.open() as handle:
        rows = list(csv.DictReader(handle))
    assert set(columns) == set(rows[0])
    assert all(len(values) == len(rows) for values in columns.values())
    evals = columns["val/roll/ep_rew/mean"]
    assert [i for i, v in enumerate(evals) if not math.isnan(v)] == [3, 7]
    assert evals[3] == 19.0 and columns["train/cnt/timesteps"][-1] == 1024.0


def test_episodes_skip_a_line_cut_off_by_a_kill_and_videos_resolve_inside_the_run(runs: Path) -> None:
    run = open_run(FORMAT0_RUN.name, runs)
    path = run.path / "episodes.jsonl"
    with path.open("a") as handle:
        handle.write('{"eval": 9, "timest')
    rows = read_episodes(run)
    assert len(rows) == 4 and rows[0]["seed"] == 4000012
    video = video_path(run, rows[0])
    assert video is not None and video.is_file() and video.suffix == ".mp4"
    assert video_path(run, rows[1]) is None  # not recorded
    assert video_path(run, {**rows[0], "video_status": "pruned"}) is None
    assert video_path(run, {**rows[0], "video": "../../../etc/passwd"}) is None


def test_checkpoints_list_their_aliases_and_the_eval_of_their_epoch(runs: Path) -> None:
    infos = list_checkpoints(open_run(FORMAT0_RUN.name, runs))
    assert [(i.epoch, i.timesteps, i.aliases, i.eval_return) for i in infos] == [
        (4, 512, ("best",), 19.0),
        (8, 1024, ("last",), 18.0),
    ]


def test_reading_a_run_imports_no_torch_gymnasium_or_lightning() -> None:
    code = (
        "import sys; from pathlib import Path; import utils.run_reader as r; "
        f"run = r.open_run(Path({str(FORMAT0_RUN)!r})); r.read_metrics(run); r.read_episodes(run); "
        "r.list_checkpoints(run); r.summarize_run(run); "
        "print(sorted(m for m in ('torch', 'gymnasium', 'lightning') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
