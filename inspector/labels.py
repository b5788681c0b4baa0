"""Names of actions and observation dimensions, as the env's documentation gives them.

Labels are read from the built env: ALE's ``get_action_meanings()``, VizDoom's and stable-retro's button
names, and the Gymnasium docs for the classic envs (keyed by the unwrapped env's class). They follow the
wrappers of ``utils/envs.make_single_env``: ``DiscreteActionSpaceRemapperWrapper`` (the agent's action i is
the env's action ``mapping[i]``) and frame stacking; a wrapper that changes the spaces any other way makes
the answer ``None`` rather than a wrong name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from gym_wrappers.action_remapper import DiscreteActionSpaceRemapperWrapper

NO_BUTTONS = "NOOP"  # label of a button combination with nothing pressed

# Discrete actions of Gymnasium's envs (and ours), from their documentation, by the unwrapped env's class.
ACTION_NAMES: dict[str, list[str]] = {
    "CartPoleEnv": ["LEFT", "RIGHT"],  # push the cart to the left / right
    "AcrobotEnv": ["TORQUE -1", "TORQUE 0", "TORQUE +1"],  # torque on the actuated joint
    "MountainCarEnv": ["LEFT", "NOOP", "RIGHT"],  # accelerate left, don't accelerate, accelerate right
    "LunarLander": ["NOOP", "FIRE LEFT", "FIRE MAIN", "FIRE RIGHT"],  # left/right: the orientation engines
    "FrozenLakeEnv": ["LEFT", "DOWN", "RIGHT", "UP"],
    "TaxiEnv": ["SOUTH", "NORTH", "EAST", "WEST", "PICKUP", "DROPOFF"],
    "CliffWalkingEnv": ["UP", "RIGHT", "DOWN", "LEFT"],
    "BlackjackEnv": ["STICK", "HIT"],
    "CarRacing": ["NOOP", "STEER RIGHT", "STEER LEFT", "GAS", "BRAKE"],  # continuous=False (continuous: a Box)
}

# Vector observation dimensions, from the Gymnasium docs; by the unwrapped env's class or by our wrapper's.
OBSERVATION_NAMES: dict[str, list[str]] = {
    "CartPoleEnv": ["cart position", "cart velocity", "pole angle", "pole angular velocity"],
    "AcrobotEnv": [
        "cos(theta1)",
        "sin(theta1)",
        "cos(theta2)",
        "sin(theta2)",
        "angular velocity of theta1",
        "angular velocity of theta2",
    ],
    "MountainCarEnv": ["position", "velocity"],
    "Continuous_MountainCarEnv": ["position", "velocity"],
    "PendulumEnv": ["x = cos(theta)", "y = sin(theta)", "angular velocity"],
    "LunarLander": [
        "x",
        "y",
        "x velocity",
        "y velocity",
        "angle",
        "angular velocity",
        "left leg contact",
        "right leg contact",
    ],
    "PongV5_FeatureExtractor": ["ball x", "ball y", "ball dx", "ball dy", "player y", "opponent y"],
}


def single_env(env: gym.Env | gym.vector.VectorEnv) -> gym.Env | None:
    """The env itself, or sub-env 0 of a sync vector env (``None`` for vector envs without sub-env objects)."""
    if isinstance(env, gym.vector.VectorEnv):
        envs = getattr(env, "envs", None)
        return envs[0] if envs else None
    return env


def _layers(env: gym.Env) -> list[gym.Env]:
    """The wrapper chain from the outermost wrapper to the unwrapped env (last)."""
    layers = [env]
    while isinstance(layers[-1], gym.Wrapper):
        layers.append(layers[-1].env)
    return layers


def pressed(bits: Sequence[Any] | np.ndarray, names: Sequence[str]) -> str:
    """``A+B`` for the buttons whose bit is set, ``NOOP`` for none."""
    return "+".join(names[i] for i, bit in enumerate(bits) if bit) or NO_BUTTONS


def _button_labels(base: Any, space: gym.Space) -> list[str] | None:
    """Button names of VizDoom (its Discrete button combinations) and stable-retro (per button, or per combo)."""
    if hasattr(base, "game") and hasattr(base, "num_binary_buttons"):  # VizDoom's gymnasium env
        if getattr(base, "num_delta_buttons", 0):
            return None  # a Dict action space (delta + binary buttons): no single list names it
        buttons = [button.name for button in base.game.get_available_buttons()]
        if isinstance(space, gym.spaces.Discrete):
            return [pressed(combo, buttons) for combo in base.button_map]
        return buttons
    if hasattr(base, "buttons") and hasattr(base, "action_to_array"):  # stable-retro's RetroEnv
        names = [name or f"BUTTON{i}" for i, name in enumerate(base.buttons)]
        players = int(getattr(base, "players", 1))
        if isinstance(space, gym.spaces.Discrete):
            return [pressed(base.action_to_array(i)[0], names) for i in range(int(space.n))] if players == 1 else None
        if isinstance(space, gym.spaces.MultiBinary):
            return names if players == 1 else [f"P{p + 1} {name}" for p in range(players) for name in names]
    return None


def _base_action_labels(base: Any) -> list[str] | None:
    """Labels of the unwrapped env's own actions, indexed by ``action - space.start``."""
    space = base.action_space
    if hasattr(base, "get_action_meanings"):  # ALE
        return list(base.get_action_meanings())
    name = type(base).__name__
    if name == "MultiArmedBanditEnv" and isinstance(space, gym.spaces.Discrete):
        return [f"ARM {i}" for i in range(int(space.n))]
    if name in ACTION_NAMES and isinstance(space, gym.spaces.Discrete):
        return list(ACTION_NAMES[name])
    return _button_labels(base, space)


