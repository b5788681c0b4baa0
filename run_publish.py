"""Publish a run's checkpoint to the Hugging Face Hub: ``python run_publish.py --run-id @last``.

The checkpoint is evaluated again over ``--eval-episodes`` seeded episodes, then a model card, the results,
the inference files (safetensors, no pickle), the run's metrics, report and learning curve and a replay
video are uploaded in one commit. ``--dry-run DIR`` writes that folder instead, without any network.
Needs ``HF_TOKEN`` or ``hf auth login``; the token is never printed or written. Load it back with
``python run_play.py --hub USER/NAME``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from utils.cli_parser import OneLineErrorParser
from utils.config_values import ConfigError

if TYPE_CHECKING:  # imported where used: --help stays fast
    from publishing.hub import HubClient

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def build_parser() -> argparse.ArgumentParser:
    """The run_publish.py command line."""
    parser = OneLineErrorParser(
        description="Publish a trained run's checkpoint to the Hugging Face Hub (one commit): model card, "
        "results, weights, metrics, learning curve and replay video.",
        epilog="examples: python run_publish.py --run-id @last | python run_publish.py --repo me/ppo-cartpole "
        "--private | python run_publish.py --dry-run out/  (needs HF_TOKEN or `hf auth login`, except --dry-run)",
    )
    parser.add_argument("--run-id", "--run_id", dest="run_id", default="@last", help="run id or @last (default)")
    parser.add_argument("--repo", metavar="USER/NAME", help="model repo (default: <your user>/<algo>-<env id>)")
    parser.add_argument(
        "--private", action="store_true", help="create the repo private (an existing repo keeps its visibility)"
    )
    parser.add_argument("--checkpoint", default="best", help="best | last | <epoch number> (default: best)")
    parser.add_argument("--eval-episodes", "--eval_episodes", dest="eval_episodes", type=int, default=10,
                        help="episodes of the re-evaluation whose mean and std are published (default 10)")  # fmt: skip
    parser.add_argument("--message", metavar="TEXT", help="commit message (default: checkpoint, run and result)")
    parser.add_argument("--dry-run", "--dry_run", dest="dry_run", metavar="DIR",
                        help="write the folder that would be uploaded into DIR (new or empty); no network")  # fmt: skip
    return parser


def main(argv: list[str] | None = None, client: HubClient | None = None) -> int:
    """Parse arguments and publish; user errors print one line and exit 2, a Hub that fails exits 1."""
    args = build_parser().parse_args(argv)
    try:
        from publishing.request import PublishRequest, check_request

        request = PublishRequest(
            run_id=args.run_id,
            repo=args.repo,
            private=args.private,
            checkpoint=args.checkpoint,
            eval_episodes=args.eval_episodes,
            message=args.message,
            dry_run=None if args.dry_run is None else Path(args.dry_run),
        )
        check_request(request)  # before anything heavy loads: a bad argument fails at once
        from publishing.hub import HubUnavailable
        from publishing.publish import publish

        try:
            publish(request, client)
        except HubUnavailable as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_FAILED
        return EXIT_OK
    except (ConfigError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:  # the disk, not the user's input: no space, read-only file system
        where = f" while writing {error.filename}" if error.filename else ""
        print(f"error: {error.strerror or error}{where}; nothing was published", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("error: interrupted; nothing was published", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
