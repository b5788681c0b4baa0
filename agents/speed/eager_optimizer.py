"""torch.optim without ``torch._dynamo``: the optimizers' guards against compilation, kept out of an eager run.

torch.optim wraps ``Optimizer.add_param_group``, ``zero_grad``, ``state_dict``, ``load_state_dict`` and the
functional ``adam``/``sgd`` in ``torch._disable_dynamo``, which imports ``torch._dynamo`` at the first call to
build a "never compile this" wrapper of the function, then keeps it in the function's ``__dynamo_disable``
attribute. Every ``step`` is wrapped again, to import ``torch._dynamo`` and call ``graph_break()`` twice (so a
compiled graph respects ``no_grad``), inside a profiler label and the step hooks. None of it changes what an
eager step computes, and importing ``torch._dynamo`` (with sympy and ``torch.distributed.tensor``) took about
1.2 s of a 2-core CPU: half of what launch -> first rollout had left. Nothing in this framework compiles.

- ``eager_optimizer_functions()`` gives each of those functions its cached wrapper up front: the function itself.
- ``eager_step(optimizer)`` runs the optimizer's own ``step`` (the same fused kernel) with gradients off, without
  the profiler label and the graph breaks; an optimizer with step hooks takes the full ``step()``.

If a torch release moves these wrappers, nothing breaks: ``torch._dynamo`` is imported as before
(``tests/test_startup_imports.py`` notices).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import torch

_DYNAMO_CACHE = "__dynamo_disable"  # where torch._compile._disable_dynamo keeps a function's wrapper


def _innermost(fn: Callable[..., Any]) -> Callable[..., Any]:
    while hasattr(fn, "__wrapped__"):
        fn = fn.__wrapped__
    return fn


def eager_optimizer_functions() -> None:
    """Mark torch.optim's ``_disable_dynamo`` functions as already wrapped (by themselves); idempotent."""
    optimizer = torch.optim.Optimizer
    wrapped = [optimizer.add_param_group, optimizer.zero_grad, optimizer.state_dict, optimizer.load_state_dict]
    wrapped += [importlib.import_module(f"torch.optim.{name}").__dict__[name] for name in ("adam", "sgd")]
    for fn in wrapped:
        inner = getattr(fn, "__wrapped__", None)
        if inner is not None and not hasattr(inner, _DYNAMO_CACHE):
            setattr(inner, _DYNAMO_CACHE, inner)


def _has_step_hooks(optimizer: torch.optim.Optimizer) -> bool:
    own = (getattr(optimizer, name, None) for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks"))
    shared = (getattr(importlib.import_module("torch.optim.optimizer"), name, None) for name in ("_global_optimizer_pre_hooks",
                                                                       "_global_optimizer_post_hooks"))  # fmt: skip
    return any(bool(hooks) for hooks in (*own, *shared))


def eager_step(optimizer: torch.optim.Optimizer) -> None:
    """One ``optimizer.step()``, computed the same way, minus the compile-only wrappers around it."""
    if _has_step_hooks(optimizer):
        optimizer.step()
        return
    with torch.set_grad_enabled(bool(optimizer.defaults.get("differentiable", False))):
        _innermost(type(optimizer).step)(optimizer)
