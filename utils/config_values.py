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
    """A float for numbers and numeric strings (YAML reads ``1e5`` as text), else None.

    Integers too large for a float become +-inf, so callers see them as not finite.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        try:
            return float(value.replace("_", ""))
        except ValueError:
            return None
    return None


def parse_whole_number(value: Any) -> int | None:
    """An exact int for whole numbers and their text (``42``, ``'1e5'``, ``2.0``), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.replace("_", ""))
        except ValueError:
            pass
    number = parse_number(value)
    if number is None or not math.isfinite(number) or not number.is_integer():
        return None
    return int(number)


def coerce(value: Any, hint: Any, key: str) -> Any:
    """Convert ``value`` to the annotated type ``hint`` or raise ConfigError."""
    options = _union_members(hint)
    if value is None:
        if type(None) in options:
            return None
        raise ConfigError(f"{key}: must not be empty (null); give {_describe(hint)}")
    number = None if isinstance(value, int) else parse_number(value)  # ints are exact, however large
    if number is not None and not math.isfinite(number) and (int in options or float in options):
        raise ConfigError(f"{key}: {value!r} is not a finite number; write a plain number such as 0.001 or 1e5")
    if isinstance(value, float) and float in options:
        return _coerce_one(value, float, key)  # 1.0 written as a float stays a float (batch_size: 1.0 = whole rollout)
    errors = []
    for option in sorted(options, key=_try_order):
        if option is type(None):
            continue
        try:
            return _coerce_one(value, option, key)
        except ConfigError as error:
            errors.append((option, str(error)))
    # Report the error of the option the value was evidently meant as (a mapping for a schedule, ...).
    meant = [message for option, message in errors if _looks_like(value, option)]
    if len(errors) == 1 or len(meant) == 1:
        raise ConfigError((meant or [errors[0][1]])[0])
    raise ConfigError(f"{key}: {value!r} is not {_describe(hint)}")


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
        low, high = checks.get("min"), checks.get("max")
        allowed = f"between {low} and {high}" if low is not None and high is not None else None
        if low is not None and value < low:
            raise ConfigError(f"{key}: {value} is too small; it must be {allowed or f'>= {low}'}")
        if high is not None and value > high:
            raise ConfigError(f"{key}: {value} is too large; it must be {allowed or f'<= {high}'}")
        if "gt" in checks and value <= checks["gt"]:
            raise ConfigError(f"{key}: {value} must be > {checks['gt']}")


def _looks_like(value: Any, option: Any) -> bool:
    """Whether ``value`` has the shape of ``option`` (so its error is the one worth showing)."""
    origin = typing.get_origin(option)
    if option is Schedule or origin is dict:
        return isinstance(value, Mapping)
    if origin is list:
        return isinstance(value, list | tuple)
    if option in (int, float):
        return parse_number(value) is not None
    return False


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
        whole = parse_whole_number(value)
        if whole is None:
            raise ConfigError(f"{key}: {value!r} is not a whole number")
        return whole
    if option is float:
        number = parse_number(value)
        if number is None:
            raise ConfigError(f"{key}: {value!r} is not a number")
        if not math.isfinite(number):
            raise ConfigError(f"{key}: {value!r} is not a finite number; write a plain number such as 0.001 or 1e5")
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
        for name in value:
            if not isinstance(name, str):
                raise ConfigError(
                    f"{key}: key {name!r} is not text; write keys as names, e.g. {{render_mode: rgb_array}}"
                )
        return dict(value)
    if option is Any:
        return value
    raise ConfigError(f"{key}: unsupported field type {option!r}")


def _describe(hint: Any) -> str:
    """``hint`` in words with its article: 'an int or float', 'a float or schedule {start, end}'."""
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
    text = " or ".join(names)
    return f"an {text}" if text[:1] in "aeiou" else f"a {text}"
