"""``run_play.py --human``: play ENV_OR_CONFIG yourself with the keyboard (``gameplay/human_play.py``), optionally
recording a dataset; and ``--list-envs [FILTER]``: the envs it can play (``gameplay/env_catalog.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from utils.config_values import ConfigError

if TYPE_CHECKING:  # imported where used: the command line stays fast
    import argparse

    from gameplay.dataset_hub import DatasetPush
    from gameplay.dataset_recorder import DatasetRecorder
    from gameplay.human_play import PlayedEpisode


def human(args: argparse.Namespace) -> int:
    """Play ENV_OR_CONFIG with the keyboard until Esc (or ``--episodes`` episodes); episode k is reset with seed
    ``--seed`` (default 0) + k.

    With ``--record-dataset``/``--push-dataset`` Space starts the recording, saved (and pushed) when the play ends.
    """
    from gameplay.dataset_commands import prepare_dataset_push, save_dataset
    from gameplay.human_play import intro_lines, play_with_keyboard
    from gameplay.key_bindings import bindings_for
    from gameplay.play_episodes import first_seed, print_summary

    env, close, env_id, env_recipe = keyboard_env(args.config)
    recorder: DatasetRecorder | None = None
    push: DatasetPush | None = None
    try:
        bindings = bindings_for(env, args.config)
        fps = args.fps or bindings.fps
        if args.record_dataset is not None or args.push_dataset is not None:
            push = prepare_dataset_push(args.push_dataset, env_id, args.private)
            recorder = keyboard_recorder(env_id, env, bindings.platform, fps, env_recipe)
        print("\n".join(intro_lines(bindings, recorder is not None)), flush=True)
        start = first_seed(args.seed, 0)

        def show(episode: PlayedEpisode) -> None:
            print(f"episode {episode.seed - start + 1}  seed {episode.seed}  return {episode.total_reward:.2f}  "
                  f"length {episode.steps}  ({episode.ending}{', recorded' if episode.recorded else ''})", flush=True)  # fmt: skip

        status, played = 0, []
        try:
            played = play_with_keyboard(env, bindings, fps=fps, first_seed=start, recorder=recorder,
                                        max_frames=args.max_frames, max_episodes=args.episodes,
                                        on_episode=show).episodes  # fmt: skip
        except KeyboardInterrupt:
            print("\ninterrupted", flush=True)
            status = 130
    finally:
        close()
    print_summary([episode.total_reward for episode in played], [episode.steps for episode in played])
    if recorder is not None:
        status = save_dataset(recorder, args.record_dataset, push) or status
    return status


def keyboard_env(target: str) -> tuple[Any, Callable[[], None], str, dict[str, Any]]:
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


def keyboard_recorder(env_id: str, env: Any, platform: str, fps: int, env_recipe: dict[str, Any]) -> DatasetRecorder:
    """The ``DatasetRecorder`` of a keyboard session; an action space a dataset cannot hold fails before play."""
    import gymnasium as gym

    from gameplay.dataset_recorder import DatasetRecorder

    if isinstance(env.action_space, gym.spaces.Dict | gym.spaces.Tuple):
        raise ConfigError(f"{env_id}: its {type(env.action_space).__name__} actions cannot be recorded in a dataset; "
                          "play it without --record-dataset")  # fmt: skip
    return DatasetRecorder(env_id, fps, {"kind": "human", "platform": platform}, {"env": env_recipe})


def list_envs(text: str) -> int:
    """Print the envs ``--human`` plays, by platform; ``text`` (FILTER) keeps the ids (or platforms) that contain it."""
    from gameplay.env_catalog import catalog_report, list_playable_envs

    envs = list_playable_envs(text)
    if not envs:
        raise ConfigError(f"--list-envs: no playable env id contains {text!r}; run --list-envs alone for all of them")
    print(catalog_report(envs))
    return 0
