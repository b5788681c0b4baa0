"""The Hugging Face Hub boundary: the token, repo names, one-commit uploads with retries, and downloads
(models for ``run_publish.py``/``run_play.py --hub``, gameplay datasets for ``run_play.py --push-dataset/--playback``).

Everything that talks to the Hub goes through ``huggingface_hub`` here; the rest of ``publishing/`` only
reads runs and writes local files. The token comes from ``get_token()`` (``HF_TOKEN``, else what
``hf auth login`` stored), goes to ``HfApi`` and nowhere else: it is never printed, logged or written, and
error messages are scrubbed of it. A publish is one commit, so a failure never leaves half a model on the Hub.
"""

from __future__ import annotations

import http
import inspect
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import huggingface_hub.constants
from huggingface_hub import CommitOperationAdd, HfApi, get_token, snapshot_download
from huggingface_hub.errors import (
    HfHubHTTPError,
    IncompleteSnapshotError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import http_backoff

from publishing.repo_names import check_repo_id
from publishing.results import RESULTS_FILE
from utils.checkpoints import INFERENCE_FILES, MANIFEST, CheckpointError, verify_checkpoint
from utils.config_values import ConfigError
from utils.runs import file_sha256

T = TypeVar("T")
LOGIN_HINT = "log in with `hf auth login`, or set HF_TOKEN to a token with write access"
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})  # timeouts, rate limits, server errors
ATTEMPTS = 5
MAX_DELAY_S = 60.0
# The transport errors (timeouts, dropped connections) huggingface_hub's own ``http_backoff`` retries:
# read from it, so they follow the HTTP library it uses.
_BACKOFF_ERRORS = inspect.signature(http_backoff).parameters["retry_on_exceptions"].default
TRANSPORT_ERRORS: tuple[type[Exception], ...] = (
    *(_BACKOFF_ERRORS if isinstance(_BACKOFF_ERRORS, tuple) else (_BACKOFF_ERRORS,)),
    TimeoutError,
    ConnectionError,
)
HUB_ERRORS: tuple[type[Exception], ...] = (HfHubHTTPError, *TRANSPORT_ERRORS)  # what the Hub can raise
# What ``run_play.py --hub`` downloads: the inference files, their manifest and the published results.
MODEL_FILES = (*INFERENCE_FILES, MANIFEST)


class HubError(ConfigError):
    """A Hub problem the user fixes (login, permissions, names, offline mode, a repo that is no model)."""


class HubUnavailable(Exception):
    """The Hub did not answer, after retries, or refused for a reason of its own: nothing was committed."""


class HubClient(Protocol):
    """The part of ``huggingface_hub.HfApi`` a publish uses (tests pass a fake)."""

    def whoami(self) -> dict[str, Any]: ...

    def create_repo(self, repo_id: str, *, private: bool | None = None, exist_ok: bool = False) -> Any: ...

    def create_commit(self, repo_id: str, operations: Iterable[CommitOperationAdd], *, commit_message: str) -> Any: ...


class DatasetHubClient(HubClient, Protocol):
    """The same calls on a dataset repo (``run_play.py --push-dataset``; tests pass a fake)."""

    def create_repo(
        self, repo_id: str, *, private: bool | None = None, exist_ok: bool = False, repo_type: str | None = None
    ) -> Any: ...

    def create_commit(
        self,
        repo_id: str,
        operations: Iterable[CommitOperationAdd],
        *,
        commit_message: str,
        repo_type: str | None = None,
    ) -> Any: ...


def hub_offline() -> bool:
    """Whether ``HF_HUB_OFFLINE`` was set when huggingface_hub was imported (it reads it once)."""
    return bool(huggingface_hub.constants.HF_HUB_OFFLINE)


def connect(offline_fix: str = "write the folder with --dry-run DIR") -> HfApi:
    """An ``HfApi`` holding the user's token; a one-line error saying how to log in when there is none
    (``offline_fix``: what to do instead of uploading, said when ``HF_HUB_OFFLINE`` is set)."""
    if hub_offline():
        raise HubError(f"HF_HUB_OFFLINE is set, so nothing can be uploaded; unset it, or {offline_fix}")
    token = get_token()
    if not token:
        raise HubError(f"not logged in to the Hugging Face Hub; {LOGIN_HINT}")
    return HfApi(token=token)


def hub_user(client: HubClient, log: Callable[[str], None] = print, sleep: Callable[[float], None] = time.sleep) -> str:
    """The user name the token belongs to (this also checks the token before anything is evaluated)."""
    info = with_retries("checking the token", client.whoami, log=log, sleep=sleep)
    return str(info["name"])


