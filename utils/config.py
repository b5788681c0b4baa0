"""The typed training configuration: every field, its default and its meaning.

``Config`` is the single schema shared by YAML files, CLI overrides,
``config.json`` in run directories and sweeps. Values pass through
``utils.config_values.coerce`` so ``1e5`` is a number wherever it is written.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import sys
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from utils.config_values import ConfigError, coerce, require
from utils.schedules import Schedule

# Ids that changed upstream since the seeds were written: old id -> today's id.
RENAMED_ENV_IDS = {
    "Taxi-v3": "Taxi-v4",
    "VizdoomBasic-v0": "VizdoomBasic-v1",
    "Airstriker-Genesis": "Airstriker-Genesis-v0",
}
_renames_announced: set[str] = set()
_warnings_shown: set[str] = set()

# Seeds: every seed derived from these (vector sub-env i: seed + i; evaluation episodes: eval base + index, where
# the eval base defaults to (seed + 1) * 1000003) must stay below 2**63, the largest that numpy int64 arrays hold
# (torch generators take < 2**64, numpy's SeedSequence and Gymnasium's reset any size). With these bounds the
# largest eval base is about 1.0e18 (or 2**62 ~ 4.6e18 when given), leaving room for > 4e18 more episodes.
MAX_SEED = 10**12
MAX_EPISODE_SEED = 2**62
# Budgets stay exact as floats (< 2**53) in schedule and progress arithmetic; 1e15 steps is decades of compute.
MAX_TIMESTEPS = 10**15
# One rollout (n_envs * n_steps) above max_timesteps overshoots the budget (a warning); this many times above, an error.
MAX_ROLLOUT_OVERSHOOT = 10

# Gymnasium's id syntax ([namespace/]name[-vN], gymnasium.envs.registration.ENV_ID_RE), matched in full.
ENV_ID_PATTERN = re.compile(r"(?:[\w:-]+/)?[\w:.-]+")
ALGOS = ("ppo", "reinforce")
POLICIES = ("mlp", "cnn")
ACTIVATIONS = ("tanh", "relu", "gelu", "elu", "leaky_relu")
OPTIMIZERS = ("adam", "adamw", "sgd")
VECTORIZATION_MODES = ("auto", "sync", "async", "native")
ASYNC_CONTEXTS = ("auto", "fork", "spawn", "forkserver")
FAST_PATHS = ("auto", "off")
OBS_TYPES = ("rgb", "ram", "objects")
POLICY_TARGETS = ("returns", "advantages")
RETURNS_TYPES = ("mc:rtg", "mc:episode")
ACCELERATORS = ("cpu", "gpu", "auto")
PRECISIONS = ("auto", "32-true", "bf16-mixed")
WANDB_SETTINGS = ("off", "auto", "online", "offline")


def _f(default: Any, help: str, **check: Any) -> Any:
    """A config field with its one-line meaning and its value checks."""
    if isinstance(default, list | dict):
        return field(default_factory=lambda: type(default)(default), metadata={"help": help, **check})
    return field(default=default, metadata={"help": help, **check})


@dataclass
class Config:
    """One training run's settings (see ``python train.py --list-fields``)."""

    # --- identity ---
    env_id: str = _f("", "Gymnasium id of the environment, e.g. CartPole-v1")
    algo_id: str = _f("ppo", "algorithm: ppo | reinforce", choices=ALGOS)
    project_id: str = _f("", "project name for grouping runs; defaults to the YAML file stem")
    config_id: str = _f("", "where the config came from, '<file stem>:<variant>' (set by the loader)")
    description: str = _f("", "one line shown by --list-envs")
    sweep: dict[str, Any] = _f(
        {}, "set by sweeps: {id, trial, params} of the sweep trial this run is ({}: not a sweep trial)"
    )
    seed: int = _f(42, "seed for the training envs, torch and numpy (0 to 1e12)", min=0, max=MAX_SEED)
    # --- environment ---
    n_envs: int = _f(8, "number of parallel training environments", min=1)
    vectorization_mode: str = _f(
        "auto", "auto | sync | async | native (the env's own vectorized version)", choices=VECTORIZATION_MODES
    )
    async_context: str = _f(
        "auto",
        "start method of async workers: auto (the platform's default) | fork | spawn | forkserver",
        choices=ASYNC_CONTEXTS,
    )
    env_kwargs: dict[str, Any] = _f({}, "keyword arguments passed to gymnasium.make")
    env_wrappers: list[dict[str, Any]] = _f([], "wrappers applied to each env, as {id: Name, **kwargs}")
    max_episode_steps: int | None = _f(None, "time limit per episode (None: the env's own)", min=1)
    frame_stack: int = _f(1, "stack this many consecutive observations (1: no stacking)", min=1)
    obs_type: str = _f("rgb", "Atari (ALE/...) observation type: rgb | ram | objects", choices=OBS_TYPES)
    atari_preprocessing: bool = _f(
        True, "Atari rgb: 84x84 grayscale, frame skip 4, 0-29 no-op starts (as ale_py's AtariVectorEnv)"
    )
    normalize_obs: bool | str = _f(
        False, "false | rolling (or true: running mean/std) | static (scale by the space bounds)"
    )
    normalize_reward: bool = _f(False, "scale rewards by a running std of discounted returns")
    # --- policy ---
    policy: str = _f("mlp", "network body: mlp | cnn", choices=POLICIES)
    actor_critic: bool | None = _f(None, "learn a value head (None: yes for ppo and for reinforce with advantages)")
    hidden_dims: list[int] = _f([64, 64], "hidden layer widths of the MLP")
    valid_actions: list[int] | None = _f(None, "Discrete actions the policy may take; the others are masked out")
    activation: str = _f("tanh", "hidden activation: tanh | relu | gelu | elu | leaky_relu", choices=ACTIVATIONS)
    # --- training ---
    max_timesteps: int = _f(
        100_000,
        "total env steps to train for (up to 1e15), rounded up to whole rollouts; a rollout over 10x this is an error",
        min=1,
        max=MAX_TIMESTEPS,
    )
    n_steps: int = _f(128, "steps per env in each rollout (rollout size = n_envs * n_steps)", min=1)
    batch_size: int | float = _f(64, "minibatch size; a fraction in (0, 1] means that share of the rollout", gt=0)
    n_epochs: int = _f(10, "passes over each rollout per update", min=1)
    gamma: float = _f(0.99, "discount factor", min=0.0, max=1.0)
    gae_lambda: float = _f(0.95, "GAE lambda (1.0: Monte Carlo advantages)", min=0.0, max=1.0)
    # --- optimization ---
    optimizer: str = _f("adam", "optimizer: adam | adamw | sgd", choices=OPTIMIZERS)
    policy_lr: float | Schedule = _f(3e-4, "learning rate (number or schedule)", min=0.0)
    optimizer_eps: float = _f(1e-5, "epsilon of adam/adamw", gt=0.0)
    weight_decay: float = _f(0.0, "weight decay", min=0.0)
    max_grad_norm: float | None = _f(0.5, "clip the global gradient norm to this (None: no clipping)", gt=0.0)
    # --- PPO ---
    clip_range: float | Schedule = _f(0.2, "PPO policy ratio clip (number or schedule)", min=0.0)
    clip_range_vf: float | None = _f(None, "clip value updates to this range around the old values (None: off)", gt=0.0)
    vf_coef: float | Schedule = _f(0.5, "value loss coefficient (number or schedule)", min=0.0)
    ent_coef: float | Schedule = _f(0.0, "entropy bonus coefficient (number or schedule)", min=0.0)
    normalize_advantages: bool = _f(True, "normalize advantages per minibatch")
    target_kl: float | None = _f(None, "stop the current update's epochs once approx KL exceeds this", gt=0.0)
    replay_ratio: float = _f(0.0, "PPO+replay: off-policy minibatches per on-policy minibatch (0-8)", min=0.0, max=8.0)
    replay_buffer_size: int = _f(10_000, "PPO+replay: replay capacity in transitions", min=1)
    replay_is_clip: float = _f(10.0, "PPO+replay: cap on importance-sampling weights", gt=0.0)
    # --- REINFORCE ---
    policy_targets: str = _f(
        "returns", "REINFORCE target: returns | advantages (returns minus baseline)", choices=POLICY_TARGETS
    )
    returns_type: str = _f("mc:rtg", "mc:rtg (reward-to-go) | mc:episode (whole-episode return)", choices=RETURNS_TYPES)
    # --- evaluation ---
    eval_freq: int = _f(10_000, "evaluate every this many env steps (0: only at the end)", min=0)
    eval_episodes: int = _f(10, "episodes per evaluation", min=1)
    eval_deterministic: bool = _f(True, "evaluate with the most likely action instead of sampling")
    eval_seed: int | None = _f(
        None, "base seed of evaluation episodes, 0 to 2**62 (None: (seed + 1) * 1000003)", min=0, max=MAX_EPISODE_SEED
    )
    reward_threshold: float | None = _f(None, "eval mean that counts as solved (None: the env's registered threshold)")
    early_stop: bool = _f(True, "stop training once the eval mean reaches reward_threshold")
    # --- video ---
    video: bool | str | dict[str, Any] = _f(
        "best", "eval videos: off | best (each new best + the final eval) | {every_n_evals: N}"
    )
    max_videos: int = _f(50, "keep the newest this-many eval videos plus the best one; delete the rest", min=1)
    video_fps: int | None = _f(None, "frames per second of videos (None: the env's render_fps)", min=1)
    # --- Weights & Biases ---
    wandb: bool | str = _f(
        "auto",
        "W&B logging: off | auto (online when W&B credentials exist, else off) | online | offline; "
        "WANDB_MODE=offline or disabled in the environment wins",
        choices=WANDB_SETTINGS,
    )
    wandb_project: str = _f("", "W&B project (empty: project_id)")
    wandb_entity: str = _f("", "W&B entity, a user or team (empty: your default entity)")
    wandb_tags: list[str] = _f([], "tags of the W&B run")
    wandb_dashboard: bool = _f(True, "online W&B: create the project's W&B workspace at the start if missing")
    wandb_id: str = _f("", "W&B run id, set when the run first logs to W&B; --resume continues that W&B run")
    # --- system ---
    accelerator: str = _f("cpu", "device for training: cpu | gpu | auto", choices=ACCELERATORS)
    torch_threads: int = _f(
        0, "torch intra-op threads; 0: 1 for mlp policies (fastest for small MLPs), one per core for cnn", min=0
    )
    precision: str = _f(
        "auto",
        "training precision (Lightning): auto | 32-true | bf16-mixed. bf16-mixed (bf16 autocast) makes Nature-CNN "
        "updates ~1.7x faster on CPUs with native bf16 (AVX512-BF16/AMX); it matched float32 on VizdoomBasic and "
        "early Breakout (no full pixel-Atari comparison yet); "
        "auto = bf16-mixed for cnn policies on such a CPU, 32-true otherwise (MLPs, GPUs, other CPUs)",
        choices=PRECISIONS,
    )
    fast_paths: str = _f(
        "auto",
        "auto: closed-form PPO gradient, fused tanh MLPs and NumPy action selection where they apply (same math, "
        "tested against autograd); off: plain torch modules and autograd through PPO.loss",
        choices=FAST_PATHS,
    )
    checkpoint_freq: int = _f(20_000, "save the 'last' checkpoint every this many env steps", min=1)
    keep_checkpoints: int = _f(3, "keep the newest this-many checkpoints besides 'best' (resume fallbacks)", min=1)

    def __post_init__(self) -> None:
        self.validate()

    # --- derived values ---
    @property
    def rollout_size(self) -> int:
        """Transitions collected per update."""
        return self.n_envs * self.n_steps

    @property
    def minibatch_size(self) -> int:
        """``batch_size`` resolved to a whole number of transitions."""
        if isinstance(self.batch_size, float) and self.batch_size <= 1.0:
            return max(1, int(self.rollout_size * self.batch_size))
        return int(self.batch_size)

    @property
    def uses_critic(self) -> bool:
        """Whether the policy has a value head."""
        if self.actor_critic is not None:
            return self.actor_critic
        return self.algo_id == "ppo" or self.policy_targets == "advantages"

    @property
    def obs_normalization(self) -> str | bool:
        """``normalize_obs`` with ``true`` spelled ``rolling``."""
        return "rolling" if self.normalize_obs is True else self.normalize_obs

    @property
    def video_every(self) -> int | None:
        """Record every N-th evaluation (None unless ``video: {every_n_evals: N}``)."""
        return int(self.video["every_n_evals"]) if isinstance(self.video, dict) else None

    # --- checks and conversions ---
    def validate(self) -> None:
        """Coerce every field to its type and check values; raise ConfigError naming the key."""
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            value = coerce(getattr(self, f.name), hints[f.name], f.name)
            require(value, f.name, f.metadata)
            setattr(self, f.name, value)
        if not self.env_id:
            raise ConfigError("env_id: missing; set env_id: <Gymnasium id> in the config")
        if not ENV_ID_PATTERN.fullmatch(self.env_id):
            raise ConfigError(
                f"env_id: {self.env_id!r} is not a Gymnasium id ([namespace/]name[-vN] of letters, digits, _ : . -); "
                "e.g. CartPole-v1 or ALE/Pong-v5"
            )
        self.env_id = renamed_env_id(self.env_id)
        if self.obs_type != "rgb" and not self.env_id.startswith("ALE/"):
            raise ConfigError(
                f"obs_type: {self.obs_type} applies only to Atari envs (ALE/...), not {self.env_id}; remove obs_type"
            )
        if self.normalize_obs not in (False, True, "rolling", "static"):
            raise ConfigError(f"normalize_obs: {self.normalize_obs!r} is not one of false, true, rolling, static")
        if isinstance(self.batch_size, float) and self.batch_size > 1.0:
            if not self.batch_size.is_integer():
                raise ConfigError(f"batch_size: {self.batch_size} must be a whole number or a fraction in (0, 1]")
            self.batch_size = int(self.batch_size)
        notes = self._check_rollout_and_schedules()
        if self.rollout_size % self.minibatch_size != 0:
            raise ConfigError(
                f"batch_size: {self.minibatch_size} does not divide the rollout "
                f"(n_envs * n_steps = {self.rollout_size}); use a divisor such as "
                f"{_nearest_divisor(self.rollout_size, self.minibatch_size)}"
            )
        if any(width < 1 for width in self.hidden_dims) or not self.hidden_dims:
            raise ConfigError("hidden_dims: needs at least one layer, every width >= 1, e.g. [64, 64]")
        if self.algo_id == "ppo" and self.actor_critic is False:
            raise ConfigError("actor_critic: ppo needs a value head; remove actor_critic: false")
        if self.policy_targets == "advantages" and self.actor_critic is False:
            raise ConfigError("policy_targets: advantages needs a value baseline; set actor_critic: true")
        self.video = _check_video(self.video)
        if self.replay_ratio > 0 and self.algo_id != "ppo":
            raise ConfigError("replay_ratio: replay is only available for ppo; set replay_ratio: 0")
        for index, spec in enumerate(self.env_wrappers):
            if "id" not in spec:
                raise ConfigError(f"env_wrappers[{index}]: missing 'id', write {{id: WrapperName, ...}}")
        for note in notes:  # only once the whole config is valid, so an error stays the only line
            _warn(note)

    def _check_rollout_and_schedules(self) -> list[str]:
        """Errors for a rollout far over the budget and for schedules ending before they start; warnings for traps."""
        notes = []
        rollout = f"one rollout (n_envs * n_steps = {self.n_envs} * {self.n_steps}) is {self.rollout_size} steps"
        if self.rollout_size > MAX_ROLLOUT_OVERSHOOT * self.max_timesteps:
            raise ConfigError(
                f"max_timesteps: {rollout} but max_timesteps is {self.max_timesteps}; "
                "lower n_envs/n_steps or raise max_timesteps"
            )
        if self.rollout_size > self.max_timesteps:
            notes.append(
                f"max_timesteps: {rollout} but max_timesteps is {self.max_timesteps}, so training runs "
                f"{self.rollout_size} steps; lower n_envs/n_steps or raise max_timesteps"
            )
        for f in dataclasses.fields(self):
            schedule = getattr(self, f.name)
            if not isinstance(schedule, Schedule):
                continue
            begin, finish = schedule.steps(self.max_timesteps)
            if begin > finish:
                raise ConfigError(
                    f"{f.name}: schedule 'from: {schedule.begin:g}' (step {begin:.0f}) is after 'to: "
                    f"{schedule.finish:g}' (step {finish:.0f}); values <= 1 are fractions of max_timesteps, "
                    "values > 1 env steps"
                )
            for key, point in (("from", schedule.begin), ("to", schedule.finish)):
                if 1.0 < point < self.rollout_size:
                    notes.append(
                        f"{f.name}: schedule '{key}: {point:g}' is env step {point:g}, before the first update "
                        f"({self.rollout_size} steps); values <= 1 are fractions of max_timesteps (to: 1 = end of run)"
                    )
        return notes

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping; ``Config.from_dict(c.to_dict())`` equals ``c``."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.to_dict() if isinstance(value, Schedule) else _plain(value)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Config:
        """Build and validate a config; unknown keys are errors with a did-you-mean."""
        check_known_keys(data)
        return cls(**dict(data))

    def replace(self, **changes: Any) -> Config:
        """A validated copy with some fields changed."""
        check_known_keys(changes)
        return Config.from_dict({**self.to_dict(), **changes})


