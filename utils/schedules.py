"""Hyperparameter schedules: a value that changes with training progress.

A schedule is written in YAML as ``{start, end, from, to, schedule}``:
``start`` is the value before ``from``, ``end`` the value after ``to``, and in
between the value moves from ``start`` to ``end`` along ``schedule``
(``linear``, ``cosine`` or ``exponential``). ``from``/``to`` values <= 1 are
fractions of ``max_timesteps``; values > 1 are absolute env steps.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SCHEDULE_KINDS = ("linear", "cosine", "exponential")
SCHEDULE_KEYS = ("start", "end", "from", "to", "schedule")


class ScheduleError(ValueError):
    """A schedule mapping that cannot be understood."""


@dataclass(frozen=True)
class Schedule:
    """A value interpolated from ``start`` to ``end`` between two progress points."""

    start: float
    end: float
    begin: float = 0.0  # YAML key "from"
    finish: float = 1.0  # YAML key "to"
    kind: str = "linear"  # YAML key "schedule"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Schedule:
        """Build a schedule from its YAML/JSON mapping, checking every key."""
        unknown = sorted(set(data) - set(SCHEDULE_KEYS), key=str)
        if unknown:
            close = difflib.get_close_matches(str(unknown[0]), SCHEDULE_KEYS, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise ScheduleError(f"unknown schedule key(s) {unknown}; {hint}allowed keys are {list(SCHEDULE_KEYS)}")
        missing = [key for key in ("start", "end") if key not in data]
        if missing:
            raise ScheduleError(f"schedule is missing {missing}; write it as {{start: 0.001, end: 0.0}}")
        numbers = {}
        for key, default in (("start", None), ("end", None), ("from", 0.0), ("to", 1.0)):
            numbers[key] = _as_number(data.get(key, default), key)
        kind = data.get("schedule", "linear")
        if kind not in SCHEDULE_KINDS:
            raise ScheduleError(f"schedule kind {kind!r} is not one of {list(SCHEDULE_KINDS)}")
        if numbers["from"] < 0 or numbers["to"] < 0:
            raise ScheduleError("schedule 'from' and 'to' must be >= 0")
        begin, finish = numbers["from"], numbers["to"]
        if (begin <= 1.0) == (finish <= 1.0) and begin > finish:  # same unit; mixed units need max_timesteps
            raise ScheduleError(f"schedule 'from' ({begin:g}) is after 'to' ({finish:g}); 'from' must not exceed 'to'")
        if kind == "exponential" and (numbers["start"] <= 0 or numbers["end"] <= 0):
            raise ScheduleError("an exponential schedule needs start and end > 0")
        return cls(numbers["start"], numbers["end"], numbers["from"], numbers["to"], kind)

    def to_dict(self) -> dict[str, Any]:
        """The full mapping form; ``from_dict(to_dict())`` gives back an equal schedule."""
        return {
            "start": self.start,
            "end": self.end,
            "from": self.begin,
            "to": self.finish,
            "schedule": self.kind,
        }

    def steps(self, max_timesteps: int) -> tuple[float, float]:
        """``from`` and ``to`` as env steps of a ``max_timesteps`` run."""
        return _to_steps(self.begin, max_timesteps), _to_steps(self.finish, max_timesteps)

    def value(self, timesteps: int, max_timesteps: int) -> float:
        """The scheduled value after ``timesteps`` env steps of a ``max_timesteps`` run."""
        begin, finish = self.steps(max_timesteps)
        if timesteps <= begin:
            return self.start
        if timesteps >= finish or finish <= begin:
            return self.end
        progress = (timesteps - begin) / (finish - begin)
        if self.kind == "cosine":
            weight = 0.5 * (1.0 - math.cos(math.pi * progress))
            return self.start + (self.end - self.start) * weight
        if self.kind == "exponential":
            return self.start * (self.end / self.start) ** progress
        return self.start + (self.end - self.start) * progress


def _to_steps(point: float, max_timesteps: int) -> float:
    """Progress points <= 1 are fractions of the run; larger ones are env steps."""
    return point * max_timesteps if point <= 1.0 else point


def _as_number(value: Any, key: str) -> float:
    """A finite float for numbers and numeric text (PyYAML reads ``1e-3`` as text)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ScheduleError(f"schedule '{key}' must be a number, got {value!r}")
    try:
        number = float(value.replace("_", "") if isinstance(value, str) else value)
    except ValueError:
        raise ScheduleError(f"schedule '{key}' must be a number, got {value!r}") from None
    except OverflowError:  # an int beyond the float range
        number = math.inf
    if not math.isfinite(number):
        raise ScheduleError(f"schedule '{key}' must be a finite number, got {value!r}")
    return number


def scheduled_value(value: float | Schedule, timesteps: int, max_timesteps: int) -> float:
    """The value of a plain-or-scheduled hyperparameter at ``timesteps``."""
    if isinstance(value, Schedule):
        return value.value(timesteps, max_timesteps)
    return float(value)
