"""Property tests: any overrides give a valid config or one ConfigError line; valid configs round-trip exactly."""

from __future__ import annotations

import dataclasses
import math
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from gym_wrappers import EnvWrapperRegistry
from utils.config import FIELD_NAMES, Config, load_config
from utils.config_values import ConfigError
from utils.schedules import SCHEDULE_KEYS, SCHEDULE_KINDS, Schedule

E2E_DIR = Path(__file__).parent / "e2e"
CHOICES = sorted({str(c) for f in dataclasses.fields(Config) for c in f.metadata.get("choices", ())})

# --- values: the kinds a YAML file or --set can produce, with the awkward corners over-represented ---
ints = st.integers(-(2**70), 2**70) | st.sampled_from([0, 1, -1, 2, 7, 64, 2**31, 2**63, 2**64, 10**400])
floats = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [0.0, -0.0, 0.5, 1.0, 1.5, 1e-300, 5e-324, 1e300, -1e300, math.inf, -math.inf, math.nan]
)
numeric_text = st.sampled_from(["1e5", "3e-4", "100_000", "inf", "-inf", "nan", ".inf", "1e400", "0x10", "1.0", ""])
awkward_text = st.sampled_from(["a\nb", "line\r", " ", "CartPole-v1", "ALE/Pong-v5", "Taxi-v3", "off", "best", "true"])
texts = (
    st.text(max_size=12)
    | st.sampled_from(CHOICES)
    | numeric_text
    | awkward_text
    | st.sampled_from(EnvWrapperRegistry.ids())
)
scalars = ints | floats | texts | st.booleans() | st.none()
schedules = st.fixed_dictionaries(
    {},
    optional={
        "start": ints | floats | numeric_text,
        "end": ints | floats | numeric_text,
        "from": st.sampled_from([0, 0.2, 0.9, 1, 2, 5000, -1]) | floats,
        "to": st.sampled_from([0, 0.2, 0.9, 1, 2, 5000, 10**9]) | floats,
        "schedule": st.sampled_from([*SCHEDULE_KINDS, "quadratic", 3]),
        "stop": scalars,
    },
)
small_dicts = st.dictionaries(st.sampled_from([*SCHEDULE_KEYS, "id", "every_n_evals", "render_mode"]) | texts | ints,
                              scalars, max_size=4)  # fmt: skip
wrapper_specs = st.lists(
    st.fixed_dictionaries({"id": st.sampled_from(EnvWrapperRegistry.ids())}, optional={"gamma": scalars}) | small_dicts,
    max_size=3,
)
values = scalars | st.lists(scalars, max_size=4) | schedules | small_dicts | wrapper_specs

# Fields whose checks interact (schedules with the budget, rollout with the budget and batch, obs_type with env_id).
FOCUS = ["policy_lr", "clip_range", "ent_coef", "vf_coef", "max_timesteps", "n_envs", "n_steps", "batch_size",
         "seed", "eval_seed", "env_id", "obs_type", "video", "env_kwargs", "normalize_obs"]  # fmt: skip


def plausible(name: str) -> st.SearchStrategy[Any]:
    """Values near what the field expects, so that valid configs (and the round trip) are drawn often too."""
    f = Config.__dataclass_fields__[name]
    default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
    options = [st.just(default)]
    if "choices" in f.metadata:
        options.append(st.sampled_from(f.metadata["choices"]))
    if isinstance(default, bool):
        options.append(st.booleans())
    elif isinstance(default, int):
        options.append(st.integers(0, 300))
    elif isinstance(default, float) or name in ("policy_lr", "clip_range", "ent_coef", "vf_coef"):
        options.append(st.floats(0, 1))
        options.append(st.fixed_dictionaries({"start": st.floats(0, 1), "end": st.floats(0, 1)},
                                             optional={"to": st.floats(0, 1) | st.integers(2, 10**6)}))  # fmt: skip
    return st.one_of(options)


field_value = st.sampled_from(FIELD_NAMES) | st.sampled_from(FOCUS)
pairs = field_value.flatmap(lambda name: st.tuples(st.just(name), st.one_of(values, plausible(name), plausible(name))))
overrides = st.lists(pairs, min_size=1, max_size=4).map(dict)


def _check_error(error: ConfigError) -> None:
    message = str(error)
    assert message.strip(), "empty error"
    assert "\n" not in message and "\r" not in message, message


