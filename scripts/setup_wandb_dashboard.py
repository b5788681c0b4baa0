"""Create a W&B project's gymnasium-solver workspace: a section per concern, a panel for every logged metric.

    python scripts/setup_wandb_dashboard.py --entity E --project P                 # create it if missing
    python scripts/setup_wandb_dashboard.py --entity E --project P --overwrite     # replace an existing one
    python scripts/setup_wandb_dashboard.py --entity E --project P --select-latest # panels show the newest run
    python scripts/setup_wandb_dashboard.py --entity E --project P --dry-run       # print the spec, no network

Sections (train, eval, losses, optimisation, timing, videos) and panels come from ``utils/wandb_dashboard.py``,
titled with ``config/metrics.yaml``'s labels, every panel against ``train/cnt/timesteps``. Running it twice
changes nothing: the workspace has one fixed name, and an existing one is kept unless ``--overwrite``.
``train.py`` does the same at the start of every online run (``wandb_dashboard: true``).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from utils.cli_parser import OneLineErrorParser  # noqa: E402  (after the path insert)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments; print the spec (``--dry-run``) or save the workspace and print its URL."""
    parser = OneLineErrorParser(
        prog="scripts/setup_wandb_dashboard.py", description="Create or update the W&B workspace of a project."
    )
    parser.add_argument("--entity", default=os.environ.get("WANDB_ENTITY"), help="W&B user or team (WANDB_ENTITY)")
    parser.add_argument("--project", default=os.environ.get("WANDB_PROJECT"), help="W&B project (WANDB_PROJECT)")
    parser.add_argument("--overwrite", action="store_true", help="replace the workspace if it exists")
    parser.add_argument(
        "--select-latest", action="store_true", help="panels show only the newest run (runs sorted newest first)"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the workspace spec as JSON; no network")
    args = parser.parse_args(argv)
    if not args.entity or not args.project:
        parser.error("--entity and --project are required (or set WANDB_ENTITY and WANDB_PROJECT)")
    if args.dry_run:
        from utils.wandb_dashboard import workspace_spec

        print(json.dumps(workspace_spec(args.entity, args.project, args.select_latest), indent=2))
        return 0
    from utils.wandb_mode import wandb_credentials

    if wandb_credentials() is None:
        print(
            "error: saving a workspace needs W&B credentials and none were found; run `wandb login` or set "
            "WANDB_API_KEY (--dry-run needs none)",
            file=sys.stderr,
        )
        return 2
    from utils.wandb_dashboard import save_workspace

    try:
        saved = save_workspace(args.entity, args.project, args.overwrite, args.select_latest)
    except Exception as error:  # no access, no network, an API change: one line, not a traceback
        print(f"error: cannot save the workspace of {args.entity}/{args.project}: {error}", file=sys.stderr)
        return 1
    print(f"workspace {saved.action}: {saved.url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
