"""Latency of the run inspector (run_inspect.py) in a real browser: roll-out click to first frame, slider steps.

    python scripts/benchmark_inspector.py                      # trains both runs in a temporary folder first
    python scripts/benchmark_inspector.py --cartpole-run runs/20261130-025129-9b94 --only cartpole
    python scripts/benchmark_inspector.py --rollouts 5 --steps 20 --keep

Cases (each trained with train.py into a temporary GYMSOLVER_RUNS_DIR unless its run directory is given):
- cartpole: ``CartPole-v1:ppo -q --video off``, trained until solved (~10-30k steps): 500-step episodes.
- pong: ``ALE-Pong-v5:ppo -q --max-timesteps 1024 --video off --set eval_freq=1024 --set eval_episodes=1
  --set max_episode_steps=2000``: a barely trained agent that loses 0-21, a long episode (~760 agent steps);
  the game ends before the 2000-agent-step limit.

For each case the script starts run_inspect.py on the run, opens it in Debian's Chromium (/usr/bin/chromium,
through Playwright), picks the checkpoint of the longest evaluation episode with the dropdown, then measures:
- roll-out: from the click on Roll out until ``#episode-summary`` shows the new episode and ``#frame img`` holds
  its step-0 frame, decoded (median over ``--rollouts`` roll-outs, one seed each: the checkpoint's evaluation
  seeds first). "server" is the roll-out time the page itself reports (``inspector.episode.roll_out``).
- slider: from typing a step into the slider's number box until ``#step-title`` shows that step, and until the
  new frame is decoded (median over ``--steps`` steps spread over the episode, in shuffled order).
The policy is loaded when the checkpoint is picked, before any timing. Wall-clock times on this machine:
background load inflates them (the load average is printed with the table).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
HEADLESS_ENV = {"SDL_VIDEODRIVER": "dummy", "WANDB_MODE": "offline", "GRADIO_ANALYTICS_ENABLED": "False"}
TRAIN_ARGS = {
    "cartpole": ["CartPole-v1:ppo", "-q", "--video", "off"],
    "pong": [
        "ALE-Pong-v5:ppo", "-q", "--max-timesteps", "1024", "--video", "off", "--set", "eval_freq=1024",
        "--set", "eval_episodes=1", "--set", "max_episode_steps=2000",
    ],
}  # fmt: skip
TIMEOUT_MS = 300_000
ROLLED_OUT = """([before, seed, oldSrc]) => {
    const summary = document.querySelector('#episode-summary');
    const title = document.querySelector('#step-title');
    const img = document.querySelector('#frame img');
    return summary !== null && summary.innerText !== before && summary.innerText.includes(`seed ${seed} (`)
        && title !== null && title.innerText.startsWith('step 0 ')
        && img !== null && img.src !== oldSrc && img.complete && img.naturalWidth > 0;
}"""
TITLE_SHOWS = """(step) => {
    const title = document.querySelector('#step-title');
    return title !== null && title.innerText.startsWith(`step ${step} `);
}"""
FRAME_DECODED = """(oldSrc) => {
    const img = document.querySelector('#frame img');
    return img !== null && img.src !== oldSrc && img.complete && img.naturalWidth > 0;
}"""
SERVER_SECONDS = re.compile(r"rolled out in ([0-9.]+) s")
EPISODE_STEPS = re.compile(r"in ([0-9]+) steps")


@dataclass
class Result:
    case: str
    run_id: str
    checkpoint: str
    lengths: list[int]
    rollout_s: list[float]
    server_s: list[float]
    title_ms: list[float]
    frame_ms: list[float]


def train(case: str, runs_dir: Path) -> Path:
    """Train the case's run into ``runs_dir``; its run directory."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **HEADLESS_ENV, "GYMSOLVER_RUNS_DIR": str(runs_dir)}
    command = [sys.executable, "train.py", *TRAIN_ARGS[case]]
    print(f"training {case}: {' '.join(command[1:])}", flush=True)
    started = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"training {case} failed ({result.returncode}):\n{(result.stdout + result.stderr)[-3000:]}")
    run_dir = (runs_dir / "@last").resolve()
    print(f"  {run_dir} in {time.perf_counter() - started:.0f} s", flush=True)
    return run_dir


