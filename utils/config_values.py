"""Turning YAML/CLI values into the types the config declares, with one-line errors."""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Mapping
from typing import Any

from utils.schedules import Schedule, ScheduleError


class ConfigError(ValueError):
    """A config value a user must fix; the message names the key and the fix."""


def parse_number(value: Any) -> float | None:
    """A float for numbers and numeric strings (YAML reads ``1e5`` as text), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.replace("_", ""))
        except ValueError:
            return None
    return None


def coerce(value: Any, hint: Any, key: str) -> Any:
    """Convert ``value`` to the annotated type ``hint`` or raise ConfigError."""
    options = _union_members(hint)
    if value is None:
        if type(None) in options:
            return None
        raise ConfigError(f"{key}: must not be empty (null); give a {_describe(hint)}")
    if isinstance(value, float) and float in options:
        return _coerce_one(value, float, key)  # 1.0 written as a float stays a float (batch_size: 1.0 = whole rollout)
    errors = []
    for option in sorted(options, key=_try_order):
        if option is type(None):
            continue
        try:
            return _coerce_one(value, option, key)
        except ConfigError as error:
            errors.append(str(error))
    if len(errors) == 1:
        raise ConfigError(errors[0])
    raise ConfigError(f"{key}: {value!r} is not a {_describe(hint)}")


def require(value: Any, key: str, checks: Mapping[str, Any]) -> None:
    """Apply the field's range/choice checks to an already-typed value."""
    if value is None or isinstance(value, Schedule | bool):
        if isinstance(value, Schedule):
            for bound in (value.start, value.end):
                require(bound, key, checks)
        return
    choices = checks.get("choices")
    if choices is not None and value not in choices:
        import difflib

        close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"use one of {list(choices)}"
        raise ConfigError(f"{key}: {value!r} is not allowed; {hint}")
    if isinstance(value, int | float):
        if "min" in checks and value < checks["min"]:
            raise ConfigError(f"{key}: {value} is too small; it must be >= {checks['min']}")
        if "max" in checks and value > checks["max"]:
            raise ConfigError(f"{key}: {value} is too large; it must be <= {checks['max']}")
        if "gt" in checks and value <= checks["gt"]:
            raise ConfigError(f"{key}: {value} must be > {checks['gt']}")


def _union_members(hint: Any) -> tuple[Any, ...]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return typing.get_args(hint)
    return (hint,)


def _try_order(option: Any) -> int:
    """Try exact kinds first: bool before str, int before float."""
    order = {bool: 0, int: 1, float: 2, Schedule: 3, str: 4}
    return order.get(option, 5)


def _coerce_one(value: Any, option: Any, key: str) -> Any:
    origin = typing.get_origin(option)
    if option is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key}: {value!r} is not true/false")
    if option is int:
        number = parse_number(value)
        if number is None or not math.isfinite(number) or not number.is_integer():
            raise ConfigError(f"{key}: {value!r} is not a whole number")
        return int(number)
    if option is float:
        number = parse_number(value)
        if number is None or math.isnan(number):
            raise ConfigError(f"{key}: {value!r} is not a number")
        return number
    if option is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{key}: {value!r} is not text")
    if option is Schedule:
        if isinstance(value, Schedule):
            return value
        if isinstance(value, Mapping):
            try:
                return Schedule.from_dict(value)
            except ScheduleError as error:
                raise ConfigError(f"{key}: {error}") from None
        raise ConfigError(f"{key}: {value!r} is not a schedule")
    if origin is list:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{key}: {value!r} is not a list")
        (item_hint,) = typing.get_args(option)
        return [coerce(item, item_hint, f"{key}[{i}]") for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key}: {value!r} is not a mapping")
        return dict(value)
    if option is Any:
        return value
    raise ConfigError(f"{key}: unsupported field type {option!r}")


def _describe(hint: Any) -> str:
    names = []
    for option in _union_members(hint):
        if option is type(None):
            continue
        if option is Schedule:
            names.append("schedule {start, end}")
        elif typing.get_origin(option) is list:
            names.append("list")
        elif typing.get_origin(option) is dict:
            names.append("mapping")
        else:
            names.append(getattr(option, "__name__", str(option)))
    return " or ".join(names)
