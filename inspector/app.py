"""The inspector's Gradio app: pick a run, a checkpoint and a seed, roll out one episode, browse it step by step.

Tabs: Episode (the step browser), Evaluations (``episodes.jsonl``, their videos, replaying one), Overview
(config, report, learning curves) and Model (parameters, checkpoints). Every value shown is computed by
``inspector/views.py`` from the run reader and ``inspector/episode.py``; this module only wires components.
Element ids (``elem_id``) are stable: the browser test and users' own scripts select by them.
"""

from __future__ import annotations

import functools
import sys
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import gradio as gr

from agents.loading import TrainedPolicy, load_trained_policy
from inspector import views
from inspector.episode import Episode, roll_out
from utils.checkpoints import resolve_checkpoint
from utils.evaluation import eval_base_seed
from utils.run_reader import list_run_summaries, open_run, read_episodes, video_path
from utils.runs import RunDir

DEFAULT_CURVES = ["train/roll/ep_rew/mean", "val/roll/ep_rew/mean"]
PLAY_INTERVAL = 0.15  # seconds between steps while playing
Handler = TypeVar("Handler", bound=Callable[..., Any])


def shown_errors(handler: Handler) -> Handler:
    """Turn any failure into one line in the page (a Gradio error toast), never a stack trace."""

    @functools.wraps(handler)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except gr.Error as error:  # the handler's own message: one line in the terminal too, not a stack trace
            print(f"inspector: {' '.join(str(error.message).split())}", file=sys.stderr, flush=True)
            error.print_exception = False
            raise
        except Exception as error:
            message = " ".join(str(error).split()) or type(error).__name__
            print(f"inspector: {type(error).__name__}: {message}", file=sys.stderr, flush=True)
            raise gr.Error(message, print_exception=False) from None

    return wrapped  # type: ignore[return-value]


class PolicyCache:
    """The last few loaded checkpoints, so browsing seeds does not reload weights each time."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self.policies: OrderedDict[Path, TrainedPolicy] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, run: RunDir, which: str) -> TrainedPolicy:
        """The policy of checkpoint ``which`` (best, last or a name) of ``run``."""
        path = resolve_checkpoint(run.checkpoints, which).resolve()
        with self.lock:
            if path not in self.policies:
                self.policies[path] = load_trained_policy(run, path.name)
                while len(self.policies) > self.size:
                    self.policies.popitem(last=False)
            self.policies.move_to_end(path)
            return self.policies[path]


@dataclass
class Browsing:
    """One page's episode (kept in a ``gr.State``)."""

    episode: Episode
    plot: views.EpisodePlot
    fps: int


def run_choices(root: Path) -> list[tuple[str, str]]:
    """Run dropdown choices, newest first: id, variant, status and best evaluation."""
    choices = []
    for summary in list_run_summaries(root):
        best = "—" if summary.best_eval is None else views.number(summary.best_eval, 2)
        label = f"{summary.run_id} · {summary.variant} · {summary.status} · best eval {best}"
        choices.append((label, summary.run_id))
    return choices


