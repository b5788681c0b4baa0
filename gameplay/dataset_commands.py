"""``run_play.py --record-dataset``/``--push-dataset``, ``--push-recording`` and ``--playback``: record the played
episodes as a Hugging Face dataset (``gameplay/dataset_recorder.py``), save it and push it to the Hub
(``gameplay/dataset_hub.py``), push one saved earlier, and replay a recording comparing every frame
(``gameplay/playback.py``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from utils.config_values import ConfigError

if TYPE_CHECKING:  # imported where used: the command line stays fast
    import argparse

    from gameplay.dataset_hub import DatasetPush
    from gameplay.dataset_recorder import DatasetRecorder, RecordedEpisode


def record_dataset(args: argparse.Namespace) -> int:
    """Play the episodes like ``export`` and record every step as a dataset (``--record-dataset``), pushed to the
    Hub with ``--push-dataset``; Ctrl-C saves the steps played so far."""
    from gameplay.dataset_recorder import DatasetRecorder, record_episode
    from gameplay.export import DEFAULT_FPS
    from gameplay.play_episodes import first_seed, play_seeded_episodes, print_summary
    from gameplay.policy_source import PolicyChoice
    from gameplay.rollout import open_rollout

    rollout = open_rollout(PolicyChoice.from_args(args), "record", frames=True)
    try:
        push = prepare_dataset_push(args.push_dataset, rollout.env_id, args.private)
        fps = args.fps or rollout.env.metadata.get("render_fps") or DEFAULT_FPS
        recorder = DatasetRecorder(rollout.env_id, fps, rollout.info, {"env": rollout.env_recipe})

        def record_one(seed: int) -> RecordedEpisode:
            return record_episode(rollout.env, recorder, rollout.make_policy(seed), seed)

        played = play_seeded_episodes(args.episodes, first_seed(args.seed, rollout.first_seed), record_one)
    finally:
        rollout.close()
    print_summary(played.returns, played.lengths)
    return save_dataset(recorder, args.record_dataset, push) or played.exit_status()


def prepare_dataset_push(push_dataset: str | None, env_id: str, private: bool = False) -> DatasetPush | None:
    """For ``--push-dataset [USER/NAME]`` (``""``: the default name) and ``--private``: the checked token and the full
    repo id, found before anything is played; ``None`` without the flag."""
    if push_dataset is None:
        return None
    from gameplay.dataset_hub import prepare_push

    return prepare_push(push_dataset or None, env_id, private=private)


def save_dataset(recorder: DatasetRecorder, record_dataset: str | None, push: DatasetPush | None) -> int:
    """Save the recording into ``--record-dataset DIR`` (``None`` or ``""``: the default folder, named for the env)
    and push it when ``push`` (from ``prepare_dataset_push``) says where; the exit status: 0, 1 when the Hub failed,
    2 when it refused."""
    from gameplay.dataset_recorder import default_dataset_dir

    if not recorder.steps:
        recorder.close()
        print("nothing was recorded, so no dataset was written")
        return 0
    out = recorder.save(Path(record_dataset) if record_dataset else default_dataset_dir(recorder.env_id))
    print(f"dataset: {out} ({recorder.episodes} episodes, {recorder.steps} steps); play it back: "
          f"python run_play.py --playback {out}")  # fmt: skip
    return 0 if push is None else _push(push, out)


def push_saved(args: argparse.Namespace) -> int:
    """``--push-recording DIR``: push a recording saved earlier (to ``--push-dataset USER/NAME`` or the default
    name, ``--private`` if new) without playing; the exit status as ``save_dataset``'s."""
    from gameplay.dataset_hub import prepare_push
    from gameplay.playback import read_metadata

    folder = Path(args.push_recording)
    env_id = read_metadata(folder, str(folder))["env_id"]
    return _push(prepare_push(args.push_dataset or None, env_id, private=args.private), folder)


def _push(push: DatasetPush, folder: Path) -> int:
    """Upload the recording in ``folder``; 0, 1 when the Hub failed, 2 when it refused (one line either way)."""
    from gameplay.dataset_hub import push_recording
    from publishing.hub import HubUnavailable  # torch comes with it: only when something is pushed

    try:
        url = push_recording(push, folder)
    except (HubUnavailable, ConfigError) as error:
        print(f"error: {error} (the recording is saved in {folder})", file=sys.stderr)
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
