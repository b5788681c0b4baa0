"""The Hub boundary (publishing/hub.py) against a fake client: one commit, retries, one-line errors, the token."""

from __future__ import annotations

from pathlib import Path

import httpx2
import huggingface_hub.constants
import pytest
from fake_hub import FakeHub, hub_error

from publishing.hub import HubError, HubUnavailable, commit_folder, connect, hub_user, with_retries

FAKE_TOKEN = "hf_FakeTokenForTests0123456789abcdef"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "model"
    path.mkdir()
    for name in ("README.md", "policy.safetensors", "results.json"):
        (path / name).write_text(f"contents of {name}")
    return path


@pytest.fixture
def fake_token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    return FAKE_TOKEN


def commit(client: FakeHub, folder: Path, sleeps: list[float], lines: list[str]) -> str:
    return commit_folder(
        client, folder, "alice/ppo-CartPole-v1", private=False, message="m", log=lines.append, sleep=sleeps.append
    )


def test_commit_uploads_every_file_of_the_folder_in_one_commit(folder: Path) -> None:
    client, sleeps, lines = FakeHub(), [], []
    url = commit(client, folder, sleeps, lines)
    assert url == "https://huggingface.co/alice/ppo-CartPole-v1"
    assert len(client.commits) == 1
    assert sorted(client.commits[0]["files"]) == ["README.md", "policy.safetensors", "results.json"]
    assert client.commits[0]["files"]["README.md"] == b"contents of README.md"
    assert client.calls == ["create_repo", "create_commit"] and not sleeps
    assert any("3 files" in line and "one commit" in line for line in lines)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408, 429])
def test_a_transient_status_then_success_is_retried_and_commits_once(folder: Path, status: int) -> None:
    client = FakeHub(failures={"create_commit": [hub_error(status)]})
    sleeps: list[float] = []
    lines: list[str] = []
    commit(client, folder, sleeps, lines)
    assert len(client.commits) == 1
    assert client.calls == ["create_repo", "create_commit", "create_commit"]
    assert sleeps == [2.0]
    assert any(f"{status} " in line and "retrying in 2 s (attempt 2 of 5)" in line for line in lines), lines


def test_a_timeout_is_retried_like_a_5xx(folder: Path) -> None:
    client = FakeHub(failures={"create_repo": [httpx2.ReadTimeout("timed out")]})
    sleeps: list[float] = []
    commit(client, folder, sleeps, [])
    assert len(client.commits) == 1 and sleeps == [2.0]


def test_a_429_waits_as_long_as_retry_after_says(folder: Path) -> None:
    client = FakeHub(failures={"create_commit": [hub_error(429, headers={"Retry-After": "7"})]})
    sleeps: list[float] = []
    commit(client, folder, sleeps, [])
    assert sleeps == [7.0] and len(client.commits) == 1


def test_a_hub_that_keeps_failing_gives_one_line_after_five_attempts_with_backoff(folder: Path) -> None:
    client = FakeHub(failures={"create_commit": [hub_error(503) for _ in range(5)]})
    sleeps: list[float] = []
    with pytest.raises(HubUnavailable) as raised:
        commit(client, folder, sleeps, [])
    assert sleeps == [2.0, 4.0, 8.0, 16.0]
    message = str(raised.value)
    assert "\n" not in message
    assert "503 Service Unavailable" in message and "5 attempts" in message and "nothing was committed" in message
    assert not client.commits


def test_a_401_is_the_login_error_at_once(folder: Path) -> None:
    client = FakeHub(failures={"create_repo": [hub_error(401, json={"error": "Invalid credentials"})]})
    sleeps: list[float] = []
    with pytest.raises(HubError) as raised:
        commit(client, folder, sleeps, [])
    assert "\n" not in str(raised.value)
    assert "rejected the token (401 Unauthorized)" in str(raised.value) and "hf auth login" in str(raised.value)
    assert not sleeps and not client.commits


def test_a_rejected_token_fails_when_the_user_is_looked_up() -> None:
    client = FakeHub(failures={"whoami": [hub_error(401, "https://huggingface.co/api/whoami-v2")]})
    with pytest.raises(HubError, match="hf auth login"):
        hub_user(client, log=lambda line: None, sleep=lambda s: None)


def test_a_403_says_the_token_needs_write_access(folder: Path) -> None:
    client = FakeHub(failures={"create_commit": [hub_error(403, json={"error": "You don't have the rights"})]})
    with pytest.raises(HubError) as raised:
        commit(client, folder, [], [])
    assert "403 Forbidden: You don't have the rights" in str(raised.value) and "write access" in str(raised.value)


def test_a_bug_in_the_call_keeps_its_traceback() -> None:
    def broken() -> None:
        raise ValueError("a bug, not the Hub")

    with pytest.raises(ValueError, match="a bug"):
        with_retries("calling", broken, log=lambda line: None, sleep=lambda s: None)


def test_errors_never_show_the_token(fake_token: str) -> None:
    echoing = hub_error(400, json={"error": f"bad header: Bearer {fake_token}"})

    def call() -> None:
        raise echoing

    with pytest.raises(HubUnavailable) as raised:
        with_retries("committing", call, log=lambda line: None, sleep=lambda s: None)
    assert fake_token not in str(raised.value) and "<token>" in str(raised.value)


def test_without_a_token_connect_says_how_to_log_in(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    with pytest.raises(HubError) as raised:
        connect()
    assert str(raised.value) == (
        "not logged in to the Hugging Face Hub; log in with `hf auth login`, or set HF_TOKEN to a token with write access"
    )


def test_the_token_stored_by_hf_auth_login_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    (tmp_path / "token").write_text(FAKE_TOKEN)
    monkeypatch.setattr(huggingface_hub.constants, "HF_TOKEN_PATH", str(tmp_path / "token"))
    assert connect().token == FAKE_TOKEN  # type: ignore[attr-defined]


def test_offline_mode_refuses_to_upload(monkeypatch: pytest.MonkeyPatch, fake_token: str) -> None:
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(HubError, match="HF_HUB_OFFLINE is set"):
        connect()
