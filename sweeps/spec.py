"""Sweep specs: W&B sweep configs (``config/sweeps/*.yaml``) read, checked and turned into trial settings.

A spec is a valid W&B sweep config, so ``wandb sweep SPEC`` takes it as it is. The base config is named in its
``command`` (``[${env}, ${interpreter}, ${program}, CartPole-v1:ppo]``, optionally followed by ``--quiet`` and
``--set field=value``); parameters are config fields, with dotted names for schedule parts (``policy_lr.start``).
Every mistake is found before a trial runs and reported as one line per problem.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from utils.config_values import ConfigError, parse_number
from utils.metric_names import VAL_METRICS

METHODS = ("grid", "random", "bayes")
GOALS = ("maximize", "minimize")
# W&B's top-level sweep keys; anything else is most likely a typo.
SPEC_KEYS = (
    "program", "method", "metric", "parameters", "command", "name", "description", "project", "entity",
    "early_terminate", "run_cap", "job", "controller",
)  # fmt: skip
# Distributions this project samples itself (local backend, Modal); W&B's server knows a few more.
LOCAL_DISTRIBUTIONS = (
    "constant", "categorical", "int_uniform", "uniform", "q_uniform", "log_uniform", "log_uniform_values",
    "q_log_uniform_values",
)  # fmt: skip
WANDB_DISTRIBUTIONS = (
    *LOCAL_DISTRIBUTIONS, "categorical_w_probabilities", "normal", "q_normal", "log_normal", "q_log_normal",
    "inv_log_uniform", "inv_log_uniform_values", "q_log_uniform", "beta", "q_beta",
)  # fmt: skip
PARAM_KEYS = ("value", "values", "probabilities", "distribution", "min", "max", "q", "mu", "sigma", "a", "b")
# W&B's distributions shaped by (mu, sigma) or (a, b) instead of min and max, with W&B's defaults.
SHAPED_DISTRIBUTIONS = {
    "normal": ("mu", "sigma", 0.0, 1.0), "q_normal": ("mu", "sigma", 0.0, 1.0),
    "log_normal": ("mu", "sigma", 0.0, 1.0), "q_log_normal": ("mu", "sigma", 0.0, 1.0),
    "beta": ("a", "b", 1.0, 1.0), "q_beta": ("a", "b", 1.0, 1.0),
}  # fmt: skip
GRID_LIMIT = 10_000  # grid points checked one by one against the config


class SweepSpecError(ConfigError):
    """A sweep spec with problems; ``lines`` holds one line per problem."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


