"""Behaviour of the encoder, action, pixel and reward-shaping wrappers."""

from __future__ import annotations

from pathlib import Path
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
import pytest

from gym_wrappers import apply_wrappers
from gym_wrappers.action_remapper import DiscreteActionSpaceRemapperWrapper, ValidActionMask
from gym_wrappers.discrete_encoder import DiscreteEncoder
from gym_wrappers.mountaincar_reward_shaper import MountainCarV0_RewardShaper
from gym_wrappers.pixel_observation import PixelObservationWrapper
from gym_wrappers.vizdoom_reward_shaper import VizDoom_RewardShaper


class _RecordActions(gym.Wrapper):
    """Test wrapper that records every action the env receives."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.received: list[int] = []

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        self.received.append(int(action))
        return self.env.step(action)


def _frozenlake_at_state_5(encoding: str) -> np.ndarray:
    """Return how ``encoding`` encodes FrozenLake's state 5."""
    env = DiscreteEncoder(gym.make("FrozenLake-v1"), encoding=encoding)
    env.reset(seed=0)
    return env.observation(5)


def test_onehot_encodes_state_index_as_unit_vector() -> None:
    env = DiscreteEncoder(gym.make("FrozenLake-v1"), encoding="onehot")
    obs, _ = env.reset(seed=0)
    assert env.observation_space == gym.spaces.Box(0.0, 1.0, (16,), np.float32)
    assert obs.dtype == np.float32 and obs.shape == (16,) and obs[0] == 1.0 and obs.sum() == 1.0
    expected = np.zeros(16, dtype=np.float32)
    expected[5] = 1.0
    np.testing.assert_array_equal(_frozenlake_at_state_5("onehot"), expected)


def test_binary_encodes_index_bits_lsb_first() -> None:
    env = DiscreteEncoder(gym.make("FrozenLake-v1"), encoding="binary")
    assert env.observation_space == gym.spaces.Box(0.0, 1.0, (4,), np.float32)
    np.testing.assert_array_equal(_frozenlake_at_state_5("binary"), [1.0, 0.0, 1.0, 0.0])
    assert env.observation(12).tolist() == [0.0, 0.0, 1.0, 1.0]
    odd_sized = DiscreteEncoder(gym.make("Taxi-v4"), encoding="binary")
    assert odd_sized.observation_space.shape == (9,)  # ceil(log2 500)


def test_array_encodes_index_as_single_float() -> None:
    env = DiscreteEncoder(gym.make("FrozenLake-v1"), encoding="array")
    assert env.observation_space == gym.spaces.Box(0.0, 15.0, (1,), np.float32)
    np.testing.assert_array_equal(_frozenlake_at_state_5("array"), np.array([5.0], dtype=np.float32))


def test_encoder_steps_return_encoded_observations() -> None:
    env = apply_wrappers(gym.make("FrozenLake-v1", is_slippery=False), [{"id": "DiscreteEncoder"}])
    env.reset(seed=0)
    obs, *_ = env.step(2)  # right: state 0 -> 1
    assert int(np.argmax(obs)) == 1


def test_encoder_rejects_non_discrete_space_and_unknown_encoding() -> None:
    with pytest.raises(ValueError, match="needs a Discrete observation space"):
        DiscreteEncoder(gym.make("CartPole-v1"))
    with pytest.raises(ValueError, match="unknown encoding 'gray'; use one of onehot, binary, array"):
        DiscreteEncoder(gym.make("FrozenLake-v1"), encoding="gray")


def test_remapper_sends_mapped_action_to_env() -> None:
    recorder = _RecordActions(gym.make("Taxi-v4"))
    env = apply_wrappers(recorder, [{"id": "DiscreteActionSpaceRemapperWrapper", "mapping": [4, 0, 5]}])
    assert env.action_space == gym.spaces.Discrete(3)
    env.reset(seed=0)
    for action in (0, 1, 2, 0):
        env.step(action)
    assert recorder.received == [4, 0, 5, 4]


def test_remapper_rejects_action_outside_env_space() -> None:
    with pytest.raises(ValueError, match=r"mapping\[1\] = 6 is not an env action \(valid: 0\.\.5\)"):
        DiscreteActionSpaceRemapperWrapper(gym.make("Taxi-v4"), mapping=[0, 6])
    with pytest.raises(ValueError, match="needs a Discrete action space"):
        DiscreteActionSpaceRemapperWrapper(gym.make("Pendulum-v1"), mapping=[0])


def test_valid_action_mask_is_in_info_on_reset_and_step() -> None:
    env = apply_wrappers(gym.make("Taxi-v4"), [{"id": "ValidActionMask", "valid_actions": [0, 1, 4]}])
    assert env.action_space == gym.spaces.Discrete(6)
    expected = [True, True, False, False, True, False]
    _, info = env.reset(seed=0)
    assert info["action_mask"].dtype == np.bool_ and info["action_mask"].tolist() == expected
    _, _, _, _, info = env.step(0)
    assert info["action_mask"].tolist() == expected
    with pytest.raises(ValueError, match=r"valid_actions\[0\] = 9"):
        ValidActionMask(gym.make("Taxi-v4"), valid_actions=[9])


