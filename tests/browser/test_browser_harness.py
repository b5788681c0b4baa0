"""The browser harness, proved on a minimal Gradio 6 app: Textbox, Video, Slider and Dropdown driven from Chromium."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import gymnasium as gym
import pytest
from playwright.sync_api import Page, expect

if TYPE_CHECKING:
    from .conftest import Server, TinyRun

FILLED = "filled by the harness"

APP = '''
"""Minimal Gradio app for the browser-harness test."""
import argparse
from pathlib import Path

import gradio as gr

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--video", required=True)
args = parser.parse_args()


def describe(step, choice):
    return f"slider={step:g} choice={choice}"


with gr.Blocks(title="harness") as demo:
    fill = gr.Button("Fill", elem_id="fill")
    text = gr.Textbox(label="Text", elem_id="text")
    video = gr.Video(value=args.video, label="Video", elem_id="video", autoplay=False)
    slider = gr.Slider(0, 100, value=10, step=1, label="Step", elem_id="slider")
    choice = gr.Dropdown(choices=[("Label A", "a"), ("Label B", "b"), ("Label C", "c")], value="a", label="Pick",
                         elem_id="choice")
    echo = gr.Textbox(label="Echo", elem_id="echo")
    released = gr.Textbox(label="Released", elem_id="released")
    fill.click(lambda: FILLED, None, text)
    slider.change(describe, [slider, choice], echo)
    slider.release(lambda step: f"released={step:g}", slider, released)
    choice.input(describe, [slider, choice], echo)

demo.launch(server_name="127.0.0.1", server_port=args.port, allowed_paths=[str(Path(args.video).parent)])
'''.replace("FILLED", repr(FILLED))


def start_app(tmp_path: Path, start_server: Callable[..., Server], port: int, video: Path) -> Server:
    script = tmp_path / "harness_app.py"
    script.write_text(APP)
    return start_server([sys.executable, str(script), "--port", str(port), "--video", str(video)])


def open_app(page: Page, server: Server) -> None:
    page.goto(server.url, wait_until="domcontentloaded")  # "networkidle" never comes with Gradio
    for elem_id in ("fill", "text", "video", "slider", "choice", "echo", "released"):
        page.wait_for_selector(f"#{elem_id}")


@pytest.mark.browser
@pytest.mark.slow
def test_button_fills_a_textbox_and_the_runs_video_plays(
    page: Page, start_server: Callable[..., Server], free_port: Callable[[], int], tiny_cartpole_run: TinyRun,
    tmp_path: Path,
) -> None:  # fmt: skip
    row = next(row for row in tiny_cartpole_run.episodes() if row.get("video_status") == "ok")
    mp4 = tiny_cartpole_run.path / row["video"]
    port = free_port()
    server = start_app(tmp_path, start_server, port, mp4)
    assert f"http://127.0.0.1:{port}" in server.output()  # the printed URL
    open_app(page, server)

    text = page.locator("#text textarea")  # a Textbox's value lives in its textarea's value property
    expect(text).to_have_value("")
    page.click("#fill")
    expect(text).to_have_value(FILLED)

    video = page.locator("#video video")
    expect(video).to_have_attribute("src", re.compile(r"/gradio_api/file=.+\.mp4$"))
    response = page.request.get(video.get_attribute("src") or "")
    assert response.status == 200 and response.headers["content-type"] == "video/mp4"
    assert response.body() == mp4.read_bytes()  # Gradio serves a cached copy of the run's file
    page.wait_for_function("v => v.readyState >= 1 && v.duration > 0", arg=video.element_handle())
    duration, width, height = page.evaluate("v => [v.duration, v.videoWidth, v.videoHeight]", video.element_handle())
    fps = gym.make("CartPole-v1").metadata["render_fps"]
    assert duration == pytest.approx(row["frames"] / fps, abs=0.05)  # Chromium decoded this H.264 file
    assert (width, height) == (600, 400)

    shot = tmp_path / "harness.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.browser
@pytest.mark.slow
def test_slider_and_dropdown_are_read_and_set_like_a_user(
    page: Page, start_server: Callable[..., Server], free_port: Callable[[], int], tiny_cartpole_run: TinyRun,
    tmp_path: Path,
) -> None:  # fmt: skip
    server = start_app(tmp_path, start_server, free_port(), tiny_cartpole_run.videos()[0])
    open_app(page, server)
    echo, released = page.locator("#echo textarea"), page.locator("#released textarea")

    # Slider: a number box and a range input, both holding the value.
    number, slider_range = page.locator("#slider input[type=number]"), page.locator("#slider input[type=range]")
    expect(number).to_have_value("10")
    expect(slider_range).to_have_value("10")
    number.fill("42")  # typing fires .change ...
    expect(echo).to_have_value("slider=42 choice=a")
    expect(slider_range).to_have_value("42")
    expect(released).to_have_value("")
    number.press("Tab")  # ... leaving the box fires .release
    expect(released).to_have_value("released=42")
    slider_range.fill("77")  # setting the range input fires .change only
    expect(echo).to_have_value("slider=77 choice=a")
    expect(number).to_have_value("77")

    # Dropdown: the combobox shows the label; options are role=option named by their labels.
    combobox = page.locator("#choice input[role=combobox]")
    expect(combobox).to_have_value("Label A")
    combobox.click()
    expect(page.get_by_role("option")).to_have_count(3)
    page.get_by_role("option", name="Label C").click()
    expect(echo).to_have_value("slider=77 choice=c")  # the handler got the value, not the label
    expect(combobox).to_have_value("Label C")


def test_start_server_fails_with_the_output_when_the_process_exits_early(
    start_server: Callable[..., Server], free_port: Callable[[], int]
) -> None:
    with pytest.raises(pytest.fail.Exception, match="exited with code 3") as failure:
        start_server([sys.executable, "-c", "print('cannot start: boom'); raise SystemExit(3)"], port=free_port())
    assert "cannot start: boom" in str(failure.value)


def test_start_server_fails_with_the_output_when_the_url_never_answers(
    start_server: Callable[..., Server], free_port: Callable[[], int]
) -> None:
    code = "import time; print('still importing', flush=True); time.sleep(60)"
    with pytest.raises(pytest.fail.Exception, match="did not answer HTTP 200") as failure:
        start_server([sys.executable, "-c", code], port=free_port(), url_ready_timeout=2)
    assert "still importing" in str(failure.value)
