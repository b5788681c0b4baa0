"""Keyboard play (gameplay/human_play.py) driven by key events posted into pygame's queue under the dummy video
driver: what the recorder receives is what the keys pressed, Space starts the recording, Esc stops it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pygame
import pytest

from gameplay.human_play import play_with_keyboard
from gameplay.key_bindings import bindings_for
from gameplay.plain_env import make_plain_env

Script = dict[int, list[str]]  # frame -> events: "+key" presses, "-key" releases


def posting(script: Script) -> Callable[[int], None]:
    """A ``before_frame`` hook that posts frame i's key events into pygame's event queue."""

    def before_frame(frame: int) -> None:
        for event in script.get(frame, []):
            kind = pygame.KEYDOWN if event[0] == "+" else pygame.KEYUP
            pygame.event.post(pygame.event.Event(kind, key=pygame.key.key_code(event[1:])))

    return before_frame


class ListRecorder:
    """A stand-in for DatasetRecorder that keeps every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.frames: list[np.ndarray] = []

    def begin_episode(self, seed: int | None) -> None:
        self.calls.append(("begin", seed))

    def record_step(self, frame: np.ndarray, action: Any, reward: float, terminated: bool, truncated: bool) -> None:
        self.frames.append(frame)
        self.calls.append(("step", np.asarray(action).tolist(), terminated))

    def end_episode(self) -> None:
        self.calls.append(("end",))

    def actions(self) -> list[Any]:
        return [call[1] for call in self.calls if call[0] == "step"]


@pytest.fixture
def env_of() -> Iterator[Callable[..., gym.Env]]:
    built: list[gym.Env] = []

    def make(env_id: str, **kwargs: Any) -> gym.Env:
        env = gym.make(env_id, render_mode="rgb_array", **kwargs) if kwargs else make_plain_env(env_id, "rgb_array")
        built.append(env)
        return env

    yield make
    for env in built:
        env.close()


# Breakout: NOOP 0, FIRE 1, RIGHT 2, LEFT 3. Space starts the recording at frame 0, then: Right held for 2
# frames, Left for 2, Space (now FIRE) for 2, nothing for 2.
BREAKOUT_SCRIPT: Script = {0: ["+space"], 1: ["-space", "+right"], 3: ["-right", "+left"], 5: ["-left", "+space"],
                           7: ["-space"]}  # fmt: skip
BREAKOUT_ACTIONS = [0, 2, 2, 3, 3, 1, 1, 0, 0]


def test_atari_keys_reach_the_recorder_as_right_left_fire_noop(env_of: Callable[..., gym.Env]) -> None:
    env = env_of("ALE/Breakout-v5")
    recorder = ListRecorder()
    result = play_with_keyboard(env, bindings_for(env, "ALE/Breakout-v5"), fps=1000, first_seed=3,
                                recorder=recorder, max_frames=9, before_frame=posting(BREAKOUT_SCRIPT))  # fmt: skip
    assert recorder.actions() == BREAKOUT_ACTIONS
    assert recorder.calls[0] == ("begin", 3) and recorder.calls[-1] == ("end",)
    assert {frame.shape for frame in recorder.frames} == {(210, 160, 3)}
    assert [(e.seed, e.steps, e.ending, e.recorded) for e in result.episodes] == [(3, 9, "stopped", True)]


# VizdoomBasic-v1: NOOP 0, ATTACK 1, MOVE_RIGHT 2, MOVE_LEFT 3 (its button_map). Space starts the recording (it
# is USE, which Basic has not), then Left for 2 frames, Right for 2, Right and Ctrl (the latest wins), Right, nothing.
VIZDOOM_SCRIPT: Script = {0: ["+space"], 1: ["+left"], 3: ["-left", "+right"], 5: ["+left ctrl"], 6: ["-left ctrl"],
                          7: ["-right"]}  # fmt: skip
VIZDOOM_ACTIONS = [0, 3, 3, 2, 2, 1, 2, 0, 0]


def test_vizdoom_keys_move_and_attack(env_of: Callable[..., gym.Env]) -> None:
    env = env_of("VizdoomBasic-v1")
    names = {tuple(combo): i for i, combo in enumerate(env.unwrapped.button_map)}  # MOVE_LEFT, MOVE_RIGHT, ATTACK
    assert [names[(0, 0, 0)], names[(0, 0, 1)], names[(0, 1, 0)], names[(1, 0, 0)]] == [0, 1, 2, 3]
    recorder = ListRecorder()
    play_with_keyboard(env, bindings_for(env, "VizdoomBasic-v1"), fps=1000, recorder=recorder, max_frames=9,
                       before_frame=posting(VIZDOOM_SCRIPT))  # fmt: skip
    assert recorder.actions() == VIZDOOM_ACTIONS