def test_pixel_observation_is_the_rendered_frame() -> None:
    env = apply_wrappers(gym.make("CartPole-v1", render_mode="rgb_array"), [{"id": "PixelObservationWrapper"}])
    assert env.observation_space == gym.spaces.Box(0, 255, (400, 600, 3), np.uint8)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (400, 600, 3) and obs.dtype == np.uint8
    np.testing.assert_array_equal(obs, env.render())
    obs, *_ = env.step(1)
    np.testing.assert_array_equal(obs, env.render())


def test_pixel_wrapper_requires_rgb_array_render_mode_and_pixels_only() -> None:
    with pytest.raises(ValueError, match=r"render_mode='rgb_array'.*env_kwargs: \{render_mode: rgb_array\}"):
        PixelObservationWrapper(gym.make("CartPole-v1"))
    with pytest.raises(ValueError, match="pixels_only=False"):
        PixelObservationWrapper(gym.make("CartPole-v1", render_mode="rgb_array"), pixels_only=False)


def _pump_energy_episode(env: gym.Env, seed: int) -> tuple[float, list[dict], bool]:
    """Push in the direction of motion until the episode ends; return Φ(s0), infos, terminated."""
    obs, _ = env.reset(seed=seed)
    phi_start = env.potential(obs)
    infos = []
    while True:
        obs, _, terminated, truncated, info = env.step(2 if obs[1] >= 0 else 0)
        infos.append(info)
        if terminated or truncated:
            return phi_start, infos, terminated


def test_mountaincar_shaping_telescopes_and_keeps_env_reward() -> None:
    env = apply_wrappers(
        gym.make("MountainCar-v0"), [{"id": "MountainCarV0_RewardShaper", "gamma": 1.0, "velocity_scale": 400.0}]
    )
    phi_start, infos, terminated = _pump_energy_episode(env, seed=0)
    assert terminated
    assert all(i["env_reward"] == -1.0 for i in infos)
    assert sum(i["shaping_reward"] for i in infos) == pytest.approx(-phi_start)


def test_mountaincar_potential_rewards_height_and_speed() -> None:
    env = MountainCarV0_RewardShaper(gym.make("MountainCar-v0"))
    assert env.potential([0.5, 0.0]) > env.potential([-0.5, 0.0])
    assert env.potential([-0.5, 0.05]) > env.potential([-0.5, 0.0])
    assert env.potential([-0.5, -0.05]) == pytest.approx(env.potential([-0.5, 0.05]))


def test_vizdoom_shaper_adds_gamevariable_shaping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    vizdoom_gym = pytest.importorskip("vizdoom.gymnasium_wrapper")
    assert vizdoom_gym is not None
    monkeypatch.chdir(tmp_path)  # VizDoom writes _vizdoom/ scratch files into the cwd
    base = gym.make("VizdoomBasic-v1")
    env = apply_wrappers(base, [{"id": "VizDoom_RewardShaper", "gamevariable_scale": 0.5, "gamma": 0.9}])
    try:
        env.reset(seed=0)
        ammo = float(base.unwrapped.game.get_state().game_variables[0])
        assert env.potential(None) == pytest.approx(0.5 * ammo)
        saw_ammo_drop = False
        for _ in range(8):
            _, reward, terminated, truncated, info = env.step(1)  # ATTACK spends ammo
            assert info["env_reward"] == pytest.approx(float(reward) - info["shaping_reward"])
            if terminated or truncated:
                break
            next_ammo = float(base.unwrapped.game.get_state().game_variables[0])
            assert info["shaping_reward"] == pytest.approx(0.9 * 0.5 * next_ammo - 0.5 * ammo)
            saw_ammo_drop = saw_ammo_drop or next_ammo < ammo
            ammo = next_ammo
        assert saw_ammo_drop
    finally:
        env.close()


def test_vizdoom_shaper_works_after_screen_observation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("vizdoom.gymnasium_wrapper")
    monkeypatch.chdir(tmp_path)
    env = apply_wrappers(gym.make("VizdoomBasic-v1"), [{"id": "ScreenObservation"}, {"id": "VizDoom_RewardShaper"}])
    try:
        obs, _ = env.reset(seed=0)
        assert obs.shape == (240, 320, 3)
        assert env.potential(obs) == pytest.approx(0.01 * 50.0)  # Basic starts with 50 AMMO2
        _, _, _, _, info = env.step(0)
        assert info["env_reward"] == -1.0
        assert "shaping_reward" in info
    finally:
        env.close()


def test_vizdoom_shaper_rejects_non_vizdoom_env_and_wrong_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValueError, match=r"VizDoom_RewardShaper is written for VizDoom envs .*, not CartPole-v1"):
        VizDoom_RewardShaper(gym.make("CartPole-v1"))
    pytest.importorskip("vizdoom.gymnasium_wrapper")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="weights has 2 entries but the game has 1 variables"):
        VizDoom_RewardShaper(gym.make("VizdoomBasic-v1"), weights=[1.0, 2.0])
