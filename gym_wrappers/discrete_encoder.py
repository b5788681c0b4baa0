"""Turn a Discrete observation (a state index) into a float vector an MLP can read."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np

from gym_wrappers.registry import EnvWrapperRegistry

DISCRETE_ENCODINGS = ("onehot", "binary", "array")


@EnvWrapperRegistry.register()
class DiscreteEncoder(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """Encodes a ``Discrete(n)`` observation as a float32 vector.

    ``onehot``: length n, 1.0 at the state's index. ``binary``: the index's bits,
    least significant bit first, length ceil(log2 n) (at least 1). ``array``: the
    index itself as a length-1 vector in [0, n-1]. The index counts from the
    space's ``start``, so ``Discrete(n, start=s)`` encodes state s as index 0.
    """

    def __init__(self, env: gym.Env, encoding: str = "onehot") -> None:
        gym.utils.RecordConstructorArgs.__init__(self, encoding=encoding)
        super().__init__(env)
        space = env.observation_space
        if not isinstance(space, gym.spaces.Discrete):
            raise ValueError(f"DiscreteEncoder needs a Discrete observation space, got {space}")
        if encoding not in DISCRETE_ENCODINGS:
            raise ValueError(
                f"DiscreteEncoder: unknown encoding '{encoding}'; use one of {', '.join(DISCRETE_ENCODINGS)}"
            )
        self.encoding = encoding
        self.n = int(space.n)
        self.start = int(space.start)
        self.n_bits = max(1, math.ceil(math.log2(self.n)))
        self.observation_space = self._encoded_space()

    def _encoded_space(self) -> gym.spaces.Box:
        """Return the Box the chosen encoding produces."""
        if self.encoding == "onehot":
            return gym.spaces.Box(0.0, 1.0, (self.n,), np.float32)
        if self.encoding == "binary":
            return gym.spaces.Box(0.0, 1.0, (self.n_bits,), np.float32)
        return gym.spaces.Box(0.0, float(self.n - 1), (1,), np.float32)

    def observation(self, observation: int) -> np.ndarray:
        """Return the encoded vector for one state."""
        index = int(observation) - self.start
        if self.encoding == "onehot":
            encoded = np.zeros(self.n, dtype=np.float32)
            encoded[index] = 1.0
            return encoded
        if self.encoding == "binary":
            return ((index >> np.arange(self.n_bits)) & 1).astype(np.float32)
        return np.array([index], dtype=np.float32)
