"""A trained (or untrained) network as an export policy: ``policy(obs, info) -> action`` for one episode.

It acts exactly as ``utils/evaluation.evaluate_policy`` does for the episode of the same seed (the
checkpoint's observation normalization, the action head's ``to_env``, and for sampled actions a torch
generator seeded with the episode's seed), so an exported episode is the one ``run_play.py`` plays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from gymnasium import spaces

from utils.acting_policy import ActingPolicy
from utils.normalization import ObsNormalizer


def network_policy(
    policy: ActingPolicy, normalizer: ObsNormalizer, action_space: spaces.Space, deterministic: bool, seed: int
) -> Callable[[Any, dict[str, Any]], Any]:
    """The policy callable for the episode reset with ``seed``."""
    generator = torch.Generator()
    generator.manual_seed(seed)
    shape = action_space.shape or ()
    policy.eval()

    @torch.no_grad()
    def act(obs: Any, info: dict[str, Any]) -> Any:
        actions, _, _ = policy.act_numpy(normalizer(np.asarray(obs)[None]), deterministic, generator)
        return policy.action_head.to_env(actions.reshape(1, *shape))[0]

    return act
