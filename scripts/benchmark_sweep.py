"""``scripts/sweep.py --parallel K`` against the same sweep run one trial at a time, in the same session.

    python scripts/benchmark_sweep.py                       # cartpole_ppo_grid.yaml, --parallel 2 vs 1, 2 pairs
    python scripts/benchmark_sweep.py --parallel 2 --pairs 3 --spec config/sweeps/cartpole_ppo_grid.yaml

Each pair runs the whole sweep both ways (order alternating, fresh runs folder each time, video and W&B off);
training is seeded, so both do the same work. Prints each wall time and the median speed-up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_sweep(spec: str, parallel: int) -> float:
    """Wall seconds of one whole sweep."""
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "GYMSOLVER_RUNS_DIR": str(Path(folder) / "runs"), "WANDB_MODE": "offline"}
        command = [sys.executable, str(REPO / "scripts" / "sweep.py"), spec, "--parallel", str(parallel)]
        command += ["--set", "video=off", "--set", "wandb=off"]
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    """Alternate sequential and parallel sweeps; print the times and the median speed-up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default=str(REPO / "config" / "sweeps" / "cartpole_ppo_grid.yaml"))
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--pairs", type=int, default=2)
    args = parser.parse_args(argv)
    ratios = []
    for pair in range(args.pairs):
        order = (1, args.parallel) if pair % 2 == 0 else (args.parallel, 1)
        times = {parallel: run_sweep(args.spec, parallel) for parallel in order}
        ratios.append(times[1] / times[args.parallel])
        print(
            f"pair {pair + 1}: one at a time {times[1]:.1f} s, --parallel {args.parallel} {times[args.parallel]:.1f} s,"
            f" speed-up {ratios[-1]:.2f}x",
            flush=True,
        )
    print(f"median speed-up of --parallel {args.parallel}: {statistics.median(ratios):.2f}x on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
