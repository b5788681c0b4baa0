"""Train configs over several seeds and tabulate how reliably and how fast they solve.

    python scripts/benchmark_learning.py CartPole-v1:ppo CartPole-v1:reinforce --seeds 0 1 2 3 4
    python scripts/benchmark_learning.py CartPole-v1:ppo --seeds 0 1 --out docs/BENCHMARKS.md

Each run is a normal training run (its run directory is kept under runs/). The table reports, per run,
the steps trained, wall time, the best deterministic eval mean ± std over the config's eval episodes,
the threshold and whether it was reached; then a per-config solve rate.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

HEADER = "| config | seed | steps | wall s | best eval mean ± std | episodes | threshold | solved |"


def run_one(config_id: str, seed: int, max_timesteps: float | None) -> tuple[str, bool]:
    """Train one seed and return its table row and whether it solved."""
    from training.launch import train
    from utils.config import load_config
    from utils.config_files import split_config_id
    from utils.envs import reward_threshold
    from utils.metrics_csv import read_metrics_csv

    env, variant = split_config_id(config_id)
    overrides: dict[str, object] = {"seed": seed}
    if max_timesteps is not None:
        overrides["max_timesteps"] = max_timesteps
    config = load_config(env, variant, overrides)
    started = time.perf_counter()
    result = train(config, quiet=True)
    wall = time.perf_counter() - started
    evals = [r for r in read_metrics_csv(result.run.metrics_csv) if "val/roll/ep_rew/mean" in r]
    best = max(evals, key=lambda r: r["val/roll/ep_rew/mean"]) if evals else {}
    threshold = reward_threshold(config)
    mean, std = best.get("val/roll/ep_rew/mean", float("nan")), best.get("val/roll/ep_rew/std", float("nan"))
    solved = threshold is not None and mean >= threshold
    row = (
        f"| {config_id} | {seed} | {result.timesteps:,} | {wall:.1f} | {mean:.1f} ± {std:.1f} | "
        f"{config.eval_episodes} | {threshold} | {'yes' if solved else 'no'} |"
    )
    return row, solved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="+", help="<env>:<variant> ids")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], help="seeds to train (default 0 1 2)")
    parser.add_argument("--max-timesteps", type=float, help="override every config's budget")
    parser.add_argument("--out", type=Path, help="also append the table to this markdown file")
    args = parser.parse_args()

    rows, summary = [HEADER, "|---|---|---|---|---|---|---|---|"], []
    for config_id in args.configs:
        solved = 0
        for seed in args.seeds:
            row, ok = run_one(config_id, seed, args.max_timesteps)
            solved += ok
            rows.append(row)
            print(row, flush=True)
        summary.append(f"- `{config_id}`: solved {solved}/{len(args.seeds)} seeds")
    table = "\n".join([*rows, "", *summary, ""])
    print("\n" + table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("a") as handle:
            handle.write(f"\n### {time.strftime('%Y-%m-%d')}: {', '.join(args.configs)}\n\n{table}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
