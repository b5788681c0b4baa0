"""Algorithms as Lightning modules, selected by ``algo_id``.

Nothing is imported here, so loading a policy (``agents.loading``, ``agents.networks.policies``) for play or
video recording does not pull in Lightning.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agents.base import BaseAgent


def agent_class(algo_id: str) -> type[BaseAgent]:
    """The LightningModule class that trains ``algo_id``."""
    if algo_id == "reinforce":
        from agents.reinforce import Reinforce

        return Reinforce
    from agents.ppo import PPO

    return PPO
