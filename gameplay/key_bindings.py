"""Keyboard controls for playing an env yourself (``run_play.py --human``): the keys of each platform, the env's
buttons they press, and the env action for the keys held. Pure: keys are pygame key names, no window is needed.

An env's actions are read as sets of buttons: ALE's action meanings (``UPRIGHTFIRE`` = UP + RIGHT + FIRE),
VizDoom's button combinations (``inspector/labels.py`` names them, following the config's action remapping),
stable-retro's button array, and the documented actions of Gymnasium's classic envs. The keys held press
buttons; the action is the one whose buttons are the largest set of those held (the latest key decides a
tie), and with nothing held it is the action that presses nothing, the env's no-op.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import gymnasium as gym
import numpy as np

from gameplay.key_maps import (
    ATARI,
    ATARI_FPS,
    ATARI_KEYS,
    BOX_BUTTONS,
    FALLBACK_FPS,
    GYMNASIUM_KEYS,
    GYMNASIUM_PLATFORMS,
    KEY_LABELS,
    LABEL_BUTTONS,
    RETRO,
    RETRO_FPS,
    RETRO_KEY_NAMES,
    TOY_TEXT,
    TURN_BASED_FPS,
    VIZDOOM,
    VIZDOOM_KEYS,
    VIZDOOM_TICRATE,
    Adds,
    Keys,
)
from inspector.labels import NO_BUTTONS, action_labels
from utils.config_values import ConfigError

ALE_BUTTON = re.compile(r"UP|DOWN|LEFT|RIGHT|FIRE")
PLACEHOLDER_BUTTON = re.compile(r"BUTTON\d+")  # inspector/labels.py's name of an unused slot of a retro pad


class NoKeyBinding(ConfigError):
    """An env whose actions no keyboard table here can play."""


class ActionRule(Protocol):
    """Turns the buttons held (oldest press first) into an action of the env's action space."""

    def action(self, pressed: Sequence[str], frame: int) -> Any: ...

    def buttons(self) -> set[str]:
        """The env's buttons: what keys can press."""
        ...

    def describe(self, button: str) -> str:
        """What pressing ``button`` alone does, as the env names it."""
        ...


@dataclass(frozen=True)
class DiscreteButtons:
    """A Discrete space whose action ``start + i`` presses the buttons ``combos[i]`` (none: a no-op)."""

    combos: tuple[frozenset[str], ...]
    labels: tuple[str, ...]  # the env's name of each action
    start: int = 0

    def match(self, pressed: Sequence[str]) -> int | None:
        """The action pressing the most of the held buttons and no other (the latest press breaks a tie);
        ``None`` when no action presses any of them."""
        order = {button: rank for rank, button in enumerate(pressed)}
        fits = [(len(c), max(order[b] for b in c), -i) for i, c in enumerate(self.combos) if c and c <= order.keys()]
        return self.start - max(fits)[2] if fits else None

    def action(self, pressed: Sequence[str], frame: int) -> int:
        """The matching action; with none, the no-op, or for an env without one (CartPole) its actions in turn."""
        matched = self.match(pressed)
        if matched is not None:
            return matched
        noop = [i for i, combo in enumerate(self.combos) if not combo]
        return self.start + (noop[0] if noop else frame % len(self.combos))

    def buttons(self) -> set[str]:
        return {button for combo in self.combos for button in combo}

    def describe(self, button: str) -> str:
        matched = self.match([button])
        return self.labels[matched - self.start] if matched is not None else button

    def has_noop(self) -> bool:
        """Whether one action presses nothing (CartPole has none)."""
        return any(not combo for combo in self.combos)


@dataclass(frozen=True)
class ButtonArray:
    """MultiBinary (or MultiDiscrete of 2s) over named buttons: 1 for each button held."""

    names: tuple[str, ...]
    dtype: Any = np.int8

    def action(self, pressed: Sequence[str], frame: int) -> np.ndarray:
        return np.array([name in pressed for name in self.names], dtype=self.dtype)

    def buttons(self) -> set[str]:
        return set(self.names)

    def describe(self, button: str) -> str:
        return button


@dataclass(frozen=True)
class AxisSum:
    """A Box: the sum of what each held button adds, clipped to the space (nothing held: zeros)."""

    adds: Adds
    space: gym.spaces.Box

    def action(self, pressed: Sequence[str], frame: int) -> np.ndarray:
        total = np.zeros(self.space.shape, np.float64)
        for button in pressed:
            if button in self.adds:
                total += self.adds[button][0]
        return np.clip(total, self.space.low, self.space.high).astype(self.space.dtype)

    def buttons(self) -> set[str]:
        return set(self.adds)

    def describe(self, button: str) -> str:
        return self.adds[button][1]


@dataclass(frozen=True)
class ButtonsAndDeltas:
    """VizDoom's Dict action space: its binary buttons from the keys, its delta buttons (mouse-like) at 0."""

    binary: ActionRule
    deltas: int

    def action(self, pressed: Sequence[str], frame: int) -> dict[str, Any]:
        return {"binary": self.binary.action(pressed, frame), "continuous": np.zeros(self.deltas, np.float32)}

    def buttons(self) -> set[str]:
        return self.binary.buttons()

    def describe(self, button: str) -> str:
        return self.binary.describe(button)