FIELD_NAMES = tuple(f.name for f in dataclasses.fields(Config))


def field_help() -> dict[str, tuple[str, str]]:
    """Every field's default (as text) and one-line meaning, for docs and --help."""
    defaults = Config.__dataclass_fields__
    rows = {}
    for name in FIELD_NAMES:
        f = defaults[name]
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        rows[name] = (repr(default), f.metadata["help"])
    return rows


def renamed_env_id(env_id: str) -> str:
    """Today's id for an old one, with a one-line notice (once per id)."""
    new = RENAMED_ENV_IDS.get(env_id)
    if new is None:
        return env_id
    if env_id not in _renames_announced:
        _renames_announced.add(env_id)
        print(f"notice: env id '{env_id}' is now '{new}'; using '{new}'", file=sys.stderr)
    return new


def _warn(message: str) -> None:
    """Print a one-line ``warning:`` on stderr, once per process for each distinct message."""
    if message not in _warnings_shown:
        _warnings_shown.add(message)
        print(f"warning: {message}", file=sys.stderr)


def check_known_keys(data: Mapping[str, Any]) -> None:
    """Raise ConfigError for the first key that is not a config field."""
    for key in data:
        if key not in FIELD_NAMES:
            close = difflib.get_close_matches(str(key), FIELD_NAMES, n=1)
            hint = f"did you mean '{close[0]}'?" if close else "see README 'Configuration' for the fields"
            raise ConfigError(f"{key}: unknown config field; {hint}")


