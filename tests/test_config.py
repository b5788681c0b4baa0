"""The typed Config: coercion, validation messages, round trips and the YAML loader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from utils.config import FIELD_NAMES, MAX_EPISODE_SEED, MAX_SEED, Config, field_help, load_config
from utils.config_files import list_config_ids, load_config_dict, parse_override, split_config_id
from utils.config_values import ConfigError
from utils.envs import env_spec, validate_env_kwargs, validate_wrappers
from utils.schedules import Schedule


def test_defaults_are_valid_once_an_env_id_is_given() -> None:
    config = Config(env_id="CartPole-v1")
    assert config.env_id == "CartPole-v1"
    assert config.rollout_size == 8 * 128
    assert config.minibatch_size == 64


def test_missing_env_id_is_an_error_naming_env_id() -> None:
    with pytest.raises(ConfigError, match="env_id"):
        Config()


@pytest.mark.parametrize("written", [1e5, "1e5", "100_000", 100000.0])
def test_max_timesteps_in_scientific_notation_becomes_an_int(written: object) -> None:
    config = Config(env_id="CartPole-v1", max_timesteps=written)
    assert config.max_timesteps == 100000
    assert type(config.max_timesteps) is int


def test_pyyaml_reads_1e5_as_text_and_the_config_still_gets_a_number() -> None:
    raw = yaml.safe_load("max_timesteps: 1e5\npolicy_lr: 3e-4\n")
    assert raw == {"max_timesteps": "1e5", "policy_lr": "3e-4"}  # PyYAML's YAML 1.1 float rule
    config = Config.from_dict({"env_id": "CartPole-v1", **raw})
    assert config.max_timesteps == 100000
    assert config.policy_lr == pytest.approx(3e-4)


def test_schedule_fields_survive_a_json_round_trip_exactly() -> None:
    config = Config(
        env_id="CartPole-v1",
        policy_lr={"start": "1e-3", "end": 0},
        clip_range={"start": 0.2, "end": 0.05, "from": 0.1, "to": 50000, "schedule": "cosine"},
        ent_coef=0.01,
    )
    assert config.policy_lr == Schedule(start=0.001, end=0.0)
    assert config.clip_range == Schedule(start=0.2, end=0.05, begin=0.1, finish=50000.0, kind="cosine")
    restored = Config.from_dict(json.loads(json.dumps(config.to_dict())))
    assert restored.policy_lr == config.policy_lr
    assert restored.clip_range == config.clip_range
    assert restored.ent_coef == 0.01
    assert restored == config
    assert restored.to_dict() == config.to_dict()


def test_fractional_batch_size_is_that_share_of_the_rollout() -> None:
    config = Config(env_id="CartPole-v1", n_envs=8, n_steps=32, batch_size=0.5)
    assert config.minibatch_size == 128  # 0.5 * 8 * 32


def test_batch_size_one_point_zero_means_the_whole_rollout() -> None:
    config = Config(env_id="CartPole-v1", n_envs=8, n_steps=32, batch_size=1.0)
    assert config.minibatch_size == 256


def test_fractional_batch_size_that_does_not_divide_the_rollout_is_an_error() -> None:
    # 0.25 of 3 * 10 = 30 transitions is 7 (rounded down), and 7 does not divide 30.
    with pytest.raises(ConfigError, match="batch_size"):
        Config(env_id="CartPole-v1", n_envs=3, n_steps=10, batch_size=0.25)


def test_batch_size_not_dividing_the_rollout_names_batch_size_and_suggests_a_divisor() -> None:
    # Rollout 8 * 32 = 256; divisors near 100 are 64 (off by 36) and 128 (off by 28).
    with pytest.raises(ConfigError) as error:
        Config(env_id="CartPole-v1", n_envs=8, n_steps=32, batch_size=100)
    message = str(error.value)
    assert message.startswith("batch_size")
    assert "256" in message
    assert "128" in message


def test_unknown_key_suggests_the_closest_field() -> None:
    with pytest.raises(ConfigError, match="did you mean 'policy_lr'"):
        Config.from_dict({"env_id": "CartPole-v1", "polcy_lr": 0.001})


def test_replace_rejects_unknown_keys_with_a_suggestion() -> None:
    with pytest.raises(ConfigError, match="did you mean 'n_envs'"):
        Config(env_id="CartPole-v1").replace(n_env=4)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("n_envs", "x", r"n_envs: 'x' is not a whole number"),
        ("n_envs", 2.5, r"n_envs: 2.5 is not a whole number"),
        ("n_envs", 0, r"n_envs: 0 is too small; it must be >= 1"),
        ("gamma", 2, r"gamma: 2.0 is too large; it must be between 0.0 and 1.0"),
        ("algo_id", "ppp", r"algo_id: 'ppp' is not allowed; did you mean 'ppo'"),
        ("normalize_obs", "sometimes", r"normalize_obs: 'sometimes'"),
        ("normalize_reward", "yes", r"normalize_reward"),
        ("hidden_dims", "64", r"hidden_dims"),
    ],
)
def test_wrong_values_raise_one_line_errors_naming_the_key(key: str, value: object, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected) as error:
        Config(env_id="CartPole-v1", **{key: value})
    assert "\n" not in str(error.value)


def test_ppo_without_a_value_head_is_rejected() -> None:
    with pytest.raises(ConfigError, match="actor_critic"):
        Config(env_id="CartPole-v1", algo_id="ppo", actor_critic=False)


def test_every_field_has_a_non_empty_one_line_help() -> None:
    rows = field_help()
    assert list(rows) == list(FIELD_NAMES)
    for name, (default, help_text) in rows.items():
        assert help_text.strip(), name
        assert "\n" not in help_text, name
        assert isinstance(default, str), name


def test_help_shows_the_default_of_a_field() -> None:
    assert field_help()["n_envs"][0] == "8"
    assert field_help()["hidden_dims"][0] == "[64, 64]"


def test_load_config_sets_project_id_and_config_id_from_the_file() -> None:
    config = load_config("CartPole-v1", "ppo")
    assert config.project_id == "CartPole-v1"
    assert config.config_id == "CartPole-v1:ppo"
    assert config.env_id == "CartPole-v1"
    assert config.algo_id == "ppo"


def test_load_config_applies_overrides_on_top_of_the_file() -> None:
    config = load_config("CartPole-v1", "ppo", overrides={"n_envs": 16, "gamma": 0.5})
    assert config.n_envs == 16
    assert config.gamma == 0.5
    assert config.n_steps == 16  # still the file's value


def test_unknown_environment_error_suggests_the_closest_file() -> None:
    with pytest.raises(ConfigError, match="unknown environment 'CartPol-v1'; did you mean 'CartPole-v1'"):
        load_config("CartPol-v1", "ppo")


def test_unknown_variant_error_suggests_the_closest_variant_and_lists_them() -> None:
    with pytest.raises(ConfigError) as error:
        load_config("CartPole-v1", "ppp")
    message = str(error.value)
    assert "no variant 'ppp'" in message
    assert "did you mean 'ppo'" in message
    assert "reinforce" in message


def test_split_config_id_separates_env_and_variant() -> None:
    assert split_config_id("CartPole-v1:ppo") == ("CartPole-v1", "ppo")
    assert split_config_id("CartPole-v1") == ("CartPole-v1", None)
    with pytest.raises(ConfigError, match="malformed"):
        split_config_id("CartPole-v1:")


YAML_WITH_MERGES = """\
_base: &base
  env_id: CartPole-v1
  n_envs: 4
  n_steps: 16
  gamma: 0.9

