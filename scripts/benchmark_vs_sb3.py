"""Benchmark this project against Stable-Baselines3 on the same task with the same hyperparameters.

    python scripts/benchmark_vs_sb3.py --workload a --reps 3
    python scripts/benchmark_vs_sb3.py --workload all --reps 3 --pong-steps 8192

Workloads: (a) CartPole-v1 PPO, zoo hyperparameters, exactly 1e5 steps, then 20 deterministic eval episodes;
(b) CartPole-v1 time to solve (first 20-episode deterministic eval >= 475, eval every 10k steps, budget 1e5);
(c) ALE Pong rgb throughput (Nature CNN, 8 envs, n_steps 128, batch 256, 4 epochs) over --pong-steps steps;
(d) LunarLander-v3 time to solve (first 20-episode deterministic eval >= 200, eval every 25k steps, budget 1e6):
our shipped LunarLander-v3:ppo against SB3 with the rl-baselines3-zoo PPO hyperparameters.

Each run is a fresh subprocess; the two sides alternate A B A B. Wall time is the whole subprocess, peak
memory is the child's ru_maxrss (os.wait4), steps/s is measured inside the run (ours: metrics.csv
train/time/sps; SB3: steps / learn() seconds). Ratios are this project / SB3. Needs the bench extra:
pip install -e '.[bench]'.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stable_baselines3 import PPO

ROOT = Path(__file__).resolve().parents[1]
CARTPOLE_STEPS = 100_000
WORKLOADS = ("a", "b", "c", "d")


@dataclass(frozen=True)
class SolveTask:
    """A time-to-solve workload: the env, the eval mean that counts as solved, how often both sides evaluate
    (20 deterministic episodes each time) and the step budget."""

    env_id: str
    threshold: float
    eval_every: int
    budget: int


SOLVE_TASKS = {
    "b": SolveTask("CartPole-v1", 475.0, 10_000, CARTPOLE_STEPS),
    "d": SolveTask("LunarLander-v3", 200.0, 25_000, 1_000_000),
}


@dataclass
class RunResult:
    """One side's measurements for one repetition."""

    wall: float
    steps: float
    sps: float
    max_rss_mib: float
    eval_mean: float
    solved: bool = True


def run_child(cmd: list[str], env: dict[str, str]) -> tuple[str, float, float, int]:
    """Run cmd to completion; return its output, wall seconds, peak RSS in MiB and exit status."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return output, wall, usage.ru_maxrss / 1024, proc.returncode


def child_env(runs_dir: Path | None = None) -> dict[str, str]:
    """Environment for a benchmark child: headless, offline, runs kept out of ./runs."""
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "WANDB_MODE": "offline"}
    if runs_dir is not None:
        env["GYMSOLVER_RUNS_DIR"] = str(runs_dir)
    return env


def read_rows(metrics_csv: Path) -> list[dict[str, float]]:
    """Rows of a metrics.csv with the non-empty cells parsed as floats."""
    from utils.metrics_csv import read_metrics_csv

    return read_metrics_csv(metrics_csv)


def run_ours(workload: str, seed: int, pong_steps: int, overrides: Sequence[str] = ()) -> RunResult:
    """Train this project in a subprocess and read its measurements from the run directory."""
    args = ["--seed", str(seed), "--video", "off", "-q"]
    if workload == "a":
        args = ["CartPole-v1:ppo_zoo", *args, "--max-timesteps", str(CARTPOLE_STEPS)]
        args += ["--set", "early_stop=false", "--set", "eval_freq=0"]
    elif workload == "b":
        args = ["CartPole-v1:ppo", *args]
    elif workload == "d":
        args = ["LunarLander-v3:ppo", *args]
    else:
        args = ["ALE-Pong-v5:ppo", *args, "--max-timesteps", str(pong_steps)]
        args += ["--set", "eval_freq=0", "--set", "eval_episodes=1", "--set", "max_episode_steps=500"]
    args += [item for override in overrides for item in ("--set", override)]
    with tempfile.TemporaryDirectory(prefix="bench-ours-") as tmp:
        output, wall, rss, code = run_child([sys.executable, "train.py", *args], child_env(Path(tmp)))
        metrics = Path(tmp) / "@last" / "metrics.csv"
        if code != 0 or not metrics.exists():
            raise SystemExit(f"train.py failed (exit {code}):\n{output[-3000:]}")
        rows = read_rows(metrics)
    train_rows = [r for r in rows if "train/time/sps" in r]
    evals = [r for r in rows if "val/roll/ep_rew/mean" in r]
    last = train_rows[-1]
    eval_mean = evals[-1]["val/roll/ep_rew/mean"] if evals else float("nan")
    result = RunResult(wall, last["train/cnt/timesteps"], last["train/time/sps"], rss, eval_mean)
    if workload in SOLVE_TASKS:
        solves = [r for r in evals if r["val/roll/ep_rew/mean"] >= SOLVE_TASKS[workload].threshold]
        result.solved = bool(solves)
        result.steps = _eval_steps(rows, solves[0]) if solves else last["train/cnt/timesteps"]
        result.eval_mean = solves[0]["val/roll/ep_rew/mean"] if solves else eval_mean
    return result


def _eval_steps(rows: list[dict[str, float]], eval_row: dict[str, float]) -> float:
    """Env steps at an eval row: its own counter, else the last train row before it."""
    if "train/cnt/timesteps" in eval_row:
        return eval_row["train/cnt/timesteps"]
    before = [r for r in rows[: rows.index(eval_row)] if "train/cnt/timesteps" in r]
    return before[-1]["train/cnt/timesteps"] if before else float("nan")


def run_sb3(workload: str, seed: int, pong_steps: int) -> RunResult:
    """Train SB3 in a child process of this script and parse the JSON on its last stdout line."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--sb3-child", workload, "--seed", str(seed)]
    cmd += ["--pong-steps", str(pong_steps)]
    output, wall, rss, code = run_child(cmd, child_env())
    lines = output.strip().splitlines()
    if code != 0 or not lines:
        raise SystemExit(f"SB3 child failed (exit {code}):\n{output[-3000:]}")
    data = json.loads(lines[-1])
    return RunResult(wall, data["steps"], data["sps"], rss, data["eval_mean"], data.get("solved", True))


