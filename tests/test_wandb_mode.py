"""Whether a run logs to W&B: the ``wandb`` setting, WANDB_MODE, credentials, the config fields and train.py's flags."""

from __future__ import annotations

import string
import subprocess
import sys
from pathlib import Path

import pytest

from train import build_parser, collect_overrides
from utils.config import Config, load_config
from utils.config_values import ConfigError
from utils.resume import RESUME_CHANGEABLE
from utils.wandb_mode import new_wandb_id, resolve_wandb_mode, wandb_credentials, wandb_project

KEY = {"WANDB_API_KEY": "x" * 40}


def env(tmp_path: Path, **variables: str) -> dict[str, str]:
    """An environment with an empty home (no ~/.netrc, no wandb settings) plus ``variables``."""
    return {"HOME": str(tmp_path), **variables}


@pytest.mark.parametrize(
    ("setting", "variables", "mode"),
    [
        ("auto", {}, "off"),
        ("auto", KEY, "online"),
        ("auto", {"WANDB_MODE": "offline"}, "off"),  # what test and CI environments export: still nothing
        ("auto", {**KEY, "WANDB_MODE": "offline"}, "offline"),
        ("auto", {**KEY, "WANDB_MODE": "disabled"}, "off"),
        ("online", KEY, "online"),
        ("online", {"WANDB_MODE": "offline"}, "offline"),
        ("online", {"WANDB_MODE": "dryrun"}, "offline"),
        ("offline", {}, "offline"),
        ("offline", {"WANDB_MODE": "disabled"}, "off"),
        ("offline", {"WANDB_DISABLED": "true"}, "off"),
        ("off", KEY, "off"),
        (False, KEY, "off"),  # YAML reads `wandb: off` as false
        (True, KEY, "online"),  # and `wandb: on` as true
    ],
)
def test_the_setting_wandb_mode_and_credentials_decide_the_mode(
    tmp_path: Path, setting: bool | str, variables: dict[str, str], mode: str
) -> None:
    assert resolve_wandb_mode(setting, env(tmp_path, **variables)) == mode


def test_online_without_credentials_is_one_line_naming_wandb_login_and_the_api_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        resolve_wandb_mode("online", env(tmp_path))
    message = str(error.value)
    assert "\n" not in message and "`wandb login`" in message and "WANDB_API_KEY" in message


def test_a_netrc_entry_for_the_wandb_host_is_a_credential(tmp_path: Path) -> None:
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine github.com login me password gh\n")
    netrc.chmod(0o600)
    assert wandb_credentials(env(tmp_path)) is None
    netrc.write_text("machine api.wandb.ai login user password " + "k" * 40 + "\n")
    assert wandb_credentials(env(tmp_path)) == str(netrc)
    assert wandb_credentials(env(tmp_path, WANDB_BASE_URL="https://wandb.example.com")) is None  # another server
    other = tmp_path / "other-netrc"
    other.write_text("machine wandb.example.com login user password " + "k" * 40 + "\n")
    other.chmod(0o600)
    variables = {"NETRC": str(other), "WANDB_BASE_URL": "https://wandb.example.com"}
    assert wandb_credentials(env(tmp_path, **variables)) == str(other)


def test_the_server_saved_by_wandb_login_host_is_the_one_credentials_are_looked_up_for(tmp_path: Path) -> None:
    (tmp_path / ".config" / "wandb").mkdir(parents=True)
    (tmp_path / ".config" / "wandb" / "settings").write_text("[default]\nbase_url = https://wandb.example.com\n")
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine wandb.example.com login user password " + "k" * 40 + "\n")
    netrc.chmod(0o600)
    assert resolve_wandb_mode("auto", env(tmp_path)) == "online"


def test_new_wandb_ids_are_eight_lowercase_letters_or_digits() -> None:
    ids = {new_wandb_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(len(i) == 8 and set(i) <= set(string.ascii_lowercase + string.digits) for i in ids)


def test_wandb_fields_default_to_auto_and_round_trip_through_config_json() -> None:
    config = load_config("CartPole-v1", "ppo", {"wandb_tags": ["a", "b"], "wandb_entity": "team"})
    assert (config.wandb, config.wandb_project, config.wandb_id, config.wandb_dashboard) == ("auto", "", "", True)
    assert Config.from_dict(config.to_dict()) == config
    assert load_config("CartPole-v1", "ppo", {"wandb": False}).wandb is False  # `--set wandb=off`
    with pytest.raises(ConfigError, match="did you mean 'offline'"):
        load_config("CartPole-v1", "ppo", {"wandb": "ofline"})


def test_the_wandb_project_is_wandb_project_then_project_id_then_the_env_id() -> None:
    assert wandb_project("mine", "CartPole-v1", "CartPole-v1") == "mine"
    assert wandb_project("", "ALE-Pong-v5", "ALE/Pong-v5") == "ALE-Pong-v5"
    assert wandb_project("", "", "ALE/Pong-v5") == "ALE-Pong-v5"


def test_a_resume_may_switch_wandb_but_keeps_its_project_entity_and_run() -> None:
    assert {"wandb", "wandb_tags", "wandb_dashboard"} <= RESUME_CHANGEABLE
    assert not {"wandb_project", "wandb_entity", "wandb_id"} & RESUME_CHANGEABLE


@pytest.mark.parametrize(
    ("flags", "value"),
    [([], None), (["--wandb"], "online"), (["--wandb", "offline"], "offline"), (["--no-wandb"], "off")],
)
def test_train_flags_set_the_wandb_field(flags: list[str], value: str | None) -> None:
    overrides = collect_overrides(build_parser().parse_args(["CartPole-v1:ppo", *flags]))
    assert overrides.get("wandb") == value


def test_wandb_and_no_wandb_together_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["CartPole-v1:ppo", "--wandb", "--no-wandb"])
    assert exit_info.value.code == 2 and capsys.readouterr().err.startswith("error: argument --no-wandb")


def test_deciding_the_mode_imports_no_wandb() -> None:
    code = "import sys, utils.wandb_mode as m; m.resolve_wandb_mode('auto'); print('wandb' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert result.stdout.strip() == "False", result.stderr
