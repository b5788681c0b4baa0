"""Playing seeded episodes (``run_play.py``): episode k of N is reset with seed ``first + k`` and printed as it
ends, with a summary at the end; ``play`` shows them in a window or records them to an mp4, ``export`` writes each
into a folder of its own (``gameplay/export.py``). Ctrl-C stops after printing what finished (exit status 130)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from utils.config import MAX_EPISODE_SEED
from utils.config_values import ConfigError, parse_whole_number

if TYPE_CHECKING:  # imported where used: the command line stays fast
    import argparse


class FinishedEpisode(Protocol):
    """What an episode's player reports: its return, its length and how it ended."""

    @property
    def total_reward(self) -> float: ...

    @property
    def steps(self) -> int: ...

    @property
    def terminated(self) -> bool: ...


@dataclass(frozen=True)
class EpisodeOutcome:
    """A finished episode as ``FinishedEpisode`` reads it."""

    total_reward: float
    steps: int
    terminated: bool  # False: truncated


@dataclass
class PlayedEpisodes:
    """The returns and lengths of the episodes that finished, of ``requested``."""

    requested: int
    returns: list[float] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)

    def exit_status(self) -> int:
        """0 when every requested episode finished, 130 when Ctrl-C stopped them."""
        return 0 if len(self.returns) == self.requested else 130


def play_seeded_episodes(episodes: int, first_seed: int, play: Callable[[int], FinishedEpisode]) -> PlayedEpisodes:
    """Play ``episodes`` episodes, episode k with ``play(first_seed + k)``, printing each as it ends; Ctrl-C stops
    after printing ``interrupted``."""
    played = PlayedEpisodes(episodes)
    try:
        for k in range(episodes):
            seed = first_seed + k
            episode = play(seed)
            played.returns.append(episode.total_reward)
            played.lengths.append(episode.steps)
            ending = "terminated" if episode.terminated else "truncated"
            print_episode(k, episodes, seed, played.returns[-1], played.lengths[-1], ending)
    except KeyboardInterrupt:
        print("\ninterrupted", flush=True)
    return played


def print_episode(k: int, episodes: int, seed: int, episode_return: float, length: int, ending: str) -> None:
    """One line for episode ``k`` (from 0) of ``episodes``."""
    print(f"episode {k + 1}/{episodes}  seed {seed}  return {episode_return:.2f}  length {length}  ({ending})",
          flush=True)  # fmt: skip


def print_summary(returns: list[float], lengths: list[int]) -> None:
    """The mean, spread and range of the returns and the mean length; nothing when no episode finished."""
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


def first_seed(text: str | None, default: int) -> int:
    """The first episode's seed: ``--seed`` when given, else ``default``."""
    return parse_seed(text) if text is not None else default


def window_render_mode(render: str | None, headless: bool) -> str | None:
    """``human`` (a window) or ``None`` for ``--render``/``--headless``; neither: a window when there is a display."""
    if headless or render == "none":
        return None
    if render == "human":
        return "human"
    return "human" if os.environ.get("DISPLAY") or sys.platform == "darwin" else None


def play(args: argparse.Namespace) -> int:
    """Play the episodes, print each and a summary; Ctrl-C stops after printing what finished."""
    import gymnasium as gym

    from gameplay.policy_source import PolicyChoice, resolve_policy_source
    from utils.envs import build_env
    from utils.evaluation import evaluate_policy
    from utils.frame_capture import FrameCapture

    source = resolve_policy_source(PolicyChoice.from_args(args))
    start = first_seed(args.seed, source.first_seed)
    render_mode = "rgb_array" if args.record else window_render_mode(args.render, args.headless)
    captures: list[FrameCapture] = []

    def capture(env: gym.Env) -> gym.Env:
        captures.append(FrameCapture(env, Path(args.record).resolve(), fps=args.fps))
        return captures[-1]

    env = build_env(source.config, "eval", n_envs=1, render_mode=render_mode,
                    wrap_first=capture if args.record else None)  # fmt: skip
    if render_mode == "human" and args.fps:
        assert isinstance(env, gym.vector.SyncVectorEnv)  # eval envs are sync (async only for several retro envs)
        env.envs[0].metadata["render_fps"] = args.fps

    def play_one(episode_seed: int) -> EpisodeOutcome:
        result = evaluate_policy(source.policy, env, source.normalizer, [episode_seed], source.deterministic)
        return EpisodeOutcome(result.returns[0], result.lengths[0], result.terminated[0])

    try:
        played = play_seeded_episodes(args.episodes, start, play_one)
    finally:
        recorded = captures[0].finish() if captures else 0
        env.close()
    print_summary(played.returns, played.lengths)
    if recorded:
        print(f"video: {args.record} ({recorded} frames)")
    return played.exit_status()


def export(args: argparse.Namespace) -> int:
    """Play the episodes like ``play`` and write each into ``--export DIR``/episode_NNN/; Ctrl-C keeps those done."""
    from gameplay.export import ExportedRollout, export_rollout
    from gameplay.policy_source import PolicyChoice
    from gameplay.rollout import open_rollout

    rollout = open_rollout(PolicyChoice.from_args(args), "export", frames=False)
    start = first_seed(args.seed, rollout.first_seed)
    out = Path(args.export)

    def export_one(episode_seed: int) -> ExportedRollout:
        return export_rollout(rollout.env, out / f"episode_{episode_seed - start:03d}", rollout.make_policy(episode_seed),
                              seed=episode_seed, fps=args.fps, max_steps=None, policy_info=rollout.info)  # fmt: skip

    try:
        played = play_seeded_episodes(args.episodes, start, export_one)
    finally:
        rollout.close()
    print_summary(played.returns, played.lengths)
    if played.returns:
        print(f"exported {len(played.returns)} episodes to {out}")
    return played.exit_status()
