"""Behaviour of the env-wrapper registry and potential-based reward shaping."""

from __future__ import annotations

import gymnasium as gym
import pytest

from gym_wrappers import EnvWrapperRegistry, apply_wrappers
from gym_wrappers.cartpole_reward_shaper import CartPoleV1_RewardShaper
from gym_wrappers.registry import UnknownWrapperError


class _TagWrapper(gym.Wrapper):
    """Test wrapper that records a tag."""

    def __init__(self, env: gym.Env, tag: str = "a", strength: float = 1.0) -> None:
        super().__init__(env)
        self.tag = tag
        self.strength = strength


@pytest.fixture
def isolated_registry(monkeypatch: pytest.MonkeyPatch) -> type[EnvWrapperRegistry]:
    """Give each test its own copy of the registry so test wrappers do not leak."""
    monkeypatch.setattr(EnvWrapperRegistry, "_wrappers", dict(EnvWrapperRegistry._wrappers))
    return EnvWrapperRegistry


def test_register_get_and_ids(isolated_registry: type[EnvWrapperRegistry]) -> None:
    isolated_registry.register()(_TagWrapper)
    isolated_registry.register("Tagged")(_TagWrapper)
    assert isolated_registry.get("_TagWrapper") is _TagWrapper
    assert isolated_registry.get("Tagged") is _TagWrapper
    assert {"_TagWrapper", "Tagged", "CartPoleV1_RewardShaper"} <= set(isolated_registry.ids())


def test_cartpole_shaper_registered_on_import() -> None:
    assert EnvWrapperRegistry.get("CartPoleV1_RewardShaper") is CartPoleV1_RewardShaper


def test_registering_different_class_under_taken_id_fails(
    isolated_registry: type[EnvWrapperRegistry],
) -> None:
    with pytest.raises(ValueError, match="already registered"):
        isolated_registry.register("CartPoleV1_RewardShaper")(_TagWrapper)


def test_typo_in_id_suggests_closest_wrapper() -> None:
    with pytest.raises(UnknownWrapperError) as excinfo:
        EnvWrapperRegistry.get("CartPoleV1_RewardShapr")
    message = str(excinfo.value)
    assert "unknown wrapper 'CartPoleV1_RewardShapr'" in message
    assert "did you mean 'CartPoleV1_RewardShaper'?" in message
    assert "\n" not in message
    assert isinstance(excinfo.value, ValueError)


def test_bad_kwarg_message_names_wrapper_key_and_accepted_keys() -> None:
    spec = {"id": "CartPoleV1_RewardShaper", "angle_scale": 2.0}
    with pytest.raises(ValueError) as excinfo:
        EnvWrapperRegistry.validate_spec(spec)
    message = str(excinfo.value)
    for expected in ("CartPoleV1_RewardShaper", "'angle_scale'", "angle_reward_scale"):
        assert expected in message
    assert "position_reward_scale" in message and "gamma" in message
    with pytest.raises(ValueError, match="angle_scale"):
        EnvWrapperRegistry.apply(gym.make("CartPole-v1"), spec)


def test_spec_without_id_is_rejected() -> None:
    with pytest.raises(ValueError, match="missing 'id'"):
        EnvWrapperRegistry.validate_spec({"gamma": 0.9})


def test_apply_wrappers_wraps_in_order(
    isolated_registry: type[EnvWrapperRegistry],
) -> None:
    isolated_registry.register("Tag")(_TagWrapper)
    env = apply_wrappers(
        gym.make("CartPole-v1"),
        [{"id": "Tag", "tag": "inner"}, {"id": "Tag", "tag": "outer"}],
    )
    assert env.tag == "outer"
    assert env.env.tag == "inner"


def _run_episode(env: CartPoleV1_RewardShaper, seed: int) -> tuple[float, float, list[dict], bool, bool]:
    """Push left until the episode ends; return Φ(s0), Φ(s_T), infos and how it ended."""
    obs, _ = env.reset(seed=seed)
    phi_start = env.potential(obs)
    infos = []
    while True:
        obs, _, terminated, truncated, info = env.step(0)
        infos.append(info)
        if terminated or truncated:
            return phi_start, env.potential(obs), infos, terminated, truncated


def test_shaper_reports_env_reward_and_changes_returned_reward() -> None:
    env = CartPoleV1_RewardShaper(gym.make("CartPole-v1"), position_reward_scale=1.0)
    env.reset(seed=0)
    for _ in range(5):
        _, reward, _, _, info = env.step(0)
        assert info["env_reward"] == 1.0
        assert reward != 1.0
        assert reward == pytest.approx(info["env_reward"] + info["shaping_reward"])


def test_shaping_telescopes_to_minus_start_potential_on_termination() -> None:
    env = CartPoleV1_RewardShaper(gym.make("CartPole-v1"), position_reward_scale=0.5, gamma=1.0)
    phi_start, _, infos, terminated, _ = _run_episode(env, seed=3)
    assert terminated
    assert phi_start < 0
    assert sum(i["shaping_reward"] for i in infos) == pytest.approx(-phi_start)


def test_shaping_keeps_final_potential_on_truncation() -> None:
    base = gym.make("CartPole-v1", max_episode_steps=4)
    env = CartPoleV1_RewardShaper(base, position_reward_scale=0.5, gamma=1.0)
    phi_start, phi_end, infos, terminated, truncated = _run_episode(env, seed=3)
    assert truncated and not terminated
    assert phi_end != 0.0
    assert sum(i["shaping_reward"] for i in infos) == pytest.approx(phi_end - phi_start)


def test_shaping_term_uses_discount() -> None:
    env = CartPoleV1_RewardShaper(gym.make("CartPole-v1"), gamma=0.9)
    obs, _ = env.reset(seed=5)
    next_obs, _, terminated, _, info = env.step(1)
    assert not terminated
    expected = 0.9 * env.potential(next_obs) - env.potential(obs)
    assert info["shaping_reward"] == pytest.approx(expected)


def test_stacked_shapers_keep_innermost_env_reward() -> None:
    inner = CartPoleV1_RewardShaper(gym.make("CartPole-v1"))
    outer = CartPoleV1_RewardShaper(inner, angle_reward_scale=2.0)
    outer.reset(seed=0)
    _, reward, _, _, info = outer.step(0)
    assert info["env_reward"] == 1.0
    assert reward == pytest.approx(1.0 + info["shaping_reward"])
