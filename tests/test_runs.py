"""Run directories: creation, the @last link, and lookup by id with helpful errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from utils.runs import LAST_ALIAS, RunDir, create_run, list_runs, resolve_run, runs_root

CONFIG = {"env_id": "CartPole-v1", "algo_id": "ppo", "policy_lr": {"start": 0.001, "end": 0.0}}


def test_create_run_makes_config_checkpoints_and_logs(tmp_path: Path) -> None:
    run = create_run(CONFIG, root=tmp_path)
    assert run.path.parent == tmp_path
    assert run.checkpoints.is_dir()
    assert run.logs.is_dir()
    assert json.loads(run.config_path.read_text()) == {"format_version": 1, **CONFIG}
    assert run.read_config() == CONFIG


def test_create_run_points_last_at_the_new_run(tmp_path: Path) -> None:
    first = create_run(CONFIG, root=tmp_path)
    assert os.readlink(tmp_path / LAST_ALIAS) == first.run_id
    second = create_run({**CONFIG, "seed": 1}, root=tmp_path)
    assert second.run_id != first.run_id
    assert os.readlink(tmp_path / LAST_ALIAS) == second.run_id
    assert resolve_run(LAST_ALIAS, root=tmp_path) == RunDir(tmp_path / second.run_id)
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_resolve_run_by_id_returns_that_run(tmp_path: Path) -> None:
    first = create_run(CONFIG, root=tmp_path)
    create_run(CONFIG, root=tmp_path)
    assert resolve_run(first.run_id, root=tmp_path).path == first.path


def test_runs_dir_comes_from_the_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GYMSOLVER_RUNS_DIR", str(tmp_path / "elsewhere"))
    assert runs_root() == tmp_path / "elsewhere"
    run = create_run(CONFIG)
    assert run.path.parent == tmp_path / "elsewhere"
    assert resolve_run(LAST_ALIAS).path == tmp_path / "elsewhere" / run.run_id
    assert resolve_run(run.run_id).read_config() == CONFIG


def test_runs_dir_defaults_to_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GYMSOLVER_RUNS_DIR", raising=False)
    assert runs_root() == Path("runs")


def test_unknown_run_id_suggests_the_closest_run(tmp_path: Path) -> None:
    run = create_run(CONFIG, root=tmp_path)
    typo = run.run_id[:-1] + ("0" if run.run_id[-1] != "0" else "1")
    with pytest.raises(FileNotFoundError, match=f"no run '{typo}'.*did you mean '{run.run_id}'"):
        resolve_run(typo, root=tmp_path)


def test_unknown_run_id_without_close_match_lists_known_runs(tmp_path: Path) -> None:
    run = create_run(CONFIG, root=tmp_path)
    with pytest.raises(FileNotFoundError, match=f"known runs: {run.run_id}"):
        resolve_run("zzz", root=tmp_path)


def test_last_without_any_run_says_to_train_one_first(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no runs yet"):
        resolve_run(LAST_ALIAS, root=tmp_path)


def test_list_runs_ignores_the_last_link_and_dirs_without_config(tmp_path: Path) -> None:
    runs = [create_run(CONFIG, root=tmp_path).run_id for _ in range(2)]
    (tmp_path / "not-a-run").mkdir()
    assert list_runs(tmp_path) == sorted(runs)
    assert list_runs(tmp_path / "missing") == []
