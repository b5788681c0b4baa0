"""Train an agent from a config: ``python train.py CartPole-v1:ppo``.

Heavy libraries (torch, lightning, gymnasium) load only after the arguments are
parsed, so ``--help``, ``--list-envs`` and ``--list-fields`` answer at once.
"""

from __future__ import annotations

import argparse
import signal
import sys
from typing import TYPE_CHECKING, Any

from utils.cli_parser import OneLineErrorParser
from utils.config_files import DEFAULT_CONFIG_ID, list_config_ids, parse_override, split_config_id
from utils.config_values import ConfigError, parse_number

if TYPE_CHECKING:
    from utils.config import Config

# Exit statuses (README "Exit codes").
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143


def build_parser() -> argparse.ArgumentParser:
    """The train.py command line."""
    parser = OneLineErrorParser(
        description="Train a PPO or REINFORCE agent from config/environments/<env>.yaml.",
        epilog="examples: python train.py CartPole-v1:ppo -q | python train.py --resume @last | "
        "python train.py CartPole-v1:ppo --set n_envs=16 --set policy_lr='{start: 1e-3, end: 0}'",
    )
    parser.add_argument(
        "config", nargs="?", help=f"<env>:<variant>, e.g. CartPole-v1:ppo (default {DEFAULT_CONFIG_ID})"
    )
    parser.add_argument("--config_id", "--config-id", dest="config_id", help="same as the positional <env>:<variant>")
    parser.add_argument("-q", "--quiet", action="store_true", help="only the progress bar and the final summary")
    parser.add_argument(
        "--max-timesteps", "--max_timesteps", dest="max_timesteps", help="total env steps (accepts 5e4)"
    )
    parser.add_argument("--seed", help="random seed for envs, torch and numpy")
    parser.add_argument(
        "--video", metavar="MODE", help="eval videos: off | best (default: new bests + final eval) | every_n_evals:N"
    )
    wandb = parser.add_mutually_exclusive_group()
    wandb.add_argument(
        "--wandb",
        nargs="?",
        const="online",
        choices=("online", "offline"),
        metavar="MODE",
        help="log to Weights & Biases: online (without MODE; needs `wandb login` or WANDB_API_KEY) | offline "
        "(upload later with `wandb sync`); default: online when W&B credentials exist",
    )
    wandb.add_argument("--no-wandb", action="store_true", help="do not log to Weights & Biases")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any config field; the value is read as YAML (repeatable)",
    )
    parser.add_argument(
        "--list-envs", nargs="?", const="", metavar="FILTER", help="list every <env>:<variant> and exit"
    )
    parser.add_argument(
        "--list-fields", action="store_true", help="list every config field with its default and meaning"
    )
    parser.add_argument("--resume", metavar="RUN_ID", help="continue run RUN_ID (or @last) from its 'last' checkpoint")
    return parser


def debugger_attached() -> bool:
    """Whether a debugger (pdb, debugpy, PyCharm) is tracing this process."""
    if any(name in sys.modules for name in ("debugpy", "pydevd")):
        return True
    tracer = sys.gettrace()
    return tracer is not None and "coverage" not in type(tracer).__module__ + repr(tracer)


def debugger_overrides(settings: dict[str, Any]) -> dict[str, Any]:
    """One sync env and a batch size that divides the smaller rollout."""
    from utils.config import Config

    config = Config.from_dict(settings)
    rollout = config.n_steps
    batch = min(config.minibatch_size, rollout)
    while rollout % batch:
        batch -= 1
    return {"n_envs": 1, "vectorization_mode": "sync", "batch_size": batch}


def collect_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """CLI overrides in config-field form, parsed like YAML."""
    overrides = dict(parse_override(text) for text in args.overrides)
    if args.video is not None:
        overrides["video"] = parse_video_flag(args.video)
    if args.wandb is not None or args.no_wandb:
        overrides["wandb"] = "off" if args.no_wandb else args.wandb
    for key, raw in (("max_timesteps", args.max_timesteps), ("seed", args.seed)):
        if raw is not None:
            number = parse_number(raw)
            if number is None:
                raise ConfigError(f"--{key.replace('_', '-')}: {raw!r} is not a number (e.g. 5e4)")
            overrides[key] = number
    return overrides


def parse_video_flag(text: str) -> str | dict[str, int]:
    """``off``, ``best`` or ``every_n_evals:N`` into the config's ``video`` value."""
    name, _, count = text.partition(":")
    if name == "every_n_evals" and count.isdigit() and int(count) >= 1:
        return {"every_n_evals": int(count)}
    if text in ("off", "best"):
        return text
    raise ConfigError(f"--video: {text!r} is not off, best or every_n_evals:N (e.g. every_n_evals:5)")


def print_fields() -> None:
    """Every config field, its default and its meaning."""
    from utils.config import field_help

    for name, (default, meaning) in field_help().items():
        print(f"{name:22} {default:14} {meaning}")


