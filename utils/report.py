"""End-of-run report: learning_curve.png and report.md written next to metrics.csv."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from loggers.metrics_rules import MetricsRules
from utils.atomic_files import write_atomic, write_text_atomic
from utils.metrics_csv import read_metrics_csv

TIMESTEPS = "train/cnt/timesteps"
TRAIN_REWARD = "train/roll/ep_rew/mean"
VAL_REWARD = "val/roll/ep_rew/mean"
CURVE_FILE = "learning_curve.png"
REPORT_FILE = "report.md"
CONFIG_FIELDS = (
    "env_id",
    "algo_id",
    "n_envs",
    "n_steps",
    "batch_size",
    "n_epochs",
    "max_timesteps",
    "policy_lr",
    "gamma",
    "gae_lambda",
    "clip_range",
    "ent_coef",
    "vf_coef",
    "max_grad_norm",
    "hidden_dims",
    "normalize_advantages",
    "seed",
)
CurveDrawer = Callable[[Path, list[dict[str, float]], Any], None]  # (path, metrics rows, reward threshold)
# Summary keys about W&B (trainer_callbacks/wandb_logging.py), shown as one "W&B" row.
WANDB_KEYS = ("wandb_id", "wandb_url", "wandb_sync", "wandb_workspace", "wandb_error")
# Metrics summarised in the report; True marks those where the maximum is the "best" value.
MAIN_METRICS: dict[str, bool] = {
    TRAIN_REWARD: True,
    VAL_REWARD: True,
    "val/roll/ep_rew/best": True,
    "train/roll/ep_len/mean": False,
    "val/roll/ep_len/mean": False,
    "train/loss/policy": False,
    "train/loss/value": False,
    "train/loss/entropy": False,
    "train/approx_kl": False,
    "train/explained_variance": False,
    "train/time/sps": False,
}


def write_report(
    run_dir: Path, title: str, config: dict, summary: dict[str, float | str], draw_curve: CurveDrawer | None = None
) -> Path:
    """Write learning_curve.png and report.md into `run_dir` (both atomically); returns the report path.
    ``draw_curve``: what draws the curve (``write_learning_curve`` unless given; the trainer's curve process)."""
    run_dir = Path(run_dir)
    rows = read_metrics_csv(run_dir / "metrics.csv")
    rules = MetricsRules.load()
    (draw_curve or write_learning_curve)(run_dir / CURVE_FILE, rows, summary.get("reward_threshold"))
    lines = [f"# {title}", ""]
    lines += [
        "## Summary",
        "",
        *markdown_table(("key", "value"), summary_rows(summary, rules)),
        "",
    ]
    lines += ["## Configuration", "", *config_section(config), ""]
    lines += ["## Metrics", "", *metrics_section(rows, rules), ""]
    lines += ["## Learning curve", "", f"![learning curve]({CURVE_FILE})", ""]
    report_path = run_dir / REPORT_FILE
    write_text_atomic(report_path, "\n".join(lines))
    return report_path


def curve_points(rows: list[dict[str, float]], metric: str) -> tuple[list[float], list[float]]:
    """(timesteps, values) for rows holding `metric`; rows without timesteps reuse the last seen count."""
    xs: list[float] = []
    ys: list[float] = []
    last_step: float | None = None
    for row in rows:
        last_step = row.get(TIMESTEPS, last_step)
        value = row.get(metric)
        if last_step is not None and value is not None and math.isfinite(value):
            xs.append(last_step)
            ys.append(value)
    return xs, ys


def preload_plotting() -> None:
    """Import what ``write_learning_curve`` uses and draw one throwaway curve, so fonts and renderer caches are
    loaded too (the curve process does this while training runs; the real curve then takes ~0.15 s)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="gymsolver-curve-") as temp:
        write_learning_curve(Path(temp) / CURVE_FILE, [{TIMESTEPS: 0.0, TRAIN_REWARD: 0.0}], 1.0)


def write_learning_curve(path: Path, rows: list[dict[str, float]], threshold: float | str | None) -> None:
    """Plot train/val mean episode reward against env steps, with the reward threshold dashed if known."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    plotted = False
    for metric, label, style in (
        (TRAIN_REWARD, "train", "-"),
        (VAL_REWARD, "eval", "o-"),
    ):
        xs, ys = curve_points(rows, metric)
        if xs:
            axes.plot(xs, ys, style, label=label, markersize=3)
            plotted = True
    if isinstance(threshold, int | float) and math.isfinite(threshold):
        axes.axhline(float(threshold), linestyle="--", color="gray", label="reward threshold")
        plotted = True
    if not plotted:
        axes.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=axes.transAxes)
    else:
        axes.legend(loc="best")
    axes.set_xlabel("env steps")
    axes.set_ylabel("mean episode reward")
    axes.grid(alpha=0.3)
    # fixed margins (tight_layout measured every text's extent: ~0.1 s of ~0.2 s); rewards of 10^4 and more get
    # a "1e4"-style offset above the axis, so the y tick labels stay within 5 characters
    axes.ticklabel_format(axis="y", style="sci", scilimits=(-3, 4))
    figure.subplots_adjust(left=0.1, right=0.98, bottom=0.12, top=0.94)
    write_atomic(path, lambda temp: figure.savefig(temp, format="png"))


