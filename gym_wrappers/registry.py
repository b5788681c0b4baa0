"""Name-to-class registry so configs can list env wrappers as plain mappings."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import gymnasium as gym


class UnknownWrapperError(ValueError):
    """Raised when a config names a wrapper id that was never registered."""


class EnvWrapperRegistry:
    """Maps wrapper ids to wrapper classes and builds them from config specs.

    A spec is ``{"id": "<wrapper id>", **kwargs}``; the kwargs go to the wrapper's
    constructor after the env.
    """

    _wrappers: ClassVar[dict[str, type]] = {}

    @classmethod
    def register(cls, wrapper_id: str | None = None) -> Callable[[type], type]:
        """Return a class decorator registering the class under ``wrapper_id`` (default: its name)."""

        def decorator(wrapper_cls: type) -> type:
            key = wrapper_id or wrapper_cls.__name__
            existing = cls._wrappers.get(key)
            if existing is not None and _full_name(existing) != _full_name(wrapper_cls):
                raise ValueError(f"wrapper id '{key}' is already registered to {existing!r}")
            cls._wrappers[key] = wrapper_cls
            return wrapper_cls

        return decorator

    @classmethod
    def get(cls, wrapper_id: str) -> type:
        """Return the wrapper class for ``wrapper_id`` or fail with a did-you-mean hint."""
        if wrapper_id in cls._wrappers:
            return cls._wrappers[wrapper_id]
        available = ", ".join(cls.ids()) or "(none)"
        close = difflib.get_close_matches(str(wrapper_id), cls.ids(), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise UnknownWrapperError(f"unknown wrapper '{wrapper_id}'{hint} available: {available}")

    @classmethod
    def ids(cls) -> list[str]:
        """Return all registered wrapper ids, sorted."""
        return sorted(cls._wrappers)

    @classmethod
    def validate_spec(cls, spec: Mapping[str, Any]) -> None:
        """Check a spec names a known wrapper with acceptable kwargs, without building it."""
        wrapper_id, kwargs = _split_spec(spec)
        wrapper_cls = cls.get(wrapper_id)
        _env_param, *params = inspect.signature(wrapper_cls).parameters.values()
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
            return
        named_kinds = (
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            inspect.Parameter.KEYWORD_ONLY,
        )
        accepted = [p.name for p in params if p.kind in named_kinds]
        accepted_text = ", ".join(accepted) or "(none)"
        for key in kwargs:
            if key not in accepted:
                raise ValueError(f"wrapper '{wrapper_id}' does not accept '{key}'; accepted keys: {accepted_text}")
        for p in params:
            if p.name in accepted and p.default is inspect.Parameter.empty and p.name not in kwargs:
                raise ValueError(f"wrapper '{wrapper_id}' requires '{p.name}'; accepted keys: {accepted_text}")

    @classmethod
    def apply(cls, env: gym.Env, spec: Mapping[str, Any]) -> gym.Env:
        """Wrap ``env`` with the wrapper the spec describes."""
        cls.validate_spec(spec)
        wrapper_id, kwargs = _split_spec(spec)
        return cls.get(wrapper_id)(env, **kwargs)


def apply_wrappers(env: gym.Env, specs: Sequence[Mapping[str, Any]]) -> gym.Env:
    """Wrap ``env`` with each spec in order; the first spec ends up innermost."""
    for spec in specs:
        env = EnvWrapperRegistry.apply(env, spec)
    return env


def _split_spec(spec: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """Separate a spec into its wrapper id and constructor kwargs."""
    if not isinstance(spec, Mapping):
        raise TypeError(f"wrapper spec must be a mapping with an 'id' key, got {spec!r}")
    if "id" not in spec:
        keys = ", ".join(map(str, spec)) or "(none)"
        raise ValueError(f"wrapper spec is missing 'id' (got keys: {keys})")
    kwargs = {key: value for key, value in spec.items() if key != "id"}
    return str(spec["id"]), kwargs


def _full_name(wrapper_cls: type) -> str:
    """Return a class's import path, stable across module reloads."""
    return f"{wrapper_cls.__module__}.{wrapper_cls.__qualname__}"
