"""Keep VizDoom's scratch files (``_vizdoom/``, ``_vizdoom.ini``) out of the working directory.

The Doom engine is a child process started by the env's first ``reset`` (``DoomGame.init``); it
creates ``./_vizdoom/`` and, when it exits, writes ``./_vizdoom.ini``, both relative to its own working
directory, which it inherits from ours at launch. This wrapper launches it from a private temporary
directory (changing ours back right after) and deletes that directory when the env closes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from typing import Any

import gymnasium as gym

_CWD_LOCK = threading.Lock()  # the working directory is per process: one launch at a time


class VizDoomScratchDir(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Runs the Doom engine with its working directory in a temp folder removed on ``close``."""

    def __init__(self, env: gym.Env) -> None:
        gym.utils.RecordConstructorArgs.__init__(self)
        super().__init__(env)
        self.scratch: str | None = None

    def reset(self, **kwargs: Any) -> Any:
        game = getattr(self.env.unwrapped, "game", None)
        if game is None or game.is_running():
            return self.env.reset(**kwargs)
        with _CWD_LOCK:
            if self.scratch is None:
                self.scratch = tempfile.mkdtemp(prefix="gymsolver-vizdoom-")
            here = os.getcwd()
            os.chdir(self.scratch)
            try:
                return self.env.reset(**kwargs)
            finally:
                os.chdir(here)

    def close(self) -> None:
        super().close()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None
