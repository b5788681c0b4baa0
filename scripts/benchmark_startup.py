"""Time how fast train.py answers and how fast it starts learning.

    python scripts/benchmark_startup.py --reps 5

Measures the median over --reps fresh processes of: `train.py --help`, `train.py --list-envs`, and launch ->
first completed rollout of `train.py CartPole-v1:ppo -q --video off` (the new run's metrics.csv gets its
first data row; polled every 10 ms, then the process is killed). Targets: --help < 1 s, first rollout <= 2 s.
It also times `python -c "import os, torch; os._exit(0)"`: the floor under any run, and a gauge of how fast
the host is that day (the same script gave 3.9 s for the first rollout on an evening when --help took 0.09 s,
6.7 s on a morning when it took 0.18 s).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POLL_SECONDS = 0.01
FIRST_ROLLOUT_TIMEOUT = 120.0


def child_env(runs_dir: Path) -> dict[str, str]:
    """Environment for a child: headless, offline, runs in a scratch directory."""
    return {**os.environ, "SDL_VIDEODRIVER": "dummy", "WANDB_MODE": "offline", "GYMSOLVER_RUNS_DIR": str(runs_dir)}


def time_command(args: list[str]) -> float:
    """Seconds for `python train.py <args>` to run to completion."""
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "train.py", *args], cwd=ROOT, env=child_env(Path(tmp)), capture_output=True
        )
        elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"train.py {' '.join(args)} failed (exit {done.returncode}): {done.stderr.decode()[-2000:]}")
    return elapsed


def time_torch_import() -> float:
    """Seconds for a fresh interpreter to import torch and exit at once (no teardown, as train.py exits)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import os, torch; os._exit(0)"], cwd=ROOT, check=True)
    return time.perf_counter() - started


def has_data_row(runs_dir: Path) -> bool:
    """Whether any run under runs_dir has a metrics.csv with a complete first data row."""
    return any(m.read_bytes().count(b"\n") >= 2 for m in runs_dir.glob("*/metrics.csv"))


def time_first_rollout() -> float:
    """Seconds from launching a CartPole PPO run to its first metrics.csv data row."""
    cmd = [sys.executable, "train.py", "CartPole-v1:ppo", "-q", "--video", "off"]
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        runs_dir = Path(tmp)
        started = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=child_env(runs_dir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            while not has_data_row(runs_dir):
                if proc.poll() is not None:
                    raise SystemExit(f"train.py exited (code {proc.returncode}) before writing a metrics row")
                if time.perf_counter() - started > FIRST_ROLLOUT_TIMEOUT:
                    raise SystemExit(f"no metrics row after {FIRST_ROLLOUT_TIMEOUT:.0f} s")
                time.sleep(POLL_SECONDS)
            elapsed = time.perf_counter() - started
        finally:
            proc.kill()
            proc.wait()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="fresh processes per measurement (default 5)")
    args = parser.parse_args()

    cases: list[tuple[str, Callable[[], float], float]] = [
        ("train.py --help", lambda: time_command(["--help"]), 1.0),
        ("train.py --list-envs", lambda: time_command(["--list-envs"]), float("nan")),
        ("import torch, then os._exit (the floor)", time_torch_import, float("nan")),
        ("launch -> first rollout (CartPole-v1:ppo)", time_first_rollout, 2.0),
    ]
    print("| measurement | median s | min s | max s | target | met |")
    print("|---|---|---|---|---|---|")
    for name, measure, target in cases:
        samples = [measure() for _ in range(args.reps)]
        median = statistics.median(samples)
        has_target = target == target
        target_cell = f"<= {target:g} s" if has_target else "-"
        met = ("yes" if median <= target else "no") if has_target else "-"
        print(
            f"| {name} | {median:.2f} | {min(samples):.2f} | {max(samples):.2f} | {target_cell} | {met} |", flush=True
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
