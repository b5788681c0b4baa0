"""Names of metrics every run logs, for the code that must know them without importing the trainer."""

from __future__ import annotations

# The val/ metrics every evaluation logs, in order (EvalResult.metrics, then the best mean and the count).
VAL_METRICS = (
    "val/roll/ep_rew/mean",
    "val/roll/ep_rew/std",
    "val/roll/ep_rew/min",
    "val/roll/ep_len/mean",
    "val/roll/ep_rew/best",
    "val/cnt/evals",
)