@dataclass(frozen=True)
class Param:
    """One entry of ``parameters``: a fixed value, a list of values, or a distribution."""

    name: str
    distribution: str
    values: tuple[Any, ...] = ()  # constant: one value; categorical: the choices
    probabilities: tuple[float, ...] = ()
    low: float = 0.0
    high: float = 0.0
    q: float = 1.0
    shape: tuple[float, float] = (0.0, 1.0)  # W&B's normal family: (mu, sigma); its beta family: (a, b)

    @property
    def swept(self) -> bool:
        """Whether trials differ in this parameter."""
        return self.distribution != "constant"

    def grid(self) -> list[Any]:
        """Every value a grid visits."""
        if self.distribution in ("constant", "categorical"):
            return list(self.values)
        if self.distribution == "int_uniform":
            return list(range(int(self.low), int(self.high) + 1))
        if self.distribution == "q_uniform":
            count = math.floor((self.high - self.low) / self.q + 1e-9) + 1
            return [round(self.low + i * self.q, 12) for i in range(count)]
        raise ConfigError(f"parameters.{self.name}: a grid sweep needs value, values, int_uniform or q_uniform")

    def bounds(self) -> list[Any]:
        """Values that must all be valid: every choice, or the ends of a distribution."""
        if self.distribution in ("constant", "categorical"):
            return list(self.values)
        if self.distribution == "int_uniform":
            return [int(self.low), int(self.high)]
        if self.distribution in ("log_uniform", "q_log_uniform"):  # min and max are natural-log exponents
            return [math.exp(self.low), math.exp(self.high)]
        if self.distribution == "inv_log_uniform":  # exp(-x), x between min and max
            return [math.exp(-self.high), math.exp(-self.low)]
        if self.distribution in ("normal", "q_normal"):  # unbounded (W&B backend only): the mean stands for them
            return [self.shape[0]]
        if self.distribution in ("log_normal", "q_log_normal"):
            return [math.exp(self.shape[0])]
        if self.distribution in ("beta", "q_beta"):
            return [self.shape[0] / (self.shape[0] + self.shape[1])]
        return [self.low, self.high]

    def sample(self, random: Any) -> Any:
        """One value drawn with ``random`` (a ``numpy.random.Generator``)."""
        kind = self.distribution
        if kind == "constant":
            return self.values[0]
        if kind == "categorical":
            weights = list(self.probabilities) or None
            return self.values[int(random.choice(len(self.values), p=weights))]
        if kind == "int_uniform":
            return int(random.integers(int(self.low), int(self.high) + 1))
        if kind == "uniform":
            return float(random.uniform(self.low, self.high))
        if kind == "q_uniform":
            return _quantize(float(random.uniform(self.low, self.high)), self.q)
        if kind == "log_uniform":
            return float(math.exp(random.uniform(self.low, self.high)))
        value = float(math.exp(random.uniform(math.log(self.low), math.log(self.high))))
        return _quantize(value, self.q) if kind == "q_log_uniform_values" else value

    def suggest(self, trial: Any) -> Any:
        """One value from an Optuna trial (TPE for bayes)."""
        kind, name = self.distribution, self.name
        if kind == "constant":
            return self.values[0]
        if kind == "categorical":
            if all(isinstance(v, bool | int | float | str) for v in self.values):
                return trial.suggest_categorical(name, list(self.values))
            return self.values[trial.suggest_categorical(name, list(range(len(self.values))))]
        if kind == "int_uniform":
            return trial.suggest_int(name, int(self.low), int(self.high))
        if kind == "uniform":
            return trial.suggest_float(name, self.low, self.high)
        if kind == "q_uniform":
            return _quantize(trial.suggest_float(name, self.low, self.high), self.q)
        if kind == "log_uniform":
            return math.exp(trial.suggest_float(name, self.low, self.high))
        value = trial.suggest_float(name, self.low, self.high, log=True)
        return _quantize(value, self.q) if kind == "q_log_uniform_values" else value


@dataclass(frozen=True)
class SweepSpec:
    """A checked sweep spec."""

    raw: dict[str, Any]  # the YAML as written: what W&B receives
    method: str
    metric: str
    goal: str
    config_id: str  # the base <env>:<variant>
    overrides: dict[str, Any]  # --set values from the command and the sweep CLI, applied to every trial
    params: dict[str, Param]
    quiet: bool = True
    name: str = ""
    fixed: dict[str, Any] = field(default_factory=dict)  # constant parameters

    @property
    def swept(self) -> list[Param]:
        """The parameters that vary between trials."""
        return [param for param in self.params.values() if param.swept]

    def grid_size(self) -> int:
        """How many trials a grid sweep has."""
        return math.prod(len(param.grid()) for param in self.params.values())

    def grid_point(self, index: int) -> dict[str, Any]:
        """The ``index``-th grid trial's parameter values (the last parameter varies fastest, like W&B)."""
        choices = [param.grid() for param in self.params.values()]
        values: list[Any] = []
        for options in reversed(choices):
            index, position = divmod(index, len(options))
            values.append(options[position])
        return dict(zip(self.params, reversed(values), strict=True))

    def better(self, value: float, than: float | None) -> bool:
        """Whether ``value`` beats ``than`` for this sweep's goal."""
        if than is None:
            return True
        return value > than if self.goal == "maximize" else value < than

    def base_settings(self) -> dict[str, Any]:
        """The base config's settings with the spec's and the CLI's overrides."""
        from utils.config_files import load_config_dict, split_config_id
        from utils.sweep_params import merge_params

        return merge_params(load_config_dict(*split_config_id(self.config_id)), self.overrides)