class Terminated(BaseException):
    """SIGTERM outside the training loop (which handles it itself: finish the update, save, report)."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, train, print where the run went; every failure is one line and a status (README)."""
    args = build_parser().parse_args(argv)
    previous_sigterm = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        if args.list_envs is not None:
            for config_id, description in list_config_ids(args.list_envs):
                print(f"{config_id:34} {description}")
            return EXIT_OK
        if args.list_fields:
            print_fields()
            return EXIT_OK
        return run_training(args)
    except (ConfigError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:  # the disk, not the user's input: no space, read-only file system, I/O error
        where = f" while writing {error.filename}" if error.filename else ""
        print(f"error: {error.strerror or error}{where}; fix that, then continue with --resume @last", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:  # Ctrl-C outside the training loop (building envs, writing the report)
        print("error: interrupted; the newest 'last' checkpoint (if any) is kept", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print("error: stopped by SIGTERM; the newest 'last' checkpoint (if any) is kept", file=sys.stderr)
        return EXIT_TERMINATED
    except BaseException as error:
        from trainer_callbacks.stop_request import AbortRequested

        if not isinstance(error, AbortRequested):
            raise
        print(f"error: aborted by a second {error}; the newest 'last' checkpoint is kept", file=sys.stderr)
        return EXIT_TERMINATED if error.signum == signal.SIGTERM else EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous_sigterm)


def run_training(args: argparse.Namespace) -> int:
    """Resolve the config (or the run to resume) and train."""
    overrides = collect_overrides(args)
    plan = None
    if args.resume:
        if args.config or args.config_id:
            raise ConfigError("--resume takes its config from the run; drop the <env>:<variant> argument")
        from utils.resume import plan_resume
        from utils.run_lock import lock_run
        from utils.runs import resolve_run

        run = resolve_run(args.resume)
        lock = lock_run(run.path)  # before anything is read: a second writer fails here, at once
        if lock.previous_holder:
            print(f"resume: took over the lock of pid {lock.previous_holder}, which stopped without releasing it",
                  file=sys.stderr)  # fmt: skip
        plan = plan_resume(run, overrides)  # checks everything; writes nothing
        config = plan.config
    else:
        if args.config and args.config_id and args.config != args.config_id:
            raise ConfigError(
                f"two configs given: {args.config!r} and --config_id {args.config_id!r}; give one of them"
            )
        env, variant = split_config_id(args.config_id or args.config or DEFAULT_CONFIG_ID)
        config = load_trial_config(env, variant, overrides)
    if debugger_attached():
        config = config.replace(**debugger_overrides(config.to_dict()))
        if plan is not None:
            plan.config = config
        print("debugger attached: n_envs=1, sync vectorization, batch_size adjusted", file=sys.stderr)

    from trainer_callbacks.curve_worker import CurveWorker
    from utils.wandb_mode import resolve_wandb_mode

    curve_worker = CurveWorker()  # imports matplotlib in a child process while this one imports torch
    wandb_worker = None
    if resolve_wandb_mode(config.wandb) != "off":  # online without credentials: one error line, nothing written
        from trainer_callbacks.wandb_worker import WandbWorker

        wandb_worker = WandbWorker()
        wandb_worker.start()  # imports wandb in a child process while this one imports torch
    try:
        curve_worker.start()
        from training.launch import train  # builds the envs before it creates the run directory

        result = train(config, quiet=args.quiet, resume=plan, wandb_worker=wandb_worker, curve_worker=curve_worker)
    finally:  # also when a signal lands before train() starts: a helper left running would block the exit
        curve_worker.close()
        if wandb_worker is not None:
            wandb_worker.close()
    print(f"run directory: {result.run.path}")
    if result.diverged:
        print(f"error: {result.diverged}; 'best' and the last finite 'last' are kept (see report.md)", file=sys.stderr)
        return EXIT_FAILED
    if result.stop_signal == signal.SIGTERM:
        return EXIT_TERMINATED
    return EXIT_INTERRUPTED if result.interrupted else EXIT_OK


def load_trial_config(env: str, variant: str | None, overrides: dict[str, Any]) -> Config:
    """The config to train: ``env:variant`` with the overrides, and in sweep mode (``WANDB_SWEEP_ID`` or
    ``GYMSOLVER_SWEEP_ID`` set) the trial's swept values merged in and checked like ``--set``."""
    from utils.config import Config, load_config
    from utils.config_files import load_config_dict
    from utils.sweep_params import trial_from_environ, trial_settings

    trial = trial_from_environ()
    if trial is None:
        return load_config(env, variant, overrides)
    config = Config.from_dict(trial_settings(load_config_dict(env, variant), overrides, trial))
    swept = ", ".join(f"{name}={value}" for name, value in trial.params.items())
    print(f"sweep {trial.sweep_id}, trial {trial.trial}: {swept or 'no swept values'}", file=sys.stderr)
    return config


def exit_without_teardown(code: int) -> None:
    """Exit once every output is flushed, skipping Python's teardown of the ~3,400 modules torch and
    Lightning load: it frees nothing the OS would not, and takes about a second. Files, envs and the video
    worker are already closed by ``train()``; exit handlers still run."""
    import atexit
    import logging
    import os

    atexit._run_exitfuncs()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_without_teardown(main())
