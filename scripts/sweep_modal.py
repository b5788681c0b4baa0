"""Hyperparameter sweeps on Modal: ``python scripts/sweep_modal.py config/sweeps/cartpole_ppo_grid.yaml --count 10``.

    python scripts/sweep_modal.py SPEC --count N [--runs-per-worker K]   # W&B sweep, ceil(N/K) Modal workers
    python scripts/sweep_modal.py --sweep-id ENTITY/PROJECT/ID --count N # workers for an existing W&B sweep
    python scripts/sweep_modal.py SPEC --backend local --count N         # values planned here, no W&B server
    python scripts/sweep_modal.py SPEC ... --detach                      # spawn the workers and return
    python scripts/sweep_modal.py SPEC ... --local                       # the same workers in this process
    python scripts/sweep_modal.py --fetch SWEEP_ID                       # copy the sweep's runs from the volume

Each worker runs its trials one at a time into the Modal Volume ``gymnasium-solver-runs``; a preempted or crashed
worker is retried and resumes its trial from ``last``. See scripts/README_MODAL.md.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sweeps.modal_jobs import WorkerJob
    from sweeps.spec import SweepSpec
    from sweeps.state import SweepState

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sweeps.cli_args import add_shared_arguments, cli_overrides  # noqa: E402  (after the path insert)
from utils.cli_parser import OneLineErrorParser  # noqa: E402

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
NO_MODAL = 'modal is not installed; install it with: pip install -e ".[modal]"'
NO_TOKEN = (
    "no Modal token; run `modal token new` (or set MODAL_TOKEN_ID and MODAL_TOKEN_SECRET), or try it here with --local"
)


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = OneLineErrorParser(
        prog="scripts/sweep_modal.py",
        description="Run a hyperparameter sweep (a W&B sweep config from config/sweeps/) on Modal workers.",
        epilog="examples: python scripts/sweep_modal.py config/sweeps/cartpole_ppo_grid.yaml --count 10 | "
        "python scripts/sweep_modal.py SPEC --count 50 --runs-per-worker 5 --detach | "
        "python scripts/sweep_modal.py --fetch SWEEP_ID",
    )
    add_shared_arguments(parser, seed_help="seed of the local backend's random search (default 0)")
    parser.add_argument(
        "--runs-per-worker", type=int, default=1, metavar="K", help="trials each worker runs, one at a time (default 1)"
    )
    parser.add_argument(
        "--backend", choices=("wandb", "local"), default="wandb",
        help="wandb: W&B's server chooses the values, each worker runs `wandb agent --count 1` per trial (default; "
        "needs W&B credentials and a Modal secret with WANDB_API_KEY) | local: the values are planned here "
        "(grid, random), no W&B server",
    )  # fmt: skip
    parser.add_argument(
        "--sweep-id", metavar="ID", help="wandb: run workers for this existing W&B sweep (entity/project/id; SPEC is "
        "then optional) | local: continue this sweep (same SPEC, --count, --runs-per-worker and --seed)",
    )  # fmt: skip
    parser.add_argument("--cpu", type=float, default=2.0, help="CPU cores per worker (default 2)")
    parser.add_argument(
        "--memory", type=int, default=4096, metavar="MIB", help="memory per worker in MiB (default 4096)"
    )
    parser.add_argument(
        "--timeout-per-trial", type=float, default=3600.0, metavar="SECONDS",
        help="stop a trial (saving 'last') after this long (default 3600); a worker may run K times this",
    )  # fmt: skip
    parser.add_argument(
        "--retries", type=int, default=3, help="times Modal re-runs a failed worker, which resumes (default 3)"
    )
    parser.add_argument(
        "--secret", dest="secrets", action="append", metavar="NAME",
        help="Modal secret to give the workers (repeatable; default: wandb-secret, holding WANDB_API_KEY and "
        "optionally HF_TOKEN, for the wandb backend; none for local)",
    )  # fmt: skip
    parser.add_argument("--detach", action="store_true", help="spawn the workers and return; --fetch later")
    parser.add_argument(
        "--local", action="store_true", help="run the same workers one after another in this process (no Modal "
        "account needed), into this machine's runs folder",
    )  # fmt: skip
    parser.add_argument(
        "--fetch", metavar="SWEEP_ID", help="copy the sweep's folder and runs from the volume into the runs folder, "
        "then rebuild trials.csv, best.yaml and the plot",
    )  # fmt: skip
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse, check everything before anything is created, then launch; every failure is one line and a status."""
    args = build_parser().parse_args(argv)
    from sweeps.spec import SweepSpecError
    from utils.config_values import ConfigError

    try:
        check_args(args)
        try:
            import modal  # noqa: F401
        except ImportError:
            raise ConfigError(NO_MODAL) from None
        if args.fetch:
            return fetch(args)
        return launch(args)
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

    if args.fetch:
        if args.spec or args.sweep_id or args.local or args.detach:
            raise ConfigError("--fetch takes only the sweep id (e.g. --fetch abcd1234)")
        return
    for name, value in (("--count", args.count), ("--runs-per-worker", args.runs_per_worker)):
        if value is not None and value < 1:
            raise ConfigError(f"{name}: {value} must be at least 1")
    if args.cpu <= 0 or args.memory <= 0 or args.timeout_per_trial <= 0:
        raise ConfigError("--cpu, --memory and --timeout-per-trial must be positive")
    if not 0 <= args.retries <= 10:
        raise ConfigError(f"--retries: {args.retries} is not between 0 and 10")
    if args.local and args.detach:
        raise ConfigError("--local runs the workers here and waits for them; drop --detach")
    if not args.spec and not (args.sweep_id and args.backend == "wandb"):
        raise ConfigError("give a sweep spec (e.g. config/sweeps/cartpole_ppo_grid.yaml), or --sweep-id of a W&B sweep")
    if args.sweep_id and args.backend == "wandb" and args.sweep_id.count("/") != 2:
        raise ConfigError(f"--sweep-id: {args.sweep_id!r} is not entity/project/id (as `wandb sweep` prints it)")


