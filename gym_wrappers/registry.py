"""Name-to-class registry so configs can list env wrappers as plain mappings."""

from __future__ import annotations

import difflib
import inspect
import math
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import gymnasium as gym


class UnknownWrapperError(ValueError):
    """Raised when a config names a wrapper id that was never registered."""


class WrapperError(ValueError):
    """A configured wrapper that cannot wrap this env; the one-line message names it and its position."""


class EnvWrapperRegistry:
    """Maps wrapper ids to wrapper classes and builds them from config specs.

    A spec is ``{"id": "<wrapper id>", **kwargs}``; the kwargs go to the wrapper's
    constructor after the env.
    """

    _wrappers: ClassVar[dict[str, type[gym.Wrapper]]] = {}

    @classmethod
    def register(cls, wrapper_id: str | None = None) -> Callable[[type[gym.Wrapper]], type[gym.Wrapper]]:
        """Return a class decorator registering the class under ``wrapper_id`` (default: its name)."""

        def decorator(wrapper_cls: type[gym.Wrapper]) -> type[gym.Wrapper]:
            key = wrapper_id or wrapper_cls.__name__
            existing = cls._wrappers.get(key)
            if existing is not None and _full_name(existing) != _full_name(wrapper_cls):
                raise ValueError(f"wrapper id '{key}' is already registered to {existing!r}")
            cls._wrappers[key] = wrapper_cls
            return wrapper_cls

        return decorator

    @classmethod
    def get(cls, wrapper_id: str) -> type[gym.Wrapper]:
        """Return the wrapper class for ``wrapper_id`` or fail with a did-you-mean hint."""
        if wrapper_id in cls._wrappers:
            return cls._wrappers[wrapper_id]
        available = ", ".join(cls.ids()) or "(none)"
        close = difflib.get_close_matches(str(wrapper_id), cls.ids(), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise UnknownWrapperError(f"unknown wrapper {wrapper_id!r}{hint} available: {available}")

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
                raise ValueError(f"wrapper '{wrapper_id}' does not accept {key!r}; accepted keys: {accepted_text}")
        for p in params:
            if p.name in accepted and p.default is inspect.Parameter.empty and p.name not in kwargs:
                raise ValueError(f"wrapper '{wrapper_id}' requires '{p.name}'; accepted keys: {accepted_text}")
        _typed_kwargs(wrapper_id, wrapper_cls, kwargs)

    @classmethod
    def apply(cls, env: gym.Env, spec: Mapping[str, Any]) -> gym.Env:
        """Wrap ``env`` with the wrapper the spec describes."""
        cls.validate_spec(spec)
        wrapper_id, kwargs = _split_spec(spec)
        wrapper_cls = cls.get(wrapper_id)
        return wrapper_cls(env, **_typed_kwargs(wrapper_id, wrapper_cls, kwargs))


def apply_wrappers(env: gym.Env, specs: Sequence[Mapping[str, Any]]) -> gym.Env:
    """Wrap ``env`` with each spec in order; the first spec ends up innermost.

    A wrapper that rejects the env or its kwargs raises WrapperError with one line naming it.
    """
    for index, spec in enumerate(specs):
        try:
            env = EnvWrapperRegistry.apply(env, spec)
        except (TypeError, ValueError, AssertionError) as error:
            text = " ".join(str(error).split()) or f"{type(error).__name__} while wrapping {env_name(env)}"
            wrapper_id = str(spec.get("id")) if isinstance(spec, Mapping) else "?"
            if wrapper_id not in text:
                text = f"{wrapper_id}: {text}"
            raise WrapperError(f"env_wrappers[{index}]: {text}") from error
    return env


def require_env_family(env: gym.Env, wrapper_name: str, prefix: str, written_for: str) -> None:
    """Reject an env-specific wrapper on an env whose id does not start with ``prefix`` (unknown ids pass)."""
    env_id = _env_id(env)
    if env_id is not None and not env_id.startswith(prefix):
        raise ValueError(
            f"{wrapper_name} is written for {written_for}, not {env_id}; remove it from env_wrappers "
            "(each env-specific wrapper is named after its env)"
        )


def _env_id(env: gym.Env) -> str | None:
    spec = getattr(env.unwrapped, "spec", None) or getattr(env, "spec", None)
    return getattr(spec, "id", None)


def env_name(env: gym.Env) -> str:
    """The env's registered id, else its class name (for messages)."""
    return _env_id(env) or type(env.unwrapped).__name__


def _typed_kwargs(wrapper_id: str, wrapper_cls: type[gym.Wrapper], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Check each kwarg against the constructor's annotation; numeric text becomes a float where one is wanted.

    PyYAML reads ``1e-3`` as text, so ``scale: 1e-3`` must still reach the wrapper as a number.
    """
    try:
        hints = typing.get_type_hints(wrapper_cls.__init__)
    except Exception:  # annotations this module cannot resolve: the wrapper checks its own arguments
        return dict(kwargs)
    typed = {}
    for key, value in kwargs.items():
        hint = hints.get(key, Any)
        converted = _convert(value, hint)
        if converted is _MISFIT:
            raise ValueError(f"wrapper '{wrapper_id}': '{key}' must be of type {_hint_text(hint)}, got {value!r}")
        typed[key] = converted
    return typed


_MISFIT = object()


def _convert(value: Any, hint: Any) -> Any:
    """``value`` as ``hint`` wants it, or ``_MISFIT``; annotations it does not know accept anything."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(hint):
            converted = _convert(value, option)
            if converted is not _MISFIT:
                return converted
        return _MISFIT
    if hint is type(None):
        return value if value is None else _MISFIT
    if hint is bool:
        return value if isinstance(value, bool) else _MISFIT
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        number = _as_float(value)  # 1e3 (text to PyYAML) or 30.0 as a whole number
        return int(number) if number is not _MISFIT and number.is_integer() else _MISFIT
    if hint is float:
        return _as_float(value)
    if hint is str:
        return value if isinstance(value, str) else _MISFIT
    if hint in (list, tuple) or origin in (list, tuple):
        if not isinstance(value, list | tuple):
            return _MISFIT
        args = typing.get_args(hint)
        if origin is tuple and args and args[-1] is not Ellipsis:
            items = list(zip(value, args, strict=False)) if len(value) == len(args) else None
        else:
            items = [(item, args[0] if args else Any) for item in value]
        if items is None:
            return _MISFIT
        converted = [_convert(item, item_hint) for item, item_hint in items]
        return _MISFIT if any(c is _MISFIT for c in converted) else type(value)(converted)
    return value


def _as_float(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return _MISFIT
    try:
        number = float(value.replace("_", "") if isinstance(value, str) else value)
    except (ValueError, OverflowError):
        return _MISFIT
    return number if math.isfinite(number) else _MISFIT


def _hint_text(hint: Any) -> str:
    return hint.__name__ if isinstance(hint, type) else str(hint).replace("typing.", "")


def _split_spec(spec: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """Separate a spec into its wrapper id and constructor kwargs."""
    if not isinstance(spec, Mapping):
        raise TypeError(f"wrapper spec must be a mapping with an 'id' key, got {spec!r}")
    if "id" not in spec:
        keys = ", ".join(map(str, spec)) or "(none)"
        raise ValueError(f"wrapper spec is missing 'id' (got keys: {keys})")
    kwargs = {key: value for key, value in spec.items() if key != "id"}
    return str(spec["id"]), kwargs


def _full_name(wrapper_cls: type[gym.Wrapper]) -> str:
    """Return a class's import path, stable across module reloads."""
    return f"{wrapper_cls.__module__}.{wrapper_cls.__qualname__}"
