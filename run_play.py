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
(``gameplay/dataset_hub.py``), ``--push-recording DIR`` pushes one saved earlier, and ``--playback DIR_OR_REPO``
replays one and compares every frame (``gameplay/playback.py``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from utils.cli_parser import OneLineErrorParser
from utils.config_values import ConfigError

DEFAULT_EPISODES = 5  # episodes a policy plays without --episodes (a keyboard session plays until Esc)


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
    parser.add_argument("--episodes", type=int,
                        help=f"episodes to play (default {DEFAULT_EPISODES}; with --human: until Esc)")  # fmt: skip
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
    parser.add_argument("--push-recording", metavar="DIR",
                        help="push a recording saved by --record-dataset to the Hub without playing (to --push-dataset "
                        "USER/NAME, or the default name)")  # fmt: skip
    parser.add_argument("--private", action="store_true",
                        help="with --push-dataset or --push-recording: create the dataset repo private (an existing "
                        "repo keeps its visibility)")  # fmt: skip
    parser.add_argument("--playback", metavar="DIR_OR_REPO",
                        help="replay a recorded dataset (folder or Hub dataset repo) from its seeds and actions and "
                        "compare every frame; exit 1 when one differs")  # fmt: skip
    return parser


def check_arguments(args: argparse.Namespace) -> None:
    """The checks that need no run: a bad argument fails at once, before anything loads."""
    if args.private and args.push_dataset is None and args.push_recording is None:
        raise ConfigError(
            "--private goes with --push-dataset or --push-recording (it makes the new dataset repo private)"
        )
    if args.record_dataset is not None or args.push_dataset is not None or args.playback or args.push_recording:
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
    if args.episodes is not None and args.episodes < 1:
        raise ConfigError(f"--episodes: {args.episodes} must be >= 1")
    if args.episodes is None and not args.human:
        args.episodes = DEFAULT_EPISODES
    if args.fps is not None and args.fps < 1:
        raise ConfigError(f"--fps: {args.fps} must be >= 1 (frames per second)")
    if args.seed is not None:
        from gameplay.play_episodes import parse_seed

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
    if args.push_recording is not None:
        _check_push_recording(args)
        return
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


def _check_push_recording(args: argparse.Namespace) -> None:
    """``--push-recording DIR`` pushes a saved recording and plays nothing: DIR must hold one."""
    clash = [name for name, given in (("ENV_OR_CONFIG", args.config), ("--run-id", args.run_id),
             ("--checkpoint", args.checkpoint), ("--hub", args.hub), ("--random", args.random), ("--human", args.human),
             ("--scan", args.scan), ("--export", args.export), ("--record", args.record),
             ("--record-dataset", args.record_dataset is not None), ("--playback", args.playback),
             ("--seed", args.seed is not None), ("--episodes", args.episodes is not None),
             ("--deterministic/--stochastic", args.deterministic is not None), ("--render", args.render is not None),
             ("--fps", args.fps is not None)) if given]  # fmt: skip
    if clash:
        raise ConfigError(f"--push-recording pushes a saved recording and plays nothing; drop {' and '.join(clash)}")
    from gameplay.playback import read_metadata

    read_metadata(Path(args.push_recording), args.push_recording)  # one line when DIR holds no recording
    if args.push_dataset:
        from gameplay.dataset_hub import check_dataset_name

        check_dataset_name(args.push_dataset)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and play; user errors print one line and exit 2."""
    args = build_parser().parse_args(argv)
    try:
        check_arguments(args)
        return run_mode(args)
    except (ConfigError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def run_mode(args: argparse.Namespace) -> int:
    """Run the mode the checked arguments ask for; its exit status."""
    if args.list_envs is not None:
        from gameplay.keyboard_command import list_envs

        return list_envs(args.list_envs or args.config or "")
    if args.human:
        from gameplay.keyboard_command import human

        return human(args)
    if args.scan:
        from gameplay.scan import scan_target

        print(scan_target(args.config).report())
        return 0
    if args.playback:
        from gameplay.dataset_commands import playback

        return playback(args)
    if args.push_recording is not None:
        from gameplay.dataset_commands import push_saved

        return push_saved(args)
    if args.record_dataset is not None or args.push_dataset is not None:
        from gameplay.dataset_commands import record_dataset

        return record_dataset(args)
    from gameplay.play_episodes import export, play

    return export(args) if args.export else play(args)


if __name__ == "__main__":
    sys.exit(main())
