"""The MLP policy: shapes, action selection, log-probabilities, input encoding, critic on/off."""

from __future__ import annotations

import copy

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces

from agents.networks.policies import MLPPolicy, build_policy, obs_input_size
from utils.config import Config
from utils.config_values import ConfigError

CARTPOLE_OBS = spaces.Box(-np.inf, np.inf, shape=(4,), dtype=np.float32)
THREE_ACTIONS = spaces.Discrete(3)


def _config(**changes) -> Config:
    return Config(env_id="CartPole-v1", hidden_dims=[16, 8], **changes)


def _policy(obs_space: spaces.Space = CARTPOLE_OBS, action_space: spaces.Space = THREE_ACTIONS, **changes):
    torch.manual_seed(0)
    return MLPPolicy(obs_space, action_space, _config(**changes))


def test_act_returns_one_action_log_prob_and_value_per_observation() -> None:
    policy = _policy()
    obs = torch.randn(5, 4)
    actions, log_probs, values = policy.act(obs)
    assert actions.shape == (5,) and actions.dtype == torch.int64
    assert log_probs.shape == (5,)
    assert values.shape == (5,)
    assert ((actions >= 0) & (actions < 3)).all()
    assert (log_probs <= 0).all()


def test_evaluate_and_value_shapes_match_the_batch() -> None:
    policy = _policy()
    obs = torch.randn(7, 4)
    log_prob, entropy, values = policy.evaluate(obs, torch.zeros(7, dtype=torch.int64))
    assert log_prob.shape == entropy.shape == values.shape == (7,)
    assert policy.value(obs).shape == (7,)
    torch.testing.assert_close(policy.value(obs), values)


def test_network_layer_widths_follow_hidden_dims() -> None:
    policy = _policy()
    actor_widths = [layer.out_features for layer in policy.actor if isinstance(layer, torch.nn.Linear)]
    critic_widths = [layer.out_features for layer in policy.critic if isinstance(layer, torch.nn.Linear)]
    assert actor_widths == [16, 8, 3]
    assert critic_widths == [16, 8, 1]


def test_deterministic_act_picks_the_most_likely_action() -> None:
    policy = _policy()
    with torch.no_grad():
        for layer in policy.actor:  # make the logits depend strongly on the input
            if isinstance(layer, torch.nn.Linear):
                layer.weight.mul_(100.0)
        obs = torch.randn(64, 4)
        logits = policy.actor(obs)
    actions, log_probs, _ = policy.act(obs, deterministic=True)
    torch.testing.assert_close(actions, logits.argmax(dim=-1))
    torch.testing.assert_close(log_probs, torch.log_softmax(logits, dim=-1).max(dim=-1).values)
    assert len(set(actions.tolist())) > 1  # the test covers more than one action


def test_sampling_with_the_same_generator_seed_repeats_the_actions() -> None:
    policy = _policy()
    obs = torch.randn(32, 4)
    first = policy.act(obs, generator=torch.Generator().manual_seed(3))[0]
    second = policy.act(obs, generator=torch.Generator().manual_seed(3))[0]
    torch.testing.assert_close(first, second)


def test_evaluate_log_probs_over_all_actions_sum_to_one() -> None:
    policy = _policy()
    obs = torch.randn(6, 4)
    per_action = torch.stack([policy.evaluate(obs, torch.full((6,), a))[0] for a in range(3)], dim=-1)
    torch.testing.assert_close(per_action.exp().sum(-1), torch.ones(6))


def test_evaluate_entropy_matches_the_distribution_of_its_log_probs() -> None:
    policy = _policy()
    obs = torch.randn(6, 4)
    per_action = torch.stack([policy.evaluate(obs, torch.full((6,), a))[0] for a in range(3)], dim=-1)
    _, entropy, _ = policy.evaluate(obs, torch.zeros(6, dtype=torch.int64))
    torch.testing.assert_close(entropy, -(per_action.exp() * per_action).sum(-1))
    assert (entropy <= np.log(3) + 1e-6).all()