@dataclass(frozen=True)
class KeyBindings:
    """How the keyboard plays one env: which key presses which button, the action for the keys held, the
    default frame rate, and whether the env steps once per key press (turn-based) or once per frame."""

    env_name: str
    platform: str  # Atari, VizDoom, stable-retro, classic control, toy text or box2d
    controls: tuple[tuple[tuple[str, ...], str], ...]  # (pygame key names, the button they press)
    rule: ActionRule
    fps: int  # default frames (real-time envs: steps) a second
    turn_based: bool = False  # toy text: one step per key press, nothing happens between presses
    unbound: tuple[str, ...] = field(default=())  # the env's buttons no key presses

    def pressed_buttons(self, held_keys: Sequence[str]) -> list[str]:
        """The buttons the held keys press, in the order the keys were pressed."""
        by_key = {key: button for keys, button in self.controls for key in keys}
        buttons = [by_key[key] for key in held_keys if key in by_key]
        return list(dict.fromkeys(reversed(buttons)))[::-1]  # a button held by two keys counts at its latest

    def action(self, held_keys: Sequence[str], frame: int = 0) -> Any:
        """The env action while ``held_keys`` are held (oldest press first); ``frame`` counts the steps played."""
        return self.rule.action(self.pressed_buttons(held_keys), frame)

    def press_action(self, key: str) -> Any | None:
        """Turn-based envs: the action one press of ``key`` takes, ``None`` if it takes none."""
        buttons = self.pressed_buttons([key])
        if not buttons:
            return None
        if isinstance(self.rule, DiscreteButtons):
            return self.rule.match(buttons)
        return self.rule.action(buttons, 0)

    def binds(self, key: str) -> bool:
        """Whether ``key`` presses one of the env's buttons."""
        return any(key in keys for keys, _ in self.controls)

    def help_lines(self, width: int = 64) -> list[str]:
        """The bindings as text: ``Key: what it does`` entries packed into lines of about ``width`` characters,
        then how keys combine and what happens with none held."""
        entries, shown = [], set()
        for keys, button in self.controls:
            if button not in shown:  # a second key for the same button (A where Left already moves) goes unsaid
                shown.add(button)
                entries.append(f"{key_label(keys[0])}: {self.rule.describe(button)}")
        lines: list[str] = []
        for entry in entries:
            if lines and len(lines[-1]) + 3 + len(entry) <= width:
                lines[-1] += "   " + entry
            else:
                lines.append(entry)
        rule = self.rule.binary if isinstance(self.rule, ButtonsAndDeltas) else self.rule
        if self.turn_based:
            lines.append("one step per key press")
        elif isinstance(rule, DiscreteButtons):
            combined = [label for label, combo in zip(rule.labels, rule.combos, strict=True) if len(combo) > 1]
            if combined:
                lines.append(f"hold keys together for combined actions ({', '.join(combined[:2])}, ...)")
            if not rule.has_noop():
                lines.append(f"no key held: {' and '.join(rule.labels)} in turn (the env has no no-op)")
        if self.unbound:
            lines.append("no key: " + ", ".join(self.unbound))
        return lines


def key_label(key: str) -> str:
    """How a pygame key name reads on screen: ``Ctrl``, ``Enter``, ``Left``, ``Z``."""
    return KEY_LABELS.get(key, key[:1].upper() + key[1:])


def bindings_for(env: gym.Env, env_name: str) -> KeyBindings:
    """The keyboard bindings of ``env`` (built with ``gymnasium.make`` or a config's wrappers); an env whose
    actions no table here covers raises ``NoKeyBinding`` with one line."""
    base: Any = env.unwrapped
    space = env.action_space
    if hasattr(base, "get_action_meanings"):
        return _discrete_bindings(env, env_name, ATARI, ATARI_KEYS, ATARI_FPS, _ale_buttons)
    if hasattr(base, "game") and hasattr(base, "num_binary_buttons"):
        fps = max(1, round(VIZDOOM_TICRATE / int(getattr(base, "frame_skip", 1))))
        if isinstance(space, gym.spaces.Dict) and space == base.action_space:
            binary = _vizdoom_binary_rule(base)
            rule = ButtonsAndDeltas(binary, int(base.num_delta_buttons))
            return _bind(env_name, VIZDOOM, VIZDOOM_KEYS, rule, fps)
        return _discrete_bindings(env, env_name, VIZDOOM, VIZDOOM_KEYS, fps, _joined_buttons)
    if hasattr(base, "buttons") and hasattr(base, "system"):
        fps = int(base.metadata.get("video.frames_per_second", RETRO_FPS))
        return _discrete_bindings(env, env_name, RETRO, _retro_keys(str(base.system)), fps, _joined_buttons)
    module = type(base).__module__.split(".")
    platform = GYMNASIUM_PLATFORMS.get(module[2], "") if module[:2] == ["gymnasium", "envs"] else ""
    name = type(base).__name__
    if isinstance(space, gym.spaces.Box) and name in BOX_BUTTONS and space == base.action_space:
        adds = BOX_BUTTONS[name]
        if len(space.shape) == 1 and all(len(add) == space.shape[0] for add, _ in adds.values()):
            fps = int(env.metadata.get("render_fps") or FALLBACK_FPS)
            return _bind(env_name, platform or name, GYMNASIUM_KEYS, AxisSum(adds, space), fps)
    turn_based = platform == TOY_TEXT
    fps = TURN_BASED_FPS if turn_based else int(env.metadata.get("render_fps") or FALLBACK_FPS)
    return _discrete_bindings(env, env_name, platform or name, GYMNASIUM_KEYS, fps, LABEL_BUTTONS.get, turn_based)