def modal_token_found() -> bool:
    """Whether Modal's client has credentials: MODAL_TOKEN_ID/SECRET (or OAuth) in the environment or .modal.toml."""
    from modal.config import config

    return any(all(config.get(key) for key in keys) for keys in (("token_id", "token_secret"),
                                                                  ("oauth_refresh_token", "oauth_client_id")))  # fmt: skip


def launch(args: argparse.Namespace) -> int:
    """Check the spec, the budget and the credentials, create the sweep, then run or spawn its workers."""
    import yaml

    from sweeps import wandb_backend
    from sweeps.modal_jobs import call_timeout, plan_jobs
    from sweeps.spec import load_spec, parse_spec
    from sweeps.state import new_sweep_id
    from utils.config_values import ConfigError
    from utils.runs import check_runs_root

    runs = check_runs_root()
    overrides = cli_overrides(args.overrides)
    local_values = args.backend == "local"
    if args.spec:
        spec = load_spec(Path(args.spec), overrides, local=local_values)
        spec_text = Path(args.spec).read_text()
    else:  # an existing W&B sweep: its config comes from W&B
        raw = wandb_sweep_config(args.sweep_id)
        spec_text = yaml.safe_dump(raw, sort_keys=False)
        spec = parse_spec(raw, overrides, local=False, where=f"W&B sweep {args.sweep_id}")
    if local_values and spec.method == "bayes":
        raise ConfigError("method: bayes needs one model of all trials; on Modal use --backend wandb (W&B's server "
                          "chooses), or run it on this machine with scripts/sweep.py")  # fmt: skip
    count = trial_budget(spec.method, args.count, spec.grid_size() if spec.method == "grid" else 0)
    timeout = call_timeout(args.runs_per_worker, args.timeout_per_trial)
    if not args.local and not modal_token_found():
        raise ConfigError(NO_TOKEN)
    if args.backend == "wandb":
        wandb_backend.check_wandb_online(trials_here=False)  # no credentials: one line, before the sweep is made
        sweep_path = args.sweep_id or wandb_backend.create_sweep(spec, trials_here=False)
        sweep_id = sweep_path.rsplit("/", 1)[-1]
    else:
        sweep_path, sweep_id = "", args.sweep_id or new_sweep_id()
    jobs = plan_jobs(spec, sweep_id, count, args.runs_per_worker, args.backend, spec_text, args.seed,
                     args.timeout_per_trial, sweep_path)  # fmt: skip
    create_sweep_folder(runs, sweep_id, spec, spec_text, count, overrides, args)
    where = "this process" if args.local else f"Modal ({args.cpu:g} CPU, {args.memory} MiB each)"
    target = f"W&B sweep {sweep_path}" if sweep_path else f"sweep {sweep_id}"
    print(f"{target}: {spec.method} over {', '.join(p.name for p in spec.swept) or 'nothing'} on {spec.config_id}, "
          f"{count} trials on {len(jobs)} worker(s) in {where}, up to {args.timeout_per_trial:g} s per trial")  # fmt: skip
    if args.local:
        return run_here(jobs, runs, sweep_id)
    secrets = args.secrets if args.secrets is not None else (["wandb-secret"] if args.backend == "wandb" else [])
    return run_on_modal(jobs, args, secrets, timeout, sweep_id)