def commit_folder(
    client: HubClient,
    folder: Path,
    repo_id: str,
    *,
    private: bool,
    message: str,
    log: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Create ``repo_id`` if it does not exist and upload every file of ``folder`` in one commit; its URL."""
    files = sorted(path for path in folder.iterdir() if path.is_file())
    url = with_retries(
        f"creating {repo_id}",
        lambda: client.create_repo(repo_id, private=private, exist_ok=True),
        log=log,
        sleep=sleep,
    )

    def commit(operations: list[CommitOperationAdd]) -> Any:
        return client.create_commit(repo_id, operations, commit_message=message)

    _commit_files(folder, files, repo_id, commit, "--repo", log, sleep)
    return str(url)


def commit_dataset(
    client: DatasetHubClient,
    folder: Path,
    repo_id: str,
    *,
    message: str,
    private: bool = False,
    option: str = "--push-dataset",
    log: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Create the dataset repo ``repo_id`` (``private`` if it does not exist yet) and upload ``folder`` (subfolders
    too) in one commit; its URL. ``option`` is the flag that named the repo, for the one-line errors."""
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    url = with_retries(
        f"creating dataset {repo_id}",
        lambda: client.create_repo(repo_id, private=private, exist_ok=True, repo_type="dataset"),
        option=option,
        log=log,
        sleep=sleep,
    )

    def commit(operations: list[CommitOperationAdd]) -> Any:
        return client.create_commit(repo_id, operations, commit_message=message, repo_type="dataset")

    _commit_files(folder, files, repo_id, commit, option, log, sleep)
    return str(url)


def _commit_files(
    folder: Path,
    files: list[Path],
    repo_id: str,
    commit: Callable[[list[CommitOperationAdd]], Any],
    option: str,
    log: Callable[[str], None],
    sleep: Callable[[float], None],
) -> None:
    """``files`` (paths in the repo relative to ``folder``) in one ``commit``, retried; logs the commit's URL."""
    size = sum(path.stat().st_size for path in files)
    log(f"uploading {len(files)} files ({size / 1e6:.1f} MB) to {repo_id} in one commit")

    def attempt() -> Any:
        # fresh operations each attempt: an operation keeps the upload state of the attempt that used it
        operations = [
            CommitOperationAdd(path_in_repo=path.relative_to(folder).as_posix(), path_or_fileobj=str(path))
            for path in files
        ]
        return commit(operations)

    info = with_retries(f"committing to {repo_id}", attempt, option=option, log=log, sleep=sleep)
    commit_url = getattr(info, "commit_url", None)
    if commit_url:
        log(f"commit: {commit_url}")


def with_retries(
    what: str,
    call: Callable[[], T],
    *,
    attempts: int | None = None,
    option: str = "--repo",
    log: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``call()``, retried with exponential backoff on timeouts, 5xx and 429; Hub errors become one line
    (``option``: the flag that named the repo, which the line tells the user to check)."""
    attempts = attempts or ATTEMPTS
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Exception as error:
            if not isinstance(error, HUB_ERRORS):
                raise  # a bug, not the Hub: keep the traceback
            if not _transient(error) or attempt == attempts:
                raise _for_people(what, error, attempt, option) from error
            delay = _delay(error, attempt)
            log(f"{what}: {_describe(error)}; retrying in {delay:.0f} s (attempt {attempt + 1} of {attempts})")
            sleep(delay)
    raise AssertionError("unreachable: the last attempt returns or raises")


def _transient(error: Exception) -> bool:
    if isinstance(error, OfflineModeIsEnabled):
        return False
    if isinstance(error, HfHubHTTPError):
        return _status(error) in RETRY_STATUSES
    return isinstance(error, TRANSPORT_ERRORS)


def _status(error: HfHubHTTPError) -> int | None:
    response = getattr(error, "response", None)
    return getattr(response, "status_code", None)


def _delay(error: Exception, attempt: int) -> float:
    """The server's ``Retry-After`` when it sent one (429, 503), else 2, 4, 8, 16 ... seconds."""
    if isinstance(error, HfHubHTTPError):
        retry_after = str(error.response.headers.get("retry-after", "")).strip()
        if retry_after.replace(".", "", 1).isdigit():
            return min(float(retry_after), MAX_DELAY_S)
    return min(2.0**attempt, MAX_DELAY_S)


def _describe(error: Exception) -> str:
    """``503 Service Unavailable``, or the transport error's name and first line, scrubbed of the token."""
    if isinstance(error, HfHubHTTPError) and (status := _status(error)) is not None:
        try:
            phrase = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = "error"
        detail = f": {error.server_message.splitlines()[0]}" if error.server_message else ""
        return scrub(f"{status} {phrase}{detail}")
    first_line = str(error).splitlines()[0] if str(error) else ""
    return scrub(f"{type(error).__name__}{': ' + first_line if first_line else ''}")


def _for_people(what: str, error: Exception, attempts: int, option: str = "--repo") -> Exception:
    """The one-line error for a Hub failure: HubError when the user can fix it, HubUnavailable otherwise."""
    if isinstance(error, OfflineModeIsEnabled):
        return HubError(f"HF_HUB_OFFLINE is set, so {what} is impossible; unset it, or use --dry-run DIR")
    status = _status(error) if isinstance(error, HfHubHTTPError) else None
    if status == 401:
        return HubError(f"the Hugging Face Hub rejected the token (401 Unauthorized) while {what}; {LOGIN_HINT}")
    if status == 403:
        return HubError(
            f"the token may not do that ({_describe(error)}) while {what}; use a token with write access "
            f"(hf auth login), or publish under your own user with {option} YOURNAME/NAME"
        )
    if isinstance(error, RepositoryNotFoundError) or status == 404:
        return HubError(f"the Hub found no such repo while {what} ({_describe(error)}); check {option}")
    if _transient(error):
        return HubUnavailable(
            f"the Hub did not answer while {what} ({_describe(error)}, {attempts} attempts); "
            "nothing was committed: try again later"
        )
    return HubUnavailable(f"the Hub refused {what} ({_describe(error)}); nothing was committed")


def scrub(text: str) -> str:
    """``text`` without the token (messages from the Hub or a proxy could echo it)."""
    token = get_token()
    return text.replace(token, "<token>") if token else text


@dataclass(frozen=True)
class HubModel:
    """A published model in the Hugging Face cache: a checkpoint directory of inference files."""

    repo_id: str
    revision: str  # as asked for (a branch, tag or commit)
    path: Path  # snapshots/<commit>/ in the cache
    results: dict[str, Any] | None  # results.json: the published evaluation (seeds, returns)

    @property
    def commit(self) -> str:
        """The commit the snapshot holds."""
        return self.path.name


def download_model(repo_id: str, revision: str | None = None) -> HubModel:
    """Download (or, with ``HF_HUB_OFFLINE=1``, find in the cache) a published model and check its files.

    Only the inference files, the manifest and ``results.json`` are fetched; a repo without them (one
    holding only pickles, say) is refused, and so is a file that does not match the manifest.
    """
    check_repo_id(repo_id, "--hub")
    wanted = revision or "main"
    path = _snapshot(repo_id, revision, [*MODEL_FILES, RESULTS_FILE], "model")
    missing = [name for name in MODEL_FILES if not (path / name).is_file()]
    if missing:
        raise HubError(
            f"{repo_id} ({wanted}) has no {', '.join(missing)}: it is not a model published with run_publish.py "
            "(pickled models, such as Stable-Baselines3 .zip or torch .pt files, are never loaded)"
        )
    try:
        verify_checkpoint(path, with_optimizer=False)
    except CheckpointError as error:
        reason = str(error).removeprefix(f"checkpoint {path.name}: ")
        raise HubError(f"{repo_id} ({wanted}, commit {path.name[:8]}): {reason}; nothing was loaded") from None
    return HubModel(repo_id, wanted, path, _read_results(path))


def download_dataset(repo_id: str, patterns: list[str], revision: str | None = None) -> Path:
    """Download (or, with ``HF_HUB_OFFLINE=1``, find in the cache) the files of a dataset repo that match
    ``patterns``; the snapshot folder. The caller checks what it holds."""
    return _snapshot(repo_id, revision, patterns, "dataset")


def _snapshot(repo_id: str, revision: str | None, patterns: list[str], repo_type: str) -> Path:
    """``snapshot_download`` of a model or dataset repo; its failures as one-line ``HubError``s."""
    wanted = revision or "main"
    try:
        path = Path(
            snapshot_download(
                repo_id,
                repo_type=None if repo_type == "model" else repo_type,
                revision=revision,
                allow_patterns=patterns,
            )
        )
    except RevisionNotFoundError:
        raise HubError(f"{repo_id} has no revision {wanted!r}; give a branch, tag or commit of it") from None
    except RepositoryNotFoundError:
        raise HubError(
            f"no {repo_type} {repo_id} on the Hugging Face Hub (if it is private or gated: {LOGIN_HINT})"
        ) from None
    except IncompleteSnapshotError:
        raise HubError(
            f"the cached copy of {repo_id} ({wanted}) is incomplete; download it again without HF_HUB_OFFLINE"
        ) from None
    except LocalEntryNotFoundError as error:
        if hub_offline():
            raise HubError(
                f"{repo_id} ({wanted}) is not in the Hugging Face cache ({huggingface_hub.constants.HF_HUB_CACHE}) "
                "and HF_HUB_OFFLINE is set; unset HF_HUB_OFFLINE to download it"
            ) from None
        cause = error.__cause__ if isinstance(error.__cause__, Exception) else error
        raise HubError(f"cannot download {repo_id} ({_describe(cause)}) and it is not in the cache") from None
    except HUB_ERRORS as error:
        if isinstance(error, HfHubHTTPError) and _status(error) == 401:
            raise HubError(f"the Hugging Face Hub rejected the token (401) for {repo_id}; {LOGIN_HINT}") from None
        raise HubError(f"cannot download {repo_id} ({_describe(error)})") from None
    return path


def _read_results(path: Path) -> dict[str, Any] | None:
    """``results.json`` of a verified snapshot, when present and matching the manifest's checksum."""
    try:
        listed = json.loads((path / MANIFEST).read_text())["files"][RESULTS_FILE]["sha256"]
        if file_sha256(path / RESULTS_FILE) != listed:
            return None
        results = json.loads((path / RESULTS_FILE).read_text())
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return results if isinstance(results, dict) else None
