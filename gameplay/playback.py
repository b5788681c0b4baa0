"""Playing a recorded dataset back: each episode is reset with its recorded seed, the recorded actions are fed to
the env again, and every frame is compared with the recorded one (``run_play.py --playback DIR_OR_REPO``).

Row ``t`` holds the frame shown before action ``t`` (``gameplay/dataset_recorder.py``), so at each row the
replayed env's frame is compared pixel for pixel, then action ``t`` is taken and the step's reward, terminated
and truncated are compared. The first difference is the episode's divergence; the actions are still fed after
it, until the env or the recording ends, so the replayed steps and return can be set beside the recorded ones.
The env is rebuilt from ``recording.json`` (a config's evaluation env, or ``gymnasium.make`` with the kwargs the
recording used). A dataset is read from Arrow or Parquet files and JSON: nothing is unpickled.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from gameplay.dataset_recorder import COLUMNS, RECORDING_FILE, DatasetError, quiet_datasets
from gameplay.versions import ENV_PACKAGES, package_versions
from utils.config_values import ConfigError

HUB_DATA = "data"  # the Parquet files' folder in a dataset repo
HUB_FILES = [RECORDING_FILE, f"{HUB_DATA}/*.parquet"]  # what playback downloads from a dataset repo


@dataclass(frozen=True)
class Recording:
    """A recorded dataset, opened: its rows and its ``recording.json``."""

    dataset: Any  # datasets.Dataset
    metadata: dict[str, Any]
    where: str  # the folder, or the repo id and commit


@dataclass(frozen=True)
class EpisodeCheck:
    """How one recorded episode played back."""

    episode_id: int
    seed: int | None
    recorded_steps: int
    replayed_steps: int
    recorded_return: float
    replayed_return: float
    divergence: tuple[int, str] | None  # (the first step that differed, what differed); None: every step matched
    not_replayed: str | None = None  # why the episode could not be replayed at all

    @property
    def deterministic(self) -> bool:
        """Every frame, reward and ending matched the recording."""
        return self.divergence is None and self.not_replayed is None

    def line(self, k: int, episodes: int) -> str:
        """``episode 1/2  seed 7  steps 23 (matched)  return 23.00 (matched)  deterministic``, or the divergence."""
        head = f"episode {k + 1}/{episodes}  seed {self.seed}"
        if self.not_replayed is not None:
            return f"{head}  not replayed: {self.not_replayed}"
        steps = "matched" if self.replayed_steps == self.recorded_steps else f"recorded {self.recorded_steps}"
        same_return = self.replayed_return == self.recorded_return
        returns = "matched" if same_return else f"recorded {self.recorded_return:.2f}"
        verdict = "deterministic" if self.divergence is None else "diverged at step {}: {}".format(*self.divergence)
        return (
            f"{head}  steps {self.replayed_steps} ({steps})  return {self.replayed_return:.2f} ({returns})  {verdict}"
        )


@contextlib.contextmanager
def open_recording(source: str) -> Iterator[Recording]:
    """The recording in folder ``source`` (``save_to_disk``'s, with ``recording.json``), or else in the Hub
    dataset repo of that name (downloaded into the Hugging Face cache; ``HF_HUB_OFFLINE=1`` reads the cache)."""
    import datasets

    folder = Path(source)
    if folder.exists():
        metadata = read_metadata(folder, str(folder))
        try:
            with quiet_datasets():
                dataset = datasets.load_from_disk(str(folder))
        except FileNotFoundError:
            raise DatasetError(f"{folder} holds no dataset saved with save_to_disk (its Arrow files)") from None
        yield Recording(_check_columns(dataset, str(folder)), metadata, str(folder))
        return
    from publishing.repo_names import check_repo_id

    try:
        check_repo_id(source, "--playback")
    except ConfigError:
        raise DatasetError(f"--playback: no folder {source}, and it is not a Hub dataset name (USER/NAME)") from None
    from publishing.hub import download_dataset  # imported only now: it brings the checkpoint reader and torch

    snapshot = download_dataset(source, HUB_FILES)
    where = f"{source} (commit {snapshot.name[:8]})"
    metadata = read_metadata(snapshot, where)
    files = sorted((snapshot / HUB_DATA).glob("*.parquet"))
    if not files:
        raise DatasetError(f"{where} has no {HUB_DATA}/*.parquet files: it is not a dataset pushed with --push-dataset")
    cache = tempfile.mkdtemp(prefix="gymsolver-playback-")  # a fresh cache, removed after
    try:
        with quiet_datasets():
            dataset = datasets.Dataset.from_parquet([str(path) for path in files], cache_dir=cache)
        yield Recording(_check_columns(dataset, where), metadata, where)
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def read_metadata(folder: Path, where: str) -> dict[str, Any]:
    """``recording.json`` of a recording; one-line errors when it is missing or not one."""
    path = folder / RECORDING_FILE
    if not path.is_file():
        raise DatasetError(
            f"{where} has no {RECORDING_FILE}: it is not a dataset recorded with run_play.py --record-dataset "
            f"(a copy edited with `datasets` plays back when {RECORDING_FILE} is copied along)"
        )
    try:
        metadata = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise DatasetError(f"{where}: {RECORDING_FILE} cannot be read ({error})") from None
    if not isinstance(metadata, dict) or not isinstance(metadata.get("env_id"), str):
        raise DatasetError(f"{where}: {RECORDING_FILE} names no env_id; it is not a recording's")
    return metadata


def _check_columns(dataset: Any, where: str) -> Any:
    import datasets

    if not isinstance(dataset, datasets.Dataset):
        raise DatasetError(f"{where} holds a DatasetDict, not the one dataset a recording is")
    missing = [name for name in COLUMNS if name not in dataset.column_names]
    if missing:
        raise DatasetError(f"{where} has no column {', '.join(missing)}; it is not a recording")
    return dataset


def build_recorded_env(metadata: dict[str, Any]) -> tuple[gym.Env, Callable[[], None]]:
    """The env the recording was played in, rendering ``rgb_array`` frames, and how to close it."""
    recipe = metadata.get("env") or {"kind": "gymnasium", "kwargs": {}}
    env_id = metadata["env_id"]
    if recipe.get("kind") == "config":
        from utils.config import Config
        from utils.envs import build_env

        vector = build_env(Config.from_dict(recipe["config"]), "eval", n_envs=1, render_mode="rgb_array")
        assert isinstance(vector, gym.vector.SyncVectorEnv)  # a one-env eval env is sync
        return vector.envs[0], vector.close
    if recipe.get("kind") != "gymnasium":
        raise DatasetError(f"{RECORDING_FILE}: env {recipe!r} is neither a config nor a Gymnasium id's kwargs")
    from gameplay.plain_env import make_plain_env

    kwargs = recipe.get("kwargs") or {}
    if not kwargs:
        env = make_plain_env(env_id, "rgb_array")
        return env, env.close
    from utils.envs import env_spec

    env_spec(env_id)  # registers ALE, VizDoom and stable-retro ids
    try:
        env = gym.make(env_id, render_mode="rgb_array", **kwargs)
    except (gym.error.Error, ImportError, TypeError, ValueError, AssertionError) as error:
        text = " ".join(str(error).split()) or type(error).__name__
        raise DatasetError(f"{env_id} with {kwargs}: could not build the env ({text})") from error
    return env, env.close


def version_notes(metadata: dict[str, Any]) -> list[str]:
    """One line per env package whose version differs from the recording's (a likely cause of a divergence)."""
    recorded = metadata.get("versions") or {}
    now = package_versions(ENV_PACKAGES)
    return [
        f"note: recorded with {name} {recorded[name]}, playing back with {now.get(name, 'none')}"
        for name in ENV_PACKAGES
        if name in recorded and recorded[name] != now.get(name)
    ]


def play_back(
    recording: Recording, log: Callable[[str], None] = print, show: Callable[[np.ndarray], None] | None = None
) -> list[EpisodeCheck]:
    """Replay every episode of ``recording`` in order, logging one line each; ``show`` sees every replayed frame."""
    columns = [name for name in COLUMNS if name != "image"]
    table = recording.dataset.select_columns(columns).to_dict()
    images = recording.dataset.select_columns(["image"])
    episodes: dict[int, list[int]] = {}
    for index, episode_id in enumerate(table["episode_id"]):
        episodes.setdefault(episode_id, []).append(index)
    env, close = build_recorded_env(recording.metadata)
    checks: list[EpisodeCheck] = []
    try:
        for k, rows in enumerate(episodes.values()):
            rows = sorted(rows, key=lambda index: table["step"][index])
            checks.append(_check_episode(env, table, images, rows, show))
            log(checks[-1].line(k, len(episodes)))
    finally:
        close()
    return checks


def _check_episode(
    env: gym.Env, table: dict[str, list], images: Any, rows: list[int], show: Callable[[np.ndarray], None] | None
) -> EpisodeCheck:
    """Reset with the episode's seed, then per row: compare the frame, take the action, compare what it returned."""
    first = rows[0]
    seed = table["seed"][first]
    recorded_return = sum(table["reward"][index] for index in rows)
    check = {"episode_id": table["episode_id"][first], "seed": seed, "recorded_steps": len(rows),
             "recorded_return": recorded_return}  # fmt: skip
    if seed is None:
        return EpisodeCheck(**check, replayed_steps=0, replayed_return=0.0, divergence=None,
                            not_replayed="recorded without a seed, so it cannot be reset the same way")  # fmt: skip
    env.reset(seed=seed)
    divergence: tuple[int, str] | None = None
    replayed_steps, replayed_return = 0, 0.0
    for t, index in enumerate(rows):
        frame = np.asarray(env.render())
        if show is not None:
            show(frame)
        if divergence is None and (difference := frame_difference(frame, _image(images, index))):
            divergence = (t, difference)
        _, reward, terminated, truncated, info = env.step(_action(env.action_space, table["action"][index]))
        reward = float(info.get("env_reward", reward))
        replayed_steps, replayed_return = replayed_steps + 1, replayed_return + reward
        if divergence is None:
            ended = (bool(terminated), bool(truncated))
            recorded_ended = (table["terminated"][index], table["truncated"][index])
            differences = []
            if reward != table["reward"][index]:
                differences.append(f"reward {reward:g}, recorded {table['reward'][index]:g}")
            if ended != recorded_ended:
                differences.append(f"the step {_ending(*ended)}, recorded {_ending(*recorded_ended)}")
            if differences:
                divergence = (t, "; ".join(differences))
        if terminated or truncated:
            break
    return EpisodeCheck(**check, replayed_steps=replayed_steps, replayed_return=replayed_return, divergence=divergence)


def frame_difference(replayed: np.ndarray, recorded: np.ndarray) -> str | None:
    """``None`` when the frames are identical, else how they differ (pixels that differ, largest difference)."""
    if replayed.shape != recorded.shape:
        return f"frame of shape {replayed.shape}, recorded {recorded.shape}"
    difference = np.abs(replayed.astype(np.int16) - recorded.astype(np.int16))
    if not difference.any():
        return None
    pixels = int(difference.reshape(*difference.shape[:2], -1).any(axis=2).sum())
    return f"frame differs in {pixels} pixels (max abs diff {int(difference.max())})"


def _image(images: Any, index: int) -> np.ndarray:
    image = images[index]["image"]
    return np.asarray(image if image.mode == "RGB" else image.convert("RGB"))


def _action(space: gym.Space, value: Any) -> Any:
    """A recorded action (a number or nested lists) as the space's dtype and shape."""
    array = np.asarray(value, dtype=space.dtype).reshape(space.shape or ())
    return array[()] if array.ndim == 0 else array


def _ending(terminated: bool, truncated: bool) -> str:
    return "terminated" if terminated else "truncated" if truncated else "went on"


class FrameWindow:
    """A pygame window that shows frames at ``fps`` (``--playback --render``); closing it stops the playback."""

    def __init__(self, fps: float, title: str) -> None:
        import pygame

        pygame.init()
        pygame.display.set_caption(title)
        self.pygame = pygame
        self.clock = pygame.time.Clock()
        self.fps = fps
        self.screen: Any = None

    def show(self, frame: np.ndarray) -> None:
        """Draw ``frame`` (HxWx3) and wait for its turn; Ctrl-C when the window was closed."""
        pygame = self.pygame
        if self.screen is None or self.screen.get_size() != (frame.shape[1], frame.shape[0]):
            self.screen = pygame.display.set_mode((frame.shape[1], frame.shape[0]))
        pygame.surfarray.blit_array(self.screen, np.ascontiguousarray(frame[..., :3].swapaxes(0, 1)))
        pygame.display.flip()
        if any(event.type == pygame.QUIT for event in pygame.event.get()):
            raise KeyboardInterrupt
        self.clock.tick(self.fps)

    def close(self) -> None:
        """Close the window."""
        self.pygame.display.quit()