def trial_budget(method: str, count: int | None, grid_size: int) -> int:
    """Trials in all: grid: ``count`` capped at the grid (all of it by default); random and bayes: ``count``."""
    from utils.config_values import ConfigError

    if method == "grid":
        return min(count or grid_size, grid_size)
    if count is None:
        raise ConfigError(f"--count: a {method} sweep needs a trial budget, e.g. --count 20")
    return count


def wandb_sweep_config(sweep_path: str) -> dict[str, Any]:
    """The config of an existing W&B sweep (needs W&B credentials and the network)."""
    from sweeps.wandb_backend import check_wandb_online

    check_wandb_online(trials_here=False)
    import wandb

    config = wandb.Api().sweep(sweep_path).config
    return dict(config)


def create_sweep_folder(
    runs: Path, sweep_id: str, spec: SweepSpec, spec_text: str, count: int, overrides: dict[str, Any],
    args: argparse.Namespace,
) -> None:  # fmt: skip
    """``<runs>/sweeps/<id>/`` here, with the spec and an empty ``sweep.json`` (``--fetch`` fills it in)."""
    from sweeps.state import SPEC_FILE, SweepState, sweeps_root
    from utils.atomic_files import write_text_atomic

    folder = sweeps_root(runs) / sweep_id
    if (folder / "sweep.json").is_file():
        return
    backend = "wandb" if args.backend == "wandb" else "modal"
    state = SweepState(folder, sweep_id, backend, spec.method, spec.metric, spec.goal, count, overrides, args.seed)
    folder.mkdir(parents=True, exist_ok=True)
    if spec_text:
        write_text_atomic(folder / SPEC_FILE, spec_text)
    state.save()


def run_here(jobs: list[WorkerJob], runs: Path, sweep_id: str) -> int:
    """``--local``: each worker's job through the very same function, in this process, one after another."""
    from sweeps import modal_app
    from sweeps.modal_fetch import rebuild_sweep
    from sweeps.modal_worker import WorkerInterrupted

    for job in jobs:
        try:
            with warnings.catch_warnings():  # "will not have access to the mounted Volume": the runs folder stands in
                warnings.simplefilter("ignore", UserWarning)
                report = modal_app.sweep_worker.local(job.to_dict())
        except WorkerInterrupted:
            print(f"stopped; continue it with the same command plus --sweep-id {sweep_id}", file=sys.stderr)
            rebuild_sweep(sweep_id, runs)
            return EXIT_INTERRUPTED
        print(worker_line(job.worker, report))
    state = rebuild_sweep(sweep_id, runs)
    return print_summary(state)