def pick_episodes(run_dir: Path, count: int) -> tuple[str, str, list[int]]:
    """The checkpoint (its name and dropdown label) of the longest evaluation episode whose checkpoint is kept,
    and ``count`` seeds: that checkpoint's evaluation seeds, longest episodes first, then following seeds."""
    from inspector.views import checkpoint_choices
    from utils.run_reader import list_checkpoints, open_run, read_episodes

    run = open_run(run_dir)
    kept = {info.timesteps: info.name for info in list_checkpoints(run)}
    rows = [row for row in read_episodes(run) if row["timesteps"] in kept]
    if not rows:
        raise SystemExit(f"{run_dir}: no evaluation episode of a kept checkpoint in episodes.jsonl")
    longest = max(rows, key=lambda row: (row["length"], row["timesteps"]))
    name = kept[longest["timesteps"]]
    label = next(label for label, value in checkpoint_choices(run) if value == name)
    same = sorted((row for row in rows if row["timesteps"] == longest["timesteps"]), key=lambda r: -r["length"])
    seeds = list(dict.fromkeys(int(row["seed"]) for row in same))
    while len(seeds) < count:
        seeds.append(seeds[-1] + 1)
    return name, label, seeds[:count]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers_200(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@contextlib.contextmanager
def inspector_server(run_dir: Path, log_path: Path) -> Iterator[str]:
    """run_inspect.py on ``run_dir``; yields its URL and stops it (its whole process group) afterwards."""
    port = free_port()
    env = {**os.environ, **HEADLESS_ENV, "PYTHONUNBUFFERED": "1", "GYMSOLVER_RUNS_DIR": str(run_dir.parent)}
    command = [sys.executable, "run_inspect.py", "--run-id", run_dir.name, "--port", str(port)]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 180
        while not answers_200(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"run_inspect.py did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.25)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def frame_src(page: Page) -> str:
    return str(page.evaluate("() => document.querySelector('#frame img')?.src ?? ''"))


def measure_case(page: Page, case: str, run_dir: Path, url: str, rollouts: int, steps: int) -> Result:
    name, label, seeds = pick_episodes(run_dir, rollouts)
    page.goto(url, wait_until="domcontentloaded")
    combobox = page.locator("#checkpoint input[role=combobox]")
    page.wait_for_function("e => e.value !== ''", arg=combobox.element_handle(), timeout=TIMEOUT_MS)  # run loaded
    combobox.click()
    page.get_by_role("option", name=re.compile(rf"^(✓\s*)?{re.escape(label)}$")).click()
    page.wait_for_function("([e, label]) => e.value === label", arg=[combobox.element_handle(), label])
    page.locator("#mode input[value=deterministic]").check()
    result = Result(case, run_dir.name, name, [], [], [], [], [])
    shuffle = random.Random(0)
    for seed in seeds:
        page.fill("#seed input", str(seed))
        before, old_src = page.inner_text("#episode-summary"), frame_src(page)
        started = time.perf_counter()
        page.click("#rollout")
        page.wait_for_function(ROLLED_OUT, arg=[before, seed, old_src], polling="raf", timeout=TIMEOUT_MS)
        result.rollout_s.append(time.perf_counter() - started)
        summary = page.inner_text("#episode-summary")
        result.server_s.append(float(SERVER_SECONDS.search(summary).group(1)))  # type: ignore[union-attr]
        length = int(EPISODE_STEPS.search(summary).group(1))  # type: ignore[union-attr]
        result.lengths.append(length)
        print(f"  {case} seed {seed}: {length} steps, click to first frame {result.rollout_s[-1]:.2f} s", flush=True)
        # Steps spread over the episode, visited in shuffled order (far apart: every frame differs), ending
        # away from step 0 so that the next roll-out's step-0 frame is a new picture.
        targets = sorted({round(i * (length - 1) / steps) for i in range(1, steps + 1)} - {0})
        shuffle.shuffle(targets)
        for step in targets:
            old_src = frame_src(page)
            started = time.perf_counter()
            page.fill("#step input[type=number]", str(step))
            page.wait_for_function(TITLE_SHOWS, arg=step, polling="raf", timeout=TIMEOUT_MS)
            result.title_ms.append((time.perf_counter() - started) * 1000)
            try:
                page.wait_for_function(FRAME_DECODED, arg=old_src, polling="raf", timeout=10_000)
                result.frame_ms.append((time.perf_counter() - started) * 1000)
            except Exception:  # the same picture as before (a static screen): no new image to wait for
                result.frame_ms.append(math.nan)
    return result


def spread(values: list[float], fmt: str) -> str:
    """Median and range of the values (NaNs left out)."""
    shown = [v for v in values if not math.isnan(v)]
    if not shown:
        return "—"
    return f"{statistics.median(shown):{fmt}} ({min(shown):{fmt}}–{max(shown):{fmt}})"


def table(results: list[Result]) -> str:
    lines = [
        "| case | checkpoint | episode steps | roll-out: click → first frame, s | of which server roll-out, s "
        "| slider: step → title, ms | step → frame decoded, ms | roll-outs / steps |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        steps = f"{min(r.lengths)}" if min(r.lengths) == max(r.lengths) else f"{min(r.lengths)}–{max(r.lengths)}"
        lines.append(
            f"| {r.case} | `{r.checkpoint}` | {steps} | {spread(r.rollout_s, '.2f')} | {spread(r.server_s, '.2f')} "
            f"| {spread(r.title_ms, '.0f')} | {spread(r.frame_ms, '.0f')} | {len(r.rollout_s)} / {len(r.title_ms)} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog=__doc__.split("\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--cartpole-run", type=Path, help="a CartPole run directory to use instead of training one")
    parser.add_argument("--pong-run", type=Path, help="an ALE Pong run directory to use instead of training one")
    parser.add_argument("--only", choices=sorted(TRAIN_ARGS), help="measure this case only (default: both)")
    parser.add_argument("--rollouts", type=int, default=3, help="roll-outs per case, one seed each (default 3)")
    parser.add_argument("--steps", type=int, default=10, help="slider steps after each roll-out (default 10)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder of trained runs and logs")
    parser.add_argument("--json", type=Path, help="also write every measurement to this JSON file")
    args = parser.parse_args()
    if not CHROMIUM.is_file():
        raise SystemExit(f"no browser at {CHROMIUM}: install it with `apt-get install chromium`")
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="benchmark-inspector-"))
    given = {"cartpole": args.cartpole_run, "pong": args.pong_run}
    cases = [args.only] if args.only else list(TRAIN_ARGS)
    load_before = os.getloadavg()
    try:
        run_dirs = {case: (given[case] or train(case, work / case)).resolve() for case in cases}
        results = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-dev-shm-usage"]
            )
            for case in cases:
                with inspector_server(run_dirs[case], work / f"inspector-{case}.log") as url:
                    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                    results.append(measure_case(page, case, run_dirs[case], url, args.rollouts, args.steps))
                    page.context.close()
            browser.close()
    finally:
        if args.keep:
            print(f"runs and logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    load_after = os.getloadavg()
    print()
    print(table(results))
    print(
        f"\nmedian (min–max). {os.cpu_count()} CPUs; load average (1 min) {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after."
    )
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in results], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
