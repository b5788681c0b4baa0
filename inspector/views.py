"""What the inspector shows, computed from an Episode and a run: plain tables, pictures and text, no Gradio.

The app (``inspector/app.py``) only places these in components, so every number a user reads in the page
comes from here and can be checked without a browser.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from utils.run_reader import CheckpointInfo, list_checkpoints, read_episodes, read_metrics
from utils.runs import RunDir

if TYPE_CHECKING:
    import pandas as pd
    from torch import nn

    from inspector.episode import Episode


def number(value: float, digits: int = 4) -> str:
    """A value as the page prints it: up to ``digits`` significant decimals, no trailing zeros."""
    if math.isnan(value):
        return "—"
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass
class StepView:
    """Everything shown for step t of an episode."""

    title: str
    action: str
    probability: str
    entropy: str
    value: str
    reward: str
    cumulative_return: str
    return_to_go: str
    advantage: str
    ending: str
    info: dict[str, Any]
    observation_rows: list[list[Any]]  # [name, value] per dimension for vector observations; [] for images
    distribution: pd.DataFrame  # discrete: action, probability; Box: dimension, mean, std


def step_view(episode: Episode, t: int) -> StepView:
    """Step ``t`` of ``episode``: the action and its label, its probability, V(s), reward, returns, advantage."""
    import pandas as pd

    row = episode.step_row(t)
    ending = "terminated" if row["terminated"] else "truncated" if row["truncated"] else "—"
    rows: list[list[Any]] = []
    if not episode.observations.is_image:
        flat = np.asarray(episode.observations[t], dtype=np.float64).reshape(-1)
        names = episode.obs_labels or [f"obs[{i}]" for i in range(flat.size)]
        rows = [[name, number(float(value))] for name, value in zip(names, flat, strict=False)]
    if episode.probs is not None:
        labels = episode.prob_labels or [str(i) for i in range(episode.probs.shape[1])]
        distribution = pd.DataFrame({"action": labels, "probability": episode.probs[t].astype(float)})
    elif episode.mean is not None and episode.std is not None:
        distribution = pd.DataFrame(
            {
                "dimension": [str(i) for i in range(episode.mean.shape[1])],
                "mean": episode.mean[t].astype(float),
                "std": episode.std[t].astype(float),
            }
        )
    else:
        distribution = pd.DataFrame({"action": [], "probability": []})
    return StepView(
        title=f"step {t} of 0–{len(episode) - 1}",
        action=f"{row['action_label']} ({row['action']})",
        probability=number(float(row["prob"])),  # type: ignore[arg-type]
        entropy=number(float(row["entropy"])),  # type: ignore[arg-type]
        value=number(float(row["value"])),  # type: ignore[arg-type]
        reward=number(float(row["reward"])),  # type: ignore[arg-type]
        cumulative_return=number(float(row["return"])),  # type: ignore[arg-type]
        return_to_go=number(float(row["return_to_go"])),  # type: ignore[arg-type]
        advantage=number(float(row["advantage"])),  # type: ignore[arg-type]
        ending=ending,
        info=episode.infos[t],
        observation_rows=rows,
        distribution=distribution,
    )


class EpisodePlot:
    """Reward, V(s) against the return-to-go, and the chosen action's probability with the entropy, over the
    episode, with a marker at the current step. The curves are drawn once and kept as a bitmap; moving the
    marker copies that bitmap and draws only the three marker lines on it (blitting)."""

    def __init__(self, episode: Episode) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        steps = np.arange(len(episode))
        self.figure = Figure(figsize=(7.5, 5.4), dpi=80, layout="constrained")
        self.canvas = FigureCanvasAgg(self.figure)
        self.axes = self.figure.subplots(3, 1, sharex=True)
        reward_axes, value_axes, prob_axes = self.axes
        reward_axes.plot(steps, episode.rewards, color="tab:blue", linewidth=1)
        reward_axes.set_ylabel("reward")
        value_axes.plot(steps, episode.values, color="tab:green", linewidth=1, label="V(s)")
        value_axes.plot(steps, episode.returns_to_go, color="tab:orange", linewidth=1, label="return-to-go")
        value_axes.legend(loc="upper right", fontsize=8)
        prob_axes.plot(steps, episode.chosen_prob, color="tab:purple", linewidth=1, label="P(chosen action)")
        prob_axes.plot(steps, episode.entropy, color="tab:gray", linewidth=1, label="entropy")
        prob_axes.legend(loc="upper right", fontsize=8)
        prob_axes.set_xlabel("step")
        self.markers = [axes.axvline(0, color="red", linewidth=1, animated=True) for axes in self.axes]
        self.canvas.draw()  # lays out and draws everything but the (animated) markers, once
        self.figure.set_layout_engine("none")
        self.background = self.canvas.copy_from_bbox(self.figure.bbox)

    def image(self, t: int) -> np.ndarray:
        """The figure with its marker at step ``t``, as an RGB array."""
        self.canvas.restore_region(self.background)
        for axes, marker in zip(self.axes, self.markers, strict=True):
            marker.set_xdata([t, t])
            axes.draw_artist(marker)
        return np.asarray(self.canvas.buffer_rgba())[..., :3].copy()


def config_rows(config: dict[str, Any]) -> list[list[str]]:
    """The run's config as [field, value] rows."""
    return [[key, str(value)] for key, value in config.items()]


