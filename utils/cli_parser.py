"""The command-line parser every CLI uses: a usage mistake is one ``error:`` line and exit status 2."""

from __future__ import annotations

import argparse
from typing import NoReturn


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse whose usage errors read like every other error (argparse's own prints the usage block first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message}; see python {self.prog} --help\n")