fast: &fast
  <<: *base
  algo_id: ppo
  n_envs: 2
  description: overrides n_envs

faster:
  <<: *fast
  gamma: 0.5
"""


def _write_config_dir(tmp_path: Path) -> Path:
    (tmp_path / "MyCart.yaml").write_text(YAML_WITH_MERGES)
    return tmp_path


def test_yaml_variant_overrides_values_merged_from_the_base(tmp_path: Path) -> None:
    directory = _write_config_dir(tmp_path)
    fast = load_config_dict("MyCart", "fast", directory=directory)
    assert fast["n_envs"] == 2  # the variant's own value wins over <<: *base
    assert fast["n_steps"] == 16  # inherited from the base
    assert fast["gamma"] == 0.9
    assert fast["project_id"] == "MyCart"
    assert fast["config_id"] == "MyCart:fast"


def test_yaml_merge_chains_through_two_anchors(tmp_path: Path) -> None:
    directory = _write_config_dir(tmp_path)
    faster = load_config_dict("MyCart", "faster", directory=directory)
    assert faster["gamma"] == 0.5
    assert faster["n_envs"] == 2
    assert faster["n_steps"] == 16
    assert faster["config_id"] == "MyCart:faster"


def test_underscore_blocks_are_not_variants(tmp_path: Path) -> None:
    directory = _write_config_dir(tmp_path)
    ids = [config_id for config_id, _ in list_config_ids(directory=directory)]
    assert ids == ["MyCart:fast", "MyCart:faster"]


def test_default_variant_is_the_first_when_there_is_no_ppo(tmp_path: Path) -> None:
    directory = _write_config_dir(tmp_path)
    assert load_config_dict("MyCart", directory=directory)["config_id"] == "MyCart:fast"


def test_config_file_can_be_found_by_its_env_id(tmp_path: Path) -> None:
    directory = _write_config_dir(tmp_path)
    assert load_config_dict("CartPole-v1", "fast", directory=directory)["project_id"] == "MyCart"


def test_invalid_yaml_error_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "Broken.yaml").write_text("ppo:\n  env_id: [unclosed\n")
    with pytest.raises(ConfigError, match=r"Broken.yaml line \d+: invalid YAML"):
        load_config_dict("Broken", "ppo", directory=tmp_path)


def test_parse_override_reads_the_value_as_yaml_mapping() -> None:
    key, value = parse_override("policy_lr={start: 1e-3, end: 0}")
    assert key == "policy_lr"
    assert value == {"start": "1e-3", "end": 0}
    config = Config(env_id="CartPole-v1").replace(**{key: value})
    assert config.policy_lr == Schedule(start=0.001, end=0.0)


def test_parse_override_reads_scalars_and_lists() -> None:
    assert parse_override("n_envs=4") == ("n_envs", 4)
    assert parse_override("hidden_dims=[32, 32]") == ("hidden_dims", [32, 32])
    assert parse_override("max_grad_norm=") == ("max_grad_norm", None)


def test_parse_override_without_equals_is_an_error_showing_the_syntax() -> None:
    with pytest.raises(ConfigError, match="key=value"):
        parse_override("n_envs")


@pytest.mark.parametrize("config_id", [config_id for config_id, _ in list_config_ids()])
def test_every_shipped_config_loads_and_validates(config_id: str) -> None:
    env, variant = split_config_id(config_id)
    config = load_config(env, variant)
    assert config.config_id == config_id
    assert config.rollout_size % config.minibatch_size == 0
    env_spec(config.env_id)  # the env id is registered
    validate_wrappers(config)  # every wrapper exists and accepts its kwargs
    validate_env_kwargs(config)  # the env takes every env_kwargs key
    assert Config.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_old_env_ids_resolve_to_todays_with_one_notice(capsys: pytest.CaptureFixture[str]) -> None:
    import utils.config as config_module

    config_module._renames_announced.discard("Taxi-v3")
    first = Config(env_id="Taxi-v3")
    second = Config(env_id="Taxi-v3")
    assert first.env_id == second.env_id == "Taxi-v4"
    notices = [line for line in capsys.readouterr().err.splitlines() if line.startswith("notice:")]
    assert notices == ["notice: env id 'Taxi-v3' is now 'Taxi-v4'; using 'Taxi-v4'"]


def test_old_env_id_finds_the_config_file_of_todays_id() -> None:
    assert load_config("Taxi-v3", "ppo").config_id == "Taxi-v4:ppo"


FLOAT_FIELDS = [
    "policy_lr", "ent_coef", "vf_coef", "clip_range", "clip_range_vf", "max_grad_norm", "target_kl", "gamma",
    "gae_lambda", "optimizer_eps", "weight_decay", "replay_ratio", "replay_is_clip", "reward_threshold",
]  # fmt: skip


@pytest.mark.parametrize("key", FLOAT_FIELDS)
@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan"), "inf", "-Infinity", "nan"])
def test_non_finite_numbers_are_rejected_in_every_float_field(key: str, value: object) -> None:
    with pytest.raises(ConfigError) as error:
        Config(env_id="CartPole-v1", **{key: value})
    assert str(error.value).startswith(f"{key}: ") and "\n" not in str(error.value)
    assert "finite" in str(error.value) or "not a number" in str(error.value)


def test_cli_spellings_of_infinity_are_rejected_as_not_finite() -> None:
    for text in ("policy_lr=inf", "ent_coef=.inf", "max_grad_norm=-.inf"):
        key, value = parse_override(text)
        with pytest.raises(ConfigError, match=rf"^{key}: .* is not a finite number"):
            Config(env_id="CartPole-v1").replace(**{key: value})


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ({"start": 1e-3, "end": float("inf")}, "schedule 'end' must be a finite number"),
        ({"start": float("nan"), "end": 0}, "schedule 'start' must be a finite number"),
        ({"start": 1e-3, "end": 0, "to": float("inf")}, "schedule 'to' must be a finite number"),
        ({"start": 1e-3, "end": 0, "from": 0.8, "to": 0.2}, "'from' (0.8) is after 'to' (0.2)"),
        ({"start": 1e-3, "end": 0, "from": 5000, "to": 2000}, "'from' (5000) is after 'to' (2000)"),
    ],
)
def test_bad_schedules_are_one_line_errors_naming_the_field(schedule: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        Config(env_id="CartPole-v1", policy_lr=schedule)
    message = str(error.value)
    assert message.startswith("policy_lr: ") and expected in message and "\n" not in message


def test_schedule_from_a_fraction_after_an_absolute_to_is_an_error_in_env_steps() -> None:
    # from: 0.5 of 100000 steps is step 50000, after to: step 5000.
    with pytest.raises(ConfigError, match=r"^clip_range: schedule 'from: 0.5' \(step 50000\) is after 'to: 5000'"):
        Config(
            env_id="CartPole-v1", max_timesteps=100_000, clip_range={"start": 0.2, "end": 0, "from": 0.5, "to": 5000}
        )
    ok = Config(
        env_id="CartPole-v1", max_timesteps=100_000, clip_range={"start": 0.2, "end": 0, "from": 0.01, "to": 5000}
    )
    assert ok.clip_range.steps(ok.max_timesteps) == (1000.0, 5000.0)


def _warnings(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning: ")]


def test_absolute_schedule_point_inside_the_first_rollout_warns_once(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    settings = {"env_id": "CartPole-v1", "n_envs": 4, "n_steps": 128, "policy_lr": {"start": 1e-3, "end": 0, "to": 3}}
    Config(**settings)
    Config(**settings).replace(ent_coef=0.01)  # the same config validated again says nothing new
    assert _warnings(capsys) == [
        "warning: policy_lr: schedule 'to: 3' is env step 3, before the first update (512 steps); values <= 1 are "
        "fractions of max_timesteps (to: 1 = end of run)"
    ]


def test_fractional_schedule_points_do_not_warn(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    Config(env_id="CartPole-v1", n_envs=4, n_steps=128, policy_lr={"start": 1e-3, "end": 0, "from": 0.1, "to": 1})
    Config(env_id="CartPole-v1", n_envs=4, n_steps=128, policy_lr={"start": 1e-3, "end": 0, "to": 512})
    assert _warnings(capsys) == []


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("seed", 2 * 10**13, f"seed: 20000000000000 is too large; it must be between 0 and {MAX_SEED}"),
        ("seed", "1e20", f"seed: 100000000000000000000 is too large; it must be between 0 and {MAX_SEED}"),
        ("seed", 2**70, f"it must be between 0 and {MAX_SEED}"),
        ("seed", -1, f"seed: -1 is too small; it must be between 0 and {MAX_SEED}"),
        ("seed", "inf", "seed: 'inf' is not a finite number"),
        ("eval_seed", 2**63, f"eval_seed: {2**63} is too large; it must be between 0 and {MAX_EPISODE_SEED}"),
    ],
)
def test_seeds_out_of_range_name_the_allowed_range(key: str, value: object, expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        Config(env_id="CartPole-v1", **{key: value})
    assert expected in str(error.value)


def test_largest_seeds_leave_room_for_a_billion_evaluations_within_int64() -> None:
    from utils.evaluation import eval_base_seed, evaluation_seeds

    padding = 10_000 + 16  # evaluate_policy seeds idle sub-envs of the last wave this far past the wave
    for base in (eval_base_seed(MAX_SEED, None), eval_base_seed(0, MAX_EPISODE_SEED)):
        assert base <= MAX_EPISODE_SEED
        last = evaluation_seeds(base, eval_index=10**9, episodes=1000)[-1] + padding
        assert last < 2**63 - 1  # numpy int64 arrays hold it; torch generators take < 2**64
    np = pytest.importorskip("numpy")
    torch = pytest.importorskip("torch")
    torch.Generator().manual_seed(2**63 - 1)
    np.random.default_rng(2**63 - 1)
    assert np.array([2**63 - 1]).dtype == np.int64


def test_largest_allowed_seeds_are_accepted() -> None:
    config = Config(env_id="CartPole-v1", seed=MAX_SEED, eval_seed=MAX_EPISODE_SEED)
    assert (config.seed, config.eval_seed) == (MAX_SEED, MAX_EPISODE_SEED)
    assert Config(env_id="CartPole-v1", seed="999_999_999_999").seed == 999_999_999_999  # exact, not via float


def test_rollout_far_beyond_the_budget_is_an_error_with_a_fix() -> None:
    with pytest.raises(ConfigError) as error:
        Config(env_id="CartPole-v1", n_envs=100_000, n_steps=16, max_timesteps=2000)
    assert str(error.value) == (
        "max_timesteps: one rollout (n_envs * n_steps = 100000 * 16) is 1600000 steps but max_timesteps is 2000; "
        "lower n_envs/n_steps or raise max_timesteps"
    )


def test_rollout_a_little_over_the_budget_is_a_warning(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    config = Config(env_id="CartPole-v1", n_envs=8, n_steps=128, max_timesteps=500)  # 1024 > 500 but <= 10x
    assert config.max_timesteps == 500
    assert _warnings(capsys) == [
        "warning: max_timesteps: one rollout (n_envs * n_steps = 8 * 128) is 1024 steps but max_timesteps is 500, "
        "so training runs 1024 steps; lower n_envs/n_steps or raise max_timesteps"
    ]
    Config(env_id="CartPole-v1", n_envs=8, n_steps=128, max_timesteps=1024)
    assert _warnings(capsys) == []


def test_a_warning_never_accompanies_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    with pytest.raises(ConfigError, match="batch_size"):
        Config(env_id="CartPole-v1", n_envs=8, n_steps=128, max_timesteps=501, batch_size=100)
    assert _warnings(capsys) == []


@pytest.mark.parametrize("obs_type", ["ram", "objects"])
def test_obs_type_on_a_non_atari_env_is_an_error(obs_type: str) -> None:
    with pytest.raises(ConfigError) as error:
        Config(env_id="CartPole-v1", obs_type=obs_type)
    assert str(error.value) == (
        f"obs_type: {obs_type} applies only to Atari envs (ALE/...), not CartPole-v1; remove obs_type"
    )
    assert Config(env_id="CartPole-v1", obs_type="rgb").obs_type == "rgb"  # the default is harmless
    assert Config(env_id="ALE/Pong-v5", obs_type=obs_type).obs_type == obs_type


def test_env_kwargs_keys_must_be_text() -> None:
    with pytest.raises(ConfigError, match=r"^env_kwargs: key 1 is not text"):
        Config(env_id="CartPole-v1", env_kwargs={1: "x"})


def test_huge_whole_numbers_stay_exact_and_huge_rollouts_fail_fast() -> None:
    with pytest.raises(ConfigError, match="max_timesteps: one rollout"):
        Config(env_id="CartPole-v1", n_envs=10**400)
    with pytest.raises(ConfigError, match=r"max_timesteps: 10{400} is too large; it must be between 1 and 10{15}$"):
        Config(env_id="CartPole-v1", max_timesteps=10**400)
    # A rollout that no batch size near the wanted one divides still gets a suggestion at once.
    with pytest.raises(ConfigError, match=r"batch_size: 64 does not divide .* such as 81"):
        Config(env_id="CartPole-v1", n_envs=3**30, n_steps=1, max_timesteps=3**30)
