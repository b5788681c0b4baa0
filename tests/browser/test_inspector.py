"""run_inspect.py in Chromium, on a real tiny CartPole run: what the page shows equals what the data layer says.

One inspector server serves the whole module (started once: Gradio's import and launch take ~10 s); every test
opens its own page. The expected values come from ``inspector.views.step_view`` over ``inspector.episode.roll_out``
computed in this process for the same run, checkpoint, seed and action mode.

``GYMSOLVER_UPDATE_SCREENSHOT=1`` also writes the Episode tab's screenshot to ``docs/inspector.png``.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from inspector import views

from .conftest import REPO, VIEWPORT, Server, TinyRun, _free_port, launch_server

if TYPE_CHECKING:
    from inspector.episode import Episode

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHECKPOINT = "last"
STEP = 7  # the step the value test moves the slider to (the last step if the episode is shorter)
TIMEOUT_MS = 60_000  # a roll-out of the tiny run takes ~1-2 s; generous for a loaded machine
DOCS_SCREENSHOT = REPO / "docs" / "inspector.png"
FIELDS = {  # textbox elem_id -> StepView attribute
    "action": "action",
    "prob": "probability",
    "entropy": "entropy",
    "value": "value",
    "reward": "reward",
    "return": "cumulative_return",
    "return-to-go": "return_to_go",
    "advantage": "advantage",
    "ending": "ending",
}


@pytest.fixture(scope="module")
def inspector(tiny_cartpole_run: TinyRun, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``run_inspect.py --run-id @last`` on the tiny run, shared by this module's tests."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("inspector") / f"run_inspect-port{port}.log"
    server = launch_server(
        [sys.executable, "run_inspect.py", "--run-id", "@last", "--port", str(port)],
        log_path,
        {"GYMSOLVER_RUNS_DIR": str(tiny_cartpole_run.runs_dir)},
        url_ready_timeout=180.0,
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def seed(tiny_cartpole_run: TinyRun) -> int:
    """An evaluation seed of the run: the last row of ``episodes.jsonl``."""
    return int(tiny_cartpole_run.episodes()[-1]["seed"])


@pytest.fixture(scope="module")
def expected_episode(tiny_cartpole_run: TinyRun, seed: int) -> Episode:
    """The data layer's episode for the checkpoint, seed and mode the page rolls out."""
    from agents.loading import load_trained_policy
    from inspector.episode import roll_out
    from utils.run_reader import open_run

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SDL_VIDEODRIVER", "dummy")
        run = open_run(tiny_cartpole_run.run_id, tiny_cartpole_run.runs_dir)
        return roll_out(load_trained_policy(run, CHECKPOINT), seed, deterministic=True)


def open_inspector(page: Page, server: Server) -> None:
    """Open the page and wait until the run is loaded (its checkpoints are in the picker)."""
    page.goto(server.url, wait_until="domcontentloaded")  # "networkidle" never comes with Gradio
    page.wait_for_selector("#rollout")
    expect(page.locator("#checkpoint input[role=combobox]")).to_have_value(re.compile(r"^best \("), timeout=TIMEOUT_MS)


def roll_out_in_page(page: Page, seed: int, episode: Episode) -> None:
    """Pick checkpoint ``last`` in the dropdown, type the seed, choose deterministic actions and click Roll out."""
    combobox = page.locator("#checkpoint input[role=combobox]")
    combobox.click()
    page.get_by_role("option", name=re.compile(rf"^{CHECKPOINT} \(")).click()
    expect(combobox).to_have_value(re.compile(rf"^{CHECKPOINT} \("))
    page.fill("#seed input", str(seed))
    page.locator("#mode input[value=deterministic]").check()
    page.click("#rollout")
    summary = (
        f"checkpoint {episode.checkpoint}, seed {seed} (deterministic): "
        f"return {views.number(episode.episode_return)} in {len(episode)} steps"
    )
    expect(page.locator("#episode-summary")).to_contain_text(summary, timeout=TIMEOUT_MS)


def go_to_step(page: Page, episode: Episode, step: int) -> views.StepView:
    """Type ``step`` into the slider's number box; return the expected view once the page shows that step."""
    view = views.step_view(episode, step)
    page.fill("#step input[type=number]", str(step))
    expect(page.locator("#step-title")).to_have_text(view.title, timeout=TIMEOUT_MS)
    return view