def load_spec(path: Path, overrides: Mapping[str, Any] | None = None, local: bool = True) -> SweepSpec:
    """Read and check ``path``; ``overrides`` are the sweep CLI's ``--set`` values; ``local``: this project
    samples the values (local backend or Modal), so only the distributions it knows are allowed."""
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except OSError as error:
        raise ConfigError(f"sweep spec {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        hint = " (write ${...} command items as a block list: '- ${env}')" if "${" in Path(path).read_text() else ""
        raise ConfigError(f"sweep spec {path}{where}: invalid YAML, {getattr(error, 'problem', error)}{hint}") from None
    return parse_spec(raw, overrides, local, where=str(path))


def parse_spec(
    raw: Any, overrides: Mapping[str, Any] | None = None, local: bool = True, where: str = "sweep spec"
) -> SweepSpec:
    """Check a spec mapping; raise SweepSpecError listing every problem (one line each)."""
    if not isinstance(raw, Mapping):
        raise SweepSpecError([f"{where}: must be a mapping with method, metric, parameters and command"])
    problems: list[str] = []
    for key in raw:
        if key not in SPEC_KEYS:
            problems.append(f"{key}: not a W&B sweep key{_did_you_mean(str(key), SPEC_KEYS)}")
    method = raw.get("method")
    if method not in METHODS:
        problems.append(f"method: {method!r} is not one of {', '.join(METHODS)}")
    metric, goal = _read_metric(raw.get("metric"), problems)
    config_id, command_overrides, quiet = _read_command(raw, problems)
    params = _read_params(raw.get("parameters"), problems, local)
    if problems:
        raise SweepSpecError([f"{where}: {line}" for line in problems])
    raw, cli = dict(raw), dict(overrides or {})
    for key in [key for key in cli if key in params and not params[key].swept]:  # --set replaces a fixed value
        params[key] = Param(key, "constant", (cli.pop(key),))
        raw["parameters"] = {**raw["parameters"], key: {"value": params[key].values[0]}}
    spec = SweepSpec(
        raw=raw,
        method=str(method),
        metric=metric,
        goal=goal,
        config_id=config_id,
        overrides={**command_overrides, **cli},
        params=params,
        quiet=quiet,
        name=str(raw.get("name", "")),
        fixed={name: param.values[0] for name, param in params.items() if not param.swept},
    )
    problems = _check_against_config(spec)
    if problems:
        raise SweepSpecError([f"{where}: {line}" for line in problems])
    return spec


def _did_you_mean(word: str, options: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _read_metric(metric: Any, problems: list[str]) -> tuple[str, str]:
    if not isinstance(metric, Mapping) or not metric.get("name"):
        problems.append("metric: missing; write metric: {name: val/roll/ep_rew/best, goal: maximize}")
        return "", "maximize"
    goal = metric.get("goal", "minimize")  # W&B's default
    if goal not in GOALS:
        problems.append(f"metric.goal: {goal!r} is not maximize or minimize")
    name = str(metric["name"])
    if not name.startswith(("train/", "val/")):
        problems.append(
            f"metric.name: {name!r} is not a metric training logs; use a column of a run's metrics.csv "
            "(train/... or val/...), e.g. val/roll/ep_rew/best"
        )
    elif name.startswith(("val/roll/", "val/cnt/")) and name not in VAL_METRICS:
        problems.append(f"metric.name: {name!r} is not an evaluation metric{_did_you_mean(name, VAL_METRICS)}")
    return name, str(goal)


def _read_command(raw: Mapping[str, Any], problems: list[str]) -> tuple[str, dict[str, Any], bool]:
    """The base config id, the ``--set`` overrides and ``--quiet`` from ``command``."""
    from utils.config_files import parse_override

    example = "command: ['${env}', '${interpreter}', '${program}', 'CartPole-v1:ppo']"
    program = raw.get("program")
    if program != "train.py":
        problems.append(f"program: {program!r} must be train.py (the trials are train.py runs)")
    command = raw.get("command")
    if not isinstance(command, list) or "${program}" not in command:
        problems.append(f"command: must name the base config after ${{program}}, e.g. {example}")
        return "", {}, True
    tokens = [str(token) for token in command[command.index("${program}") + 1 :]]
    config_ids, overrides, quiet = [], {}, False
    position = 0
    while position < len(tokens):
        token = tokens[position]
        if token in ("${args}", "${args_no_hyphens}", "${args_json}", "${args_no_boolean_flags}"):
            problems.append(
                f"command: drop {token}; train.py reads the swept values itself in sweep mode (WANDB_SWEEP_ID)"
            )
        elif token in ("-q", "--quiet"):
            quiet = True
        elif token == "--set" or token.startswith("--set="):
            text = token[len("--set=") :] if token.startswith("--set=") else None
            if text is None:
                position += 1
                text = tokens[position] if position < len(tokens) else ""
            try:
                key, value = parse_override(text)
                overrides[key] = value
            except ConfigError as error:
                problems.append(f"command: {error}")
        elif token.startswith("-"):
            problems.append(
                f"command: {token} is not allowed here; write --set field=value (or a {{value: …}} parameter)"
            )
        else:
            config_ids.append(token)
        position += 1
    if len(config_ids) != 1:
        problems.append(f"command: name exactly one base <env>:<variant> after ${{program}}, e.g. {example}")
        return "", overrides, quiet
    return config_ids[0], overrides, quiet


def _read_params(parameters: Any, problems: list[str], local: bool) -> dict[str, Param]:
    if not isinstance(parameters, Mapping) or not parameters:
        problems.append("parameters: missing; e.g. parameters: {policy_lr: {values: [0.001, 0.0003]}}")
        return {}
    params = {}
    for name, entry in parameters.items():
        try:
            params[str(name)] = _read_param(str(name), entry, local)
        except ConfigError as error:
            problems.append(str(error))
    return params


def _read_param(name: str, entry: Any, local: bool) -> Param:
    where = f"parameters.{name}"
    if not isinstance(entry, Mapping):
        raise ConfigError(
            f"{where}: {entry!r} is a bare value; W&B needs a mapping: {{value: {_yaml(entry)}}} "
            f"(or {{values: [...]}} to sweep it)"
        )
    if "parameters" in entry:
        raise ConfigError(f"{where}: nested parameters are not supported; use dotted names such as {name}.start")
    unknown = [key for key in entry if key not in PARAM_KEYS]
    if unknown:
        raise ConfigError(f"{where}: unknown key '{unknown[0]}'{_did_you_mean(str(unknown[0]), PARAM_KEYS)}")
    if "value" in entry:
        return Param(name, "constant", (entry["value"],))
    if "values" in entry:
        values = entry["values"]
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{where}: values must be a non-empty list, e.g. values: [0.001, 0.0003]")
        probabilities = tuple(float(p) for p in entry.get("probabilities", ()))
        if probabilities and (len(probabilities) != len(values) or abs(sum(probabilities) - 1.0) > 1e-6):
            raise ConfigError(f"{where}: probabilities must have one entry per value and sum to 1")
        return Param(name, "categorical", tuple(values), probabilities)
    return _read_distribution(name, entry, local)


def _read_distribution(name: str, entry: Mapping[str, Any], local: bool) -> Param:
    where = f"parameters.{name}"
    kind = entry.get("distribution")
    allowed = LOCAL_DISTRIBUTIONS if local else WANDB_DISTRIBUTIONS
    if kind is not None and kind not in allowed:
        extra = " (or run it with --backend wandb)" if kind in WANDB_DISTRIBUTIONS else ""
        raise ConfigError(f"{where}: distribution {kind!r} is not one of {', '.join(allowed)}{extra}")
    q = parse_number(entry.get("q", 1.0)) or 1.0
    if kind in SHAPED_DISTRIBUTIONS:
        first, second, first_default, second_default = SHAPED_DISTRIBUTIONS[kind]
        shape = parse_number(entry.get(first, first_default)), parse_number(entry.get(second, second_default))
        if shape[0] is None or shape[1] is None or not (math.isfinite(shape[0]) and math.isfinite(shape[1])):
            raise ConfigError(f"{where}: {first} and {second} of a {kind} distribution must be numbers")
        if shape[1] <= 0 or (first == "a" and shape[0] <= 0):
            must = f"{first} and {second}" if first == "a" else second
            raise ConfigError(f"{where}: {must} of a {kind} distribution must be above 0")
        return Param(name, str(kind), q=q, shape=(shape[0], shape[1]))
    if "min" not in entry or "max" not in entry:
        raise ConfigError(f"{where}: give value, values, or a distribution with min and max")
    low, high = parse_number(entry["min"]), parse_number(entry["max"])
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        raise ConfigError(f"{where}: min and max must be numbers")
    if kind is None:  # W&B infers it from the bounds
        ints = all(isinstance(entry[k], int) and not isinstance(entry[k], bool) for k in ("min", "max"))
        kind = "int_uniform" if ints else "uniform"
    if low > high:
        raise ConfigError(f"{where}: min ({low:g}) is above max ({high:g})")
    if kind == "log_uniform" and low > 0 and high <= 1:
        raise ConfigError(
            f"{where}: log_uniform takes natural-log exponents (min: {math.log(low):.2f} means {low:g}); "
            f"for real values write distribution: log_uniform_values, min: {low:g}, max: {high:g}"
        )
    if kind in ("log_uniform_values", "q_log_uniform_values") and low <= 0:
        raise ConfigError(f"{where}: {kind} needs min > 0 (it samples the logarithm)")
    return Param(name, str(kind), low=low, high=high, q=q)


def _check_against_config(spec: SweepSpec) -> list[str]:
    """Build the config with every value a trial can get; one line per value the config rejects."""
    from utils.config import Config, check_known_keys
    from utils.sweep_params import check_no_contradiction, merge_params

    try:
        base = spec.base_settings()
    except ConfigError as error:
        return [f"command: {error}"]
    problems = []
    for name in spec.params:
        head = name.split(".")[0]
        try:
            check_known_keys({head: None})
        except ConfigError as error:
            problems.append(f"parameters.{name}: {str(error).split(': ', 1)[1]}")
    if problems:
        return problems
    first = {name: param.bounds()[0] for name, param in spec.params.items()}
    merged = base
    for name, value in first.items():
        try:
            merged = merge_params(merged, {name: value})
        except ConfigError as error:  # a dotted name into a field that is not a schedule or mapping
            problems.append(f"parameters.{name}: {str(error).removeprefix(f'{name}: ')}")
    if problems:
        return problems
    try:
        check_no_contradiction(merged, spec.overrides, first)
    except ConfigError as error:
        return [str(error)]
    for name, param in spec.params.items():
        for value in param.bounds():
            try:
                Config.from_dict(merge_params(base, {**first, name: value}))
            except ConfigError as error:
                problems.append(f"parameters.{name}: value {_yaml(value)} is rejected: {error}")
                break
    if not problems and spec.method == "grid":
        try:
            size = spec.grid_size()
        except ConfigError as error:
            return [str(error)]
        for index in range(min(size, GRID_LIMIT)):
            point = spec.grid_point(index)
            try:
                Config.from_dict(merge_params(base, point))
            except ConfigError as error:
                shown = ", ".join(f"{k}={_yaml(v)}" for k, v in point.items() if spec.params[k].swept)
                problems.append(f"grid point {shown} is rejected: {error}")
                break
    return problems


def _quantize(value: float, q: float) -> float:
    return round(round(value / q) * q, 12)


def _yaml(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()
