"""Play a trained (or untrained) agent: ``python run_play.py --run-id @last --episodes 5``.

The env is built exactly as training's evaluation built it (same config, wrappers, frame stack and
normalization statistics), and episode k is reset with seed ``--seed + k``; by default ``--seed`` is
the run's evaluation base seed, so ``run_play.py --seed S`` replays the evaluation episodes whose seeds
``episodes.jsonl`` lists (with the checkpoint that produced them).

``--hub USER/NAME`` plays a model published with ``run_publish.py`` instead: it is downloaded into the
Hugging Face cache (``HF_HUB_OFFLINE=1`` plays from the cache), checked against its manifest, and played
the same way; by default its first seed is the published evaluation's, so it replays those episodes.

``--scan`` reports what ENV_OR_CONFIG offers (spaces, render modes, action meanings, limits, vectorization)
without playing (``gameplay/scan.py``); ``--export DIR`` writes each played episode into ``DIR/episode_000/``
and on (``gameplay/export.py``: observations, actions, video and metadata).

``--human`` plays ENV_OR_CONFIG yourself with the keyboard in a pygame window (``gameplay/human_play.py``, keys
per platform in ``gameplay/key_bindings.py``); ``--list-envs [FILTER]`` lists the envs it can play
(``gameplay/env_catalog.py``).

``--record-dataset [DIR]`` records every played step (PNG frame, action, reward, ending, seed) as a Hugging Face
dataset (``gameplay/dataset_recorder.py``), ``--push-dataset [USER/NAME]`` pushes it to the Hub
(``gameplay/dataset_hub.py``), and ``--playback DIR_OR_REPO`` replays one and compares every frame
(``gameplay/playback.py``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from utils.cli_parser import OneLineErrorParser
from utils.config import MAX_EPISODE_SEED, Config
from utils.config_values import ConfigError, parse_whole_number

if TYPE_CHECKING:  # imported where used: --help stays fast
    from agents.networks.policies import MLPPolicy
    from utils.normalization import ObsNormalizer


def build_parser() -> argparse.ArgumentParser:
    """The run_play.py command line."""
    parser = OneLineErrorParser(description="Play episodes with a trained policy from a run directory.")
    parser.add_argument(
        "config",
        nargs="?",
        metavar="ENV_OR_CONFIG",
        help="<env>:<variant> to preview with --random (no run needed); with --scan, or --export --random, "
        "also a Gymnasium id (CartPole-v1, ALE/Pong-v5)",
    )
    parser.add_argument("--run-id", "--run_id", dest="run_id", help="run id or @last (default: @last)")
    parser.add_argument("--checkpoint", help="best | last | <epoch number> (default: best)")
    parser.add_argument("--hub", metavar="USER/NAME", help="play a model published to the Hugging Face Hub instead")
    parser.add_argument("--revision", metavar="REV", help="branch, tag or commit of the --hub model (default: main)")
    parser.add_argument("--episodes", type=int, default=5, help="episodes to play (default 5)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--deterministic", dest="deterministic", action="store_true", default=None,
                      help="most likely action (default: the run's eval_deterministic)")  # fmt: skip
    mode.add_argument("--stochastic", dest="deterministic", action="store_false", help="sample actions")
    parser.add_argument(
        "--seed",
        help="seed of the first episode; episode k uses seed+k "
        "(default: the eval base seed; with --hub, the published evaluation's first seed)",
    )
    parser.add_argument("--render", nargs="?", const="human", choices=("human", "none"),
                        help="show a window (default: human if a display; with --playback: none); alone: human")  # fmt: skip
    parser.add_argument("--headless", action="store_true", help="never open a window (same as --render none)")
    parser.add_argument("--record", metavar="PATH.mp4", help="write the played episodes to this mp4")
    parser.add_argument("--fps", type=int, help="frames per second for --record and human rendering")
    parser.add_argument("--random", action="store_true", help="untrained policy (randomly initialised weights)")
    parser.add_argument("--scan", action="store_true",
                        help="report ENV_OR_CONFIG's spaces, render modes, action meanings and limits; play nothing")  # fmt: skip
    parser.add_argument("--export", metavar="DIR",
                        help="write each episode to DIR/episode_000/...: sensors.npz, actions.npz, video.mp4, "
                        "metadata.json")  # fmt: skip
    parser.add_argument("--human", action="store_true",
                        help="play ENV_OR_CONFIG yourself with the keyboard (bindings shown at start; P pauses, "
                        "Esc ends); --fps sets its speed (default per platform)")  # fmt: skip
    parser.add_argument("--list-envs", nargs="?", const="", metavar="FILTER",
                        help="list the envs --human plays, by platform (those whose id contains FILTER)")  # fmt: skip
    parser.add_argument("--max-frames", type=int, metavar="N", help="with --human: end after N frames (demos, tests)")
    parser.add_argument("--record-dataset", nargs="?", const="", metavar="DIR",
                        help="record every step (PNG frame, action, reward, ending, seed) as a Hugging Face dataset in "
                        "DIR (default: <runs>/datasets/<env id>-<time>)")  # fmt: skip
    parser.add_argument("--push-dataset", nargs="?", const="", metavar="USER/NAME",
                        help="record as --record-dataset does and push the dataset to the Hugging Face Hub "
                        "(default: <you>/GymnasiumRecording__<env id>)")  # fmt: skip
    parser.add_argument("--playback", metavar="DIR_OR_REPO",
                        help="replay a recorded dataset (folder or Hub dataset repo) from its seeds and actions and "
                        "compare every frame; exit 1 when one differs")  # fmt: skip
    return parser


def _render_mode(args: argparse.Namespace) -> str | None:
    if args.headless or args.render == "none":
        return None
    if args.render == "human":
        return "human"
    return "human" if os.environ.get("DISPLAY") or sys.platform == "darwin" else None


@dataclass
class PolicySource:
    """What plays: the config, the policy and its observation normalizer, the default first seed, and where the
    policy comes from (``metadata.json``'s ``policy`` in an export)."""

    config: Config
    policy: MLPPolicy
    normalizer: ObsNormalizer
    first_seed: int
    info: dict[str, Any]


def _resolve(args: argparse.Namespace) -> PolicySource:
    """Config, policy and observation normalizer to play with, the default first seed, and the policy's origin."""
    from agents.loading import load_checkpoint_policy, load_trained_policy, untrained_policy
    from utils.checkpoints import checkpoint_logs_enabled
    from utils.config import load_config
    from utils.config_files import split_config_id
    from utils.run_reader import open_run

    if args.config and args.run_id:
        raise ConfigError("give either <env>:<variant> (with --random) or --run-id, not both")
    if args.hub:
        from publishing.hub import download_model

        model = download_model(args.hub, args.revision)
        trained = load_checkpoint_policy(model.path)
        if checkpoint_logs_enabled():
            print(f"model {model.repo_id} ({model.revision}, commit {model.commit[:8]})")
        seeds = (model.results or {}).get("eval_seeds")
        published = seeds[0] if isinstance(seeds, list) and seeds and isinstance(seeds[0], int) else None
        first_seed = published if published is not None else _eval_base_seed(trained.config)
        info = {"kind": "hub", "repo_id": model.repo_id, "revision": model.revision, "commit": model.commit}
        return PolicySource(trained.config, trained.policy, trained.obs_normalizer, first_seed, info)
    if args.config:
        if not args.random:
            raise ConfigError("<env>:<variant> plays an untrained policy; add --random, or use --run-id for a run")
        config = load_config(*split_config_id(args.config))
        origin: dict[str, Any] = {}
    else:
        run = open_run(args.run_id or "@last")
        if not args.random:
            trained = load_trained_policy(run, args.checkpoint or "best")
            if checkpoint_logs_enabled():
                print(f"run {run.run_id}, checkpoint {trained.checkpoint}")
            info = {"kind": "checkpoint", "run_id": run.run_id, "checkpoint": trained.checkpoint}
            first_seed = _eval_base_seed(trained.config)
            return PolicySource(trained.config, trained.policy, trained.obs_normalizer, first_seed, info)
        config = Config.from_dict(run.read_config())
        origin = {"run_id": run.run_id}
    import torch

    torch.manual_seed(config.seed)
    untrained = untrained_policy(config)
    print(f"{config.config_id or config.env_id}: untrained policy (random weights)")
    info = {"kind": "random", "weights": "untrained (random initial weights)", "config_id": config.config_id, **origin}
    return PolicySource(config, untrained.policy, untrained.obs_normalizer, _eval_base_seed(config), info)


def play(args: argparse.Namespace) -> int:
    """Play the episodes, print each and a summary; Ctrl-C stops after printing what finished."""
    import gymnasium as gym

    from utils.envs import build_env
    from utils.evaluation import evaluate_policy
    from utils.frame_capture import FrameCapture

    source = _resolve(args)
    config, policy, normalizer = source.config, source.policy, source.normalizer
    deterministic = config.eval_deterministic if args.deterministic is None else args.deterministic
    first_seed = parse_seed(args.seed) if args.seed is not None else source.first_seed
    render_mode = _render_mode(args)
    captures: list[FrameCapture] = []

    def capture(env: gym.Env) -> gym.Env:
        captures.append(FrameCapture(env, Path(args.record).resolve(), fps=args.fps))
        return captures[-1]

    if args.record:
        render_mode = "rgb_array"
    env = build_env(config, "eval", n_envs=1, render_mode=render_mode, wrap_first=capture if args.record else None)
    if render_mode == "human" and args.fps:
        assert isinstance(env, gym.vector.SyncVectorEnv)  # eval envs are sync (async only for several retro envs)
        env.envs[0].metadata["render_fps"] = args.fps
    returns, lengths = [], []
    try:
        for k in range(args.episodes):
            result = evaluate_policy(policy, env, normalizer, [first_seed + k], deterministic)
            returns.append(result.returns[0])
            lengths.append(result.lengths[0])
            ending = "terminated" if result.terminated[0] else "truncated"
            _print_episode(k, args.episodes, first_seed + k, returns[-1], lengths[-1], ending)
    except KeyboardInterrupt:
        print("\ninterrupted", flush=True)
    finally:
        recorded = captures[0].finish() if captures else 0
        env.close()
    _print_summary(returns, lengths)
    if recorded:
        print(f"video: {args.record} ({recorded} frames)")
    return 0 if len(returns) == args.episodes else 130


def scan(args: argparse.Namespace) -> int:
    """Print what ENV_OR_CONFIG offers: a config's env as it builds it for evaluation, or a plain Gymnasium id."""
    from gameplay.plain_env import make_plain_env, names_a_config
    from gameplay.scan import scan_config, scan_env

    if names_a_config(args.config):
        from utils.config import load_config
        from utils.config_files import split_config_id

        summary = scan_config(load_config(*split_config_id(args.config)))
    else:
        env = make_plain_env(args.config)
        try:
            summary = scan_env(env, args.config)
        finally:
            env.close()
    print(summary.report())
    return 0


@dataclass
class Rollout:
    """One env to play episodes in, and the policy for each episode's seed: what --export and --record-dataset play."""

    env: Any  # a gymnasium.Env (one sub-env of the eval env, or a plain Gymnasium id's env)
    close: Callable[[], None]
    first_seed: int  # the default first seed
    info: dict[str, Any]  # what plays: an export's metadata "policy", a recording's "source"
    make_policy: Callable[[int], Any]  # episode seed -> policy(obs, info) -> action
    env_id: str
    env_recipe: dict[str, Any]  # how playback builds the env again (gameplay/dataset_recorder.config_env, ...)


def _rollout(args: argparse.Namespace, verb: str, frames: bool) -> Rollout:
    """The env and policies ``--export`` (``frames``: rgb_array rendering forced, for ``--record-dataset``) plays.

    A Gymnasium id without a shipped config plays uniformly random actions (``--random``), first seed 0.
    """
    from gameplay.dataset_recorder import config_env, gymnasium_env
    from gameplay.plain_env import has_shipped_config, make_plain_env, names_a_config, video_render_mode

    def render_mode(env_id: str) -> str | None:
        return "rgb_array" if frames else video_render_mode(env_id)

    if args.config and not names_a_config(args.config) and not has_shipped_config(args.config):
        if not args.random:
            raise ConfigError(f"{args.config} has no shipped config; {verb} random actions with --random")
        env = make_plain_env(args.config, render_mode(args.config))
        info: dict[str, Any] = {"kind": "random", "actions": "uniform (action_space.sample())"}

        def random_policy(seed: int) -> Any:
            return lambda obs, step_info: env.action_space.sample()  # seeded with the episode's seed when reset

        return Rollout(env, env.close, 0, info, random_policy, args.config, gymnasium_env())
    import gymnasium as gym

    from gameplay.network_policy import network_policy
    from utils.envs import build_env

    source = _resolve(args)
    vector = build_env(source.config, "eval", n_envs=1, render_mode=render_mode(source.config.env_id))
    assert isinstance(vector, gym.vector.SyncVectorEnv)  # a one-env eval env is sync
    sub_env = vector.envs[0]
    deterministic = source.config.eval_deterministic if args.deterministic is None else args.deterministic
    info = {**source.info, "deterministic": deterministic}

    def make_policy(seed: int) -> Any:
        return network_policy(source.policy, source.normalizer, sub_env.action_space, deterministic, seed)

    return Rollout(sub_env, vector.close, source.first_seed, info, make_policy, source.config.env_id,
                   config_env(source.config))  # fmt: skip


def export(args: argparse.Namespace) -> int:
    """Play the episodes like ``play`` and write each into ``--export DIR``/episode_NNN/; Ctrl-C keeps those done."""
    from gameplay.export import export_rollout

    rollout = _rollout(args, "export", frames=False)
    env, close, info, make_policy = rollout.env, rollout.close, rollout.info, rollout.make_policy
    first_seed = parse_seed(args.seed) if args.seed is not None else rollout.first_seed
    out = Path(args.export)
    returns, lengths = [], []
    try:
        for k in range(args.episodes):
            seed = first_seed + k
            episode = export_rollout(env, out / f"episode_{k:03d}", make_policy(seed), seed=seed, fps=args.fps,
                                     max_steps=None, policy_info=info)  # fmt: skip
            returns.append(episode.total_reward)
            lengths.append(episode.steps)
            ending = "terminated" if episode.terminated else "truncated"
            _print_episode(k, args.episodes, seed, returns[-1], lengths[-1], ending)
    except KeyboardInterrupt:
        print("\ninterrupted", flush=True)
    finally:
        close()
    _print_summary(returns, lengths)
    if returns:
        print(f"exported {len(returns)} episodes to {out}")
    return 0 if len(returns) == args.episodes else 130


def record_dataset(args: argparse.Namespace) -> int:
    """Play the episodes like ``export`` and record every step as a dataset (``--record-dataset``), pushed to the
    Hub with ``--push-dataset``; Ctrl-C saves the steps played so far."""
    from gameplay.dataset_recorder import DatasetRecorder, record_episode
    from gameplay.export import DEFAULT_FPS

    rollout = _rollout(args, "record", frames=True)
    returns, lengths = [], []
    try:
        push = _prepare_dataset_push(args, rollout.env_id)
        fps = args.fps or rollout.env.metadata.get("render_fps") or DEFAULT_FPS
        recorder = DatasetRecorder(rollout.env_id, fps, rollout.info, {"env": rollout.env_recipe})
        first_seed = parse_seed(args.seed) if args.seed is not None else rollout.first_seed
        try:
            for k in range(args.episodes):
                seed = first_seed + k
                episode = record_episode(rollout.env, recorder, rollout.make_policy(seed), seed)
                returns.append(episode.total_reward)
                lengths.append(episode.steps)
                ending = "terminated" if episode.terminated else "truncated"
                _print_episode(k, args.episodes, seed, returns[-1], lengths[-1], ending)
        except KeyboardInterrupt:
            print("\ninterrupted", flush=True)
    finally:
        rollout.close()
    _print_summary(returns, lengths)
    status = _save_dataset(args, recorder, push)
    return status or (0 if len(returns) == args.episodes else 130)


def _prepare_dataset_push(args: argparse.Namespace, env_id: str) -> Any:
    """For ``--push-dataset``: the checked token and the full repo id (``gameplay.dataset_hub.DatasetPush``), found
    before anything is played; ``None`` without the flag."""
    if args.push_dataset is None:
        return None
    from gameplay.dataset_hub import prepare_push

    return prepare_push(args.push_dataset or None, env_id)


def _save_dataset(args: argparse.Namespace, recorder: Any, push: Any) -> int:
    """Save the recording into ``--record-dataset DIR`` (or the default folder) and push it when ``push`` (from
    ``_prepare_dataset_push``) says where; the exit status: 0, 1 when the Hub failed, 2 when it refused."""
    if not recorder.steps:
        recorder.close()
        print("nothing was recorded, so no dataset was written")
        return 0
    out = recorder.save(_dataset_dir(args, recorder.env_id))
    print(f"dataset: {out} ({recorder.episodes} episodes, {recorder.steps} steps); play it back: "
          f"python run_play.py --playback {out}")  # fmt: skip
    if push is None:
        return 0
    from gameplay.dataset_hub import push_recording
    from publishing.hub import HubUnavailable  # torch comes with it: only when something is pushed

    try:
        url = push_recording(push, out)
    except (HubUnavailable, ConfigError) as error:
        print(f"error: {error} (the recording is saved in {out})", file=sys.stderr)
        return 1 if isinstance(error, HubUnavailable) else 2
    print(f"pushed: {url}; play it back: python run_play.py --playback {push.repo_id}")
    return 0


def playback(args: argparse.Namespace) -> int:
    """Replay ``--playback DIR_OR_REPO`` from its seeds and actions and compare every frame; 0 when all match."""
    from gameplay.playback import FrameWindow, open_recording, play_back, version_notes

    with open_recording(args.playback) as recording:
        metadata = recording.metadata
        print(f"playing back {metadata['env_id']} from {recording.where}", flush=True)
        for note in version_notes(metadata):
            print(note, flush=True)
        fps = args.fps or metadata.get("fps") or 30
        window = FrameWindow(fps, f"playback: {recording.where}") if args.render == "human" else None
        try:
            checks = play_back(recording, lambda line: print(line, flush=True), window.show if window else None)
        except KeyboardInterrupt:
            print("\ninterrupted", flush=True)
            return 130
        finally:
            if window is not None:
                window.close()
    matched = sum(check.deterministic for check in checks)
    print(f"playback: {matched}/{len(checks)} episodes deterministic")
    return 0 if matched == len(checks) else 1


def human(args: argparse.Namespace) -> int:
    """Play ENV_OR_CONFIG with the keyboard until Esc; episode k is reset with seed ``--seed`` (default 0) + k.

    With ``--record-dataset``/``--push-dataset`` Space starts the recording, saved (and pushed) when the play ends.
    """
    from gameplay.human_play import PlayedEpisode, intro_lines, play_with_keyboard
    from gameplay.key_bindings import bindings_for

    env, close, env_id, env_recipe = _keyboard_env(args.config)
    recorder = push = None
    try:
        bindings = bindings_for(env, args.config)
        fps = args.fps or bindings.fps
        if args.record_dataset is not None or args.push_dataset is not None:
            push = _prepare_dataset_push(args, env_id)
            recorder = _human_recorder(env_id, env, bindings.platform, fps, env_recipe)
        print("\n".join(intro_lines(bindings, recorder is not None)), flush=True)
        first_seed = parse_seed(args.seed) if args.seed is not None else 0

        def show(episode: PlayedEpisode) -> None:
            print(f"episode {episode.seed - first_seed + 1}  seed {episode.seed}  return {episode.total_reward:.2f}  "
                  f"length {episode.steps}  ({episode.ending}{', recorded' if episode.recorded else ''})", flush=True)  # fmt: skip

        status, played = 0, []
        try:
            played = play_with_keyboard(env, bindings, fps=fps, first_seed=first_seed, recorder=recorder,
                                        max_frames=args.max_frames, on_episode=show).episodes  # fmt: skip
        except KeyboardInterrupt:
            print("\ninterrupted", flush=True)
            status = 130
    finally:
        close()
    _print_summary([episode.total_reward for episode in played], [episode.steps for episode in played])
    if recorder is not None:
        status = _save_dataset(args, recorder, push) or status
    return status


def _keyboard_env(target: str) -> tuple[Any, Callable[[], None], str, dict[str, Any]]:
    """The env ``--human`` plays (rgb_array frames), its closer, env id, and how playback builds it again: a config's
    evaluation env (wrappers included), or ``gymnasium.make`` of a plain id."""
    from gameplay.dataset_recorder import config_env, gymnasium_env
    from gameplay.plain_env import make_plain_env, names_a_config

    if not names_a_config(target):
        env = make_plain_env(target, "rgb_array")
        return env, env.close, target, gymnasium_env()
    import gymnasium as gym

    from utils.config import load_config
    from utils.config_files import split_config_id
    from utils.envs import build_env

    config = load_config(*split_config_id(target))
    vector = build_env(config, "eval", n_envs=1, render_mode="rgb_array")
    assert isinstance(vector, gym.vector.SyncVectorEnv)  # a one-env eval env is sync
    return vector.envs[0], vector.close, config.env_id, config_env(config)


def _human_recorder(env_id: str, env: Any, platform: str, fps: int, env_recipe: dict[str, Any]) -> Any:
    """The ``DatasetRecorder`` of a keyboard session; an action space a dataset cannot hold fails before play."""
    import gymnasium as gym

    from gameplay.dataset_recorder import DatasetRecorder

    if isinstance(env.action_space, gym.spaces.Dict | gym.spaces.Tuple):
        raise ConfigError(f"{env_id}: its {type(env.action_space).__name__} actions cannot be recorded in a dataset; "
                          "play it without --record-dataset")  # fmt: skip
    return DatasetRecorder(env_id, fps, {"kind": "human", "platform": platform}, {"env": env_recipe})


def _dataset_dir(args: argparse.Namespace, env_id: str | None = None) -> Path:
    """``--record-dataset DIR``, or the default folder (named for ``env_id``, else ENV_OR_CONFIG) when DIR is left
    out."""
    from gameplay.dataset_recorder import default_dataset_dir

    given = args.record_dataset
    return Path(given) if given else default_dataset_dir(env_id or args.config or "recording")


def list_envs(args: argparse.Namespace) -> int:
    """Print the envs ``--human`` plays, by platform; FILTER keeps the ids (or platforms) that contain it."""
    from gameplay.env_catalog import catalog_report, list_playable_envs

    text = args.list_envs or args.config or ""
    envs = list_playable_envs(text)
    if not envs:
        raise ConfigError(f"--list-envs: no playable env id contains {text!r}; run --list-envs alone for all of them")
    print(catalog_report(envs))
    return 0


def _print_episode(k: int, episodes: int, seed: int, episode_return: float, length: int, ending: str) -> None:
    print(f"episode {k + 1}/{episodes}  seed {seed}  return {episode_return:.2f}  length {length}  ({ending})",
          flush=True)  # fmt: skip


def _print_summary(returns: list[float], lengths: list[int]) -> None:
    if returns:
        import numpy as np

        print(f"summary: {len(returns)} episodes, return mean {np.mean(returns):.2f} ± {np.std(returns):.2f} "
              f"(min {np.min(returns):.2f}, max {np.max(returns):.2f}), length mean {np.mean(lengths):.1f}")  # fmt: skip


def parse_seed(text: str) -> int:
    """``--seed`` as a whole number in the range of evaluation seeds (the default is one of them)."""
    seed = parse_whole_number(text)
    if seed is None or not 0 <= seed <= MAX_EPISODE_SEED:
        raise ConfigError(f"--seed: {text!r} is not a whole number from 0 to {MAX_EPISODE_SEED} (2**62)")
    return seed


def check_arguments(args: argparse.Namespace) -> None:
    """The checks that need no run: a bad argument fails at once, before anything loads."""
    if args.record_dataset is not None or args.push_dataset is not None or args.playback:
        _check_dataset_arguments(args)
    if args.human or args.list_envs is not None:
        _check_keyboard_arguments(args)
    elif args.max_frames is not None:
        raise ConfigError("--max-frames goes with --human (it ends the keyboard session after N frames)")
    if args.scan:
        if not args.config:
            raise ConfigError("--scan needs ENV_OR_CONFIG: <env>:<variant> or a Gymnasium id, e.g. CartPole-v1")
        clash = [name for name, given in (("--run-id", args.run_id), ("--checkpoint", args.checkpoint),
                 ("--hub", args.hub), ("--random", args.random), ("--export", args.export),
                 ("--record", args.record)) if given]  # fmt: skip
        if clash:
            raise ConfigError(f"--scan only reports on ENV_OR_CONFIG and plays nothing; drop {' and '.join(clash)}")
    if args.export:
        if args.record:
            raise ConfigError("--export writes a video.mp4 per episode; drop --record")
        if args.render == "human":
            raise ConfigError("--export renders rgb_array frames for its videos, never a window; drop --render human")
        out = Path(args.export)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise ConfigError(f"--export: {args.export} already exists and is not an empty folder; give a new one")
    if args.episodes < 1:
        raise ConfigError(f"--episodes: {args.episodes} must be >= 1")
    if args.fps is not None and args.fps < 1:
        raise ConfigError(f"--fps: {args.fps} must be >= 1 (frames per second)")
    if args.seed is not None:
        parse_seed(args.seed)
    if args.record and not args.record.endswith(".mp4"):
        raise ConfigError(f"--record: {args.record!r} must end in .mp4")
    if args.hub:
        clash = [name for name, given in (("<env>:<variant>", args.config), ("--run-id", args.run_id),
                 ("--checkpoint", args.checkpoint), ("--random", args.random)) if given]  # fmt: skip
        if clash:
            raise ConfigError(f"--hub plays the published model; drop {' and '.join(clash)}")
        from publishing.repo_names import check_repo_id

        check_repo_id(args.hub, "--hub")
    elif args.revision:
        raise ConfigError("--revision goes with --hub USER/NAME (a branch, tag or commit of that model)")


def _check_keyboard_arguments(args: argparse.Namespace) -> None:
    """``--human`` plays ENV_OR_CONFIG with the keyboard and ``--list-envs`` only lists: neither takes a policy."""
    flag = "--human" if args.human else "--list-envs"
    policy_flags = (("--run-id", args.run_id), ("--checkpoint", args.checkpoint), ("--hub", args.hub),
                    ("--random", args.random), ("--deterministic/--stochastic", args.deterministic is not None),
                    ("--scan", args.scan), ("--export", args.export), ("--record", args.record),
                    ("--headless", args.headless), ("--render", args.render))  # fmt: skip
    clash = [name for name, given in policy_flags if given]
    if args.human and args.list_envs is not None:
        clash.append("--list-envs")
    if clash:
        raise ConfigError(f"{flag} takes no policy, render or export options; drop {' and '.join(clash)}")
    if args.list_envs is not None:
        if args.max_frames is not None:
            raise ConfigError("--list-envs only lists; drop --max-frames")
        return
    if not args.config:
        raise ConfigError("--human needs ENV_OR_CONFIG: a Gymnasium id (ALE/Pong-v5) or <env>:<variant>; "
                          "run_play.py --list-envs lists the playable ids")  # fmt: skip
    if args.max_frames is not None and args.max_frames < 1:
        raise ConfigError(f"--max-frames: {args.max_frames} must be >= 1")


def _check_dataset_arguments(args: argparse.Namespace) -> None:
    """``--playback`` replays a recording and plays nothing else; ``--record-dataset``/``--push-dataset`` record
    rgb_array frames themselves. Both need Hugging Face ``datasets``."""
    from gameplay.dataset_recorder import require_datasets

    require_datasets()
    recording = args.record_dataset is not None or args.push_dataset is not None
    if args.playback:
        clash = [name for name, given in (("ENV_OR_CONFIG", args.config), ("--run-id", args.run_id),
                 ("--checkpoint", args.checkpoint), ("--hub", args.hub), ("--random", args.random),
                 ("--human", args.human), ("--scan", args.scan), ("--export", args.export), ("--record", args.record),
                 ("--record-dataset/--push-dataset", recording), ("--seed", args.seed is not None),
                 ("--deterministic/--stochastic", args.deterministic is not None)) if given]  # fmt: skip
        if clash:
            raise ConfigError(f"--playback replays the recorded seeds and actions; drop {' and '.join(clash)}")
        return
    clash = [name for name, given in (("--scan", args.scan), ("--export", args.export), ("--record", args.record))
             if given]  # fmt: skip
    if clash:
        raise ConfigError(f"--record-dataset records the frames itself; drop {' and '.join(clash)}")
    if args.render == "human" and not args.human:
        raise ConfigError("--record-dataset renders rgb_array frames, never a window; drop --render human")
    out = Path(args.record_dataset) if args.record_dataset else None
    if out is not None and out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"--record-dataset: {out} already exists and is not an empty folder; give a new one")
    if args.push_dataset:
        from gameplay.dataset_hub import check_dataset_name

        check_dataset_name(args.push_dataset)


def _eval_base_seed(config: Config) -> int:
    from utils.evaluation import eval_base_seed

    return eval_base_seed(config.seed, config.eval_seed)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and play; user errors print one line and exit 2."""
    args = build_parser().parse_args(argv)
    try:
        check_arguments(args)
        if args.list_envs is not None:
            return list_envs(args)
        if args.human:
            return human(args)
        if args.scan:
            return scan(args)
        if args.playback:
            return playback(args)
        if args.record_dataset is not None or args.push_dataset is not None:
            return record_dataset(args)
        return export(args) if args.export else play(args)
    except (ConfigError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