def summary_rows(summary: Mapping[str, float | str], rules: MetricsRules) -> list[tuple[str, str]]:
    """Summary entries as display strings; numbers use the metric rules' precision; the W&B keys as one row."""
    rows = []
    for key, value in summary.items():
        if key in WANDB_KEYS:
            if key == next(name for name in summary if name in WANDB_KEYS):
                rows.append(("W&B", wandb_cell(summary)))
            continue
        rows.append((key, value if isinstance(value, str) else report_value(rules, key, value)))
    return rows


def wandb_cell(summary: Mapping[str, float | str]) -> str:
    """The W&B run linked to its page, or an offline run with the command that uploads it; workspace, failure."""
    run_id, url, sync = summary.get("wandb_id"), summary.get("wandb_url"), summary.get("wandb_sync")
    parts = []
    if run_id and url:
        parts.append(f"[{run_id}]({url})")
    elif run_id and sync:
        parts.append(f"offline run {run_id}; upload it with `{sync}`")
    elif run_id:
        parts.append(f"run {run_id}")
    if summary.get("wandb_workspace"):
        parts.append(f"[workspace]({summary['wandb_workspace']})")
    if summary.get("wandb_error"):
        parts.append(f"failed: {summary['wandb_error']}")
    return "; ".join(parts)


def report_value(rules: MetricsRules, key: str, value: float) -> str:
    """A value as the report shows it: NaN is written out (the console's em dash would hide it)."""
    return "nan" if math.isnan(value) else rules.format(key, value)


def config_section(config: Mapping) -> list[str]:
    """Markdown table of the key config fields (config.json is flat)."""
    rows = []
    for field in CONFIG_FIELDS:
        value = config.get(field)
        if value is not None:
            rows.append((field, compact(value)))
    return markdown_table(("field", "value"), rows) if rows else ["_no key config fields found_"]


def compact(value: object) -> str:
    """One-line rendering for config values: schedules as `k=v, ...`, floats in short form."""
    if isinstance(value, Mapping):
        return ", ".join(f"{key}={compact(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return "[" + ", ".join(compact(item) for item in value) + "]"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def metrics_section(rows: list[dict[str, float]], rules: MetricsRules) -> list[str]:
    """Final and best values of the main metrics, or a note when there is nothing yet."""
    lines: list[str] = []
    if not any(VAL_REWARD in row for row in rows):
        lines += ["_no evaluation yet_", ""]
    table_rows = []
    for metric, higher_is_best in MAIN_METRICS.items():
        logged = [row[metric] for row in rows if metric in row]
        if not logged:
            continue
        final = report_value(rules, metric, logged[-1])  # NaN or inf included: the table must not hide them
        best, best_step = "—", "—"
        xs, ys = curve_points(rows, metric)  # finite values only
        if higher_is_best and ys:
            index = max(range(len(ys)), key=ys.__getitem__)
            best, best_step = report_value(rules, metric, ys[index]), f"{xs[index]:,.0f}"
        table_rows.append((metric, final, best, best_step))
    if not table_rows:
        return [*lines, "_no metrics logged yet_"]
    return lines + markdown_table(("metric", "final", "best", "best at step"), table_rows)


def markdown_table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    """Pipe-table lines with `|` in cells escaped."""

    def cells(values: tuple[str, ...]) -> str:
        return "| " + " | ".join(str(v).replace("|", "\\|") for v in values) + " |"

    return [cells(header), "|" + "---|" * len(header), *(cells(row) for row in rows)]
