"""A fake of the part of ``huggingface_hub.HfApi`` a model publish (publishing/) and a dataset push (gameplay/)
use, and real Hub errors to make it raise.

Errors come from ``huggingface_hub``'s own ``hf_raise_for_status`` on a response with the status, so the
code under test sees exactly what the real client raises. A commit can be written out as a Hugging Face
cache (``models--USER--NAME`` or ``datasets--USER--NAME``, with ``refs/main`` + ``snapshots/<hash>/``), which
``run_play.py --hub`` and ``--playback`` read with ``HF_HUB_OFFLINE=1``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx2
from huggingface_hub import CommitOperationAdd
from huggingface_hub.utils import hf_raise_for_status


def hub_error(
    status: int, url: str = "https://huggingface.co/api/models/alice/x/commit/main", **response: Any
) -> Exception:
    """The exception huggingface_hub raises for an HTTP ``status`` answer (``response``: headers=, json=)."""
    answer = httpx2.Response(status, request=httpx2.Request("POST", url), **response)
    try:
        hf_raise_for_status(answer)
    except Exception as error:
        return error
    raise AssertionError(f"{status} is not an error status")


@dataclass
class FakeHub:
    """Records calls; ``failures[method]`` are raised, one per call, before the call succeeds."""

    user: str = "alice"
    failures: dict[str, list[Exception]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    repos: dict[str, bool | None] = field(default_factory=dict)  # repo id -> private
    repo_types: dict[str, str | None] = field(default_factory=dict)  # repo id -> repo_type (None: a model)
    commits: list[dict[str, Any]] = field(default_factory=list)

    def _call(self, method: str) -> None:
        self.calls.append(method)
        pending = self.failures.get(method)
        if pending:
            raise pending.pop(0)

    def whoami(self) -> dict[str, Any]:
        self._call("whoami")
        return {"name": self.user, "type": "user"}

    def create_repo(
        self, repo_id: str, *, private: bool | None = None, exist_ok: bool = False, repo_type: str | None = None
    ) -> str:
        self._call("create_repo")
        self.repos.setdefault(repo_id, private)
        self.repo_types[repo_id] = repo_type
        return f"https://huggingface.co/{_url_prefix(repo_type)}{repo_id}"

    def create_commit(
        self,
        repo_id: str,
        operations: Iterable[CommitOperationAdd],
        *,
        commit_message: str,
        repo_type: str | None = None,
    ) -> Any:
        self._call("create_commit")
        files = {}
        for operation in operations:
            source = operation.path_or_fileobj
            files[operation.path_in_repo] = Path(source).read_bytes() if isinstance(source, str | Path) else source
        oid = hashlib.sha1(repr(sorted((name, data) for name, data in files.items())).encode()).hexdigest()
        made = {"repo_id": repo_id, "repo_type": repo_type, "files": files, "message": commit_message, "oid": oid}
        self.commits.append(made)
        return SimpleNamespace(
            commit_url=f"https://huggingface.co/{_url_prefix(repo_type)}{repo_id}/commit/{oid}", oid=oid
        )

    def write_cache(self, cache: Path, commit: int = -1) -> Path:
        """Lay a commit out as the Hugging Face cache does; returns its snapshot folder."""
        made = self.commits[commit]
        user, name = made["repo_id"].split("/")
        repo = cache / f"{'datasets' if made['repo_type'] == 'dataset' else 'models'}--{user}--{name}"
        snapshot = repo / "snapshots" / made["oid"]
        snapshot.mkdir(parents=True)
        for path, data in made["files"].items():
            (snapshot / path).parent.mkdir(parents=True, exist_ok=True)
            (snapshot / path).write_bytes(data)
        (repo / "refs").mkdir(exist_ok=True)
        (repo / "refs" / "main").write_text(made["oid"])
        return snapshot


def _url_prefix(repo_type: str | None) -> str:
    """The part of a Hub URL before the repo id: datasets and spaces have one, models none."""
    return f"{repo_type}s/" if repo_type in ("dataset", "space") else ""
