"""Experience replay for PPO+replay: past rollouts' transitions with their behaviour log-probs."""

from __future__ import annotations

import numpy as np
import torch

REPLAY_KEYS = ("obs", "actions", "log_probs", "values", "advantages", "returns", "weights")


class ReplayBuffer:
    """A FIFO ring of valid transitions from earlier rollouts, sampled uniformly."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.data: dict[str, torch.Tensor] = {}
        self.size = 0
        self.position = 0

    def add(self, rollout: dict[str, torch.Tensor]) -> None:
        """Append a flat rollout's valid transitions, overwriting the oldest when full."""
        keep = rollout["weights"] > 0
        rows = {key: rollout[key][keep] for key in REPLAY_KEYS}
        count = int(keep.sum())
        if not self.data:
            self.data = {key: torch.zeros((self.capacity, *v.shape[1:]), dtype=v.dtype) for key, v in rows.items()}
        slots = (self.position + torch.arange(count)) % self.capacity
        for key, value in rows.items():
            self.data[key][slots[-self.capacity :]] = value[-self.capacity :].cpu()
        self.position = (self.position + count) % self.capacity
        self.size = min(self.size + count, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator, device: torch.device) -> dict[str, torch.Tensor]:
        """A uniform minibatch of stored transitions, marked as off-policy."""
        index = torch.as_tensor(rng.integers(0, self.size, size=batch_size))
        batch = {key: value[index].to(device) for key, value in self.data.items()}
        batch["off_policy"] = torch.ones(batch_size, device=device)
        return batch

    def state(self) -> dict[str, np.ndarray]:
        """Arrays for a checkpoint (empty before the first add)."""
        if not self.data:
            return {}
        arrays = {f"replay.{key}": value[: self.size].numpy() for key, value in self.data.items()}
        arrays["replay.cursor"] = np.asarray([self.position, self.size])
        return arrays

    def load(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore the buffer saved by ``state``."""
        if "replay.cursor" not in arrays:
            return
        self.position, self.size = (int(v) for v in arrays["replay.cursor"])
        for key in REPLAY_KEYS:
            stored = torch.from_numpy(np.array(arrays[f"replay.{key}"]))
            self.data[key] = torch.zeros((self.capacity, *stored.shape[1:]), dtype=stored.dtype)
            self.data[key][: self.size] = stored
