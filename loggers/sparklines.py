"""Tiny unicode sparklines so a metric's trend fits beside its value in one line."""

from __future__ import annotations

import math
from collections.abc import Sequence

BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], width: int = 20) -> str:
    """Render the last `width` finite values as block characters; flat series sit mid-height."""
    finite = [float(v) for v in values if v is not None and math.isfinite(v)][-width:] if width > 0 else []
    if not finite:
        return ""
    low, high = min(finite), max(finite)
    if high - low <= 1e-12 * max(1.0, abs(high)):
        return BLOCKS[len(BLOCKS) // 2 - 1] * len(finite)
    top = len(BLOCKS) - 1
    return "".join(BLOCKS[round((v - low) / (high - low) * top)] for v in finite)
