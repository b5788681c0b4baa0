"""Files built from a sweep's trials: ``best.yaml`` (a ready-to-train config variant) and a PNG of the metric
against each swept parameter."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import yaml

from sweeps.state import SweepState
from sweeps.trial_process import TrialResult
from utils.atomic_files import write_atomic, write_text_atomic
from utils.runs import strip_format_version

BEST_FILE, PLOT_FILE = "best.yaml", "metric_vs_params.png"
# Fields that belong to one run, not to a reusable config.
RUN_FIELDS = ("sweep", "wandb_id", "config_id")


def write_best(state: SweepState, runs: Path) -> Path | None:
    """``best.yaml``: the best trial's full config as a variant named ``best``; None before any trial is ok."""
    best = state.best()
    if best is None or not best.run_id:
        return None
    config = strip_format_version(json.loads((runs / best.run_id / "config.json").read_text()))
    base = config.get("config_id", "")
    for name in RUN_FIELDS:
        config.pop(name, None)
    config["description"] = f"best trial of sweep {state.sweep_id} on {base}"
    path = state.path / BEST_FILE
    swept = ", ".join(f"{name}={value}" for name, value in best.params.items())
    header = (
        f"# Sweep {state.sweep_id}: trial {best.trial} had the best {state.metric} ({best.metric:g}), run {best.run_id}.\n"
        f"# Swept values: {swept}\n"
        f"# Train it:  python train.py {path}\n"
        f"# Or paste the variant into config/environments/ (the file of {base.split(':')[0] or 'its env'}).\n"
    )
    write_text_atomic(path, header + yaml.safe_dump({"best": config}, sort_keys=False))
    return path


def write_plot(state: SweepState) -> Path | None:
    """One panel per swept parameter: the metric of each finished trial against its value, the best in red."""
    done = [t for t in state.trials if t.metric is not None and t.status in ("ok", "timeout")]
    names = [name for name in _swept_names(state.trials)]
    if not done or not names:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = min(len(names), 3)
    rows = math.ceil(len(names) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.4 * rows), squeeze=False)
    best = state.best()
    for axis, name in zip(axes.flat, names, strict=False):
        values = [trial.params.get(name) for trial in done]
        metrics = [trial.metric for trial in done]
        numbers = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        if len(numbers) == len(values):
            xs: list[Any] = numbers
            if min(numbers) > 0 and max(numbers) / min(numbers) >= 20:
                axis.set_xscale("log")
        else:
            labels = sorted({json.dumps(v) for v in values})
            xs = [labels.index(json.dumps(v)) for v in values]
            axis.set_xticks(range(len(labels)), labels, rotation=20, fontsize=8)
        colors = ["tab:red" if best is not None and trial is best else "tab:blue" for trial in done]
        axis.scatter(xs, metrics, c=colors, s=28, alpha=0.8)
        axis.set_xlabel(name)
        axis.set_ylabel(state.metric, fontsize=8)
        axis.grid(alpha=0.3)
    for axis in list(axes.flat)[len(names) :]:
        axis.set_visible(False)
    figure.suptitle(
        f"sweep {state.sweep_id}: {len(done)} trials ({state.goal} {state.metric}; best in red)", fontsize=10
    )
    figure.tight_layout()
    path = state.path / PLOT_FILE
    write_atomic(path, lambda temp: figure.savefig(temp, dpi=90, format="png"))
    plt.close(figure)
    return path


def _swept_names(trials: list[TrialResult]) -> list[str]:
    """Parameters whose value differs between trials."""
    names: list[str] = []
    for trial in trials:
        for name in trial.params:
            if name not in names:
                names.append(name)
    return [n for n in names if len({json.dumps(t.params.get(n)) for t in trials}) > 1]
