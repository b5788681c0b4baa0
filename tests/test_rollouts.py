"""The rollout collector's contract with the vector env it steps."""

from __future__ import annotations

import gymnasium as gym
import pytest

from utils.rollouts import require_next_step_autoreset


def test_a_vector_env_that_does_not_autoreset_on_the_next_step_is_refused() -> None:
    same_step = gym.make_vec(
        "CartPole-v1",
        2,
        vectorization_mode="sync",
        vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP},
    )
    with pytest.raises(ValueError, match="autoresets in mode SAME_STEP; the rollout collector needs NEXT_STEP"):
        require_next_step_autoreset(same_step)
    require_next_step_autoreset(gym.make_vec("CartPole-v1", 2, vectorization_mode="sync"))  # the default passes
