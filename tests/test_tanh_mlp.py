"""TanhMLP computes what nn.Sequential(Linear, Tanh, ..., Linear) computes, gradients included."""

from __future__ import annotations

import copy
import itertools

import pytest
import torch
from torch import nn

from agents.speed.tanh_mlp import TanhMLP, _TanhMLPFunction


def _layers(sizes: list[int]) -> list[nn.Module]:
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    for index, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out))
        if index < len(sizes) - 2:
            layers.append(nn.Tanh())
    return layers


@pytest.mark.parametrize("sizes", [[4, 64, 64, 2], [8, 32, 1], [128, 16, 16, 16, 3]])
def test_outputs_and_gradients_match_the_plain_sequential(sizes: list[int]) -> None:
    plain = nn.Sequential(*_layers(sizes))
    fused = TanhMLP(*copy.deepcopy(list(plain)))
    x = torch.randn(256, sizes[0]) * 3
    out_plain, out_fused = plain(x), fused(x)
    assert torch.allclose(out_plain, out_fused, atol=1e-5)
    (out_plain.square().sum() + out_plain[:, 0].exp().sum()).backward()
    (out_fused.square().sum() + out_fused[:, 0].exp().sum()).backward()
    for (name, p_plain), p_fused in zip(plain.named_parameters(), fused.parameters(), strict=True):
        assert p_fused.grad is not None, name
        assert torch.allclose(p_plain.grad, p_fused.grad, rtol=1e-4, atol=1e-5), name


def test_double_precision_gradcheck_including_the_input() -> None:
    torch.manual_seed(1)
    x = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    shapes = [(5, 3), (5,), (4, 5), (4,), (2, 4), (2,)]
    params = [torch.randn(shape, dtype=torch.float64, requires_grad=True) for shape in shapes]
    assert torch.autograd.gradcheck(lambda *tensors: _TanhMLPFunction.apply(*tensors), (x, *params))


def test_same_parameter_names_as_the_sequential_it_replaces() -> None:
    layers = _layers([4, 64, 64, 2])
    assert TanhMLP(*layers).state_dict().keys() == nn.Sequential(*layers).state_dict().keys()


def test_autocast_and_other_dtypes_use_the_plain_forward() -> None:
    fused = TanhMLP(*_layers([4, 16, 2]))
    x = torch.randn(8, 4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert fused(x).dtype == torch.bfloat16  # autocast ran the layers themselves
    double = TanhMLP(*_layers([4, 16, 2])).double()
    assert double(x.double()).dtype == torch.float64


def test_fits_only_linear_tanh_stacks() -> None:
    assert TanhMLP.fits(_layers([4, 64, 64, 2]))
    assert not TanhMLP.fits(_layers([4, 2]))  # no hidden layer
    assert not TanhMLP.fits([nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)])
    assert not TanhMLP.fits([nn.Linear(4, 8, bias=False), nn.Tanh(), nn.Linear(8, 2)])
