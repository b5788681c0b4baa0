"""Every trainable parameter of a policy as a view into one flat tensor, and every gradient into another.

For small policies the per-tensor bookkeeping of an update costs more than the math: zeroing each
gradient, a norm per tensor for clipping, an optimizer step over a list of tensors. With the parameters
and gradients laid out flat, each of those is one operation on one tensor, whatever the network's shape.
Autograd accumulates into existing ``.grad`` tensors in place, so the gradient views stay attached.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class FlatParameters:
    """Lays ``module``'s parameters (and their gradients) out in one contiguous tensor each.

    Call it after the module is on its final device (moving a module replaces its parameter tensors).
    """

    def __init__(self, module: nn.Module) -> None:
        params = [p for p in module.parameters() if p.requires_grad]
        if len({(p.dtype, p.device) for p in params}) != 1:
            raise ValueError("FlatParameters needs every parameter on one device with one dtype")
        total = sum(p.numel() for p in params)
        self.flat = nn.Parameter(torch.empty(total, dtype=params[0].dtype, device=params[0].device))
        self.flat.grad = torch.zeros_like(self.flat)
        self.params = params
        self.grads: list[torch.Tensor] = []
        offset = 0
        with torch.no_grad():
            for param in params:
                size = param.numel()
                self.flat[offset : offset + size].copy_(param.reshape(-1))
                param.data = self.flat.data[offset : offset + size].view_as(param)
                self.grads.append(self.flat.grad[offset : offset + size].view_as(param))
                offset += size
        self._attach_grads()

    @property
    def grad(self) -> torch.Tensor:
        """The flat gradient (set in ``__init__``; autograd and the methods here only write into it)."""
        grad = self.flat.grad
        assert grad is not None, "FlatParameters: the flat gradient was set to None"
        return grad

    def _attach_grads(self) -> None:
        for param, grad in zip(self.params, self.grads, strict=True):
            param.grad = grad

    def zero_grad(self) -> None:
        """Zero every gradient in place, re-attaching the views if someone set ``.grad`` to None."""
        if any(param.grad is not grad for param, grad in zip(self.params, self.grads, strict=True)):
            self._attach_grads()  # e.g. Lightning's module.zero_grad() before fitting
        self.grad.zero_()

    def clip_grad_norm(self, max_norm: float | None) -> torch.Tensor:
        """Scale the gradients down to ``max_norm`` (global L2 norm) if above it; returns the norm before."""
        return clip_by_norm(self.grad, max_norm)


def clip_by_norm(grad: torch.Tensor, max_norm: float | None) -> torch.Tensor:
    """Scale ``grad`` in place down to ``max_norm`` (L2 norm) if above it; returns its norm before."""
    norm = torch.linalg.vector_norm(grad)
    if max_norm is not None:
        grad.mul_((max_norm / (norm + 1e-6)).clamp_(max=1.0))
    return norm


def flatten_optimizer_state(state: dict[str, Any]) -> dict[str, Any]:
    """An optimizer state saved with one entry per parameter tensor (checkpoints from before flat
    parameters) as the single flat entry ``FlatParameters`` uses: per-element buffers (Adam's moments,
    SGD's momentum) are concatenated in parameter order, per-tensor scalars (Adam's step) kept once."""
    group = state["param_groups"][0]
    ids = group["params"]
    if len(state["param_groups"]) != 1 or len(ids) == 1:
        return state
    entries = [state["state"].get(i, {}) for i in ids]
    merged: dict[str, Any] = {}
    for key, first in entries[0].items():
        values = [entry[key] for entry in entries]
        per_element = isinstance(first, torch.Tensor) and first.dim() > 0
        if per_element:
            merged[key] = torch.cat([value.reshape(-1) for value in values])
        else:  # a copy: the caller's state must not share a step counter with the new optimizer
            merged[key] = first.clone() if isinstance(first, torch.Tensor) else first
    return {"state": {0: merged} if merged else {}, "param_groups": [{**group, "params": [0]}]}