def test_evaluate_agrees_with_the_log_prob_recorded_by_act() -> None:
    policy = _policy()
    obs = torch.randn(10, 4)
    actions, log_probs, _ = policy.act(obs, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(policy.evaluate(obs, actions)[0], log_probs)


def test_evaluate_has_gradients_for_the_update() -> None:
    policy = _policy()
    log_prob, _, values = policy.evaluate(torch.randn(4, 4), torch.zeros(4, dtype=torch.int64))
    (log_prob.sum() + values.sum()).backward()
    assert all(p.grad is not None for p in policy.parameters())


def test_discrete_observations_are_one_hot_encoded() -> None:
    frozenlake = gym.make("FrozenLake-v1")
    policy = _policy(frozenlake.observation_space, frozenlake.action_space)
    assert obs_input_size(frozenlake.observation_space) == 16
    features = policy.encode(torch.tensor([0, 5, 15]))
    expected = torch.zeros(3, 16)
    expected[0, 0] = expected[1, 5] = expected[2, 15] = 1.0
    torch.testing.assert_close(features, expected)
    actions, _, values = policy.act(torch.tensor([0, 5, 15]))
    assert actions.shape == values.shape == (3,)
    assert ((actions >= 0) & (actions < 4)).all()


def test_policy_only_reinforce_has_no_critic_and_zero_values() -> None:
    policy = _policy(algo_id="reinforce", policy_targets="returns")
    assert policy.has_critic is False
    assert policy.critic is None
    obs = torch.randn(5, 4)
    torch.testing.assert_close(policy.value(obs), torch.zeros(5))
    assert torch.equal(policy.act(obs)[2], torch.zeros(5))
    assert torch.equal(policy.evaluate(obs, torch.zeros(5, dtype=torch.int64))[2], torch.zeros(5))


def test_reinforce_with_advantages_has_a_critic() -> None:
    assert _policy(algo_id="reinforce", policy_targets="advantages").has_critic


def test_unsupported_action_space_is_rejected_naming_the_space() -> None:
    unbounded = spaces.Box(-np.inf, np.inf, shape=(2,), dtype=np.float32)
    with pytest.raises(ConfigError, match=r"action space Box\(.*\(2,\).*not supported; supported: Discrete"):
        MLPPolicy(CARTPOLE_OBS, unbounded, _config())
    with pytest.raises(ConfigError, match=r"action space Tuple"):
        MLPPolicy(CARTPOLE_OBS, spaces.Tuple((spaces.Discrete(2), spaces.Discrete(3))), _config())


def test_unsupported_observation_space_is_rejected_naming_the_space() -> None:
    with pytest.raises(ConfigError, match="observation space Tuple"):
        MLPPolicy(spaces.Tuple((spaces.Discrete(2), spaces.Discrete(3))), THREE_ACTIONS, _config())


def test_cnn_body_on_vector_observations_says_to_use_mlp() -> None:
    with pytest.raises(ConfigError, match=r"not an image layout.*use policy: mlp"):
        build_policy(CARTPOLE_OBS, THREE_ACTIONS, _config(policy="cnn"))


def test_flat_parameters_train_like_separate_tensors() -> None:
    from agents.speed.flat_params import FlatParameters

    torch.manual_seed(0)
    reference = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    flat_net = copy.deepcopy(reference)
    flat = FlatParameters(flat_net)
    flat_net.zero_grad()  # as Lightning does before fitting: grads set to None must be re-attached
    opt_ref = torch.optim.Adam(reference.parameters(), lr=0.05)
    opt_flat = torch.optim.Adam([flat.flat], lr=0.05)
    x = torch.randn(32, 4)
    for _ in range(5):
        opt_ref.zero_grad()
        loss = reference(x).pow(2).sum()
        loss.backward()
        ref_norm = torch.nn.utils.clip_grad_norm_(reference.parameters(), 0.5)
        opt_ref.step()
        flat.zero_grad()
        flat_net(x).pow(2).sum().backward()
        flat_norm = flat.clip_grad_norm(0.5)
        opt_flat.step()
        assert torch.allclose(ref_norm, flat_norm, rtol=1e-5)
    for a, b in zip(reference.parameters(), flat_net.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-6)
    assert flat_net[0].weight.data_ptr() == flat.flat.data_ptr()  # the module's tensors are views of the flat one


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_numpy_acting_matches_torch(activation: str) -> None:
    policy = _policy(activation=activation)
    assert policy.fast_actor is not None
    with torch.no_grad():
        for layer in policy.actor:  # spread the logits so several actions are chosen
            if isinstance(layer, torch.nn.Linear):
                layer.weight.mul_(30.0)
    obs = np.random.default_rng(0).normal(size=(256, 4)).astype(np.float32)
    actions, log_probs, values = policy.act_numpy(obs, deterministic=True)
    t_actions, t_log_probs, t_values = policy.act(torch.from_numpy(obs), deterministic=True)
    np.testing.assert_array_equal(actions, t_actions.numpy())
    np.testing.assert_allclose(log_probs, t_log_probs.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(values, t_values.numpy(), rtol=1e-4, atol=1e-5)
    assert len(set(actions.tolist())) > 1


def test_numpy_sampling_follows_the_policy_probabilities_and_is_seeded() -> None:
    policy = _policy()
    obs = np.zeros((20_000, 4), dtype=np.float32)
    actions, log_probs, _ = policy.act_numpy(obs, generator=torch.Generator().manual_seed(5))
    again, _, _ = policy.act_numpy(obs, generator=torch.Generator().manual_seed(5))
    np.testing.assert_array_equal(actions, again)
    probs = torch.softmax(policy.actor(torch.zeros(1, 4)), -1)[0].detach().numpy()
    frequencies = np.bincount(actions, minlength=3) / len(actions)
    np.testing.assert_allclose(frequencies, probs, atol=0.015)
    np.testing.assert_allclose(log_probs, np.log(probs)[actions], rtol=1e-4)


def test_numpy_sampling_never_picks_a_masked_action() -> None:
    policy = _policy(action_space=spaces.Discrete(4), valid_actions=[0, 2])
    obs = np.random.default_rng(1).normal(size=(5000, 4)).astype(np.float32)
    actions, _, _ = policy.act_numpy(obs, generator=torch.Generator().manual_seed(0))
    assert set(actions.tolist()) == {0, 2}


def test_numpy_acting_sees_each_optimizer_step() -> None:
    policy = _policy()
    obs = np.ones((3, 4), dtype=np.float32)
    before = policy.act_numpy(obs, deterministic=True)[2].copy()
    with torch.no_grad():
        policy.critic[-1].bias.add_(1.0)  # an in-place update, as the optimizer makes
    np.testing.assert_allclose(policy.act_numpy(obs, deterministic=True)[2], before + 1.0, rtol=1e-5)


def test_per_tensor_optimizer_state_converts_to_the_flat_layout() -> None:
    from agents.speed.flat_params import FlatParameters, flatten_optimizer_state

    torch.manual_seed(0)
    old_net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    new_net = copy.deepcopy(old_net)
    old_opt = torch.optim.Adam(old_net.parameters(), lr=0.05)  # a checkpoint from before flat parameters
    x = torch.randn(16, 4)
    for _ in range(3):
        old_opt.zero_grad()
        old_net(x).pow(2).sum().backward()
        old_opt.step()
    new_net.load_state_dict(old_net.state_dict())
    flat = FlatParameters(new_net)
    new_opt = torch.optim.Adam([flat.flat], lr=0.05)
    new_opt.load_state_dict(flatten_optimizer_state(old_opt.state_dict()))
    for _ in range(2):  # both continue identically from the restored moments
        old_opt.zero_grad()
        old_net(x).pow(2).sum().backward()
        old_opt.step()
        flat.zero_grad()
        new_net(x).pow(2).sum().backward()
        new_opt.step()
    for a, b in zip(old_net.parameters(), new_net.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-6)


def test_under_cpu_autocast_every_speed_path_steps_aside_for_torch() -> None:
    """The NumPy actor, the fused tanh MLP and the closed-form PPO gradient share one applicability check."""
    from agents.speed.ppo_fused import FusedPPOGradients

    policy = _policy(activation="tanh")
    config = _config(activation="tanh")
    fused = FusedPPOGradients(policy, config)
    assert policy.fast_actor is not None
    obs = torch.zeros(2, 4)
    assert policy.fast_actor.usable() and fused.usable()
    assert policy.actor(obs).dtype == torch.float32
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert not policy.fast_actor.usable() and not fused.usable()
        assert policy.actor(obs).dtype == torch.bfloat16  # torch's modules ran, in bf16
        _, log_probs, _ = policy.act_numpy(obs.numpy())
    assert log_probs.dtype == np.float32  # converted back after torch's bf16 pass
    policy.to(torch.bfloat16)
    assert not policy.fast_actor.usable() and not fused.usable()


@pytest.mark.parametrize("activation", ["gelu", "elu", "leaky_relu"])
def test_activations_without_a_numpy_twin_act_in_torch(activation: str) -> None:
    policy = _policy(activation=activation)
    assert policy.fast_actor is None
    assert any(type(layer).__name__.lower().replace("_", "") == activation.replace("_", "") for layer in policy.actor)
