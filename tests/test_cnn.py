"""The CNN policy accepts every image layout an env gives and scales uint8 pixels."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium import spaces

from agents.networks.cnn import NatureCNN, image_layout
from agents.networks.policies import build_policy
from utils.config import Config
from utils.config_values import ConfigError


@pytest.mark.parametrize(
    ("shape", "channels"),
    [((84, 84), 1), ((84, 84, 1), 1), ((84, 84, 4), 4), ((4, 84, 84), 4), ((210, 160, 3), 3), ((4, 60, 80, 3), 12)],
)
def test_layouts_map_to_channels_first(shape: tuple[int, ...], channels: int) -> None:
    _, found, height, width = image_layout(shape)
    assert found == channels
    assert (height, width) in {(84, 84), (210, 160), (60, 80)}
    net = NatureCNN(spaces.Box(0, 255, shape, np.uint8))
    assert net(torch.zeros((3, *shape), dtype=torch.uint8)).shape == (3, 512)


def test_hwc_and_chw_of_the_same_pixels_give_the_same_features() -> None:
    torch.manual_seed(0)
    hwc = NatureCNN(spaces.Box(0, 255, (84, 84, 4), np.uint8))
    chw = NatureCNN(spaces.Box(0, 255, (4, 84, 84), np.uint8))
    chw.load_state_dict(hwc.state_dict())
    pixels = torch.randint(0, 256, (2, 4, 84, 84), dtype=torch.uint8)
    assert torch.allclose(hwc(pixels.permute(0, 2, 3, 1)), chw(pixels), atol=1e-5)


def _first_conv_input(net: NatureCNN, obs: torch.Tensor) -> torch.Tensor:
    seen = []
    hook = net.convs[0].register_forward_hook(lambda module, inputs, output: seen.append(inputs[0]))
    with torch.no_grad():
        net(obs)
    hook.remove()
    return seen[0]


def test_uint8_pixels_reach_the_first_conv_divided_by_255_and_floats_unchanged() -> None:
    pixels = torch.randint(0, 256, (2, 4, 84, 84), dtype=torch.uint8)
    pixels[0, 0, 0, :2] = torch.tensor([0, 255], dtype=torch.uint8)
    from_uint8 = _first_conv_input(NatureCNN(spaces.Box(0, 255, (4, 84, 84), np.uint8)), pixels)
    assert from_uint8.dtype == torch.float32
    assert torch.allclose(from_uint8, pixels.float() / 255)
    assert from_uint8.min().item() == 0.0 and from_uint8.max().item() == pytest.approx(1.0)
    unit = pixels.float() / 255
    from_float = _first_conv_input(NatureCNN(spaces.Box(0.0, 1.0, (4, 84, 84), np.float32)), unit)
    assert torch.equal(from_float, unit)  # float observations are not scaled again


def test_cnn_policy_acts_on_stacked_frames() -> None:
    config = Config(env_id="ALE/Pong-v5", policy="cnn")
    policy = build_policy(spaces.Box(0, 255, (4, 84, 84), np.uint8), spaces.Discrete(6), config)
    actions, log_probs, values = policy.act(torch.zeros((5, 4, 84, 84), dtype=torch.uint8))
    assert actions.shape == log_probs.shape == values.shape == (5,)


def test_non_image_observations_are_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="image layout"):
        NatureCNN(spaces.Box(0, 1, (2, 3, 4, 5, 6), np.float32))


def test_minibatches_in_channels_last_layout_give_the_features_of_small_batches() -> None:
    torch.manual_seed(0)
    net = NatureCNN(spaces.Box(0, 255, (4, 84, 84), np.uint8))
    images = torch.randint(0, 256, (40, 4, 84, 84), dtype=torch.uint8)
    with torch.no_grad():
        whole = net(images)  # >= CHANNELS_LAST_MIN_BATCH: channels-last path
        pieces = torch.cat([net(images[i : i + 8]) for i in range(0, 40, 8)])  # contiguous path
    assert torch.allclose(whole, pieces, atol=1e-5)
    loss = net(images).sum()
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters())
