"""The closed-form PPO gradient (agents/speed/ppo_fused.py) equals autograd's through PPO.loss, for every option it covers."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch

from agents.ppo import PPO
from agents.speed.ppo_fused import FusedPPOGradients
from training.launch import train
from utils.config import Config
from utils.envs import build_env


def make_agent(**overrides: Any) -> PPO:
    settings = {"env_id": "CartPole-v1", "n_envs": 4, "n_steps": 16, "batch_size": 64, "seed": 3, **overrides}
    config = Config(**settings)
    agent = PPO(config, build_env(config))
    agent.configure_optimizers()  # lays the parameters out flat, as training does
    agent.hparams_now = {"clip_range": 0.2, "vf_coef": 0.5, "ent_coef": 0.01, "policy_lr": 1e-3}
    return agent


def minibatch(agent: PPO, size: int = 64, invalid_every: int = 0) -> dict[str, torch.Tensor]:
    """A batch whose old log-probabilities and values are far enough off to hit every clip branch."""
    gen = torch.Generator().manual_seed(7)
    obs_dim = agent.policy.n_obs
    if agent.policy.discrete_obs:
        obs = torch.randint(obs_dim, (size,), generator=gen)
    else:
        obs = torch.randn(size, obs_dim, generator=gen)
    allowed = agent.policy.action_head.allowed.nonzero().squeeze(-1)
    actions = allowed[torch.randint(len(allowed), (size,), generator=gen)]
    with torch.no_grad():
        log_probs, _, values = agent.policy.evaluate(obs, actions)
    weights = torch.ones(size)
    if invalid_every:
        weights[::invalid_every] = 0.0
    return {
        "obs": obs,
        "actions": actions,
        "log_probs": log_probs + torch.randn(size, generator=gen) * 0.3,
        "values": values + torch.randn(size, generator=gen) * 0.5,
        "advantages": torch.randn(size, generator=gen) * 2 + 0.3,
        "returns": values + torch.randn(size, generator=gen),
        "weights": weights,
    }


def autograd_gradients(agent: PPO, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """PPO.loss's gradients through autograd, clipped as an update clips them, and its statistics with the norm."""
    loss, stats = agent.loss(batch)
    agent.flat_params.zero_grad()
    loss.backward()
    stats["grad_norm"] = agent.flat_params.clip_grad_norm(agent.config.max_grad_norm)
    return agent.flat_params.flat.grad.clone(), stats


def fused_gradients(agent: PPO, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    agent.flat_params.flat.grad.fill_(123.0)  # every entry must be overwritten
    stats = agent.compute_gradients(batch)
    return agent.flat_params.flat.grad.clone(), stats


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"clip_range_vf": 0.2},
        {"normalize_advantages": False},
        {"hidden_dims": [32, 16, 8]},
        {"env_id": "Acrobot-v1", "clip_range_vf": 0.1},
        {"env_id": "FrozenLake-v1"},  # Discrete observations, one-hot encoded
        {"max_grad_norm": None},
    ],
    ids=["defaults", "value-clip", "raw-advantages", "three-layers", "acrobot", "discrete-obs", "no-clipping"],
)
@pytest.mark.parametrize("ent_coef", [0.0, 0.05])
def test_gradients_and_statistics_match_autograd(overrides: dict[str, Any], ent_coef: float) -> None:
    agent = make_agent(**overrides)
    assert agent.fused is not None
    agent.hparams_now["ent_coef"] = ent_coef
    batch = minibatch(agent, invalid_every=5)
    expected, expected_stats = autograd_gradients(agent, batch)
    got, stats = fused_gradients(agent, batch)
    assert torch.allclose(got, expected, rtol=1e-4, atol=1e-6), (got - expected).abs().max()
    assert stats.keys() == expected_stats.keys()
    for name, value in expected_stats.items():
        assert torch.allclose(stats[name], value, rtol=1e-5, atol=1e-6), name
    max_norm = agent.config.max_grad_norm
    if max_norm is not None and float(stats["grad_norm"]) > max_norm:  # clipped: the written gradient is at the cap
        assert torch.linalg.vector_norm(got).item() == pytest.approx(max_norm, rel=1e-4)


def test_the_recorded_graph_computes_what_the_python_computes() -> None:
    """The minibatch gradient runs as a TorchScript graph recorded from ``FusedPPOGradients.gradients``: the same
    operations, so the same bits, for other batch sizes too."""
    agent = make_agent(clip_range_vf=0.2)
    for size in (64, 37):
        batch = minibatch(agent, size=size, invalid_every=5)
        got, stats = fused_gradients(agent, batch)
        assert isinstance(agent.fused._graphs[True], torch.jit.ScriptFunction)  # ent_coef 0.01: the entropy graph
        with torch.no_grad():
            grads, table = agent.fused.gradients(*agent.fused.graph_inputs(batch, 0.2, 0.5, 0.01), entropy_term=True)
        assert torch.equal(got, grads)
        assert torch.equal(torch.stack(list(stats.values())), table)
        expected, _ = autograd_gradients(agent, batch)
        assert torch.allclose(got, expected, rtol=1e-4, atol=1e-6)


def test_gradients_that_are_not_one_flat_tensor_get_the_same_values() -> None:
    """Separate ``.grad`` tensors (no FlatParameters layout) are written one by one, with the flat layout's values."""
    agent = make_agent()
    batch = minibatch(agent, invalid_every=5)
    flat, _ = fused_gradients(agent, batch)
    params = agent.fused.params
    for param in params:
        param.grad = torch.full_like(param, 123.0)  # own tensors, not views into the flat gradient
    agent.fused(batch, 0.2, 0.5, 0.01)
    assert agent.fused._flat_view is None  # the per-tensor path ran
    assert torch.equal(torch.cat([param.grad.reshape(-1) for param in params]), flat)


