"""Playing an env yourself with the keyboard (``run_play.py --human``): a pygame window shows the env's
``rgb_array`` frames scaled up, the keys held become the env's action each frame (``key_bindings.py``), P pauses,
Esc ends. Episode k is reset with seed ``first_seed + k``, so a recorded episode can be replayed.

With a recorder (``run_play.py --human --record-dataset``) nothing moves until Space starts the recording (Space
then does what the env binds it to, FIRE on Atari); each step hands the recorder the frame shown before the
action, the action, the reward and how the step ended; Esc stops the recording and the play.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import gymnasium as gym
import numpy as np

from gameplay.key_bindings import KeyBindings
from utils.config_values import ConfigError

WINDOW_TARGET = 800  # frames are scaled up by whole factors until about this many pixels on their long side
MAX_SCALE = 4
FONT_SIZE = 20
PAUSE_KEY, QUIT_KEY, RECORD_KEY = "p", "escape", "space"


class StepRecorder(Protocol):
    """What the play loop tells a recorder (``gameplay/dataset_recorder.DatasetRecorder``)."""

    def begin_episode(self, seed: int | None) -> None: ...

    def record_step(self, frame: np.ndarray, action: Any, reward: float, terminated: bool, truncated: bool) -> None: ...

    def end_episode(self) -> None: ...


@dataclass(frozen=True)
class PlayedEpisode:
    """One episode played: its reset seed, return, steps, how it ended, and whether it was recorded."""

    seed: int
    total_reward: float
    steps: int
    ending: str  # terminated, truncated, or stopped (Esc, the window closed or the frame limit)
    recorded: bool


@dataclass
class HumanPlayResult:
    """What a keyboard session played: its episodes (the last one possibly stopped) and the frames shown."""

    episodes: list[PlayedEpisode] = field(default_factory=list)
    frames: int = 0


def intro_lines(bindings: KeyBindings, recording: bool) -> list[str]:
    """The bindings and the session keys, as the window shows them at start and the console prints them."""
    session = "Space: start recording   Esc: stop and save" if recording else "P: pause   Esc: quit"
    return [f"{bindings.env_name} ({bindings.platform}, {bindings.fps} fps)", *bindings.help_lines(), session]


def play_with_keyboard(
    env: gym.Env,
    bindings: KeyBindings,
    *,
    fps: int | None = None,
    first_seed: int = 0,
    recorder: StepRecorder | None = None,
    max_frames: int | None = None,
    max_episodes: int | None = None,
    before_frame: Callable[[int], None] | None = None,
    on_episode: Callable[[PlayedEpisode], None] | None = None,
) -> HumanPlayResult:
    """Play ``env`` (made with ``render_mode="rgb_array"``) from the keyboard until Esc, the window closes,
    ``max_frames`` frames were shown or ``max_episodes`` episodes ended; ``before_frame(i)`` runs before frame i
    reads its events (tests post key events there) and ``on_episode`` after each episode."""
    if env.render_mode != "rgb_array":
        raise ConfigError(f"{bindings.env_name}: --human shows rgb_array frames; the env renders {env.render_mode}")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    session = _Session(env, bindings, first_seed, recorder, on_episode)
    window = _Window(session.frame, bindings, recorder is not None)
    clock = pygame.time.Clock()
    result = session.result
    try:
        while (max_frames is None or result.frames < max_frames) and (
            max_episodes is None or len(result.episodes) < max_episodes
        ):
            if before_frame is not None:
                before_frame(result.frames)
            if not session.handle(pygame.event.get()):
                break
            result.frames += 1
            session.advance()
            window.draw(session)
            clock.tick(fps or bindings.fps)
    finally:
        session.stop()
        window.close()
    return result


class _Session:
    """The state of one keyboard session: keys held, pause, recording, the current episode."""

    def __init__(
        self,
        env: gym.Env,
        bindings: KeyBindings,
        first_seed: int,
        recorder: StepRecorder | None,
        on_episode: Callable[[PlayedEpisode], None] | None,
    ) -> None:
        self.env, self.bindings, self.first_seed = env, bindings, first_seed
        self.recorder, self.on_episode = recorder, on_episode
        self.result = HumanPlayResult()
        self.held: list[str] = []  # pygame key names, oldest press first
        self.pressed_now: list[str] = []  # pressed during this frame (turn-based envs step on these)
        self.paused = False
        self.waiting = recorder is not None  # for Space to start the recording
        self.recording = False
        self.show_help = True
        self.steps_played = 0
        self._reset(0)

    def _reset(self, index: int) -> None:
        self.index, self.seed = index, self.first_seed + index
        self.env.reset(seed=self.seed)
        self.frame = _rgb_frame(self.env)
        self.total_reward, self.steps, self.episode_open = 0.0, 0, False

    def handle(self, events: list[Any]) -> bool:
        """Apply this frame's events; ``False`` when the session ends (Esc, the window closed)."""
        import pygame

        self.pressed_now = []
        for event in events:
            if event.type == pygame.QUIT:
                return False
            if event.type == pygame.KEYUP:
                name = pygame.key.name(event.key)
                self.held = [key for key in self.held if key != name]
            elif event.type == pygame.KEYDOWN:
                name = pygame.key.name(event.key)
                if name == QUIT_KEY:
                    return False
                if name == PAUSE_KEY:
                    self.paused = not self.paused
                elif self.waiting and name == RECORD_KEY:
                    self.waiting, self.recording, self.show_help = False, True, False
                else:
                    self.held = [key for key in self.held if key != name] + [name]
                    self.pressed_now.append(name)
                    self.show_help = self.show_help and not self.bindings.binds(name)
        return True

    def advance(self) -> None:
        """Step the env for this frame: once with the keys held, or once per key press for turn-based envs."""
        if self.paused or self.waiting:
            return
        if self.bindings.turn_based:
            actions = [self.bindings.press_action(key) for key in self.pressed_now]
            for action in actions:
                if action is not None:
                    self._step(action)
        else:
            self._step(self.bindings.action(self.held, self.steps_played))

    def _step(self, action: Any) -> None:
        shown = self.frame
        _, reward, terminated, truncated, info = self.env.step(action)
        reward = info.get("env_reward", reward)  # the env's own, where a config's reward shaper changed it
        self.total_reward += float(reward)
        self.steps += 1
        self.steps_played += 1
        if self.recording and self.recorder is not None:
            if not self.episode_open:
                self.recorder.begin_episode(self.seed)
                self.episode_open = True
            self.recorder.record_step(shown, action, float(reward), bool(terminated), bool(truncated))
        if terminated or truncated:
            self._finish("terminated" if terminated else "truncated")
            self._reset(self.index + 1)
        else:
            self.frame = _rgb_frame(self.env)

    def _finish(self, ending: str) -> None:
        if self.episode_open and self.recorder is not None:
            self.recorder.end_episode()
        episode = PlayedEpisode(self.seed, self.total_reward, self.steps, ending, self.episode_open)
        self.episode_open = False
        self.result.episodes.append(episode)
        if self.on_episode is not None:
            self.on_episode(episode)

    def stop(self) -> None:
        """End the session: an episode under way counts as stopped (and its recording ends with it)."""
        if self.steps:
            self._finish("stopped")

    def status(self) -> str:
        flags = ("   REC" if self.recording else "") + ("   PAUSED" if self.paused else "")
        return f"episode {self.index + 1}  seed {self.seed}  step {self.steps}  return {self.total_reward:g}{flags}"


