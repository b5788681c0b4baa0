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
- For a fused Adam/AdamW on the CPU (what ``build_optimizer`` makes) whose state exists, ``eager_step`` makes the two
  calls its ``step`` ends in (``_foreach_add_`` on the step counters, then ``_fused_adam_`` or ``_fused_adamw_``) on
  the same tensors with the same arguments, skipping ~100 µs of per-call Python (collecting the state into lists,
  grouping tensors by device): a PPO update on a small MLP is ~1.3 ms of math here, and takes one step per minibatch.

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


def _fused_adam_step(optimizer: torch.optim.Optimizer) -> bool:
    """``Adam.step``'s final calls for a fused, single-group CPU Adam/AdamW whose state exists (see the module
    doc); False, with nothing done, for anything else (the first step creates the state)."""
    if type(optimizer) not in (torch.optim.Adam, torch.optim.AdamW) or len(optimizer.param_groups) != 1:
        return False
    group = optimizer.param_groups[0]
    beta1, beta2 = group["betas"]
    if (
        not group["fused"]
        or group["amsgrad"]
        or group["differentiable"]
        or group["capturable"]
        or not isinstance(beta1, float)
        or not isinstance(beta2, float)
        or getattr(optimizer, "grad_scale", None) is not None
        or getattr(optimizer, "found_inf", None) is not None
    ):
        return False
    params = [param for param in group["params"] if param.grad is not None]
    states = [optimizer.state.get(param, {}) for param in params]
    if not params or any(not state or param.device.type != "cpu" for param, state in zip(params, states, strict=True)):
        return False
    kernel = torch._fused_adamw_ if group["decoupled_weight_decay"] else torch._fused_adam_
    with torch.no_grad():
        steps = [state["step"] for state in states]
        torch._foreach_add_(steps, 1)
        kernel(
            params,
            [param.grad for param in params],
            [state["exp_avg"] for state in states],
            [state["exp_avg_sq"] for state in states],
            [],
            steps,
            amsgrad=False,
            lr=group["lr"],
            beta1=beta1,
            beta2=beta2,
            weight_decay=group["weight_decay"],
            eps=group["eps"],
            maximize=group["maximize"],
            grad_scale=None,
            found_inf=None,
        )
    return True


def eager_step(optimizer: torch.optim.Optimizer) -> None:
    """One ``optimizer.step()``, computed the same way, minus the compile-only wrappers around it."""
    if _has_step_hooks(optimizer):
        optimizer.step()
        return
    if _fused_adam_step(optimizer):
        return
    with torch.set_grad_enabled(bool(optimizer.defaults.get("differentiable", False))):
        _innermost(type(optimizer).step)(optimizer)
