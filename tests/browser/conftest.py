"""Browser-test harness: Chromium driven by Playwright, app servers in subprocesses, a tiny real CartPole run.

The browser is Debian's Chromium (``apt-get install chromium``) driven by Playwright's Python package;
``playwright install`` is never needed. A missing browser fails the tests: they never skip.

Fixtures:
- ``browser``: the Chromium browser, shared by the tests of this directory (closed when they end).
- ``page``: a fresh page (own context, 1400x1000); on failure a screenshot path and the page's errors are reported.
- ``free_port``: a function returning a free loopback port.
- ``start_server``: ``start_server(args, env=None, *, port=None, url_ready_timeout=90.0, cwd=REPO) -> Server``;
  runs ``args`` from the repository root, waits until ``http://127.0.0.1:<port>/`` answers 200 and stops the
  process (SIGTERM, then SIGKILL) after the test. ``Server.url``, ``Server.output()`` (stdout + stderr).
  ``launch_server(args, log_path, ...)`` does the same for fixtures of a wider scope (the caller stops it).
- ``tiny_cartpole_run``: ``TinyRun(runs_dir, run_id)``, a real 4096-step CartPole PPO run with eval videos.

Driving Gradio 6 (measured in test_browser_harness.py):
- open: ``page.goto(url, wait_until="domcontentloaded")`` then ``page.wait_for_selector("#elem_id")``;
  ``networkidle`` never comes (Gradio keeps a connection open).
- Textbox: the value is a property of ``#id textarea``: ``page.input_value("#id textarea")`` or
  ``expect(page.locator("#id textarea")).to_have_value(...)`` (waits for the event's round trip).
- Video: ``#id video`` (``src`` is ``/gradio_api/file=<cached copy>``); wait for ``readyState >= 1`` before
  reading ``duration``.
- Slider: read ``page.input_value("#id input[type=number]")`` (or ``input[type=range]``); set it with
  ``page.fill("#id input[type=number]", "42")`` (fires ``.change``), then ``page.press(..., "Tab")`` to fire
  ``.release`` too. ``locator("#id input[type=range]").fill("42")`` fires ``.change`` only.
- Dropdown: ``page.click("#id input[role=combobox]")`` then ``page.get_by_role("option", name=LABEL).click()``;
  the combobox's ``input_value`` is the shown label, not the value.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage"]
VIEWPORT = {"width": 1400, "height": 1000}
HEADLESS_ENV = {"SDL_VIDEODRIVER": "dummy", "WANDB_MODE": "offline", "GRADIO_ANALYTICS_ENABLED": "False"}


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Debian's Chromium through Playwright. Package-scoped: an open sync Playwright breaks asyncio.run()."""
    if not CHROMIUM.is_file():
        pytest.fail(f"no browser at {CHROMIUM}: install it with `apt-get install chromium`", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is missing: install the dev extra with `pip install -e '.[dev]'`", pytrace=False)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


_PAGE = pytest.StashKey[tuple["Page", Path, list[str]]]()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Page]:
    """A new page in its own browser context; closed after the test."""
    context = browser.new_context(viewport=VIEWPORT)
    new_page = context.new_page()
    errors: list[str] = []
    new_page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    new_page.on("console", lambda msg: errors.append(f"console.error: {msg.text}") if msg.type == "error" else None)
    request.node.stash[_PAGE] = (new_page, tmp_path / "failure.png", errors)
    try:
        yield new_page
    finally:
        del request.node.stash[_PAGE]
        context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On a failing test with a page, screenshot the page and name the file in the failure report."""
    report = yield
    entry = item.stash.get(_PAGE, None)
    if entry is not None and report.failed and report.when in ("setup", "call"):
        shown, path, errors = entry
        try:
            shown.screenshot(path=str(path), full_page=True)
            note = f"screenshot of the page at the failure: {path}"
        except Exception as exc:
            note = f"no screenshot of the page: {exc}"
        report.sections.append(("browser", "\n".join([note, *errors[-20:]])))
    return report


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def free_port() -> Callable[[], int]:
    """``free_port()``: a loopback TCP port nobody listens on (free when asked; bind it soon)."""
    return _free_port


@dataclass
class Server:
    """A server process started by ``start_server``; stdout and stderr go to ``log_path``."""

    proc: subprocess.Popen
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def output(self) -> str:
        """Everything the process printed so far (stdout and stderr interleaved)."""
        return self.log_path.read_text(errors="replace")

    def stop(self, grace_s: float = 10.0) -> None:
        """SIGTERM to the process group, SIGKILL after ``grace_s``."""
        if self.proc.poll() is None:
            _signal_group(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                _signal_group(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        _signal_group(self.proc.pid, signal.SIGKILL)  # children left behind by the leader


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _port_from_args(args: list[str]) -> int:
    for flag in ("--port", "--server-port", "--server_port"):
        if flag in args[:-1]:
            return int(args[args.index(flag) + 1])
    raise ValueError(f"start_server: pass port= (no --port in {args})")


def _answers_200(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never through a proxy
    try:
        with opener.open(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _tail(text: str, chars: int = 4000) -> str:
    return text if len(text) <= chars else "…" + text[-chars:]


def launch_server(
    args: list[str],
    log_path: Path,
    env: dict[str, str] | None = None,
    *,
    port: int | None = None,
    url_ready_timeout: float = 90.0,
    cwd: Path = REPO,
) -> Server:
    """Run ``args`` (output to ``log_path``) and return once ``http://127.0.0.1:<port>/`` answers HTTP 200.

    What ``start_server`` does, for fixtures of a wider scope: the caller stops the server (``Server.stop``).
    Fails the test with the process's output (and stops it) if it exits first or does not answer in time.
    """
    port = _port_from_args(args) if port is None else port
    full_env = {**os.environ, **HEADLESS_ENV, "PYTHONUNBUFFERED": "1", **(env or {})}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            args, cwd=cwd, env=full_env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() reaches its children too
        )  # fmt: skip
    server = Server(proc, port, log_path)
    deadline = time.monotonic() + url_ready_timeout
    while not _answers_200(server.url):
        if proc.poll() is not None:
            server.stop()
            pytest.fail(
                f"server exited with code {proc.returncode} before {server.url} answered: {args}\n"
                f"{_tail(server.output())}",
                pytrace=False,
            )
        if time.monotonic() > deadline:
            server.stop()
            pytest.fail(
                f"server did not answer HTTP 200 at {server.url} within {url_ready_timeout:g} s: {args}\n"
                f"{_tail(server.output())}",
                pytrace=False,
            )
        time.sleep(0.25)
    return server


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """``start_server(args, env=None, *, port=None, url_ready_timeout=90.0, cwd=REPO) -> Server``.

    ``args`` is the full command (``[sys.executable, "run_inspect.py", "--port", str(port), ...]``); ``env`` is added
    over ``os.environ`` and the headless defaults; ``port`` defaults to the value after ``--port`` in ``args``.
    Returns once ``http://127.0.0.1:<port>/`` answers HTTP 200; fails the test with the process's output if it
    exits first or does not answer within ``url_ready_timeout`` seconds. Every server is stopped after the test.
    """
    servers: list[Server] = []

    def start(
        args: list[str],
        env: dict[str, str] | None = None,
        *,
        port: int | None = None,
        url_ready_timeout: float = 90.0,
        cwd: Path = REPO,
    ) -> Server:
        port = _port_from_args(args) if port is None else port
        log_path = tmp_path / f"server-{len(servers)}-port{port}.log"
        server = launch_server(args, log_path, env, port=port, url_ready_timeout=url_ready_timeout, cwd=cwd)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


class TinyRun(NamedTuple):
    """A finished training run: ``runs_dir`` (use as GYMSOLVER_RUNS_DIR; ``@last`` points at it) and ``run_id``."""

    runs_dir: Path
    run_id: str

    @property
    def path(self) -> Path:
        return self.runs_dir / self.run_id

    def episodes(self) -> list[dict]:
        return [json.loads(line) for line in (self.path / "episodes.jsonl").read_text().splitlines() if line]

    def videos(self) -> list[Path]:
        return sorted((self.path / "videos").glob("*.mp4"))


TINY_RUN_ARGS = [
    "CartPole-v1:ppo", "-q", "--max-timesteps", "4096", "--seed", "0", "--video", "every_n_evals:1",
    "--set", "eval_freq=2048", "--set", "eval_episodes=2", "--set", "early_stop=false",
]  # fmt: skip


@pytest.fixture(scope="session")
def tiny_cartpole_run(tmp_path_factory: pytest.TempPathFactory) -> TinyRun:
    """A real CartPole PPO run (4096 steps, ~20 s): 2 evals of 2 episodes, each eval's first episode recorded."""
    runs_dir = tmp_path_factory.mktemp("runs")
    env = {**os.environ, **HEADLESS_ENV, "GYMSOLVER_RUNS_DIR": str(runs_dir)}
    result = subprocess.run(
        [sys.executable, "train.py", *TINY_RUN_ARGS], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        pytest.fail(f"tiny CartPole run failed ({result.returncode}):\n{_tail(result.stdout + result.stderr)}")
    run = TinyRun(runs_dir, Path(os.readlink(runs_dir / "@last")).name)
    rows = run.episodes() if (run.path / "episodes.jsonl").is_file() else []
    recorded = [row for row in rows if row.get("video_status") == "ok" and (run.path / row["video"]).is_file()]
    problems = [
        *([] if (run.path / "checkpoints" / "best").is_dir() else ["no checkpoints/best"]),
        *([] if rows else ["no rows in episodes.jsonl"]),
        *([] if run.videos() and recorded else ["no mp4 under videos/ with an 'ok' row"]),
    ]
    if problems:
        pytest.fail(f"tiny CartPole run {run.path}: {', '.join(problems)}\n{_tail(result.stdout + result.stderr)}")
    return run
