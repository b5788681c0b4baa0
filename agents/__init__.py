"""Algorithms as Lightning modules, selected by ``algo_id``."""

from __future__ import annotations

from agents.base import BaseAgent
from agents.ppo import PPO
from agents.reinforce import Reinforce

AGENTS: dict[str, type[BaseAgent]] = {"ppo": PPO, "reinforce": Reinforce}

__all__ = ["AGENTS", "PPO", "BaseAgent", "Reinforce"]
