"""The hidden activations a config can name (``utils.config.ACTIVATIONS``): each as a torch layer and, where
the NumPy actor implements it, as a NumPy function."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from torch import nn

from utils.config import ACTIVATIONS


@dataclass(frozen=True)
class Activation:
    """One activation: the layer the networks use, and its NumPy twin (None: acting stays in torch)."""

    layer: type[nn.Module]
    numpy: Callable[[np.ndarray], np.ndarray] | None


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


_IMPLEMENTED = {
    "tanh": Activation(nn.Tanh, np.tanh),
    "relu": Activation(nn.ReLU, _relu),
    "gelu": Activation(nn.GELU, None),
    "elu": Activation(nn.ELU, None),
    "leaky_relu": Activation(nn.LeakyReLU, None),
}
# Keyed by the config's names, so a name added there without an implementation here fails at import.
ACTIVATION_LAYERS: dict[str, Activation] = {name: _IMPLEMENTED[name] for name in ACTIVATIONS}
# The layers the NumPy actor can run, by layer type.
NUMPY_ACTIVATIONS: dict[type[nn.Module], Callable[[np.ndarray], np.ndarray]] = {
    a.layer: a.numpy for a in ACTIVATION_LAYERS.values() if a.numpy is not None
}
