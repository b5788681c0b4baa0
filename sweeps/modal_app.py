"""The Modal app of distributed sweeps: the image, the runs volume, and the worker function.

``scripts/sweep_modal.py`` launches it; the work itself is ``sweeps.modal_worker.run_worker``. Importing this
module needs no network and no Modal token: Modal objects stay lazy until the app runs.

- Image: Debian slim with Python 3.11, the dependencies of this repository's ``pyproject.toml`` (torch from the
  CPU wheel index), the libraries OpenCV and pygame need headless, and this checkout's files added at ``/root``
  when a container starts (never cloned from a remote).
- Volume ``gymnasium-solver-runs`` at ``/runs`` (``GYMSOLVER_RUNS_DIR``): every run directory and sweep folder.
- CPU, memory, timeout, retries and secrets are the launcher's (``Function.with_options``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import modal

from sweeps.modal_jobs import CALL_MARGIN_S
from sweeps.modal_worker import RUNS_MOUNT, VOLUME_NAME, run_worker

APP_NAME = "gymnasium-solver-sweeps"
REPO = Path(__file__).resolve().parents[1]
# Workers are CPU machines: the CPU build of the pinned torch, not PyPI's CUDA one (several GB).
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
# Not uploaded: run outputs, virtual environments, caches and VCS data (dockerignore patterns, relative to REPO).
IGNORE = [
    "runs", ".venv*", "venv", ".git", "**/__pycache__", "**/*.pyc", "wandb", "*.egg-info", ".mypy_cache",
    ".ruff_cache", ".pytest_cache", "_vizdoom*", "tests",
]  # fmt: skip

image = (
    modal.Image.debian_slim(python_version="3.11")
    .apt_install("libgl1", "libglib2.0-0")  # OpenCV (video frames) headless; libgl1-mesa-glx is retired
    .pip_install_from_pyproject(str(REPO / "pyproject.toml"), extra_index_url=TORCH_INDEX)
    .env({"SDL_VIDEODRIVER": "dummy", "GYMSOLVER_RUNS_DIR": RUNS_MOUNT, "PYTHONUNBUFFERED": "1"})
    .add_local_dir(REPO, "/root", ignore=IGNORE)  # last: a code change needs no image rebuild
)
volume = modal.Volume.from_name(VOLUME_NAME, create_if_missing=True)
app = modal.App(APP_NAME, image=image)


# The timeout here is one default trial's; the launcher sets each sweep's (with_options).
@app.function(volumes={RUNS_MOUNT: volume}, include_source=False, timeout=3600 + CALL_MARGIN_S)
def sweep_worker(job: dict[str, Any]) -> dict[str, Any]:
    """Run one worker's trials into the runs volume (locally, with ``.local()``: into this machine's runs folder)."""
    from utils.runs import runs_root

    commit = None if modal.is_local() else volume.commit
    return run_worker(job, runs_root(), commit)