class _Window:
    """The pygame window: the frame scaled up, a status line, and the bindings while they are useful."""

    def __init__(self, frame: np.ndarray, bindings: KeyBindings, recording: bool) -> None:
        import pygame

        pygame.display.init()
        pygame.font.init()
        height, width = frame.shape[:2]
        self.scale = max(1, min(MAX_SCALE, WINDOW_TARGET // max(height, width)))
        self.size = (width * self.scale, height * self.scale)
        self.screen = pygame.display.set_mode(self.size)
        pygame.display.set_caption(f"{bindings.env_name}: {bindings.platform}")
        self.font = pygame.font.Font(None, FONT_SIZE)
        self.help = intro_lines(bindings, recording)

    def draw(self, session: _Session) -> None:
        import pygame

        image = np.ascontiguousarray(session.frame[..., :3].transpose(1, 0, 2))
        surface = pygame.transform.scale(pygame.surfarray.make_surface(image), self.size)
        self.screen.blit(surface, (0, 0))
        lines = [session.status()]
        if session.show_help or session.paused or session.waiting:
            lines += self.help
        self._text_box(lines)
        pygame.display.flip()

    def _text_box(self, lines: list[str]) -> None:
        import pygame

        rendered = [self.font.render(line, True, (255, 255, 255)) for line in lines]
        height = sum(text.get_height() + 2 for text in rendered) + 8
        width = min(self.size[0], max(text.get_width() for text in rendered) + 12)
        box = pygame.Surface((width, height), pygame.SRCALPHA)
        box.fill((0, 0, 0, 170))
        self.screen.blit(box, (0, 0))
        y = 4
        for text in rendered:
            self.screen.blit(text, (6, y))
            y += text.get_height() + 2

    def close(self) -> None:
        import pygame

        pygame.display.quit()


def _rgb_frame(env: gym.Env) -> np.ndarray:
    frame = env.render()
    if not isinstance(frame, np.ndarray) or frame.ndim != 3:
        raise ConfigError(f"{env.spec.id if env.spec else type(env.unwrapped).__name__}: render() gave no RGB frame")
    return frame
