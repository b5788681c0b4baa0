"""Kill training at random moments and check that resuming always ends where an unkilled run ends.

    python scripts/fault_injection.py --kills 50

First one run trains straight through (the reference). Then runs of the same config are started, killed
at a random moment with SIGKILL or SIGTERM (chosen at random), and resumed with ``--resume`` until they
finish; this repeats until ``--kills`` kills have landed. Every finished run is checked against the
reference: the same final step count, ``metrics.csv`` with each epoch exactly once and in order,
``episodes.jsonl`` with each evaluation exactly once at the same steps, no temp leftovers, and (CartPole
with sync vectorization resumes exactly) the same final weights. A SIGTERM must exit 143 (or 0 if the run
had just finished) without a traceback, unless it lands while Python itself is still starting (before
train.py installs its handler), where the default action ends the process (status -15) before it has written
anything; those are counted apart. Exit status 0 when every check held, 1 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from utils.run_reader import read_episodes, read_metrics
from utils.runs import RunDir

REPO = Path(__file__).resolve().parents[1]
SETTINGS = ["--video", "off", "--set", "vectorization_mode=sync", "--set", "early_stop=false",
            "--set", "eval_freq=1024", "--set", "eval_episodes=4", "--set", "checkpoint_freq=512"]  # fmt: skip


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Kill training at random moments; check every resume ends right.")
    parser.add_argument("--kills", type=int, default=20, help="kills to inject in all (default 20)")
    parser.add_argument("--config", default="CartPole-v1:ppo", help="<env>:<variant> to train (default CartPole)")
    parser.add_argument("--steps", type=int, default=16384, help="max_timesteps of each run (default 16384)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill schedule and of training")
    parser.add_argument("--runs-dir", help="where runs go (default: a temp folder, deleted afterwards)")
    return parser.parse_args(argv)


class Runs:
    """Starts train.py processes on one runs folder."""

    def __init__(self, root: Path, config: str, steps: int, seed: int) -> None:
        self.root = root
        self.env = {**os.environ, "GYMSOLVER_RUNS_DIR": str(root), "SDL_VIDEODRIVER": "dummy"}
        self.new_args = [config, "-q", "--seed", str(seed), "--max-timesteps", str(steps), *SETTINGS]

    def start(self, run_id: str | None) -> subprocess.Popen:
        args = ["--resume", run_id, "-q"] if run_id else self.new_args
        return subprocess.Popen([sys.executable, str(REPO / "train.py"), *args], cwd=REPO, env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip

    def newest(self) -> str | None:
        link = self.root / "@last"
        return os.readlink(link) if link.is_symlink() else None

    def ids(self) -> set[str]:
        """Run directories that exist now."""
        return (
            {p.name for p in self.root.iterdir() if p.is_dir() and not p.is_symlink()} if self.root.is_dir() else set()
        )


def summary(run: Path) -> dict:
    """What a finished run must agree on with the reference."""
    epochs = [int(epoch) for epoch in read_metrics(RunDir(run)).get("train/cnt/epoch", [])]
    rows = read_episodes(RunDir(run))
    last = run / "checkpoints" / "last"
    state = json.loads((last / "state.json").read_text())
    return {
        "timesteps": state["timesteps"],
        "epochs": epochs,
        "evals": [(row["eval"], row["episode"], row["timesteps"]) for row in rows],
        "weights": hashlib.sha256((last / "policy.safetensors").read_bytes()).hexdigest(),
        "leftovers": sorted(p.name for p in (run / "checkpoints").iterdir() if p.name.startswith(".tmp-")),
    }


def compare(run_id: str, got: dict, want: dict) -> list[str]:
    """Every way ``got`` differs from the reference."""
    problems = []
    if got["timesteps"] != want["timesteps"]:
        problems.append(f"{run_id}: ended at {got['timesteps']} steps, the reference at {want['timesteps']}")
    if got["epochs"] != list(range(1, len(got["epochs"]) + 1)) or got["epochs"] != want["epochs"]:
        problems.append(f"{run_id}: metrics.csv epochs are not 1..{len(want['epochs'])} once each")
    if got["evals"] != want["evals"]:
        problems.append(f"{run_id}: episodes.jsonl evaluations differ from the reference's")
    if got["weights"] != want["weights"]:
        problems.append(f"{run_id}: final weights differ from the reference's")
    if got["leftovers"]:
        problems.append(f"{run_id}: temp leftovers in checkpoints/: {got['leftovers']}")
    return problems


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rng = random.Random(args.seed)
    root = Path(args.runs_dir) if args.runs_dir else Path(tempfile.mkdtemp(prefix="fault-injection-")) / "runs"
    runs = Runs(root, args.config, args.steps, args.seed)
    started = time.monotonic()
    reference = runs.start(None)
    _, stderr = reference.communicate()
    if reference.returncode != 0:
        print(f"reference run failed:\n{stderr[-2000:]}", file=sys.stderr)
        return 1
    reference_wall = time.monotonic() - started
    reference_id = runs.newest()
    if reference_id is None:
        print(f"reference run left no @last link in {root}", file=sys.stderr)
        return 1
    want = summary(root / reference_id)
    print(f"reference: {want['timesteps']} steps, {len(want['epochs'])} epochs in {reference_wall:.1f} s")

    kills = {signal.SIGKILL: 0, signal.SIGTERM: 0}
    problems: list[str] = []
    finished = 0
    startup_kills = 0
    while sum(kills.values()) < args.kills:
        run_id = None
        while True:
            known = runs.ids()
            process = runs.start(run_id)
            time.sleep(rng.uniform(0.3, 1.2 * reference_wall))
            if process.poll() is None:
                signum = rng.choice([signal.SIGKILL, signal.SIGTERM])
                process.send_signal(signum)
                kills[signum] += 1
            else:
                signum = None
            _, stderr = process.communicate()
            if run_id is None:
                run_id = next(iter(runs.ids() - known), None)  # None: killed before it made its directory
            if signum == signal.SIGTERM and process.returncode == -signal.SIGTERM and not stderr.strip():
                startup_kills += 1  # landed while Python was still starting, before train.py set its handler
            elif signum == signal.SIGTERM and (process.returncode not in (0, 143) or "Traceback" in stderr):
                problems.append(f"{run_id}: SIGTERM gave exit {process.returncode}: {stderr.strip()[-300:]}")
            if process.returncode == 2 and "no checkpoint yet" in stderr and run_id:
                shutil.rmtree(root / run_id)  # killed before its first update: nothing to resume, start again
                run_id = None
                continue
            if process.returncode not in (0, 143, -signal.SIGKILL, -signal.SIGTERM):
                problems.append(f"{run_id}: exit {process.returncode}: {stderr.strip()[-300:]}")
                break
            if process.returncode == 0 and signum is None and run_id is not None:
                break
            if run_id is not None and (root / run_id / "checkpoints" / "last").exists():
                state = json.loads((root / run_id / "checkpoints" / "last" / "state.json").read_text())
                if state["timesteps"] >= args.steps:
                    break  # finished just as the kill landed
        if run_id is None:
            continue
        finished += 1
        problems += compare(run_id, summary(root / run_id), want)
        total = sum(kills.values())
        print(f"run {finished}: {run_id} checked after {total} kills so far ({len(problems)} problems)", flush=True)

    total = sum(kills.values())
    print(f"{total} kills ({kills[signal.SIGKILL]} SIGKILL, {kills[signal.SIGTERM]} SIGTERM, {startup_kills} of "
          f"them during interpreter startup) over {finished} runs, {len(problems)} problems, "
          f"{time.monotonic() - started:.0f} s")  # fmt: skip
    for problem in problems:
        print(f"problem: {problem}")
    if not args.runs_dir:
        shutil.rmtree(root.parent, ignore_errors=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