def _check_video(value: bool | str | dict[str, Any]) -> str | dict[str, int]:
    """``off`` (YAML also reads it as false), ``best`` or ``{every_n_evals: N}``."""
    if value is False or value == "off":
        return "off"
    if value == "best":
        return "best"
    if isinstance(value, dict) and set(value) == {"every_n_evals"}:
        every = value["every_n_evals"]
        if isinstance(every, int) and not isinstance(every, bool) and every >= 1:
            return {"every_n_evals": every}
    raise ConfigError(f"video: {value!r} is not off, best or {{every_n_evals: N}} with N >= 1")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _nearest_divisor(total: int, wanted: int, search: int = 100_000) -> int:
    """The divisor of ``total`` closest to ``wanted`` (the larger on a tie), searching at most ``search`` away."""
    if wanted >= total:
        return total
    for distance in range(min(wanted, search)):
        for candidate in (wanted + distance, wanted - distance):
            if total % candidate == 0:
                return candidate
    return math.gcd(total, wanted)  # a divisor below wanted, found at once for huge rollouts


def load_config(env: str, variant: str | None = None, overrides: Mapping[str, Any] | None = None) -> Config:
    """The validated config of ``env:variant`` from ``config/environments``, with overrides applied (a dotted
    key such as ``policy_lr.start`` sets one part of a schedule or mapping)."""
    from utils.config_files import load_config_dict
    from utils.sweep_params import merge_params

    return Config.from_dict(merge_params(load_config_dict(env, variant), overrides or {}))
