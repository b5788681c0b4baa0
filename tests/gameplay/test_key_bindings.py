"""Keyboard bindings (gameplay/key_bindings.py): the keys held become the env's own actions, per platform."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations

import gymnasium as gym
import numpy as np
import pytest

from gameplay.key_bindings import NoKeyBinding, bindings_for
from gameplay.key_maps import ATARI, RETRO, TOY_TEXT, VIZDOOM
from gameplay.plain_env import make_plain_env
from gym_wrappers.action_remapper import DiscreteActionSpaceRemapperWrapper
from inspector.labels import action_labels


@pytest.fixture
def built() -> Iterator[list[gym.Env]]:
    """Envs a test builds, closed after it (stable-retro allows one emulator per process)."""
    envs: list[gym.Env] = []
    yield envs
    for env in envs:
        env.close()


def make(built: list[gym.Env], env_id: str, **kwargs: object) -> gym.Env:
    env = gym.make(env_id, **kwargs) if kwargs else make_plain_env(env_id)
    built.append(env)
    return env


def key_sets(keys: list[str]) -> Iterator[list[str]]:
    for size in range(len(keys) + 1):
        yield from (list(chosen) for chosen in combinations(keys, size))


@pytest.mark.parametrize(
    ("env_id", "kwargs"),
    [
        ("ALE/Pong-v5", {}),
        ("ALE/Breakout-v5", {}),
        ("ALE/MsPacman-v5", {}),
        ("ALE/Pong-v5", {"full_action_space": True}),
    ],
)
def test_every_ale_action_is_reachable_from_some_keys(built: list[gym.Env], env_id: str, kwargs: dict) -> None:
    from utils.envs import register_family

    register_family(env_id)
    env = make(built, env_id, **kwargs)
    bindings = bindings_for(env, env_id)
    keys = [key for keys, _ in bindings.controls for key in keys]
    reached = {bindings.action(held) for held in key_sets(keys)}
    assert bindings.platform == ATARI and bindings.fps == 15
    assert reached == set(range(len(env.unwrapped.get_action_meanings())))


def test_ale_keys_held_together_press_the_combined_action(built: list[gym.Env]) -> None:
    from utils.envs import register_family

    register_family("ALE/Pong-v5")
    env = make(built, "ALE/Pong-v5", full_action_space=True)
    meanings = env.unwrapped.get_action_meanings()
    bindings = bindings_for(env, "ALE/Pong-v5")
    assert meanings[bindings.action([])] == "NOOP"
    assert meanings[bindings.action(["up", "right"])] == "UPRIGHT"
    assert meanings[bindings.action(["down", "left", "space"])] == "DOWNLEFTFIRE"
    assert meanings[bindings.action(["left", "right"])] == "RIGHT"  # opposite directions: the latest press wins
    assert meanings[bindings.action(["right", "left"])] == "LEFT"


def test_pong_keys_map_to_its_minimal_action_set(built: list[gym.Env]) -> None:
    env = make(built, "ALE/Pong-v5")
    bindings = bindings_for(env, "ALE/Pong-v5")  # NOOP, FIRE, RIGHT, LEFT, RIGHTFIRE, LEFTFIRE
    held_keys = ([], ["space"], ["right"], ["left"], ["right", "space"])
    assert [bindings.action(held) for held in held_keys] == [0, 1, 2, 3, 4]
    assert bindings.action(["up"]) == 0  # Pong has no UP action: the key does nothing
    assert bindings.help_lines()[0] == "Left: LEFT   Right: RIGHT   Space: FIRE"


def test_keys_follow_a_configs_action_remapping(built: list[gym.Env]) -> None:
    env = DiscreteActionSpaceRemapperWrapper(make(built, "ALE/Pong-v5"), mapping=[0, 2, 3])  # NOOP, RIGHT, LEFT
    bindings = bindings_for(env, "ALE/Pong-v5:objects")
    assert [bindings.action(held) for held in ([], ["right"], ["left"], ["space"])] == [0, 1, 2, 0]


def test_vizdoom_basic_moves_with_the_arrows_and_attacks_with_ctrl(built: list[gym.Env]) -> None:
    env = make(built, "VizdoomBasic-v1")
    combos = [tuple(combo) for combo in env.unwrapped.button_map]  # over MOVE_LEFT, MOVE_RIGHT, ATTACK
    bindings = bindings_for(env, "VizdoomBasic-v1")
    assert bindings.platform == VIZDOOM and bindings.fps == 35
    assert combos[bindings.action([])] == (0, 0, 0)
    assert combos[bindings.action(["left"])] == (1, 0, 0)
    assert combos[bindings.action(["right"])] == (0, 1, 0)
    assert combos[bindings.action(["left ctrl"])] == combos[bindings.action(["right ctrl"])] == (0, 0, 1)
    assert combos[bindings.action(["left", "left ctrl"])] == (0, 0, 1)  # one button at a time: the latest


def test_vizdoom_button_arrays_press_every_held_button(built: list[gym.Env]) -> None:
    env = make(built, "VizdoomBasic-MultiBinary-v1")
    bindings = bindings_for(env, "VizdoomBasic-MultiBinary-v1")
    action = bindings.action(["left", "left ctrl"])
    assert env.action_space.contains(action)
    assert action.tolist() == [1, 0, 1]


def test_vizdoom_arrows_turn_and_a_d_strafe_where_the_scenario_turns(built: list[gym.Env]) -> None:
    env = make(built, "VizdoomMyWayHome-v1")  # TURN_LEFT, TURN_RIGHT, MOVE_FORWARD, MOVE_LEFT, MOVE_RIGHT
    bindings = bindings_for(env, "VizdoomMyWayHome-v1")
    labels = action_labels(env)
    assert labels is not None
    named = {key: labels[bindings.action([key])] for key in ("up", "left", "right", "a", "d")}
    assert named == {"up": "MOVE_FORWARD", "left": "TURN_LEFT", "right": "TURN_RIGHT", "a": "MOVE_LEFT",
                     "d": "MOVE_RIGHT"}  # fmt: skip


def test_vizdoom_weapons_and_use_and_delta_buttons(built: list[gym.Env]) -> None:
    env = make(built, "VizdoomDeathmatch-v1")  # Dict: binary buttons and 3 delta (mouse-like) buttons
    bindings = bindings_for(env, "VizdoomDeathmatch-v1")
    action = bindings.action(["3"])
    assert env.action_space.contains(action)
    assert action["continuous"].tolist() == [0.0, 0.0, 0.0]
    assert bindings.rule.describe(bindings.pressed_buttons(["3"])[0]) == "SELECT_WEAPON3"
    assert bindings.action([])["binary"] == 0


def test_retro_uses_the_consoles_buttons(built: list[gym.Env]) -> None:
    env = make(built, "Airstriker-Genesis-v0")
    buttons = env.unwrapped.buttons  # B, A, MODE, START, UP, DOWN, LEFT, RIGHT, C, Y, X, Z
    bindings = bindings_for(env, "Airstriker-Genesis-v0")
    assert bindings.platform == RETRO and bindings.fps == 60

    def pressed(*keys: str) -> list[str]:
        action = bindings.action(list(keys))
        assert env.action_space.contains(action)
        return [button for button, bit in zip(buttons, action, strict=True) if bit]

    assert pressed() == []
    assert pressed("z") == ["A"] and pressed("x") == ["B"]
    assert pressed("tab") == ["MODE"] and pressed("return") == ["START"]
    assert pressed("up", "left", "z") == ["A", "UP", "LEFT"]


def test_cartpole_arrows_push_and_no_key_alternates() -> None:
    env = gym.make("CartPole-v1")
    bindings = bindings_for(env, "CartPole-v1")
    assert bindings.fps == 50  # its render_fps
    assert bindings.action(["left"]) == 0 and bindings.action(["right"]) == 1
    assert [bindings.action([], frame) for frame in range(4)] == [0, 1, 0, 1]  # CartPole has no no-op
    assert any("in turn" in line for line in bindings.help_lines())


@pytest.mark.parametrize(
    ("env_id", "expected"),
    [
        ("LunarLander-v3", {(): 0, ("left",): 1, ("up",): 2, ("right",): 3}),  # NOOP, FIRE LEFT/MAIN/RIGHT
        ("MountainCar-v0", {(): 1, ("left",): 0, ("right",): 2}),
        ("Acrobot-v1", {(): 1, ("left",): 0, ("right",): 2}),
        # discrete CarRacing: NOOP, STEER RIGHT, STEER LEFT, GAS, BRAKE
        ("CarRacing-v3", {(): 0, ("right",): 1, ("left",): 2, ("up",): 3, ("down",): 4}),
    ],
)
def test_classic_control_keys(env_id: str, expected: dict[tuple[str, ...], int]) -> None:
    kwargs = {"continuous": False} if env_id.startswith("CarRacing") else {}
    bindings = bindings_for(gym.make(env_id, **kwargs), env_id)
    assert {held: bindings.action(list(held)) for held in expected} == expected
    assert not bindings.turn_based


def test_pendulum_arrows_apply_torque() -> None:
    bindings = bindings_for(gym.make("Pendulum-v1"), "Pendulum-v1")
    assert [bindings.action(held).tolist() for held in ([], ["left"], ["right"], ["left", "right"])] == [
        [0.0], [2.0], [-2.0], [0.0]]  # fmt: skip


def test_frozenlake_steps_once_per_arrow_press() -> None:
    bindings = bindings_for(gym.make("FrozenLake-v1"), "FrozenLake-v1")
    assert bindings.platform == TOY_TEXT and bindings.turn_based
    assert [bindings.press_action(key) for key in ("left", "down", "right", "up", "u")] == [0, 1, 2, 3, None]


def test_taxi_arrows_drive_and_u_d_pick_up_and_drop_off() -> None:
    bindings = bindings_for(gym.make("Taxi-v4"), "Taxi-v4")  # SOUTH, NORTH, EAST, WEST, PICKUP, DROPOFF
    assert [bindings.press_action(key) for key in ("down", "up", "right", "left", "u", "d")] == [0, 1, 2, 3, 4, 5]


def test_an_env_without_binding_is_one_line() -> None:
    with pytest.raises(NoKeyBinding) as caught:
        bindings_for(gym.make("BipedalWalker-v3"), "BipedalWalker-v3")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("BipedalWalker-v3: no keyboard binding for its actions (Box(-1.0, 1.0, (4,), float32))")
    assert "--list-envs" in message


def test_box_bindings_refuse_a_rescaled_action_space() -> None:
    env = gym.wrappers.RescaleAction(gym.make("Pendulum-v1"), np.float32(-1.0), np.float32(1.0))
    with pytest.raises(NoKeyBinding):
        bindings_for(env, "Pendulum-v1")
