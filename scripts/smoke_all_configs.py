"""Train every shipped config briefly through train.py and report PASS/FAIL for each.

    python scripts/smoke_all_configs.py                      # every config, 128 steps each
    python scripts/smoke_all_configs.py --timesteps 64
    python scripts/smoke_all_configs.py --filter CartPole --limit 3

Each config runs in its own subprocess with small rollouts (2 envs x 32 steps, one epoch), one short
evaluation episode, no video, and runs written to a temporary directory. Exit status 1 if any fails.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SMOKE_OVERRIDES = {
    "n_envs": 2,
    "n_steps": 32,
    "batch_size": 1.0,
    "n_epochs": 1,
    "eval_episodes": 1,
    "eval_freq": 0,
    "max_episode_steps": 100,
    "video": "off",
}


def smoke(config_id: str, timesteps: int, runs: Path) -> tuple[bool, float, str]:
    """Train one config briefly; (passed, seconds, last error line)."""
    command = [sys.executable, str(REPO / "train.py"), config_id, "-q", "--max-timesteps", str(timesteps)]
    for key, value in SMOKE_OVERRIDES.items():
        command += ["--set", f"{key}={value}"]
    env = {**os.environ, "GYMSOLVER_RUNS_DIR": str(runs), "SDL_VIDEODRIVER": "dummy", "WANDB_MODE": "offline"}
    started = time.perf_counter()
    result = subprocess.run(command, cwd=runs.parent, env=env, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - started
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    return result.returncode == 0, seconds, (lines[-1] if lines else "")


def main() -> int:
    from utils.config_files import list_config_ids

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timesteps", type=int, default=128, help="env steps per config (default 128)")
    parser.add_argument("--filter", default="", help="only configs whose id, env_id or description contains this")
    parser.add_argument("--limit", type=int, help="at most this many configs")
    args = parser.parse_args()

    config_ids = [config_id for config_id, _ in list_config_ids(args.filter)][: args.limit]
    if not config_ids:
        print(f"no config matches {args.filter!r}; see python train.py --list-envs")
        return 1
    failures = []
    with tempfile.TemporaryDirectory() as temp:
        scratch = Path(temp) / "work"
        scratch.mkdir()
        skipped = []
        for config_id in config_ids:
            passed, seconds, error = smoke(config_id, args.timesteps, scratch / "runs")
            # a user-supplied ROM or an optional extra that is not installed: not a failure of ours
            if not passed and ("has no ROM" in error or "an optional extra" in error):
                skipped.append(config_id)
                print(f"- SKIP  {config_id:34} {seconds:6.1f} s  {error}", flush=True)
                continue
            mark = "✓ PASS" if passed else "✗ FAIL"
            print(f"{mark}  {config_id:34} {seconds:6.1f} s" + ("" if passed else f"  {error}"), flush=True)
            if not passed:
                failures.append(config_id)
    ran = len(config_ids) - len(skipped)
    print(f"\n{ran - len(failures)}/{ran} configs passed" + (f"; failed: {', '.join(failures)}" if failures else "")
          + (f"; skipped (ROM or optional extra missing): {', '.join(skipped)}" if skipped else ""))  # fmt: skip
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
