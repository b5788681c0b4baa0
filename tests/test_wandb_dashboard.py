"""The W&B workspace: its panels show every metric the trainer logs and nothing else; saving it is idempotent."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from utils.wandb_dashboard import EPISODES_KEY, VIDEO_KEY, X_AXIS, save_workspace, spec_keys, workspace_spec

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "setup_wandb_dashboard.py"
SECTION_NAMES = ["train", "eval", "losses", "optimisation", "timing", "videos"]


def offline_env(tmp_path: Path) -> dict[str, str]:
    """No credentials, and a proxy that refuses every connection: anything that reaches for the network fails."""
    drop = ("WANDB_API_KEY", "WANDB_IDENTITY_TOKEN_FILE", "NETRC", "WANDB_BASE_URL")
    base = {key: value for key, value in os.environ.items() if key not in drop}
    return {**base, "HOME": str(tmp_path), "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}


def line_metrics(spec: dict[str, Any]) -> set[str]:
    return spec_keys(spec) - {VIDEO_KEY, EPISODES_KEY}


def documented_metrics() -> set[str]:
    """The metrics.csv columns docs/RUN_DIRECTORY.md lists (the run directory's contract)."""
    text = (REPO / "docs" / "RUN_DIRECTORY.md").read_text()
    table = text.split("## metrics.csv")[1].split("\n## ")[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([\w/]+)`", row.split(" | ")[0])}


def test_dry_run_prints_the_workspace_spec_as_json_without_network(tmp_path: Path) -> None:
    args = [sys.executable, str(SCRIPT), "--entity", "me", "--project", "CartPole-v1", "--dry-run", "--select-latest"]
    result = subprocess.run(args, capture_output=True, text=True, env=offline_env(tmp_path), timeout=120)
    assert result.returncode == 0, result.stderr
    spec = json.loads(result.stdout)
    assert (spec["entity"], spec["project"], spec["name"]) == ("me", "CartPole-v1", "nw-gymsolver-v")
    sections = spec["spec"]["section"]["panelBankConfig"]["sections"]
    assert [section["name"] for section in sections] == SECTION_NAMES
    settings = spec["spec"]["section"]["settings"]
    assert settings["xAxis"] == X_AXIS and settings["maxRuns"] == 1  # --select-latest: the newest run only
    assert settings["shouldAutoGeneratePanels"] is False  # only these panels: none for keys never logged


def test_panels_show_exactly_the_metrics_csv_columns_the_run_directory_documents() -> None:
    spec = workspace_spec("me", "p")
    assert line_metrics(spec) == documented_metrics()
    assert {VIDEO_KEY, EPISODES_KEY} <= spec_keys(spec)
    panels = [
        panel for section in spec["spec"]["section"]["panelBankConfig"]["sections"] for panel in section["panels"]
    ]
    plots = [panel["config"] for panel in panels if panel["viewType"] == "Run History Line Plot"]
    assert all(plot["xAxis"] == X_AXIS for plot in plots)
    assert {"chartTitle": "sps", "xAxis": X_AXIS, "metrics": ["train/time/sps"]} in plots  # metrics.yaml's label


@pytest.mark.slow
def test_panels_show_every_metric_short_runs_log_and_no_other(runs_dir: Path) -> None:
    from training.launch import train
    from utils.config import load_config

    ppo = {"max_timesteps": 2048, "eval_freq": 1024, "eval_episodes": 2, "video": {"every_n_evals": 1}}
    reinforce = {"max_timesteps": 512, "n_steps": 32, "eval_freq": 256, "eval_episodes": 2, "video": "off"}
    logged: set[str] = set()
    for variant, overrides in (("ppo_rewardshaped", ppo), ("reinforce", reinforce)):
        result = train(load_config("CartPole-v1", variant, {**overrides, "wandb": "off"}), quiet=True)
        with (result.run.path / "metrics.csv").open() as handle:
            logged |= set(next(csv.reader(handle)))
    assert logged == line_metrics(workspace_spec("me", "p"))


class FakeViews:
    """wandb-workspaces' two API calls: find a view by name, upsert a view."""

    def __init__(self) -> None:
        self.views: dict[str, dict[str, Any]] = {}
        self.saved: list[Any] = []

    def find(self, entity: str, project: str, name: str) -> dict[str, Any]:
        if project == "private":
            raise ValueError(f"Project `{entity}/{project}` not found.  Do you have access to this project?")
        if name not in self.views:
            raise ValueError(f"Workspace `{name}` not found in project `{project}`")
        return self.views[name]

    def upsert(self, view: Any) -> dict[str, Any]:
        self.saved.append(view)
        view_id = view.id or f"view-{len(self.saved)}"
        self.views[view.name.removeprefix("nw-").removesuffix("-v")] = {"id": view_id, "spec": "{}"}
        return {"upsertView": {"view": {"name": view.name, "id": view_id}}}


def test_saving_twice_creates_the_workspace_once_and_overwrite_replaces_that_one() -> None:
    api = FakeViews()
    first = save_workspace("me", "CartPole-v1", find=api.find, upsert=api.upsert)
    assert first.action == "created" and first.url == "https://wandb.ai/me/CartPole-v1?nw=gymsolver"
    assert [(view.name, view.id, view.display_name) for view in api.saved] == [
        ("nw-gymsolver-v", "", "gymnasium-solver")
    ]
    again = save_workspace("me", "CartPole-v1", find=api.find, upsert=api.upsert)
    assert again.action == "unchanged" and len(api.saved) == 1
    replaced = save_workspace("me", "CartPole-v1", overwrite=True, find=api.find, upsert=api.upsert)
    assert replaced.action == "replaced" and api.saved[-1].id == "view-1"  # the same view, updated in place


def test_a_project_that_cannot_be_read_is_an_error_not_a_new_workspace() -> None:
    api = FakeViews()
    with pytest.raises(ValueError, match="Do you have access"):
        save_workspace("me", "private", find=api.find, upsert=api.upsert)
    assert api.saved == []


def test_saving_without_credentials_is_one_error_line(tmp_path: Path) -> None:
    args = [sys.executable, str(SCRIPT), "--entity", "me", "--project", "p"]
    result = subprocess.run(args, capture_output=True, text=True, env=offline_env(tmp_path), timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "wandb login" in result.stderr and "WANDB_API_KEY" in result.stderr
