"""A tanh MLP whose forward and backward run as one autograd node on the CPU.

For the small MLPs of classic-control PPO (64x64, minibatches of 256) an update is bound by per-op costs,
and two of them are avoidable:

- torch's float32 CPU ``tanh`` takes ~46 µs on a 256x64 tensor here, ``sigmoid`` ~8 µs. This module
  computes tanh(z) = 2 sigmoid(2z) - 1, folding the 2z into the layer's ``addmm`` (max difference from
  ``torch.tanh`` ~2e-7).
- The first layer's weight gradient ``g.T @ x`` for a narrow input (256x4) takes a slow GEMM path
  (~22 µs); ``(x.T @ g).T`` is the same product in ~6 µs.

The backward is written out (one node instead of an ``AddmmBackward``/``TanhBackward`` pair per layer).
Parameter names and shapes are those of the ``nn.Sequential`` of ``Linear`` and ``Tanh`` layers it is,
so checkpoints and the NumPy acting path are unchanged. Other devices, dtypes and autocast use the
plain layer-by-layer forward.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import torch
from torch import nn

from agents.speed.cpu_float32 import speed_code_applies


def _tanh_of_doubled(z2: torch.Tensor) -> torch.Tensor:
    """tanh(z), given z2 = 2z, in place: 2 sigmoid(2z) - 1."""
    return torch.sigmoid_(z2).mul_(2.0).sub_(1.0)


def _weight_grad(grad: torch.Tensor, inputs: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """``grad.T @ inputs``, ordered so the GEMM's long dimension is the batch (fast for narrow inputs); written
    into ``out`` when given."""
    if inputs.shape[1] < grad.shape[1]:
        product = (inputs.t() @ grad).t()
        return product if out is None else out.copy_(product)  # a transposed ``out=`` takes a slow path
    return grad.t() @ inputs if out is None else torch.mm(grad.t(), inputs, out=out)


def tanh_mlp_forward(
    x: torch.Tensor, weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor]
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Linear, tanh, ..., Linear on ``x``; returns the output and every layer's input (for the backward)."""
    layer_inputs = [x]
    h = x
    for index, (weight, bias) in enumerate(zip(weights, biases, strict=True)):
        if index < len(weights) - 1:
            h = _tanh_of_doubled(torch.addmm(bias, h, weight.t(), beta=2.0, alpha=2.0))
            layer_inputs.append(h)
        else:
            h = torch.addmm(bias, h, weight.t())
    return h, layer_inputs


def tanh_mlp_backward(
    grad: torch.Tensor,
    layer_inputs: Sequence[torch.Tensor],
    weights: Sequence[torch.Tensor],
    out: tuple[Sequence[torch.Tensor], Sequence[torch.Tensor]] | None = None,
) -> tuple[list[torch.Tensor], list[torch.Tensor], torch.Tensor]:
    """Every layer's weight and bias gradients from the output's gradient, plus the gradient of the first
    layer's pre-activation output (the input's gradient is that ``@ weights[0]``). ``out``: (weight, bias)
    tensors to write the gradients into (the parameters' ``.grad``) instead of new ones."""
    weight_grads, bias_grads = [], []
    for index in reversed(range(len(weights))):
        weight_out, bias_out = (out[0][index], out[1][index]) if out is not None else (None, None)
        weight_grads.append(_weight_grad(grad, layer_inputs[index], weight_out))
        bias_grads.append(grad.sum(0) if bias_out is None else torch.sum(grad, 0, out=bias_out))
        if index > 0:  # through the tanh that produced this layer's input
            grad = torch.ops.aten.tanh_backward(grad @ weights[index], layer_inputs[index])
    return weight_grads[::-1], bias_grads[::-1], grad


class _TanhMLPFunction(torch.autograd.Function):
    """Forward: Linear, tanh, ..., Linear. Backward: every weight and bias gradient (and the input's)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, *params: torch.Tensor) -> torch.Tensor:
        weights = params[0::2]
        out, layer_inputs = tanh_mlp_forward(x, weights, params[1::2])
        ctx.save_for_backward(*layer_inputs, *weights)
        ctx.layers = len(weights)
        return out

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        saved = ctx.saved_tensors
        layer_inputs, weights = saved[: ctx.layers], saved[ctx.layers :]
        weight_grads, bias_grads, first_grad = tanh_mlp_backward(grad, layer_inputs, weights)
        grads = [g for pair in zip(weight_grads, bias_grads, strict=True) for g in pair]
        input_grad = first_grad @ weights[0] if ctx.needs_input_grad[0] else None
        return (input_grad, *grads)


class TanhMLP(nn.Sequential):
    """``nn.Sequential(Linear, Tanh, ..., Linear)`` with a fused CPU float32 forward/backward."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type != "cpu" or not speed_code_applies(cast(torch.Tensor, self[0].weight)):
            return super().forward(x)
        params = [tensor for layer in self.linears() for tensor in (layer.weight, layer.bias)]
        return _TanhMLPFunction.apply(x.float(), *params)

    def linears(self) -> list[nn.Linear]:
        """The Linear layers, first to last."""
        return [layer for layer in self if isinstance(layer, nn.Linear)]

    @staticmethod
    def fits(layers: list[nn.Module]) -> bool:
        """Whether ``layers`` alternate biased Linear and Tanh, ending on a Linear after at least one Tanh."""
        linear, tanh = layers[0::2], layers[1::2]
        return (
            len(layers) >= 3
            and len(linear) == len(tanh) + 1
            and all(isinstance(layer, nn.Linear) and layer.bias is not None for layer in linear)
            and all(isinstance(layer, nn.Tanh) for layer in tanh)
        )