@settings(max_examples=150, deadline=None, database=None)
@given(overrides)
def test_any_overrides_give_a_valid_config_or_a_one_line_config_error(changes: dict[str, Any]) -> None:
    try:
        config = load_config("CartPole-v1", "ppo", changes)
    except ConfigError as error:
        _check_error(error)
        return
    data = config.to_dict()
    assert Config.from_dict(data).to_dict() == data
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        numbers = [value.start, value.end, value.begin, value.finish] if isinstance(value, Schedule) else [value]
        for number in numbers:
            if isinstance(number, float):
                assert math.isfinite(number), (f.name, value)


@settings(max_examples=200, deadline=None, database=None)
@given(overrides)
def test_overrides_written_as_cli_text_behave_like_yaml(changes: dict[str, Any]) -> None:
    """``--set key=<YAML text>`` goes through the same parser; whatever the text, the outcome is clean."""
    from utils.config_files import parse_override

    try:
        texts = [f"{key}={yaml.safe_dump(value, default_flow_style=True).strip()}" for key, value in changes.items()]
    except yaml.YAMLError:
        return
    try:
        parsed = dict(parse_override(text.removesuffix("\n...")) for text in texts)
        load_config("CartPole-v1", "ppo", parsed)
    except ConfigError as error:
        _check_error(error)


# --- end to end: train.py in a subprocess with drawn --set overrides ---
E2E_FIELDS = {
    "policy_lr": ["1e-3", "inf", ".nan", "-1", "{start: 1e-3, end: 0}", "{start: 1e-3, end: .inf}",
                  "{start: 1e-3, end: 0, from: 0.8, to: 0.2}", "{start: 1e-3, end: 0, to: 2}", "lots"],
    "ent_coef": ["0.01", ".inf", "-0.1", "{start: 0.01, end: 0}"],
    "gamma": ["0.9", "1.5", ".nan"],
    "n_envs": ["2", "4", "0", "1e5", "2.5"],
    "seed": ["0", "7", "2e13", "-1", "1e20"],
    "eval_seed": ["5", "1e19", "null"],
    "batch_size": ["32", "0.5", "100", "0", ".inf"],
    "obs_type": ["rgb", "ram"],
    "normalize_obs": ["rolling", "static", "sometimes"],
    "max_grad_norm": ["null", "1.0", "inf"],
    "env_kwargs": ["{}", "{render_mode: 7}", "{foo: 1}", "{sutton_barto_reward: true}"],
    "env_wrappers": ["[]", "[{id: CartPoleV1_RewardShaper}]", "[{id: MountainCarV0_RewardShaper}]",
                     "[{id: ResizeObservation, shape: [8, 8]}]", "[{id: DiscreteActionSpaceRemapperWrapper, mapping: 3}]",
                     "[{id: DiscreteActionSpaceRemapperWrapper, mapping: [1, 0]}]", "[{id: Nope}]"],
}  # fmt: skip
e2e_overrides = st.dictionaries(st.sampled_from(sorted(E2E_FIELDS)), st.integers(0, 100), min_size=1, max_size=3).map(
    lambda drawn: {key: E2E_FIELDS[key][index % len(E2E_FIELDS[key])] for key, index in drawn.items()}
)


@pytest.mark.slow
@pytest.mark.e2e
@settings(max_examples=12, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(e2e_overrides)
def test_train_cli_either_trains_into_one_run_or_fails_with_one_line_and_no_run(changes: dict[str, str]) -> None:
    if str(E2E_DIR) not in sys.path:
        sys.path.insert(0, str(E2E_DIR))
    from cli_runner import run_cli

    runs = Path(tempfile.mkdtemp(prefix="gymsolver-prop-")) / "runs"
    try:
        args = ["train.py", "CartPole-v1:ppo", "-q", "--max-timesteps", "512", "--video", "off"]
        args += [
            "--set",
            "eval_episodes=2",
            *[f for key, value in changes.items() for f in ("--set", f"{key}={value}")],
        ]
        result = run_cli(args, runs, timeout=120)
        event(f"exit status {result.returncode}")  # pytest --hypothesis-show-statistics: both outcomes are drawn
        assert "Traceback" not in result.stderr, result.stderr[-3000:]
        made = [p for p in runs.iterdir() if p.name != "@last"] if runs.exists() else []
        if result.returncode == 0:
            assert len(made) == 1, (changes, made)
        else:
            assert result.returncode == 2, (changes, result.returncode, result.stderr[-2000:])
            errors = [line for line in result.stderr.strip().splitlines() if not line.startswith("warning: ")]
            assert len(errors) == 1 and errors[0].startswith("error: "), (changes, result.stderr)
            assert made == [], (changes, made)
    finally:
        shutil.rmtree(runs.parent, ignore_errors=True)