def run_on_modal(
    jobs: list[WorkerJob], args: argparse.Namespace, secrets: list[str], timeout: int, sweep_id: str
) -> int:
    """Spawn every worker inside the app's run; without --detach, wait for each and report."""
    import modal

    from sweeps import modal_app

    retries = modal.Retries(max_retries=args.retries, backoff_coefficient=1.0, initial_delay=10.0)
    with modal.enable_output(), modal_app.app.run(detach=args.detach):
        worker = modal_app.sweep_worker.with_options(
            cpu=args.cpu, memory=args.memory, timeout=timeout, retries=retries,
            secrets=[modal.Secret.from_name(name) for name in secrets],
        )  # fmt: skip
        calls = [worker.spawn(job.to_dict()) for job in jobs]
        for job, call in zip(jobs, calls, strict=True):
            print(f"worker {job.worker}: {job.size} trial(s), function call {call.object_id}")
        app_id = modal_app.app.app_id
        if args.detach:
            print(f"detached; follow: modal app logs {app_id} (or https://modal.com/apps)")
            print(f"fetch the results: python scripts/sweep_modal.py --fetch {sweep_id}")
            return EXIT_OK
        totals: dict[str, int] = {}
        try:
            for job, call in zip(jobs, calls, strict=True):
                try:
                    report = call.get()
                except Exception as error:  # the worker's failure after its retries, as Modal reports it
                    print(f"worker {job.worker}: failed: {type(error).__name__}: {error}")
                    continue
                print(worker_line(job.worker, report))
                for trial in report["trials"]:
                    totals[trial["status"]] = totals.get(trial["status"], 0) + 1
        except KeyboardInterrupt:
            print("interrupted: the app stops with this client (--detach leaves the workers running); fetch what "
                  f"finished with: python scripts/sweep_modal.py --fetch {sweep_id}", file=sys.stderr)  # fmt: skip
            return EXIT_INTERRUPTED
    done = ", ".join(f"{n} {status}" for status, n in sorted(totals.items())) or "no trials"
    print(f"sweep {sweep_id}: {done}; fetch the runs: python scripts/sweep_modal.py --fetch {sweep_id}")
    return EXIT_OK if totals.get("ok") else EXIT_FAILED


def worker_line(worker: int, report: dict[str, Any]) -> str:
    """One line per finished worker."""
    statuses = [trial["status"] for trial in report["trials"]]
    counts = ", ".join(f"{statuses.count(s)} {s}" for s in sorted(set(statuses))) or "no trials"
    attempts = f" in {report['attempts']} attempts" if report["attempts"] > 1 else ""
    note = f"; {report['note']}" if report.get("note") else ""
    return f"worker {worker}: {counts}{attempts}{note}"


def fetch(args: argparse.Namespace) -> int:
    """Copy the sweep from the volume, rebuild its files, and say where they are."""
    import modal
    from modal.exception import NotFoundError

    from sweeps.modal_fetch import fetch_sweep
    from sweeps.modal_worker import VOLUME_NAME
    from utils.config_values import ConfigError
    from utils.runs import check_runs_root

    if not modal_token_found():
        raise ConfigError(NO_TOKEN.removesuffix(", or try it here with --local"))
    runs = check_runs_root()
    sweep_id = args.fetch.rsplit("/", 1)[-1]
    try:
        state = fetch_sweep(modal.Volume.from_name(VOLUME_NAME), sweep_id, runs)
    except NotFoundError as error:
        raise ConfigError(f"--fetch {sweep_id}: {error}") from None
    print(f"fetched sweep {sweep_id} into {state.path}")
    return print_summary(state)


def print_summary(state: SweepState) -> int:
    """Where the results are; 0 when a trial succeeded."""
    for line in state.summary_lines():
        print(line)
    return EXIT_OK if state.best() is not None else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
