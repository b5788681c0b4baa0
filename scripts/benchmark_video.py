"""Cost of eval video capture: train the same config with video on and off, alternating A B A B.

    python scripts/benchmark_video.py                          # CartPole-v1:ppo, 3 pairs
    python scripts/benchmark_video.py --config CartPole-v1:ppo --pairs 5 --video every_n_evals:1

Each pair trains the same seed twice (video as given, then video off) in separate subprocesses so
neither run pays the other's imports, and reports the wall time of the whole ``train.py`` command,
its training time (``train_seconds`` from the run's last checkpoint) and their ratios on/off, and how
long the 'on' run waited after training for its last videos (from its ``logs/train.log``): on a noisy
shared machine that wait is the steadier measure of what video adds to the command.
Training is bit-identical in both runs (same seed and weights), so the difference is the video cost.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from utils.run_reader import open_run, read_summary

REPO = Path(__file__).resolve().parents[1]
WAITED = re.compile(r"waited ([0-9.]+) s for the last eval videos")  # logged by training/launch.py


def timed_run(config_id: str, video: str, seed: int, runs: Path, extra: list[str]) -> tuple[float, float, int, float]:
    """Wall seconds of one train.py run, its train_seconds, its timesteps and its wait for the last videos."""
    env = {**os.environ, "GYMSOLVER_RUNS_DIR": str(runs), "SDL_VIDEODRIVER": "dummy", "WANDB_MODE": "offline"}
    command = [sys.executable, "train.py", config_id, "-q", "--seed", str(seed), "--video", video, *extra]
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - started
    run = open_run("@last", runs)
    summary = read_summary(run) or {}
    waits = WAITED.findall((run.logs / "train.log").read_text())
    return wall, float(summary["train_seconds"]), int(summary["timesteps"]), float(waits[-1]) if waits else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="CartPole-v1:ppo", help="<env>:<variant> (default CartPole-v1:ppo)")
    parser.add_argument("--pairs", type=int, default=3, help="A/B pairs to run (default 3)")
    parser.add_argument("--video", default="best", help="video mode of the 'on' runs (default best)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every run (default 0)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="config override for both runs, e.g. --set early_stop=false (repeatable)")  # fmt: skip
    args = parser.parse_args()

    wall_ratios, train_ratios, waits = [], [], []
    with tempfile.TemporaryDirectory() as temp:
        print(
            "pair | steps | wall on s | wall off s | wall ratio | train on s | train off s | train ratio | video wait s"
        )
        for pair in range(args.pairs):
            extra = [item for override in args.overrides for item in ("--set", override)]
            on = timed_run(args.config, args.video, args.seed, Path(temp) / f"on{pair}", extra)
            off = timed_run(args.config, "off", args.seed, Path(temp) / f"off{pair}", extra)
            wall_ratios.append(on[0] / off[0])
            train_ratios.append(on[1] / off[1])
            waits.append(on[3])
            print(f"{pair} | {on[2]:,} | {on[0]:.2f} | {off[0]:.2f} | {wall_ratios[-1]:.3f} | "
                  f"{on[1]:.2f} | {off[1]:.2f} | {train_ratios[-1]:.3f} | {on[3]:.2f}", flush=True)  # fmt: skip
    print(f"median wall-time ratio (video {args.video} / off): {statistics.median(wall_ratios):.3f}")
    print(f"median training-time ratio (video {args.video} / off): {statistics.median(train_ratios):.3f}")
    print(f"median wait after training for the last videos: {statistics.median(waits):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
