"""When the speed code may stand in for torch: the one check the fused MLP, the NumPy actor and the
closed-form PPO gradient share."""

from __future__ import annotations

import torch


def speed_code_applies(weight: torch.Tensor) -> bool:
    """Whether ``weight`` is float32 on the CPU with CPU autocast off, the case where the speed code computes
    exactly what torch would (checked per call: Lightning moves and casts modules after they are built)."""
    return weight.device.type == "cpu" and weight.dtype == torch.float32 and not torch.is_autocast_enabled("cpu")