def build_app(root: Path, initial_run: str) -> gr.Blocks:
    """The inspector for the runs under ``root``, opened on run ``initial_run``."""
    cache = PolicyCache()
    exports = Path(tempfile.mkdtemp(prefix="gymsolver-inspector-"))

    def run_of(run_id: str) -> RunDir:
        return open_run(run_id, root)

    with gr.Blocks(title="gymnasium-solver inspector") as app:
        gr.Markdown("## gymnasium-solver inspector")
        browsing = gr.State(None)
        playing = gr.State(False)
        with gr.Row():
            run_box = gr.Dropdown(run_choices(root), value=initial_run, label="run", elem_id="run", scale=3)
            checkpoint_box = gr.Dropdown([], label="checkpoint", elem_id="checkpoint", scale=2)
            seed_box = gr.Number(0, label="seed", precision=0, elem_id="seed", scale=1)
            mode_box = gr.Radio(["deterministic", "stochastic"], value="deterministic", label="actions",
                                elem_id="mode", scale=1)  # fmt: skip
            max_steps_box = gr.Number(
                0, label="max steps (0: whole episode)", precision=0, elem_id="max-steps", scale=1
            )
            rollout_button = gr.Button("Roll out", variant="primary", elem_id="rollout", scale=1)
        summary_text = gr.Markdown("Pick a checkpoint and a seed, then **Roll out**.", elem_id="episode-summary")

        with gr.Tabs():
            with gr.Tab("Episode", id="episode-tab"):
                with gr.Row():
                    prev_button = gr.Button("◀ previous", elem_id="prev", scale=1)
                    play_button = gr.Button("▶ play / ❚❚ pause", elem_id="play", scale=1)
                    next_button = gr.Button("next ▶", elem_id="next", scale=1)
                step_slider = gr.Slider(0, 1, value=0, step=1, label="step", elem_id="step")
                timer = gr.Timer(PLAY_INTERVAL, active=False)
                step_title = gr.Markdown("", elem_id="step-title")
                with gr.Row():
                    frame_image = gr.Image(label="rendered frame", type="numpy", elem_id="frame", interactive=False)
                    with gr.Column():
                        obs_image = gr.Image(label="what the agent sees (stacked frames side by side)",
                                             type="numpy", elem_id="obs-image", interactive=False, visible=False)  # fmt: skip
                        obs_table = gr.Dataframe(headers=["dimension", "value"], label="what the agent sees",
                                                 elem_id="obs-table", interactive=False)  # fmt: skip
                with gr.Row():
                    action_text = gr.Textbox(label="action", elem_id="action", interactive=False)
                    prob_text = gr.Textbox(label="P(action) / density", elem_id="prob", interactive=False)
                    entropy_text = gr.Textbox(label="entropy", elem_id="entropy", interactive=False)
                    value_text = gr.Textbox(label="V(s)", elem_id="value", interactive=False)
                    reward_text = gr.Textbox(label="reward", elem_id="reward", interactive=False)
                with gr.Row():
                    return_text = gr.Textbox(label="return so far", elem_id="return", interactive=False)
                    rtg_text = gr.Textbox(label="discounted return-to-go", elem_id="return-to-go", interactive=False)
                    advantage_text = gr.Textbox(label="GAE advantage", elem_id="advantage", interactive=False)
                    ending_text = gr.Textbox(label="episode ends here", elem_id="ending", interactive=False)
                with gr.Row():
                    distribution_plot = gr.BarPlot(x="action", y="probability", label="action distribution",
                                                   elem_id="distribution", y_lim=[0, 1])  # fmt: skip
                    distribution_table = gr.Dataframe(label="action distribution (mean, std)",
                                                      elem_id="distribution-table", visible=False)  # fmt: skip
                    info_json = gr.JSON(label="info", elem_id="info")
                episode_plot = gr.Image(label="over the episode", type="numpy", elem_id="episode-plot",
                                        interactive=False)  # fmt: skip
                with gr.Row():
                    csv_button = gr.Button("Export CSV", elem_id="export-csv")
                    mp4_button = gr.Button("Export mp4", elem_id="export-mp4")
                    export_file = gr.File(label="export", elem_id="export-file", interactive=False)

            with gr.Tab("Evaluations", id="evaluations-tab", elem_id="evaluations-tab"):
                episodes_table = gr.Dataframe(headers=views.EPISODE_HEADERS, label="episodes.jsonl",
                                              elem_id="episodes", interactive=False)  # fmt: skip
                with gr.Row():
                    eval_row = gr.Number(0, label="row", precision=0, elem_id="eval-row")
                    show_button = gr.Button("Show video", elem_id="show-video")
                    replay_button = gr.Button("Replay this evaluation", elem_id="replay")
                eval_note = gr.Markdown("", elem_id="eval-note")
                eval_video = gr.Video(label="recorded episode", elem_id="eval-video", interactive=False)

            with gr.Tab("Overview", id="overview-tab"):
                with gr.Row():
                    config_table = gr.Dataframe(headers=["field", "value"], label="config", elem_id="config",
                                                interactive=False, scale=1)  # fmt: skip
                    with gr.Column(scale=2):
                        metric_box = gr.Dropdown([], multiselect=True, label="metrics", elem_id="metrics")
                        curve_plot = gr.LinePlot(x="timesteps", y="value", color="metric", label="learning curves",
                                                 elem_id="curves")  # fmt: skip
                report_text = gr.Markdown("", elem_id="report")

            with gr.Tab("Model", id="model-tab"):
                params_table = gr.Dataframe(headers=["tensor", "shape", "parameters"], label="parameters",
                                            elem_id="params", interactive=False)  # fmt: skip
                checkpoints_table = gr.Dataframe(headers=views.CHECKPOINT_HEADERS, label="checkpoints",
                                                 elem_id="checkpoints", interactive=False)  # fmt: skip

        step_outputs = [step_title, frame_image, obs_image, obs_table, action_text, prob_text, entropy_text,
                        value_text, reward_text, return_text, rtg_text, advantage_text, ending_text,
                        distribution_plot, distribution_table, info_json, episode_plot]  # fmt: skip

        def show_step(state: Browsing | None, t: float) -> list[Any]:
            if state is None:
                return [gr.update() for _ in step_outputs]
            episode = state.episode
            step = int(min(max(t, 0), len(episode) - 1))
            view = views.step_view(episode, step)
            image = episode.observation_image(step)
            discrete = episode.probs is not None
            return [
                f"**{view.title}**", episode.frames.frame(step),
                gr.update(value=image, visible=image is not None),
                gr.update(value=view.observation_rows, visible=image is None),
                view.action, view.probability, view.entropy, view.value, view.reward, view.cumulative_return,
                view.return_to_go, view.advantage, view.ending,
                gr.update(value=view.distribution if discrete else None, visible=discrete),
                gr.update(value=view.distribution if not discrete else None, visible=not discrete),
                view.info, state.plot.image(step),
            ]  # fmt: skip

        def load_run(run_id: str) -> list[Any]:
            run = run_of(run_id)
            config = run.read_config()
            choices = views.checkpoint_choices(run)
            if not choices:
                raise gr.Error(f"run {run.run_id} has no checkpoint yet; wait for its first evaluation")
            names = views.metric_names(run)
            chosen = [name for name in DEFAULT_CURVES if name in names]
            report = run.path / "report.md"
            seed = eval_base_seed(int(config.get("seed", 0)), config.get("eval_seed"))
            mode = "deterministic" if config.get("eval_deterministic", True) else "stochastic"
            return [
                gr.update(choices=choices, value=choices[0][1]), seed, mode,
                views.config_rows(config), report.read_text() if report.is_file() else "(no report yet)",
                gr.update(choices=names, value=chosen), views.learning_curves(run, chosen),
                views.episode_rows(run), views.checkpoint_rows(run),
            ]  # fmt: skip

        def load_checkpoint(run_id: str, which: str | None) -> list[list[Any]]:
            if not which:
                return []
            return views.parameter_rows(cache.get(run_of(run_id), which).policy)

        def start_episode(trained: TrainedPolicy, seed: int, deterministic: bool, max_steps: int) -> Browsing:
            episode = roll_out(trained, seed, deterministic, max_steps if max_steps > 0 else None)
            fps = trained.config.video_fps or episode.render_fps or 30
            return Browsing(episode, views.EpisodePlot(episode), fps)

        def describe(state: Browsing) -> str:
            episode = state.episode
            mode = "deterministic" if episode.deterministic else "stochastic"
            return (
                f"**{episode.env_id}**, checkpoint `{episode.checkpoint}`, seed {episode.seed} ({mode}): "
                f"return **{views.number(episode.episode_return)}** in {len(episode)} steps "
                f"(rolled out in {episode.seconds:.2f} s; {episode.nbytes / 2**20:.1f} MiB held)"
            )

        def rollout(run_id: str, which: str, seed: float, mode: str, max_steps: float) -> list[Any]:
            if not which:
                raise gr.Error("pick a checkpoint first")
            trained = cache.get(run_of(run_id), which)
            state = start_episode(trained, int(seed), mode == "deterministic", int(max_steps or 0))
            slider = gr.update(minimum=0, maximum=max(len(state.episode) - 1, 1), value=0)
            return [state, describe(state), slider, False, gr.Timer(active=False), *show_step(state, 0)]

        def episode_row(run: RunDir, row_index: float) -> tuple[int, dict[str, Any]]:
            rows = read_episodes(run)
            index = int(row_index)
            if not 0 <= index < len(rows):
                raise gr.Error(f"row {index} does not exist; episodes.jsonl has rows 0 to {len(rows) - 1}")
            return index, rows[index]

        def replay(run_id: str, row_index: float) -> list[Any]:
            run = run_of(run_id)
            index, row = episode_row(run, row_index)
            info = views.checkpoint_for_steps(run, int(row["timesteps"]))
            if info is None:
                raise gr.Error(
                    f"the checkpoint of step {row['timesteps']} was pruned (keep_checkpoints); "
                    "this evaluation cannot be replayed"
                )
            trained = cache.get(run, info.name)
            deterministic = bool(trained.config.eval_deterministic)
            state = start_episode(trained, int(row["seed"]), deterministic, 0)
            replayed = state.episode.episode_return
            same = "equal" if replayed == float(row["return"]) else "different"
            note = (f"row {index}: evaluation {row['eval']}, episode {row['episode']}, seed {row['seed']}, "
                    f"checkpoint `{info.name}`. Recorded return **{views.number(float(row['return']))}**, "
                    f"replayed return **{views.number(replayed)}** ({same}).")  # fmt: skip
            slider = gr.update(minimum=0, maximum=max(len(state.episode) - 1, 1), value=0)
            return [note, state, describe(state), slider, *show_step(state, 0)]

        def show_video(run_id: str, row_index: float) -> list[Any]:
            run = run_of(run_id)
            index, row = episode_row(run, row_index)
            path = video_path(run, row)
            if path is None:
                status = row.get("video_status")
                reason = f"its video was {status}" if row.get("video") else "this episode was not recorded"
                return [f"row {index}: {reason}.", None]
            return [f"row {index}: seed {row['seed']}, return {views.number(float(row['return']))}.", str(path)]

        def step_by(state: Browsing | None, t: float, delta: int) -> Any:
            if state is None:
                return gr.update()
            return int(min(max(t + delta, 0), len(state.episode) - 1))

        def toggle_play(playing: bool, state: Browsing | None) -> list[Any]:
            playing = not playing and state is not None
            return [playing, gr.Timer(active=playing)]

        def tick(state: Browsing | None, t: float) -> list[Any]:
            if state is None or t >= len(state.episode) - 1:
                return [gr.update(), False, gr.Timer(active=False)]
            return [int(t) + 1, gr.update(), gr.update()]

        def export_csv(state: Browsing | None) -> str:
            if state is None:
                raise gr.Error("roll out an episode first")
            episode = state.episode
            return str(episode.to_csv(exports / f"episode-seed={episode.seed}-{episode.checkpoint}.csv"))

        def export_mp4(state: Browsing | None) -> str:
            if state is None:
                raise gr.Error("roll out an episode first")
            episode = state.episode
            path = exports / f"episode-seed={episode.seed}-{episode.checkpoint}.mp4"
            return str(views.write_episode_video(episode, path, state.fps))

        run_outputs = [checkpoint_box, seed_box, mode_box, config_table, report_text, metric_box, curve_plot,
                       episodes_table, checkpoints_table]  # fmt: skip
        app.load(shown_errors(load_run), [run_box], run_outputs)
        run_box.change(shown_errors(load_run), [run_box], run_outputs)
        checkpoint_box.change(shown_errors(load_checkpoint), [run_box, checkpoint_box], [params_table])
        metric_box.change(
            shown_errors(lambda run_id, names: views.learning_curves(run_of(run_id), names or [])),
            [run_box, metric_box],
            [curve_plot],
        )
        rollout_button.click(
            shown_errors(rollout),
            [run_box, checkpoint_box, seed_box, mode_box, max_steps_box],
            [browsing, summary_text, step_slider, playing, timer, *step_outputs],
        )
        step_slider.change(shown_errors(show_step), [browsing, step_slider], step_outputs, show_progress="hidden")
        prev_button.click(lambda s, t: step_by(s, t, -1), [browsing, step_slider], [step_slider])
        next_button.click(lambda s, t: step_by(s, t, 1), [browsing, step_slider], [step_slider])
        play_button.click(toggle_play, [playing, browsing], [playing, timer])
        timer.tick(tick, [browsing, step_slider], [step_slider, playing, timer], show_progress="hidden")
        show_button.click(shown_errors(show_video), [run_box, eval_row], [eval_note, eval_video])
        replay_button.click(
            shown_errors(replay),
            [run_box, eval_row],
            [eval_note, browsing, summary_text, step_slider, *step_outputs],
        )
        csv_button.click(shown_errors(export_csv), [browsing], [export_file])
        mp4_button.click(shown_errors(export_mp4), [browsing], [export_file])
    return app
