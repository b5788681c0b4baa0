"""What ``scripts/sweep.py`` and ``scripts/sweep_modal.py`` share on the command line, worded once: the spec,
``--count``, ``--set`` and ``--seed``, and how ``--set`` values are read."""

from __future__ import annotations

import argparse
from typing import Any


def add_shared_arguments(parser: argparse.ArgumentParser, seed_help: str) -> None:
    """The spec and ``--count``, ``--set``, ``--seed`` (whose help says which searches it seeds)."""
    parser.add_argument("spec", nargs="?", help="sweep spec (YAML), e.g. config/sweeps/cartpole_ppo_grid.yaml")
    parser.add_argument(
        "--count", type=int, help="trials in all, over every resume (grid: default and cap = the grid's size; "
        "random and bayes: required)",
    )  # fmt: skip
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="override a config field in every trial, read as YAML (repeatable); it replaces a fixed {value: …} "
        "parameter, and a swept field cannot be set",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help=seed_help)


def cli_overrides(texts: list[str]) -> dict[str, Any]:
    """``--set`` values, parsed like train.py's."""
    from utils.config_files import parse_override

    return dict(parse_override(text) for text in texts)