def action_labels(env: gym.Env | gym.vector.VectorEnv) -> list[str] | None:
    """Name of each of the agent's actions (Discrete: action i; MultiBinary: button i), or ``None`` if unknown.

    Follows ``DiscreteActionSpaceRemapperWrapper``: with ``mapping: [0, 2, 3]`` on Pong the agent's
    actions are NOOP, RIGHT, LEFT.
    """
    single = single_env(env)
    if single is None:
        return None
    layers = _layers(single)
    labels = _base_action_labels(layers[-1])
    for layer in reversed(layers[:-1]):  # innermost wrapper first
        if isinstance(layer, DiscreteActionSpaceRemapperWrapper):
            inner = layer.env.action_space
            assert isinstance(inner, gym.spaces.Discrete)  # the wrapper refuses any other space
            start = int(inner.start)
            base = labels if labels is not None else [str(start + i) for i in range(int(inner.n))]
            labels = [base[action - start] for action in layer.mapping]
    space = single.action_space
    if isinstance(space, gym.spaces.Discrete):
        size = int(space.n)
    elif isinstance(space, gym.spaces.MultiBinary):
        size = int(np.prod(space.shape))
    else:
        return None
    return labels if labels is not None and size == len(labels) else None


def action_label(action: Any, labels: Sequence[str] | None, space: gym.Space) -> str:
    """One action as text: its name (Discrete), the pressed buttons (MultiBinary), else its numbers."""
    values = np.asarray(action)
    if isinstance(space, gym.spaces.Discrete):
        index = int(values.reshape(-1)[0])
        return labels[index] if labels is not None else str(index)
    if isinstance(space, gym.spaces.MultiBinary):
        bits = values.reshape(-1)
        return pressed(bits, labels if labels is not None else [str(i) for i in range(len(bits))])
    if np.issubdtype(values.dtype, np.floating):
        return "[" + ", ".join(format(float(v), ".3g") for v in values.reshape(-1)) + "]"
    return str([int(v) for v in values.reshape(-1)])


def _stack_position(k: int, stack: int) -> str:
    """``t-2``, ``t-1``, ``t``: the k-th observation of a stack of ``stack``, oldest first."""
    back = stack - 1 - k
    return f"t-{back}" if back else "t"


def observation_labels(env: gym.Env | gym.vector.VectorEnv) -> list[str] | None:
    """Name of each dimension of the flattened observation for the known vector envs, else ``None``.

    Under frame stacking (``frame_stack: k``) the names repeat per stacked observation, oldest first,
    suffixed ``[t-k+1]`` ... ``[t]``.
    """
    single = single_env(env)
    if single is None:
        return None
    layers = _layers(single)
    named = [index for index, layer in enumerate(layers) if type(layer).__name__ in OBSERVATION_NAMES]
    if not named:
        return None
    index = named[0]  # the outermost layer with names
    names = OBSERVATION_NAMES[type(layers[index]).__name__]
    space = layers[index].observation_space
    if not isinstance(space, gym.spaces.Box) or space.shape != (len(names),):
        return None
    labels = list(names)
    for outer in reversed(layers[:index]):  # the wrappers outside the labelled layer, innermost first
        if isinstance(outer, gym.wrappers.FrameStackObservation):
            stack = int(outer.stack_size)
            labels = [f"{name} [{_stack_position(k, stack)}]" for k in range(stack) for name in labels]
            space = outer.observation_space
        elif outer.observation_space != space:
            return None  # an observation wrapper we have no names for
    shape = getattr(single.observation_space, "shape", None)
    return labels if shape is not None and int(np.prod(shape)) == len(labels) else None