def test_batch_hits_both_clip_branches() -> None:
    agent = make_agent()
    batch = minibatch(agent)
    with torch.no_grad():
        log_prob, _, _ = agent.policy.evaluate(batch["obs"], batch["actions"])
    ratio = (log_prob - batch["log_probs"]).exp()
    assert (ratio > 1.2).any() and (ratio < 0.8).any() and ((ratio - 1).abs() < 0.2).any()


def test_valid_action_masking_matches_autograd_and_leaves_masked_logits_without_gradient() -> None:
    agent = make_agent(env_id="Acrobot-v1", valid_actions=[0, 2])
    batch = minibatch(agent)
    expected, _ = autograd_gradients(agent, batch)
    got, _ = fused_gradients(agent, batch)
    assert torch.allclose(got, expected, rtol=1e-4, atol=1e-6)
    last = agent.policy.actor.linears()[-1]
    assert float(last.bias.grad[1]) == 0.0 and float(last.weight.grad[1].abs().sum()) == 0.0


@pytest.mark.parametrize(
    "overrides",
    [{"activation": "relu"}, {"env_id": "Pendulum-v1"}, {"replay_ratio": 1.0}],
    ids=["relu", "gaussian-head", "replay"],
)
def test_other_networks_and_options_use_autograd(overrides: dict[str, Any]) -> None:
    assert make_agent(**overrides).fused is None


def test_autocast_falls_back_to_autograd() -> None:
    agent = make_agent()
    assert agent.fused is not None and agent.fused.usable()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert not agent.fused.usable()


def test_an_update_with_the_fused_gradients_trains_like_autograd() -> None:
    """A whole update (4 epochs of shuffled minibatches, clipping, Adam) lands on the same weights."""
    fused_agent, plain_agent = make_agent(n_epochs=4, batch_size=16), make_agent(n_epochs=4, batch_size=16)
    plain_agent.fused = None
    plain_agent.load_state_dict(fused_agent.state_dict())
    data = minibatch(fused_agent, size=64, invalid_every=7)
    for agent in (fused_agent, plain_agent):
        optimizer = agent.configure_optimizers()
        agent.optimizers = lambda optimizer=optimizer: SimpleNamespace(optimizer=optimizer)  # type: ignore[method-assign]
        agent.rng = np.random.default_rng(0)
        agent._optimize(data)
    for (name, a), b in zip(fused_agent.policy.named_parameters(), plain_agent.policy.parameters(), strict=True):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-6), name


def test_real_training_takes_the_closed_form_path(runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through Lightning's loop (device placement, precision plugin) the fast path stays in use."""
    calls = []
    original = FusedPPOGradients.__call__

    def counted(self: FusedPPOGradients, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(FusedPPOGradients, "__call__", counted)
    settings = {"env_id": "CartPole-v1", "n_envs": 4, "n_steps": 16, "batch_size": 64, "n_epochs": 2}
    train(Config(**settings, max_timesteps=256, video="off", eval_freq=0), quiet=True)
    assert len(calls) == (256 // 64) * 2  # every minibatch of every update


def test_every_config_field_ppo_loss_reads_is_listed_as_implemented_or_not() -> None:
    """A new option read by PPO.loss must be added to LOSS_OPTIONS (or the closed form would silently ignore it)."""
    import inspect
    import re

    from agents.speed.ppo_fused import LOSS_OPTIONS
    from utils.config import FIELD_NAMES

    source = inspect.getsource(PPO.loss)
    read = set(re.findall(r"config\.(\w+)", source)) | set(re.findall(r"hparams_now\[\"(\w+)\"\]", source))
    read &= set(FIELD_NAMES)  # drop derived properties and locals
    assert {"normalize_advantages", "clip_range_vf", "clip_range", "vf_coef", "ent_coef"} <= read  # the scan works
    assert read - set(LOSS_OPTIONS) == set()


def test_an_option_value_the_closed_form_does_not_implement_falls_back_to_autograd() -> None:
    assert make_agent().fused is not None
    assert make_agent(replay_ratio=0.5).fused is None


def test_fast_paths_off_trains_through_plain_modules_and_ppo_loss() -> None:
    agent = make_agent(fast_paths="off")
    assert agent.fused is None and agent.policy.fast_actor is None
    assert type(agent.policy.actor) is torch.nn.Sequential and type(agent.policy.critic) is torch.nn.Sequential
    fast = make_agent()
    assert type(fast.policy.actor) is not torch.nn.Sequential  # TanhMLP: the switch changes something
    # the same weights either way: the same initialization, so state dicts match key for key
    torch.manual_seed(0)
    plain = make_agent(fast_paths="off").policy.state_dict()
    torch.manual_seed(0)
    fused = make_agent().policy.state_dict()
    assert plain.keys() == fused.keys() and all(torch.equal(plain[k], fused[k]) for k in plain)
    # and the same gradient, through autograd on one side and the closed form on the other
    batch = minibatch(fast)
    fast.policy.load_state_dict(agent.policy.state_dict())
    stats_plain = agent.compute_gradients(batch)
    stats_plain["grad_norm"] = agent.flat_params.clip_grad_norm(agent.config.max_grad_norm)
    stats_fast = fast.compute_gradients(batch)
    torch.testing.assert_close(stats_plain["grad_norm"], stats_fast["grad_norm"], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(agent.flat_params.flat.grad, fast.flat_params.flat.grad, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(stats_plain["loss_total"], stats_fast["loss_total"], rtol=1e-5, atol=1e-6)
