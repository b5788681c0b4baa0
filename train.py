"""Train an agent from a config: ``python train.py CartPole-v1:ppo``.

Heavy libraries (torch, lightning, gymnasium) load only after the arguments are
parsed, so ``--help``, ``--list-envs`` and ``--list-fields`` answer at once.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from utils.config_files import DEFAULT_CONFIG_ID, list_config_ids, parse_override, split_config_id
from utils.config_values import ConfigError, parse_number

# Fields a resumed run may change: budgets, evaluation, checkpointing and optimisation knobs, not shapes.
RESUME_CHANGEABLE = {
    "max_timesteps", "eval_freq", "eval_episodes", "eval_deterministic", "reward_threshold", "early_stop",
    "checkpoint_freq", "policy_lr", "clip_range", "ent_coef", "vf_coef", "target_kl", "max_grad_norm",
    "n_epochs", "description", "torch_threads", "accelerator", "precision", "video", "max_videos", "video_fps",
}  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """The train.py command line."""
    parser = argparse.ArgumentParser(
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


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, train, print where the run went; user errors exit 2 with one line."""
    args = build_parser().parse_args(argv)
    try:
        if args.list_envs is not None:
            for config_id, description in list_config_ids(args.list_envs):
                print(f"{config_id:34} {description}")
            return 0
        if args.list_fields:
            print_fields()
            return 0
        return run_training(args)
    except (ConfigError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def run_training(args: argparse.Namespace) -> int:
    """Resolve the config (or the run to resume) and train."""
    from utils.config import Config, load_config

    overrides = collect_overrides(args)
    if args.resume:
        if args.config or args.config_id:
            raise ConfigError("--resume takes its config from the run; drop the <env>:<variant> argument")
        from utils.runs import resolve_run

        run = resolve_run(args.resume)
        fixed = sorted(set(overrides) - RESUME_CHANGEABLE)
        if fixed:
            raise ConfigError(
                f"--resume: {fixed[0]} cannot change when resuming (the checkpoint was built with it); "
                f"start a new run, or change only: {', '.join(sorted(RESUME_CHANGEABLE))}"
            )
        config = Config.from_dict({**run.read_config(), **overrides})
    else:
        run = None
        env, variant = split_config_id(args.config_id or args.config or DEFAULT_CONFIG_ID)
        config = load_config(env, variant, overrides)
    if debugger_attached():
        config = config.replace(**debugger_overrides(config.to_dict()))
        print("debugger attached: n_envs=1, sync vectorization, batch_size adjusted", file=sys.stderr)

    from utils.training import train  # builds the envs before it creates the run directory

    result = train(config, quiet=args.quiet, resume=run)
    print(f"run directory: {result.run.path}")
    return 130 if result.interrupted else 0


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
