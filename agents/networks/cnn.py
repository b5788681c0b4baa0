"""Image observations: layout detection and the Nature-CNN feature extractor (Mnih et al. 2015)."""

from __future__ import annotations

import math

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from utils.config_values import ConfigError

CHANNELS_LAST_MIN_BATCH = 32


def image_layout(shape: tuple[int, ...]) -> tuple[tuple[int, ...], int, int, int]:
    """``(permutation to stack-first channels-first, channels, height, width)`` for an image shape.

    Handles (H, W), (H, W, C), (C, H, W), stacked grayscale (S, H, W) and stacked colour (S, H, W, C).
    A trailing axis of size <= 4 is read as channels; otherwise the leading axis is.
    """
    if len(shape) == 2:
        return (0, 1), 1, shape[0], shape[1]
    if len(shape) == 3:
        if shape[-1] <= 4:
            return (2, 0, 1), shape[2], shape[0], shape[1]
        return (0, 1, 2), shape[0], shape[1], shape[2]
    if len(shape) == 4 and shape[-1] <= 4:
        return (0, 3, 1, 2), shape[0] * shape[3], shape[1], shape[2]
    raise ConfigError(f"observation shape {shape} is not an image layout the cnn policy understands; use policy: mlp")


class NatureCNN(nn.Module):
    """Three conv layers and a 512-unit linear layer over a channels-first image batch."""

    def __init__(self, space: spaces.Space, features: int = 512) -> None:
        super().__init__()
        if not isinstance(space, spaces.Box):
            raise ConfigError(f"policy: cnn needs Box image observations, not {type(space).__name__}; use policy: mlp")
        self.obs_shape = tuple(space.shape)
        self.permutation, channels, height, width = image_layout(self.obs_shape)
        self.scale = 1.0 / 255.0 if space.dtype == np.uint8 else 1.0
        self.convs = nn.Sequential(
            nn.Conv2d(channels, 32, 8, stride=4), nn.ReLU(),
            nn.Conv2d(32, 64, 4, stride=2), nn.ReLU(),
            nn.Conv2d(64, 64, 3, stride=1), nn.ReLU(),
            nn.Flatten(),
        )  # fmt: skip
        with torch.no_grad():
            flat = self.convs(torch.zeros(1, channels, height, width)).shape[1]
        self.linear = nn.Sequential(nn.Linear(flat, features), nn.ReLU())
        for module in self.modules():
            if isinstance(module, nn.Conv2d | nn.Linear):
                nn.init.orthogonal_(module.weight, math.sqrt(2))
                if module.bias is not None:  # always: every layer here is built with a bias
                    nn.init.zeros_(module.bias)
        self.out_features = features

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        batch = obs.shape[0]
        images = obs.reshape(batch, *self.obs_shape)
        if len(self.obs_shape) == 2:
            images = images.unsqueeze(1)
        else:
            images = images.permute(0, *(axis + 1 for axis in self.permutation))
            images = images.reshape(batch, -1, *images.shape[-2:])
        # Minibatches go channels-last (NHWC in memory), which oneDNN convolves without reordering:
        # forward + backward of a 256-image batch takes ~95 instead of ~145 ms on these CPUs. The few
        # images of a rollout step are faster as they are.
        layout = torch.channels_last if batch >= CHANNELS_LAST_MIN_BATCH else torch.contiguous_format
        images = images.to(torch.float32, memory_format=layout)
        if self.scale != 1.0:
            images = images * self.scale
        return self.linear(self.convs(images))
