"""Action-space wrappers for Discrete envs: expose a subset of actions, or flag which are allowed."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np

from gym_wrappers.registry import EnvWrapperRegistry


def _check_actions(wrapper_name: str, env: gym.Env, actions: list[int], key: str) -> gym.spaces.Discrete:
    """Return the env's Discrete action space after checking each listed action is in it."""
    space = env.action_space
    if not isinstance(space, gym.spaces.Discrete):
        raise ValueError(f"{wrapper_name} needs a Discrete action space, got {space}")
    if len(actions) == 0:
        raise ValueError(f"{wrapper_name}: '{key}' must list at least one action")
    valid = f"{int(space.start)}..{int(space.start + space.n - 1)}"
    for position, action in enumerate(actions):
        if isinstance(action, bool) or not isinstance(action, (int, np.integer)) or not space.contains(action):
            raise ValueError(f"{wrapper_name}: {key}[{position}] = {action!r} is not an env action (valid: {valid})")
    return space


@EnvWrapperRegistry.register()
class DiscreteActionSpaceRemapperWrapper(gym.ActionWrapper, gym.utils.RecordConstructorArgs):
    """Lets the agent choose among ``mapping``: its action i is the env's action ``mapping[i]``.

    Use it to drop useless actions (e.g. NOOP) and shrink the policy's output layer;
    the new action space is ``Discrete(len(mapping))``.
    """

    def __init__(self, env: gym.Env, mapping: list[int]) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, mapping=mapping)
        super().__init__(env)
        _check_actions("DiscreteActionSpaceRemapperWrapper", env, list(mapping), "mapping")
        self.mapping = [int(a) for a in mapping]
        self.action_space = gym.spaces.Discrete(len(self.mapping))

    def action(self, action: Any) -> int:
        """Return the env action the agent's action stands for."""
        return self.mapping[int(action)]


@EnvWrapperRegistry.register()
class ValidActionMask(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Puts ``info["action_mask"]`` (bool, one entry per env action, True = allowed) on reset and each step.

    The action space is unchanged and disallowed actions still reach the env: the
    mask only tells a policy which logits to mask (set to a large negative value) before sampling.
    Entry i refers to the env's i-th action (``start + i``).
    """

    def __init__(self, env: gym.Env, valid_actions: list[int]) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, valid_actions=valid_actions)
        super().__init__(env)
        space = _check_actions("ValidActionMask", env, list(valid_actions), "valid_actions")
        self.action_mask = np.zeros(int(space.n), dtype=np.bool_)
        self.action_mask[[int(a) - int(space.start) for a in valid_actions]] = True

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Reset the env and attach the action mask."""
        obs, info = self.env.reset(seed=seed, options=options)
        return obs, {**info, "action_mask": self.action_mask.copy()}

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Step the env and attach the action mask."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs, reward, terminated, truncated, {**info, "action_mask": self.action_mask.copy()}