def sb3_child(workload: str, seed: int, pong_steps: int) -> None:
    """Train SB3 PPO for one workload and print {wall, steps, sps, eval_mean, solved} as JSON."""
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    if workload != "c":
        torch.set_num_threads(1)  # as this project's default for MLPs; CNNs use torch's default on both sides
    if workload == "c":
        model = _sb3_pong(seed)
        steps = pong_steps
    elif workload == "d":
        # rl-baselines3-zoo's hyperparams/ppo.yml for LunarLander-v3 (policy: MlpPolicy, SB3's 64x64 tanh)
        env = make_vec_env("LunarLander-v3", n_envs=16, seed=seed)
        model = PPO(
            "MlpPolicy", env, n_steps=1024, batch_size=64, n_epochs=4, gamma=0.999, gae_lambda=0.98,
            ent_coef=0.01, device="cpu", seed=seed, verbose=0,
        )  # fmt: skip
        steps = SOLVE_TASKS["d"].budget
    else:
        env = make_vec_env("CartPole-v1", n_envs=8, seed=seed)
        model = PPO(
            "MlpPolicy", env, n_steps=32, batch_size=256, n_epochs=20, gamma=0.98, gae_lambda=0.8,
            learning_rate=lambda p: 1e-3 * p, clip_range=lambda p: 0.2 * p, ent_coef=0.0,
            policy_kwargs={"net_arch": [64, 64], "activation_fn": torch.nn.Tanh},
            device="cpu", seed=seed, verbose=0,
        )  # fmt: skip
        steps = CARTPOLE_STEPS
    env_id = SOLVE_TASKS["d"].env_id if workload == "d" else "CartPole-v1"
    eval_env = make_vec_env(env_id, n_envs=1, seed=seed + 1000) if workload != "c" else None
    callback = None
    if workload in SOLVE_TASKS:
        from stable_baselines3.common.callbacks import EvalCallback, StopTrainingOnRewardThreshold

        task = SOLVE_TASKS[workload]
        stop = StopTrainingOnRewardThreshold(reward_threshold=task.threshold, verbose=0)
        callback = EvalCallback(
            eval_env, eval_freq=task.eval_every // model.n_envs, n_eval_episodes=20, deterministic=True,
            callback_on_new_best=stop, verbose=0,
        )  # fmt: skip
    started = time.perf_counter()
    model.learn(total_timesteps=steps, callback=callback)
    learn_seconds = time.perf_counter() - started
    result = {"wall": learn_seconds, "steps": model.num_timesteps, "sps": model.num_timesteps / learn_seconds}
    if workload == "a":
        from stable_baselines3.common.evaluation import evaluate_policy

        mean, _ = evaluate_policy(model, eval_env, n_eval_episodes=20, deterministic=True)
        result["eval_mean"] = float(mean)
    elif workload in SOLVE_TASKS:
        assert callback is not None
        result["eval_mean"] = float(callback.best_mean_reward)
        result["solved"] = callback.best_mean_reward >= SOLVE_TASKS[workload].threshold
    else:
        result["eval_mean"] = float("nan")
    print(json.dumps(result))


def _sb3_pong(seed: int) -> PPO:
    """SB3 PPO on ALE Pong rgb with this project's ALE-Pong-v5:ppo hyperparameters."""
    import ale_py
    import gymnasium
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.vec_env import VecFrameStack

    gymnasium.register_envs(ale_py)
    # frameskip=1: AtariWrapper skips 4 frames itself, as AtariVectorEnv does on our side.
    env = VecFrameStack(make_atari_env("ALE/Pong-v5", n_envs=8, seed=seed, env_kwargs={"frameskip": 1}), 4)
    return PPO(
        "CnnPolicy", env, n_steps=128, batch_size=256, n_epochs=4, gamma=0.99, gae_lambda=0.95,
        learning_rate=lambda p: 2.5e-4 * p, clip_range=0.1, ent_coef=0.01, vf_coef=0.5, max_grad_norm=0.5,
        device="cpu", seed=seed, verbose=0,
    )  # fmt: skip