def _no_binding(env_name: str, space: gym.Space) -> NoKeyBinding:
    shown = " ".join(str(space).split())
    return NoKeyBinding(
        f"{env_name}: no keyboard binding for its actions ({shown}); --human plays Atari, VizDoom, stable-retro "
        "and the classic control, toy text and box2d envs that run_play.py --list-envs lists"
    )


def _ale_buttons(label: str) -> tuple[str, ...] | None:
    """``UPRIGHTFIRE`` -> UP, RIGHT, FIRE; ``NOOP`` -> none; ``None`` for a meaning made of other words."""
    if label == NO_BUTTONS:
        return ()
    parts = ALE_BUTTON.findall(label)
    return tuple(parts) if "".join(parts) == label else None


def _joined_buttons(label: str) -> tuple[str, ...]:
    """``MOVE_LEFT+ATTACK`` (VizDoom, stable-retro combinations; a MultiBinary button is one name) -> its buttons."""
    return () if label == NO_BUTTONS else tuple(label.split("+"))


def _discrete_bindings(
    env: gym.Env, env_name: str, platform: str, keys: Keys, fps: int, parse: Any, turn_based: bool = False
) -> KeyBindings:
    """Bindings of an env whose actions ``inspector.labels.action_labels`` names: per Discrete action a set of
    buttons (``parse``: label -> buttons, or None for an unknown one), per MultiBinary entry one button."""
    space = env.action_space
    labels = action_labels(env)
    if labels is None:
        raise _no_binding(env_name, space)
    if isinstance(space, gym.spaces.MultiBinary) and len(space.shape) == 1:
        rule: ActionRule = ButtonArray(tuple(labels), space.dtype)
    elif isinstance(space, gym.spaces.Discrete):
        combos = [parse(label) for label in labels]
        if any(combo is None for combo in combos):
            raise _no_binding(env_name, space)
        rule = DiscreteButtons(tuple(frozenset(combo) for combo in combos), tuple(labels), int(space.start))
    else:
        raise _no_binding(env_name, space)
    bindings = _bind(env_name, platform, keys, rule, fps, turn_based)
    if not bindings.controls:
        raise _no_binding(env_name, space)
    return bindings


def _vizdoom_binary_rule(base: Any) -> ActionRule:
    """The binary part of VizDoom's Dict action space (its delta buttons come first in the button list)."""
    names = [button.name for button in base.game.get_available_buttons()][int(base.num_delta_buttons) :]
    binary = base.action_space["binary"]
    if isinstance(binary, gym.spaces.Discrete):
        held = [[n for n, bit in zip(names, combo, strict=True) if bit] for combo in base.button_map]
        return DiscreteButtons(tuple(map(frozenset, held)), tuple("+".join(combo) or NO_BUTTONS for combo in held))
    return ButtonArray(tuple(names), binary.dtype)


def _retro_keys(system: str) -> Keys:
    """stable-retro's own keyboard layout for the console (its ``keybinds``: arrows, Z/X, Tab/Enter, ...)."""
    import stable_retro

    info = stable_retro.data.EMU_INFO.get(system, {})
    pairs = [(b, k) for b, k in zip(info.get("buttons", []), info.get("keybinds", []), strict=False) if b and k]
    pairs.sort(
        key=lambda pair: pair[0] not in ("UP", "DOWN", "LEFT", "RIGHT")
    )  # the arrows first, then the pad's order
    return tuple(((RETRO_KEY_NAMES.get(key, key.lower()),), (button,)) for button, key in pairs)


def _bind(
    env_name: str, platform: str, keys: Keys, rule: ActionRule, fps: int, turn_based: bool = False
) -> KeyBindings:
    """Keep the keys whose buttons the env has (each key's first one it has) and name the buttons left over."""
    available = rule.buttons()
    controls = []
    for key_names, choices in keys:
        button = next((choice for choice in choices if choice in available), None)
        if button is not None:
            controls.append((key_names, button))
    bound = {button for _, button in controls}
    unbound = tuple(sorted(b for b in available - bound if not PLACEHOLDER_BUTTON.fullmatch(b)))
    return KeyBindings(env_name, platform, tuple(controls), rule, fps, turn_based, unbound)