def test_nothing_moves_until_space_starts_the_recording(env_of: Callable[..., gym.Env]) -> None:
    env = env_of("ALE/Breakout-v5")
    recorder = ListRecorder()
    script: Script = {0: ["+right"], 3: ["+space"]}  # Right is held from the start; recording starts at frame 3
    result = play_with_keyboard(env, bindings_for(env, "ALE/Breakout-v5"), fps=1000, recorder=recorder,
                                max_frames=5, before_frame=posting(script))  # fmt: skip
    assert recorder.actions() == [2, 2]  # frames 3 and 4 stepped, with Right; Space itself was not FIRE
    assert result.frames == 5 and result.episodes[0].steps == 2


def test_esc_stops_the_recording_and_the_play(env_of: Callable[..., gym.Env]) -> None:
    env = env_of("ALE/Breakout-v5")
    recorder = ListRecorder()
    script: Script = {0: ["+space"], 2: ["+escape"]}
    result = play_with_keyboard(env, bindings_for(env, "ALE/Breakout-v5"), fps=1000, recorder=recorder,
                                max_frames=100, before_frame=posting(script))  # fmt: skip
    assert result.frames == 2
    assert recorder.calls == [("begin", 0), ("step", 0, False), ("step", 0, False), ("end",)]
    assert result.episodes[-1].ending == "stopped"


def test_p_pauses_and_resumes(env_of: Callable[..., gym.Env]) -> None:
    env = env_of("ALE/Breakout-v5")
    recorder = ListRecorder()
    script: Script = {0: ["+space", "-space", "+right"], 1: ["+p", "-p"], 4: ["+p", "-p"]}
    result = play_with_keyboard(env, bindings_for(env, "ALE/Breakout-v5"), fps=1000, recorder=recorder,
                                max_frames=6, before_frame=posting(script))  # fmt: skip
    assert recorder.actions() == [2, 2, 2]  # frames 0, 4 and 5: paused from frame 1 to 3
    assert result.frames == 6


def test_episode_k_is_reset_with_first_seed_plus_k(env_of: Callable[..., gym.Env]) -> None:
    env = env_of("FrozenLake-v1", is_slippery=False)  # S F F F / F H F H: Right then Down falls in the hole
    recorder = ListRecorder()
    script: Script = {0: ["+space"], 1: ["+right"], 2: ["+down"], 3: ["-down", "-right"], 4: ["+right"], 6: ["+down"]}
    result = play_with_keyboard(env, bindings_for(env, "FrozenLake-v1"), fps=1000, first_seed=7, recorder=recorder,
                                max_frames=8, before_frame=posting(script))  # fmt: skip
    # turn-based: one step per press (holding Right through frames 4-5 stepped once)
    assert recorder.calls == [("begin", 7), ("step", 2, False), ("step", 1, True), ("end",),
                              ("begin", 8), ("step", 2, False), ("step", 1, True), ("end",)]  # fmt: skip
    assert [(e.seed, e.steps, e.ending) for e in result.episodes] == [(7, 2, "terminated"), (8, 2, "terminated")]


def test_max_episodes_ends_the_session_when_that_many_episodes_ended(env_of: Callable[..., gym.Env]) -> None:
    env = env_of("FrozenLake-v1", is_slippery=False)  # as above: Right then Down falls in the hole
    script: Script = {0: ["+right"], 1: ["+down"], 2: ["-down", "-right"], 3: ["+right"], 5: ["+down"]}
    result = play_with_keyboard(env, bindings_for(env, "FrozenLake-v1"), fps=1000, first_seed=7, max_episodes=1,
                                max_frames=20, before_frame=posting(script))  # fmt: skip
    assert [(e.seed, e.steps, e.ending) for e in result.episodes] == [(7, 2, "terminated")]
    assert result.frames == 2  # it ended right after the frame that finished the episode


def test_no_key_held_is_the_noop_without_a_recorder(env_of: Callable[..., gym.Env]) -> None:
    env = env_of("ALE/Breakout-v5")
    result = play_with_keyboard(env, bindings_for(env, "ALE/Breakout-v5"), fps=1000, max_frames=4)
    assert [(e.steps, e.ending, e.recorded) for e in result.episodes] == [(4, "stopped", False)]


@pytest.mark.parametrize(
    ("env_id", "script", "actions"),
    [("ALE/Breakout-v5", BREAKOUT_SCRIPT, BREAKOUT_ACTIONS), ("VizdoomBasic-v1", VIZDOOM_SCRIPT, VIZDOOM_ACTIONS)],
)
def test_the_recorded_datasets_action_column_is_what_the_keys_pressed(
    env_of: Callable[..., gym.Env], tmp_path: Path, env_id: str, script: Script, actions: list[int]
) -> None:
    pytest.importorskip("datasets")
    from datasets import load_from_disk

    from gameplay.dataset_recorder import DatasetRecorder

    env = env_of(env_id)
    bindings = bindings_for(env, env_id)
    recorder = DatasetRecorder(env_id, bindings.fps, {"kind": "human", "platform": bindings.platform})
    play_with_keyboard(env, bindings, fps=1000, first_seed=5, recorder=recorder, max_frames=9,
                       before_frame=posting(script))  # fmt: skip
    dataset = load_from_disk(str(recorder.save(tmp_path / "dataset")))
    assert list(dataset["action"]) == actions
    assert set(dataset["seed"]) == {5} and list(dataset["step"]) == list(range(9))
