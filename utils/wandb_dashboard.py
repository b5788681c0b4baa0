"""The W&B workspace of a project: a section per concern, a panel for every metric the trainer logs.

Panels plot against ``train/cnt/timesteps`` (the x-axis every logged metric is defined against). Their
titles come from ``config/metrics.yaml`` (a rule's ``label``, else the metric's name); which section a
metric belongs to is :data:`SECTIONS`, and ``tests/test_wandb_dashboard.py`` keeps it equal to the
metrics ``metrics.csv`` documents and real runs log. The workspace is saved under one fixed view name,
so it is found again: saving is idempotent, and an existing workspace is only replaced when asked.
Only :func:`save_workspace` and :func:`workspace_model` import ``wandb_workspaces`` (and through it wandb).
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from loggers.metrics_rules import MetricsRules

X_AXIS = "train/cnt/timesteps"
VIDEO_KEY = "val/videos"  # a list of wandb.Video per logged step (the videos that finished encoding then)
EPISODES_KEY = "val/episodes"  # every evaluation episode (episodes.jsonl) as a table, logged at the end
WORKSPACE_TITLE = "gymnasium-solver"
VIEW_SLUG = "gymsolver"  # the view's fixed name (W&B stores it as nw-gymsolver-v; the URL says ?nw=gymsolver)


@dataclass(frozen=True)
class Panel:
    """One panel: line plots of ``metrics`` against timesteps, or a media or table panel of one key."""

    metrics: tuple[str, ...]
    kind: str = "line"  # line | media | table
    title: str = ""


def _lines(*metrics: str, title: str = "") -> Panel:
    return Panel(tuple(metrics), "line", title)


# Sections in workspace order. A metric that only some runs log (PPO's clip statistics, the shaped return of
# env_wrappers, the video timings with video on) has its panel all the same; it stays empty elsewhere.
SECTIONS: dict[str, tuple[Panel, ...]] = {
    "train": (
        _lines("train/roll/ep_rew/mean"),
        _lines("train/roll/ep_rew_shaped/mean"),
        _lines("train/roll/ep_len/mean"),
        _lines("train/cnt/episodes"),
        _lines("train/cnt/epoch"),
    ),
    "eval": (
        _lines("val/roll/ep_rew/mean", "val/roll/ep_rew/min", "val/roll/ep_rew/best", title="eval return"),
        _lines("val/roll/ep_rew/std"),
        _lines("val/roll/ep_len/mean"),
        _lines("val/cnt/evals"),
        Panel((EPISODES_KEY,), "table", "eval episodes"),
    ),
    "losses": (
        _lines("train/loss/total"),
        _lines("train/loss/policy"),
        _lines("train/loss/value"),
        _lines("train/entropy"),
    ),
    "optimisation": (
        _lines("train/opt/grads/norm/mean", "train/opt/grads/norm/max", title="gradient norm"),
        _lines("train/approx_kl"),
        _lines("train/clip_fraction"),
        _lines("train/explained_variance"),
        _lines("train/opt/epochs"),
        _lines("train/policy_lr"),
        _lines("train/clip_range"),
        _lines("train/ent_coef"),
        _lines("train/vf_coef"),
    ),
    "timing": (
        _lines("train/time/sps"),
        _lines("val/video/render_ms_per_frame"),
        _lines("val/video/encode_s"),
    ),
    "videos": (Panel((VIDEO_KEY,), "media", "eval videos"),),
}


def panel_title(panel: Panel, rules: MetricsRules) -> str:
    """The panel's own title, else its one metric's ``metrics.yaml`` label, else the metric's name."""
    if panel.title:
        return panel.title
    (metric,) = panel.metrics
    return rules.rule_for(metric).label or metric


def dashboard_metrics(kind: str = "line") -> set[str]:
    """Every key the panels of ``kind`` show."""
    return {
        metric for panels in SECTIONS.values() for panel in panels if panel.kind == kind for metric in panel.metrics
    }


