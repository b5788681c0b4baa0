"""What the inspector page shows, computed without a browser: step values, tables, plots, exports."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from agents.loading import load_trained_policy
from inspector import views
from inspector.episode import roll_out
from utils.mp4_encoder import count_video_frames
from utils.run_reader import open_run

FORMAT0_RUN = Path(__file__).parents[1] / "fixtures" / "runs_format0" / "20261130-023502-f5e2"


@pytest.fixture(scope="module")
def episode():  # the recorded evaluation episode of the fixture run's best checkpoint
    trained = load_trained_policy(open_run(FORMAT0_RUN), "best")
    return roll_out(trained, 4000012, deterministic=True)


def test_numbers_print_without_trailing_zeros() -> None:
    assert [views.number(x) for x in (1.0, 0.51724, -0.00001, 12.5, float("nan"))] == ["1", "0.5172", "0", "12.5", "—"]


def test_a_step_shows_the_episode_arrays_at_that_step(episode) -> None:
    t = 5
    view = views.step_view(episode, t)
    assert view.title == f"step 5 of 0–{len(episode) - 1}"
    assert view.action == f"{episode.action_labels[t]} ({int(episode.actions[t])})"
    assert view.action.split()[0] in ("LEFT", "RIGHT")
    assert float(view.value) == pytest.approx(float(episode.values[t]), abs=1e-4)
    assert float(view.reward) == 1.0 and float(view.cumulative_return) == t + 1
    assert float(view.return_to_go) == pytest.approx(float(episode.returns_to_go[t]), abs=1e-4)
    assert float(view.advantage) == pytest.approx(float(episode.advantages[t]), abs=1e-4)
    assert [row[0] for row in view.observation_rows] == ["cart position", "cart velocity", "pole angle",
                                                         "pole angular velocity"]  # fmt: skip
    assert list(view.distribution["action"]) == ["LEFT", "RIGHT"]
    assert view.distribution["probability"].sum() == pytest.approx(1.0, abs=1e-6)
    assert view.ending == "—" and views.step_view(episode, len(episode) - 1).ending == "terminated"


def test_the_episode_plot_changes_only_where_the_marker_moves(episode) -> None:
    plot = views.EpisodePlot(episode)
    first, later = plot.image(0), plot.image(len(episode) - 1)
    assert first.shape == later.shape and first.shape[2] == 3 and first.dtype == np.uint8
    changed = np.argwhere((first != later).any(axis=2))
    assert 0 < len(changed) < first.shape[0] * first.shape[1] * 0.05  # the marker lines, not the curves


def test_run_tables_come_from_the_run_directory(tmp_path: Path) -> None:
    run = open_run(shutil.copytree(FORMAT0_RUN, tmp_path / FORMAT0_RUN.name, symlinks=True))
    rows = views.episode_rows(run)
    assert [row[0] for row in rows] == [0, 1, 2, 3] and rows[0][4] == 4000012 and rows[0][8] == "ok"
    assert rows[1][8] == "—"
    assert views.checkpoint_choices(run) == [
        ("best (epoch 4, step 512, eval 19)", "best"),
        ("last (epoch 8, step 1,024, eval 18)", "last"),
        ("epoch 8, step 1,024, eval 18", "epoch=0008-step=0001024"),
        ("epoch 4, step 512, eval 19", "epoch=0004-step=0000512"),
    ]
    assert views.checkpoint_rows(run)[0] == ["epoch=0008-step=0001024", 8, 1024, "last", "18"]
    curves = views.learning_curves(run, ["val/roll/ep_rew/mean"])
    assert list(curves["timesteps"]) == [512.0, 1024.0] and list(curves["value"]) == [19.0, 18.0]
    assert "train/loss/total" in views.metric_names(run) and "train/cnt/timesteps" not in views.metric_names(run)


def test_parameter_rows_count_every_weight() -> None:
    trained = load_trained_policy(open_run(FORMAT0_RUN), "last")
    rows = views.parameter_rows(trained.policy)
    assert rows[-1][0] == "total"
    assert (
        rows[-1][2]
        == sum(p.numel() for p in trained.policy.parameters())
        == 4 * 64 + 64 + 64 * 64 + 64 + 64 * 2 + 2 + (4 * 64 + 64 + 64 * 64 + 64 + 64 + 1)
    )


def test_the_exported_video_has_every_frame(episode, tmp_path: Path) -> None:
    path = views.write_episode_video(episode, tmp_path / "episode.mp4", fps=50)
    assert count_video_frames(path) == len(episode) + 1  # the reset frame and one per step


def test_a_continuous_action_step_shows_mean_and_std_per_dimension() -> None:
    from agents.loading import untrained_policy
    from utils.config import load_config

    episode = roll_out(untrained_policy(load_config("Pendulum-v1", "ppo")), 7, deterministic=True, max_steps=12)
    view = views.step_view(episode, 3)
    assert list(view.distribution.columns) == ["dimension", "mean", "std"] and len(view.distribution) == 1
    assert view.distribution["std"].iloc[0] > 0
    assert [row[0] for row in view.observation_rows] == ["x = cos(theta)", "y = sin(theta)", "angular velocity"]
    assert views.step_view(episode, 11).ending == "truncated"


def test_a_pixel_step_shows_the_stacked_frames_as_one_picture() -> None:
    from agents.loading import untrained_policy
    from utils.config import load_config

    episode = roll_out(untrained_policy(load_config("ALE-Pong-v5", "ppo")), 3, deterministic=True, max_steps=8)
    view = views.step_view(episode, 4)
    assert view.observation_rows == []  # an image, not a table
    picture = episode.observation_image(4)
    assert picture is not None and picture.shape == (84, 4 * 84, 3)
    assert view.action.split()[0] in ("NOOP", "FIRE", "RIGHT", "LEFT", "RIGHTFIRE", "LEFTFIRE")
    assert len(view.distribution) == 6