def wait_for_pictures(page: Page) -> None:
    """Wait until the frame and the episode plot are decoded and the distribution chart is drawn."""
    for selector in ("#frame img", "#episode-plot img"):
        page.wait_for_function("e => e.complete && e.naturalWidth > 0", arg=page.locator(selector).element_handle())
    page.wait_for_selector("#distribution canvas, #distribution svg")


def test_prints_its_url(inspector: Server) -> None:
    line = f"inspector: http://127.0.0.1:{inspector.port}/"
    deadline = time.monotonic() + 10  # the line follows launch(), which returns as the URL starts answering
    while line not in inspector.output() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert line in inspector.output()


def test_step_values_equal_the_data_layer(page: Page, inspector: Server, seed: int, expected_episode: Episode) -> None:
    open_inspector(page, inspector)
    roll_out_in_page(page, seed, expected_episode)
    step = min(STEP, len(expected_episode) - 1)
    view = go_to_step(page, expected_episode, step)
    assert f"step {step} " in view.title
    for elem_id, attribute in FIELDS.items():
        expect(page.locator(f"#{elem_id} textarea")).to_have_value(getattr(view, attribute))
    expect(page.locator("#step input[type=number]")).to_have_value(str(step))


def test_evaluation_video_plays_and_its_replay_has_the_recorded_return(
    page: Page, inspector: Server, tiny_cartpole_run: TinyRun
) -> None:
    rows = tiny_cartpole_run.episodes()
    index = max(i for i, row in enumerate(rows) if row.get("video_status") == "ok")  # not row 0, the default
    row = rows[index]
    open_inspector(page, inspector)
    page.get_by_role("tab", name="Evaluations").click()
    page.fill("#eval-row input", str(index))

    page.click("#show-video")
    expect(page.locator("#eval-note")).to_contain_text(f"row {index}: seed {row['seed']}")
    video = page.locator("#eval-video video")
    expect(video).to_have_attribute("src", re.compile(r"\.mp4$"))
    response = page.request.get(video.evaluate("v => v.src"))  # the absolute URL
    assert response.status == 200
    assert response.body() == (tiny_cartpole_run.path / row["video"]).read_bytes()
    page.wait_for_function("v => v.readyState >= 1", arg=video.element_handle())
    assert video.evaluate("v => v.duration") > 0

    page.click("#replay")
    recorded = views.number(float(row["return"]))
    expect(page.locator("#eval-note")).to_contain_text(
        f"Recorded return {recorded}, replayed return {recorded} (equal)", timeout=TIMEOUT_MS
    )
    expect(page.locator("#episode-summary")).to_contain_text(f"seed {row['seed']} (")


def test_an_error_is_one_line_in_the_page_and_the_server_survives(
    page: Page, inspector: Server, tiny_cartpole_run: TinyRun
) -> None:
    open_inspector(page, inspector)
    page.get_by_role("tab", name="Evaluations").click()
    page.fill("#eval-row input", "999")
    page.click("#replay")
    toast = page.get_by_test_id("toast-text")
    expect(toast).to_contain_text("row 999 does not exist", timeout=TIMEOUT_MS)
    assert "\n" not in toast.inner_text().strip()
    assert "Traceback" not in page.inner_text("body")
    assert "Traceback" not in inspector.output()  # the server's terminal gets one line too
    assert "inspector: row 999 does not exist" in inspector.output()

    rows = tiny_cartpole_run.episodes()
    page.fill("#eval-row input", str(len(rows) - 1))  # a later action still works
    page.click("#show-video")
    expect(page.locator("#eval-note")).to_contain_text(f"row {len(rows) - 1}: ")
    assert inspector.proc.poll() is None


def test_screenshot_of_the_episode_tab(
    page: Page, inspector: Server, seed: int, expected_episode: Episode, tmp_path: Path
) -> None:
    open_inspector(page, inspector)
    roll_out_in_page(page, seed, expected_episode)
    go_to_step(page, expected_episode, len(expected_episode) // 3)  # the plot's marker away from the edges
    wait_for_pictures(page)
    shot = tmp_path / "inspector.png"
    page.screenshot(path=str(shot), full_page=True)
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(png[16:20], "big") == VIEWPORT["width"]  # IHDR width
    if os.environ.get("GYMSOLVER_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(shot, DOCS_SCREENSHOT)