def workspace_model(entity: str, project: str, select_latest: bool = False) -> Any:
    """The ``wandb_workspaces`` Workspace: sections and panels from :data:`SECTIONS`.

    ``select_latest``: panels show only the newest run (runs are ordered newest first; one run per panel).
    """
    with warnings.catch_warnings():  # wandb-workspaces 0.4 still declares pydantic-v1 validators
        warnings.simplefilter("ignore", DeprecationWarning)
        import wandb_workspaces.reports.v2 as wr
        import wandb_workspaces.workspaces as ws

    rules = MetricsRules.load()

    def build(panel: Panel) -> Any:
        title = panel_title(panel, rules)
        if panel.kind == "media":
            return wr.MediaBrowser(title=title, media_keys=list(panel.metrics), num_columns=2)
        if panel.kind == "table":
            return wr.WeavePanelSummaryTable(table_name=panel.metrics[0])
        return wr.LinePlot(title=title, x=X_AXIS, y=list(panel.metrics))

    sections = [
        ws.Section(name=name, panels=[build(panel) for panel in panels], is_open=name in ("train", "eval", "videos"))
        for name, panels in SECTIONS.items()
    ]
    settings = ws.WorkspaceSettings(x_axis=X_AXIS, max_runs=1 if select_latest else 10)
    return ws.Workspace(entity=entity, project=project, name=WORKSPACE_TITLE, sections=sections, settings=settings)


def workspace_spec(entity: str, project: str, select_latest: bool = False) -> dict[str, Any]:
    """The workspace as the JSON W&B stores (``--dry-run`` prints it); builds offline."""
    view = workspace_model(entity, project, select_latest)._to_model()
    view.name = f"nw-{VIEW_SLUG}-v"
    return json.loads(view.model_dump_json(by_alias=True, exclude_none=True))


def spec_keys(spec: dict[str, Any]) -> set[str]:
    """Every metric, media and table key the panels of a :func:`workspace_spec` reference (x-axes included)."""
    keys: set[str] = set()
    for section in spec["spec"]["section"]["panelBankConfig"]["sections"]:
        for panel in section["panels"]:
            config = panel.get("config", {})
            keys.update(config.get("metrics", []))
            keys.update(config.get("mediaKeys", []))
            if config.get("xAxis"):
                keys.add(config["xAxis"])
            keys.update(_table_keys(config.get("panel2Config", {})))
    return keys


def _table_keys(node: Any) -> set[str]:
    """The table a Weave summary-table panel reads (``runs.summary["<name>"]``): the string constants of its
    expression that name one of our keys (they all start with ``val/``)."""
    found: set[str] = set()
    if isinstance(node, dict):
        if node.get("nodeType") == "const" and isinstance(node.get("val"), str) and node["val"].startswith("val/"):
            found.add(node["val"])
        for value in node.values():
            found |= _table_keys(value)
    elif isinstance(node, list):
        for value in node:
            found |= _table_keys(value)
    return found


@dataclass(frozen=True)
class SavedWorkspace:
    """Where the workspace is and what saving did: ``created``, ``replaced`` or ``unchanged``."""

    url: str
    action: str


def workspace_url(entity: str, project: str, environ: dict[str, str] | None = None) -> str:
    """The workspace's address in the W&B app."""
    environ = dict(os.environ) if environ is None else environ
    base = environ.get("WANDB_BASE_URL", "https://api.wandb.ai").rstrip("/")
    app = "https://wandb.ai" if base == "https://api.wandb.ai" else base
    return f"{app}/{entity}/{project}?nw={VIEW_SLUG}"


def save_workspace(
    entity: str,
    project: str,
    overwrite: bool = False,
    select_latest: bool = False,
    find: Callable[[str, str, str], dict[str, Any]] | None = None,
    upsert: Callable[[Any], dict[str, Any]] | None = None,
) -> SavedWorkspace:
    """Create the project's workspace, or leave an existing one unchanged unless ``overwrite``.

    ``find`` and ``upsert`` are the two W&B API calls (wandb-workspaces' ``get_view_dict`` and
    ``upsert_view2``; tests pass fakes). Errors (no access, no network) propagate to the caller.
    """
    from wandb_workspaces.workspaces import internal

    find = find or internal.get_view_dict
    upsert = upsert or internal.upsert_view2
    try:
        existing: dict[str, Any] | None = find(entity, project, VIEW_SLUG)
    except ValueError as error:
        if not str(error).startswith("Workspace "):
            raise  # the project is missing or not accessible
        existing = None
    url = workspace_url(entity, project)
    if existing is not None and not overwrite:
        return SavedWorkspace(url, "unchanged")
    view = workspace_model(entity, project, select_latest)._to_model()
    view.name = f"nw-{VIEW_SLUG}-v"
    view.id = existing["id"] if existing is not None else ""
    upsert(view)
    return SavedWorkspace(url, "replaced" if existing is not None else "created")
