"""The keyboard tables of ``run_play.py --human``: each platform's keys and the buttons they press, the buttons of
Gymnasium's documented discrete actions, what the buttons of continuous envs add to the action, and each
platform's play speed. ``key_bindings.py`` turns them into an env's actions."""

from __future__ import annotations

ATARI, VIZDOOM, RETRO = "Atari", "VizDoom", "stable-retro"
CLASSIC, TOY_TEXT, BOX2D = "classic control", "toy text", "box2d"
GYMNASIUM_PLATFORMS = {"classic_control": CLASSIC, "toy_text": TOY_TEXT, "box2d": BOX2D}  # gymnasium.envs.<module>

ATARI_FPS = 15  # ALE v5 repeats each action for 4 of the console's 60 frames a second
VIZDOOM_TICRATE = 35  # game tics a second; an env with frame_skip k steps 35 / k times a second
RETRO_FPS = 60
TURN_BASED_FPS = 30  # window refresh of the toy text envs, which step once per key press
FALLBACK_FPS = 30  # an env without metadata["render_fps"]

# (pygame key names, the buttons the key presses in order of preference: the first one the env has)
Keys = tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]
ARROWS: Keys = ((("up",), ("UP",)), (("down",), ("DOWN",)), (("left",), ("LEFT",)), (("right",), ("RIGHT",)))
ATARI_KEYS: Keys = (*ARROWS, (("space",), ("FIRE",)))
VIZDOOM_KEYS: Keys = (
    (("up",), ("MOVE_FORWARD",)),
    (("down",), ("MOVE_BACKWARD",)),
    (("left",), ("TURN_LEFT", "MOVE_LEFT")),  # scenarios without turning (Basic) move sideways instead
    (("right",), ("TURN_RIGHT", "MOVE_RIGHT")),
    (("a",), ("MOVE_LEFT",)),  # strafe, where the arrows turn
    (("d",), ("MOVE_RIGHT",)),
    (("left ctrl", "right ctrl"), ("ATTACK",)),
    (("space",), ("USE",)),
    (("left shift", "right shift"), ("SPEED",)),
    (("left alt", "right alt"), ("STRAFE",)),
    *(((str(n),), (f"SELECT_WEAPON{n}",)) for n in range(1, 8)),
    (("q",), ("SELECT_PREV_WEAPON",)),
    (("e",), ("SELECT_NEXT_WEAPON",)),
)
GYMNASIUM_KEYS: Keys = (
    *ARROWS,
    (("u",), ("PICKUP",)),  # Taxi: pick up, drop off the passenger
    (("d",), ("DROPOFF",)),
    (("h",), ("HIT",)),  # Blackjack
    (("s",), ("STICK",)),
)
# stable-retro's keyboard names (its per-console ``keybinds``) as pygame names.
RETRO_KEY_NAMES = {"ENTER": "return"}

# The buttons each documented action of Gymnasium's discrete envs presses (inspector/labels.py ACTION_NAMES).
LABEL_BUTTONS: dict[str, tuple[str, ...]] = {
    "NOOP": (),
    "LEFT": ("LEFT",),
    "RIGHT": ("RIGHT",),
    "UP": ("UP",),
    "DOWN": ("DOWN",),
    "TORQUE -1": ("LEFT",),  # Acrobot
    "TORQUE 0": (),
    "TORQUE +1": ("RIGHT",),
    "FIRE LEFT": ("LEFT",),  # LunarLander's orientation engines and main engine
    "FIRE MAIN": ("UP",),
    "FIRE RIGHT": ("RIGHT",),
    "SOUTH": ("DOWN",),  # Taxi
    "NORTH": ("UP",),
    "EAST": ("RIGHT",),
    "WEST": ("LEFT",),
    "PICKUP": ("PICKUP",),
    "DROPOFF": ("DROPOFF",),
    "STICK": ("STICK",),  # Blackjack
    "HIT": ("HIT",),
    "STEER RIGHT": ("RIGHT",),  # CarRacing with continuous=False
    "STEER LEFT": ("LEFT",),
    "GAS": ("UP",),
    "BRAKE": ("DOWN",),
}

# Continuous envs, by the unwrapped env's class: what each button adds to the action (nothing held: zeros), and
# what that does.
Adds = dict[str, tuple[tuple[float, ...], str]]
BOX_BUTTONS: dict[str, Adds] = {
    "PendulumEnv": {"LEFT": ((2.0,), "torque +2 (counterclockwise)"), "RIGHT": ((-2.0,), "torque -2 (clockwise)")},
    "Continuous_MountainCarEnv": {"LEFT": ((-1.0,), "push left"), "RIGHT": ((1.0,), "push right")},
    "LunarLander": {  # (main engine throttle, side engines): main fires above 0, a side engine beyond +-0.5
        "UP": ((1.0, 0.0), "main engine"),
        "LEFT": ((0.0, -1.0), "left engine"),
        "RIGHT": ((0.0, 1.0), "right engine"),
    },
    "CarRacing": {  # (steering, gas, brake)
        "LEFT": ((-1.0, 0.0, 0.0), "steer left"),
        "RIGHT": ((1.0, 0.0, 0.0), "steer right"),
        "UP": ((0.0, 1.0, 0.0), "gas"),
        "DOWN": ((0.0, 0.0, 0.8), "brake"),
    },
}

# How keys read on screen (the others: their pygame name, capitalized).
KEY_LABELS = {"left ctrl": "Ctrl", "left shift": "Shift", "left alt": "Alt", "return": "Enter"}