def learning_curves(run: RunDir, metrics: list[str]) -> pd.DataFrame:
    """Long-format rows (timesteps, value, metric) of the chosen ``metrics.csv`` columns, empty cells dropped."""
    import pandas as pd

    columns = read_metrics(run)
    steps = columns.get("train/cnt/timesteps", [])
    frames = [
        pd.DataFrame({"timesteps": steps, "value": columns[name], "metric": name}).dropna()
        for name in metrics
        if name in columns
    ]
    return pd.concat(frames) if frames else pd.DataFrame({"timesteps": [], "value": [], "metric": []})


def metric_names(run: RunDir) -> list[str]:
    """The metrics a curve can be drawn for (every column but the step counter)."""
    return [name for name in read_metrics(run) if name != "train/cnt/timesteps"]


def episode_rows(run: RunDir) -> list[list[Any]]:
    """The ``episodes.jsonl`` table: row, eval, timesteps, episode, seed, return, length, ending, video."""
    table = []
    for index, row in enumerate(read_episodes(run)):
        ending = "terminated" if row.get("terminated") else "truncated"
        video = row.get("video_status", "—") if row.get("video") else "—"
        table.append([index, row["eval"], row["timesteps"], row["episode"], row["seed"],
                      number(float(row["return"])), row["length"], ending, video])  # fmt: skip
    return table


EPISODE_HEADERS = ["row", "eval", "timesteps", "episode", "seed", "return", "length", "ending", "video"]


def checkpoint_rows(run: RunDir) -> list[list[Any]]:
    """The checkpoint table, newest first: name, epoch, timesteps, aliases, eval return of its epoch."""
    return [
        [
            info.name,
            info.epoch,
            info.timesteps,
            ", ".join(info.aliases) or "—",
            "—" if info.eval_return is None else number(info.eval_return),
        ]
        for info in reversed(list_checkpoints(run))
    ]


CHECKPOINT_HEADERS = ["checkpoint", "epoch", "timesteps", "aliases", "eval return"]


def checkpoint_choices(run: RunDir) -> list[tuple[str, str]]:
    """Dropdown choices (label, value): best, last, then every checkpoint newest first."""
    infos = list(reversed(list_checkpoints(run)))
    choices = []
    for alias in ("best", "last"):
        target = next((info for info in infos if alias in info.aliases), None)
        if target is not None:
            choices.append((f"{alias} ({_describe(target)})", alias))
    choices += [(_describe(info), info.name) for info in infos]
    return choices


def _describe(info: CheckpointInfo) -> str:
    evaluated = "" if info.eval_return is None else f", eval {number(info.eval_return, 2)}"
    return f"epoch {info.epoch}, step {info.timesteps:,}{evaluated}"


def checkpoint_for_steps(run: RunDir, timesteps: int) -> CheckpointInfo | None:
    """The checkpoint written at ``timesteps`` (the weights an evaluation at that step used), if it is kept."""
    return next((info for info in list_checkpoints(run) if info.timesteps == timesteps), None)


def parameter_rows(policy: nn.Module) -> list[list[Any]]:
    """Parameters per tensor: name, shape, count; then the total."""
    rows: list[list[Any]] = [[name, "x".join(map(str, p.shape)), p.numel()] for name, p in policy.named_parameters()]
    rows.append(["total", "", sum(int(row[2]) for row in rows)])
    return rows


def write_episode_video(episode: Episode, path: Path, fps: int) -> Path:
    """The episode's rendered frames as an H.264 mp4 at ``path``."""
    from utils.mp4_encoder import Mp4Encoder

    first = episode.frames.frame(0)
    encoder = Mp4Encoder(path, first.shape[1], first.shape[0], fps)
    try:
        for t in range(len(episode.frames)):
            encoder.write(np.ascontiguousarray(episode.frames.frame(t)[..., :3]))
    finally:
        encoder.close()
    return path