def ratio(ours: float, theirs: float) -> float:
    """ours / theirs, NaN when undefined."""
    return ours / theirs if theirs and theirs == theirs else float("nan")


def solved_cell(workload: str, result: RunResult) -> str:
    """The 'solved' column: only the time-to-solve workloads (b, d) have a solve criterion."""
    if workload not in SOLVE_TASKS:
        return "-"
    return "yes" if result.solved else "no"


def pair_line(ours: RunResult, sb3: RunResult) -> str:
    """One pair as it finishes (long workloads take an hour; an interrupted run keeps what it measured)."""
    sides = (
        f"{side} {r.wall:.1f} s, {r.steps:,.0f} steps, eval {r.eval_mean:.1f}" + ("" if r.solved else " (not solved)")
        for side, r in (("ours", ours), ("sb3", sb3))
    )
    return "; ".join(sides) + f"; wall ratio {ratio(ours.wall, sb3.wall):.2f}"


def print_workload(name: str, pairs: list[tuple[int, RunResult, RunResult]]) -> None:
    """Print the per-pair table and the medians of the ratios for one workload."""
    print(f"\n## workload {name}  (ratio = ours / SB3)")
    steps_label = "steps at solve" if name in SOLVE_TASKS else "steps"
    print(f"| seed | side | wall s | {steps_label} | steps/s | peak RSS MiB | eval mean | solved |")
    print("|---|---|---|---|---|---|---|---|")
    ratios: dict[str, list[float]] = {"wall": [], "steps/s": [], "peak RSS": [], "eval mean": [], steps_label: []}
    for seed, ours, sb3 in pairs:
        for side, r in (("ours", ours), ("sb3", sb3)):
            print(
                f"| {seed} | {side} | {r.wall:.1f} | {r.steps:,.0f} | {r.sps:,.0f} | {r.max_rss_mib:,.0f} | "
                f"{r.eval_mean:.1f} | {solved_cell(name, r)} |"
            )
        ratios["wall"].append(ratio(ours.wall, sb3.wall))
        ratios["steps/s"].append(ratio(ours.sps, sb3.sps))
        ratios["peak RSS"].append(ratio(ours.max_rss_mib, sb3.max_rss_mib))
        ratios["eval mean"].append(ratio(ours.eval_mean, sb3.eval_mean))
        ratios[steps_label].append(ratio(ours.steps, sb3.steps))
    print("| seed | " + " | ".join(f"{k} ratio" for k in ratios) + " |")
    print("|---|" + "---|" * len(ratios))
    for i, (seed, _, _) in enumerate(pairs):
        print(f"| {seed} | " + " | ".join(f"{v[i]:.2f}" for v in ratios.values()) + " |")
    medians = {k: statistics.median(v) for k, v in ratios.items()}
    print("median ratios: " + ", ".join(f"{k} {v:.2f}" for k, v in medians.items()))
    for side, results in (("ours", [p[1] for p in pairs]), ("sb3", [p[2] for p in pairs])):
        wall = statistics.median(r.wall for r in results)
        sps = statistics.median(r.sps for r in results)
        rss = statistics.median(r.max_rss_mib for r in results)
        evm = statistics.median(r.eval_mean for r in results)
        print(f"median {side}: wall {wall:.1f} s, {sps:,.0f} steps/s, peak RSS {rss:,.0f} MiB, eval {evm:.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=[*WORKLOADS, "all"], default="all", help="a, b, c, d or all")
    parser.add_argument("--reps", type=int, default=3, help="repetitions (A/B pairs) per workload")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first pair; pair i uses seed + i")
    parser.add_argument("--pong-steps", type=int, default=8192, help="env steps for workload c")
    parser.add_argument("--ours-set", action="append", default=[], metavar="KEY=VALUE",
                        help="extra config override for our runs only, e.g. precision=bf16-mixed (repeatable)")  # fmt: skip
    parser.add_argument("--sb3-child", choices=WORKLOADS, help=argparse.SUPPRESS)
    args = parser.parse_args()

    try:
        import stable_baselines3  # noqa: F401
    except ImportError:
        print("stable_baselines3 is not installed; install with: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    if args.sb3_child:
        sb3_child(args.sb3_child, args.seed, args.pong_steps)
        return 0

    workloads = WORKLOADS if args.workload == "all" else (args.workload,)
    for workload in workloads:
        pairs = []
        for i in range(args.reps):
            seed = args.seed + i
            ours = run_ours(workload, seed, args.pong_steps, args.ours_set)
            sb3 = run_sb3(workload, seed, args.pong_steps)
            print(f"[{workload}] seed {seed}: {pair_line(ours, sb3)}", file=sys.stderr, flush=True)
            pairs.append((seed, ours, sb3))
        print_workload(workload, pairs)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
