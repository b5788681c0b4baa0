"""Hyperparameter sweeps on this machine: ``python scripts/sweep.py config/sweeps/cartpole_ppo_grid.yaml``.

    python scripts/sweep.py SPEC [--count N] [--parallel K]           # local backend: no W&B server, no network
    python scripts/sweep.py SPEC --backend wandb [--count N]         # W&B chooses the values; wandb agents run them
    python scripts/sweep.py --resume SWEEP_ID [--count N]            # finish an interrupted local sweep

Every trial is an ordinary run directory; the sweep keeps ``<runs>/sweeps/<sweep_id>/`` with ``spec.yaml``,
``sweep.json``, ``trials.csv``, ``best.yaml`` and ``metric_vs_params.png`` (see config/sweeps/README.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sweeps.cli_args import add_shared_arguments, cli_overrides  # noqa: E402  (after the path insert)
from utils.cli_parser import OneLineErrorParser  # noqa: E402

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    """The sweep command line."""
    parser = OneLineErrorParser(
        prog="scripts/sweep.py",
        description="Run a hyperparameter sweep (a W&B sweep config from config/sweeps/) on this machine.",
        epilog="examples: python scripts/sweep.py config/sweeps/cartpole_ppo_grid.yaml --parallel 2 | "
        "python scripts/sweep.py config/sweeps/cartpole_ppo_bayes.yaml --count 20 | "
        "python scripts/sweep.py --resume SWEEP_ID",
    )
    add_shared_arguments(parser, seed_help="seed of the random and bayes search (default 0)")
    parser.add_argument(
        "--parallel", type=int, default=1, metavar="K", help="run K trials at once; the cores are split between them"
    )
    parser.add_argument(
        "--backend", choices=("local", "wandb"), default="local",
        help="local: values chosen here (grid, random; bayes with Optuna), no W&B server needed (default) | "
        "wandb: W&B's server chooses, `wandb agent` processes run the trials (needs `wandb login`)",
    )  # fmt: skip
    parser.add_argument(
        "--resume", metavar="SWEEP_ID", help="local: continue this sweep (finished trials are kept, interrupted "
        "ones resume from 'last'); wandb: run agents for this existing W&B sweep (entity/project/id)",
    )  # fmt: skip
    parser.add_argument(
        "--timeout-per-trial", type=float, metavar="SECONDS", help="stop a trial (saving 'last') after this long"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse, check everything, run the sweep; every failure is one line and a status."""
    args = build_parser().parse_args(argv)
    from sweeps.spec import SweepSpecError
    from utils.config_values import ConfigError

    try:
        check_args(args)
        if args.backend == "wandb":
            return run_wandb(args)
        return run_local_sweep(args)
    except SweepSpecError as error:
        for line in error.lines:
            print(f"error: {line}", file=sys.stderr)
        return EXIT_USAGE
    except (ConfigError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE


def check_args(args: argparse.Namespace) -> None:
    """Usage mistakes that need no spec."""
    from utils.config_values import ConfigError

    if args.parallel < 1:
        raise ConfigError(f"--parallel: {args.parallel} must be at least 1")
    if args.count is not None and args.count < 1:
        raise ConfigError(f"--count: {args.count} must be at least 1")
    if args.timeout_per_trial is not None and args.timeout_per_trial <= 0:
        raise ConfigError("--timeout-per-trial: must be a positive number of seconds")
    if args.resume and args.spec:
        raise ConfigError("--resume takes the spec from the sweep folder; drop the SPEC argument")
    if args.resume and args.overrides and args.backend == "local":
        raise ConfigError("--resume keeps the sweep's --set values; drop --set (start a new sweep to change them)")
    if not args.resume and not args.spec:
        raise ConfigError("give a sweep spec (e.g. config/sweeps/cartpole_ppo_grid.yaml) or --resume SWEEP_ID")


def run_local_sweep(args: argparse.Namespace) -> int:
    """Create (or reload) the sweep folder and run its trials here."""
    from sweeps.local import print_summary, run_local
    from sweeps.spec import load_spec, parse_spec
    from sweeps.state import SPEC_FILE, SweepState, sweeps_root
    from utils.config_values import ConfigError
    from utils.run_lock import RunLockedError, lock_run
    from utils.runs import check_runs_root

    runs = check_runs_root()
    if args.resume:
        state = SweepState.load(sweeps_root(runs), args.resume)
        if state.backend != "local":
            raise ConfigError(f"sweep {state.sweep_id} ran with --backend {state.backend}; resume it the same way")
        import yaml

        spec = parse_spec(yaml.safe_load((state.path / SPEC_FILE).read_text()), state.overrides, where="spec.yaml")
        if args.count is not None:
            state.count = args.count
    else:
        spec = load_spec(Path(args.spec), cli_overrides(args.overrides))
        count = args.count
        if spec.method == "grid":
            count = min(count or spec.grid_size(), spec.grid_size())
        elif count is None:
            raise ConfigError(f"--count: a {spec.method} sweep needs a trial budget, e.g. --count 20")
        if spec.method == "bayes":
            _require_optuna()
        state = SweepState.create(
            _sweeps_folder(runs), Path(args.spec).read_text(), backend="local", method=spec.method,
            metric=spec.metric, goal=spec.goal, count=count, overrides=cli_overrides(args.overrides), seed=args.seed,
        )  # fmt: skip
        print(f"sweep {state.sweep_id}: {spec.method} over {', '.join(p.name for p in spec.swept) or 'nothing'} "
              f"on {spec.config_id}, {count} trials, {args.parallel} at a time; folder {state.path}")  # fmt: skip
    try:
        lock = lock_run(state.path)
    except RunLockedError:
        raise ConfigError(f"sweep {state.sweep_id} is being run by another process; wait for it or stop it") from None
    try:
        outcome = run_local(spec, state, runs, parallel=args.parallel, timeout=args.timeout_per_trial)
    finally:
        lock.release()
    print_summary(outcome, runs)
    return outcome.exit_code


def _require_optuna() -> None:
    from utils.config_values import ConfigError

    try:
        import optuna  # noqa: F401
    except ImportError:
        raise ConfigError('method: bayes runs on Optuna locally; install it: pip install -e ".[sweeps]"') from None


def _sweeps_folder(runs: Path) -> Path:
    from sweeps.state import sweeps_root

    return sweeps_root(runs)


def run_wandb(args: argparse.Namespace) -> int:
    """Create the W&B sweep (or join ``--resume``'s) and run ``wandb agent`` processes here."""
    from sweeps.collect import trials_from_runs
    from sweeps.outputs import write_best, write_plot
    from sweeps.spec import load_spec
    from sweeps.state import SweepState
    from sweeps.wandb_backend import check_wandb_online, create_sweep, run_agents
    from utils.runs import check_runs_root

    runs = check_runs_root()
    check_wandb_online()  # no credentials (or WANDB_MODE=offline): one line, before the sweep is made
    if args.resume:
        sweep_path, spec = args.resume, None
    else:
        spec = load_spec(Path(args.spec), cli_overrides(args.overrides), local=False)
        sweep_path = create_sweep(spec)
    print(f"W&B sweep {sweep_path}: {args.parallel} agent(s)")
    code = run_agents(sweep_path, args.count, args.parallel, runs)
    if spec is not None:
        sweep_id = sweep_path.rsplit("/", 1)[-1]
        folder = _sweeps_folder(runs) / sweep_id
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "spec.yaml").write_text(Path(args.spec).read_text())
        state = SweepState(folder, sweep_id, "wandb", spec.method, spec.metric, spec.goal, args.count or 0)
        state.trials = trials_from_runs(sweep_id, runs, spec.metric)
        state.save()
        write_best(state, runs)
        write_plot(state)
        print(f"trials: {folder / 'trials.csv'}")
    return code


if __name__ == "__main__":
    sys.exit(main())
