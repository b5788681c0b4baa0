"""``run_publish.py`` against a fake Hub client: one commit with every file, retries, the login error."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_hub import FakeHub, hub_error
from publish_cli import FAKE_TOKEN, REPO_ID, cli_env, run_cli

import run_publish
from agents.loading import load_checkpoint_policy
from publishing.folder import PUBLISHED_FILES

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


@pytest.fixture
def env(trained_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GYMSOLVER_RUNS_DIR", str(trained_run.parent))
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)


def test_publish_makes_one_commit_with_every_file_and_prints_the_url(
    env: None, trained_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hub = FakeHub(user="alice", failures={"create_commit": [hub_error(503)]})  # one 503: retried after 2 s
    code = run_publish.main(["--run-id", trained_run.name, "--private", "--eval-episodes", "3"], client=hub)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert hub.calls == ["whoami", "create_repo", "create_commit", "create_commit"]
    assert hub.repos == {REPO_ID: True}  # the default name, <user>/<algo>-<env id>, created private
    (commit,) = hub.commits
    assert sorted(commit["files"]) == sorted(PUBLISHED_FILES)
    assert commit["message"].startswith(f"Publish checkpoint epoch=0032-step=0004096 of run {trained_run.name}")
    assert "503 Service Unavailable; retrying in 2 s (attempt 2 of 5)" in out
    assert "uploading 12 files" in out and "in one commit" in out
    assert out.strip().splitlines()[-1] == f"published: https://huggingface.co/{REPO_ID}"
    assert all(FAKE_TOKEN.encode() not in data for data in commit["files"].values())
    assert FAKE_TOKEN not in out + err
    snapshot = hub.write_cache(tmp_path / "cache")
    assert load_checkpoint_policy(snapshot).config.env_id == "CartPole-v1"  # what was committed loads back


def test_a_rejected_token_is_one_line_and_exit_2_before_any_evaluation(
    env: None, trained_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hub = FakeHub(failures={"whoami": [hub_error(401, "https://huggingface.co/api/whoami-v2")]})
    assert run_publish.main(["--run-id", trained_run.name], client=hub) == 2
    out, err = capsys.readouterr()
    assert err.strip().splitlines() == [
        "error: the Hugging Face Hub rejected the token (401 Unauthorized) while checking the token; "
        "log in with `hf auth login`, or set HF_TOKEN to a token with write access"
    ]
    assert "evaluating" not in out and hub.calls == ["whoami"] and not hub.commits


def test_a_hub_down_for_every_attempt_exits_1_with_one_line_and_commits_nothing(
    env: None, trained_run: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = FakeHub(failures={"whoami": [hub_error(502, "https://huggingface.co/api/whoami-v2") for _ in range(5)]})
    monkeypatch.setattr("publishing.hub.ATTEMPTS", 2)  # one backoff of 2 s is enough to show the path
    assert run_publish.main(["--run-id", trained_run.name], client=hub) == 1
    _, err = capsys.readouterr()
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("error: the Hub did not answer while checking the token (502 Bad Gateway, 2 attempts)")


def test_without_a_token_publish_says_how_to_log_in_and_exits_2(trained_run: Path, tmp_path: Path) -> None:
    env = cli_env(trained_run.parent, tmp_path / "empty_hf_home")  # no token stored by hf auth login there
    del env["HF_TOKEN"]
    env.pop("HUGGING_FACE_HUB_TOKEN", None)
    published = run_cli(["run_publish.py", "--run-id", trained_run.name], env, timeout=120)
    assert published.returncode == 2
    assert published.stderr.strip().splitlines() == [
        "error: not logged in to the Hugging Face Hub; log in with `hf auth login`, "
        "or set HF_TOKEN to a token with write access"
    ]
