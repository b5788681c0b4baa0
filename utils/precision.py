"""The training precision a config gets: ``precision: auto`` picks bf16 autocast where it pays off.

bf16 autocast (Lightning's ``bf16-mixed``) runs convolutions and matrix products in bfloat16 while
weights, gradients and optimizer state stay float32. On CPUs with native bf16 instructions
(AVX512-BF16 or AMX) a Nature-CNN PPO update takes ~81 instead of ~140 ms here, and pixel PPO matched
float32 on VizdoomBasic (2 seeds) and over Breakout's first 3e5 steps; a full pixel-Atari comparison is
still to do (docs/PERFORMANCE.md, docs/BENCHMARKS.md). Without those instructions bf16
is emulated and slower than float32; small MLPs are bound by op overhead and gain nothing. So ``auto``
is bf16-mixed only for CNN policies trained on a CPU with native bf16, and float32 everywhere else
(GPUs included: untested on one here; set ``precision: bf16-mixed`` explicitly there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, cast

import torch

from utils.config import Config

NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")

Precision = Literal["32-true", "bf16-mixed"]  # what Lightning gets: config.PRECISIONS less "auto"


def cpu_has_native_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether the CPU computes bf16 natively (Linux: its flags list AVX512-BF16 or AMX-BF16)."""
    try:
        flags = set(cpuinfo.read_text().split())
    except OSError:
        return False
    return any(flag in flags for flag in NATIVE_BF16_FLAGS)


def _on_cpu(accelerator: str) -> bool:
    return accelerator == "cpu" or (accelerator == "auto" and not torch.cuda.is_available())


def emulated_bf16_note(config: Config, accelerator: str, native_bf16: bool | None = None) -> str | None:
    """A one-line warning when ``precision: bf16-mixed`` was asked for on a CPU that can only emulate it."""
    if config.precision != "bf16-mixed" or not _on_cpu(accelerator):
        return None
    if native_bf16 is None:
        native_bf16 = cpu_has_native_bf16()
    if native_bf16:
        return None
    return (
        "precision: bf16-mixed on a CPU without native bf16 (AVX512-BF16 or AMX) is emulated and several times "
        "slower than float32; set precision: auto or 32-true"
    )


def resolve_precision(config: Config, accelerator: str, native_bf16: bool | None = None) -> Precision:
    """The Lightning precision for this run: ``config.precision``, with ``auto`` decided as above."""
    if config.precision != "auto":
        return cast(Precision, config.precision)  # the config's choices checked it
    on_cpu = _on_cpu(accelerator)
    if native_bf16 is None:
        native_bf16 = on_cpu and cpu_has_native_bf16()
    return "bf16-mixed" if config.policy == "cnn" and on_cpu and native_bf16 else "32-true"
