"""The env and the per-episode policies that ``run_play.py --export`` and ``--record-dataset`` play: one sub-env of
a config's evaluation env with a run's, a Hub model's or an untrained network, or a plain Gymnasium id's env with
uniformly random actions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from utils.config_values import ConfigError

if TYPE_CHECKING:  # imported where used: the command line stays fast
    from gameplay.export import Policy
    from gameplay.policy_source import PolicyChoice


@dataclass
class Rollout:
    """One env to play episodes in, and the policy for each episode's seed: what --export and --record-dataset play."""

    env: Any  # a gymnasium.Env (one sub-env of the eval env, or a plain Gymnasium id's env)
    close: Callable[[], None]
    first_seed: int  # the default first seed
    info: dict[str, Any]  # what plays: an export's metadata "policy", a recording's "source"
    make_policy: Callable[[int], Policy]  # episode seed -> policy(obs, info) -> action
    env_id: str
    env_recipe: dict[str, Any]  # how playback builds the env again (gameplay/dataset_recorder.config_env, ...)


def open_rollout(choice: PolicyChoice, verb: str, frames: bool) -> Rollout:
    """The env and policies ``--export`` (``frames``: rgb_array rendering forced, for ``--record-dataset``) plays;
    ``verb`` names the command in errors.

    A Gymnasium id without a shipped config plays uniformly random actions (``--random``), first seed 0.
    """
    from gameplay.dataset_recorder import config_env, gymnasium_env
    from gameplay.plain_env import has_shipped_config, make_plain_env, names_a_config, video_render_mode

    def render_mode(env_id: str) -> str | None:
        return "rgb_array" if frames else video_render_mode(env_id)

    target = choice.config_id
    if target and not names_a_config(target) and not has_shipped_config(target):
        if not choice.random:
            raise ConfigError(f"{target} has no shipped config; {verb} random actions with --random")
        env = make_plain_env(target, render_mode(target))
        info: dict[str, Any] = {"kind": "random", "actions": "uniform (action_space.sample())"}

        def random_policy(seed: int) -> Policy:
            return lambda obs, step_info: env.action_space.sample()  # seeded with the episode's seed when reset

        return Rollout(env, env.close, 0, info, random_policy, target, gymnasium_env())
    import gymnasium as gym

    from gameplay.network_policy import network_policy
    from gameplay.policy_source import resolve_policy_source
    from utils.envs import build_env

    source = resolve_policy_source(choice)
    vector = build_env(source.config, "eval", n_envs=1, render_mode=render_mode(source.config.env_id))
    assert isinstance(vector, gym.vector.SyncVectorEnv)  # a one-env eval env is sync
    sub_env = vector.envs[0]
    info = {**source.info, "deterministic": source.deterministic}

    def make_policy(seed: int) -> Policy:
        return network_policy(source.policy, source.normalizer, sub_env.action_space, source.deterministic, seed)

    return Rollout(sub_env, vector.close, source.first_seed, info, make_policy, source.config.env_id,
                   config_env(source.config))  # fmt: skip
