"""One short real training run per env family: classic control, toy text, Atari (rgb and ram), VizDoom."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from agents.loading import load_trained_policy
from training.launch import train
from utils.config import load_config

SHORT = {"n_envs": 2, "n_steps": 32, "batch_size": 32, "n_epochs": 1, "max_timesteps": 64, "eval_episodes": 1,
         "video": "off", "eval_freq": 0}  # fmt: skip


@pytest.mark.parametrize(
    ("env", "extra", "obs_shape"),
    [
        ("CartPole-v1", {}, (4,)),
        pytest.param("ALE/Pong-v5", {}, (4, 84, 84), marks=pytest.mark.slow),
        pytest.param(
            "ALE/Pong-v5", {"obs_type": "ram", "policy": "mlp", "frame_stack": 1}, (128,), marks=pytest.mark.slow
        ),
        pytest.param("VizdoomBasic-v1", {}, (4, 60, 80), marks=pytest.mark.slow),
        pytest.param("Airstriker-Genesis-v0", {"max_episode_steps": 50}, (4, 84, 84), marks=pytest.mark.slow),
        ("Pendulum-v1", {}, (3,)),
    ],
)
def test_one_short_training_run_per_family(
    env: str, extra: dict, obs_shape: tuple[int, ...], runs_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    overrides = {**SHORT, **extra}
    if env == "ALE/Pong-v5":
        overrides["max_episode_steps"] = 50  # one eval episode of Pong would otherwise last thousands of steps
    result = train(load_config(env, "ppo", overrides), quiet=True)
    assert result.timesteps == 64
    trained = load_trained_policy(result.run, "last")
    if trained.policy.cnn is not None:
        assert trained.policy.cnn.obs_shape == obs_shape
    else:
        assert trained.policy.n_obs == obs_shape[0]
    assert result.last_eval_return is not None
    assert {path.name for path in tmp_path.iterdir()} <= {runs_dir.name}  # no _vizdoom/ scratch files here


def test_retro_game_without_rom_is_a_one_line_error_naming_the_import_command(runs_dir: Path) -> None:
    from utils.config_values import ConfigError

    with pytest.raises(ConfigError, match=r"no ROM for SuperMarioBros-Nes-v0.*python -m stable_retro.import"):
        train(load_config("SuperMarioBros-Nes-v0", "ppo", SHORT), quiet=True)
    assert not runs_dir.exists() or not any(runs_dir.iterdir())


def test_retro_training_env_is_async_even_when_auto() -> None:
    from utils.envs import resolve_vectorization

    assert resolve_vectorization(load_config("Airstriker-Genesis-v0", "ppo")) == "async"


def test_atari_objects_without_ocatari_names_the_extra(monkeypatch: pytest.MonkeyPatch, runs_dir: Path) -> None:
    import sys

    from utils.config_values import ConfigError

    monkeypatch.setitem(sys.modules, "ocatari.core", None)  # as if the optional extra were not installed
    with pytest.raises(ConfigError, match=r"pip install -e '\.\[atari-objects\]'"):
        train(load_config("ALE-Pong-v5", "objects", SHORT), quiet=True)


@pytest.mark.slow
def test_atari_objects_train_an_mlp_on_object_positions(runs_dir: Path) -> None:
    pytest.importorskip("ocatari.core", reason="optional extra: pip install -e '.[atari-objects]'")
    result = train(load_config("ALE-Pong-v5", "objects", {**SHORT, "max_episode_steps": 50}), quiet=True)
    trained = load_trained_policy(result.run, "last")
    assert trained.policy.cnn is None and trained.policy.n_obs == 4 * 4 * 6  # 4 stacked frames of 4x6 objects


def test_vizdoom_scratch_files_stay_out_of_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("vizdoom")
    from gym_wrappers.vizdoom_scratch import VizDoomScratchDir
    from utils.envs import make_single_env

    monkeypatch.chdir(tmp_path)
    env = make_single_env(load_config("VizdoomBasic-v1", "ppo"))
    scratch_wrapper = env
    while not isinstance(scratch_wrapper, VizDoomScratchDir):
        scratch_wrapper = scratch_wrapper.env
    env.reset(seed=0)
    scratch = Path(scratch_wrapper.scratch)
    assert Path.cwd() == tmp_path  # the working directory is ours again after the engine started
    for _ in range(20):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:  # a random shot can end Basic early
            env.reset()
    env.reset(seed=1)
    env.close()
    assert list(tmp_path.iterdir()) == []
    assert not scratch.exists()  # the engine's folder (where _vizdoom/ went) is removed on close


@pytest.fixture
def update_feature_dtypes(monkeypatch: pytest.MonkeyPatch) -> list[torch.dtype]:
    """The dtypes of the CNN features computed with gradients (the PPO update's forward passes)."""
    from agents.networks.cnn import NatureCNN

    seen: list[torch.dtype] = []
    forward = NatureCNN.forward

    def recording_forward(self: NatureCNN, obs: torch.Tensor) -> torch.Tensor:
        features = forward(self, obs)
        if torch.is_grad_enabled():
            seen.append(features.dtype)
        return features

    monkeypatch.setattr(NatureCNN, "forward", recording_forward)
    return seen


@pytest.mark.slow
def test_bf16_mixed_precision_runs_the_update_in_bf16_with_float32_weights(
    runs_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, update_feature_dtypes: list[torch.dtype]
) -> None:
    import utils.precision

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(utils.precision, "cpu_has_native_bf16", lambda: False)
    config = load_config("ALE/Pong-v5", "ppo", {**SHORT, "max_episode_steps": 50, "precision": "bf16-mixed"})
    result = train(config, quiet=True)
    assert result.timesteps == 64
    # asked for explicitly on a CPU that would emulate bf16: it runs, with the warning in the run's log
    assert "bf16-mixed on a CPU without native bf16" in (result.run.path / "logs" / "train.log").read_text()
    assert update_feature_dtypes and set(update_feature_dtypes) == {torch.bfloat16}  # autocast was on
    trained = load_trained_policy(result.run, "last")
    weights = [p for p in trained.policy.parameters()]
    assert all(p.dtype == torch.float32 and torch.isfinite(p).all() for p in weights)  # fp32 master weights


@pytest.mark.slow
@pytest.mark.parametrize(("native", "expected", "dtype"), [(True, "bf16-mixed", torch.bfloat16),
                                                          (False, "32-true", torch.float32)],
                         ids=["native-bf16", "no-native-bf16"])  # fmt: skip
def test_auto_precision_trains_a_cnn_in_bf16_only_on_a_native_bf16_cpu(
    runs_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    update_feature_dtypes: list[torch.dtype],
    native: bool,
    expected: str,
    dtype: torch.dtype,
) -> None:
    import utils.precision

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(utils.precision, "cpu_has_native_bf16", lambda: native)
    config = load_config("ALE/Pong-v5", "ppo", {**SHORT, "max_episode_steps": 50})
    assert config.precision == "auto"
    result = train(config, quiet=True)
    assert f"precision {expected}" in (result.run.path / "logs" / "train.log").read_text()
    assert expected in (result.run.path / "report.md").read_text()
    assert update_feature_dtypes and set(update_feature_dtypes) == {dtype}
