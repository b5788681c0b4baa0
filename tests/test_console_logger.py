"""ConsoleLogger, sparklines and metric display rules."""

from __future__ import annotations

import io
import math
from pathlib import Path

import pytest
from rich.console import Console

from loggers.console import ConsoleLogger
from loggers.metrics_rules import MetricRule, MetricsRules
from loggers.sparklines import BLOCKS, sparkline


def make_console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=120, force_terminal=False), buffer


def test_sparkline_has_one_char_per_value_and_spans_lowest_to_highest() -> None:
    line = sparkline([1.0, 2.0, 3.0, 4.0])
    assert len(line) == 4
    assert line[0] == BLOCKS[0] and line[-1] == BLOCKS[-1]
    assert list(line) == sorted(line)


def test_sparkline_keeps_only_last_width_finite_values() -> None:
    values = [float(i) for i in range(50)] + [math.nan, math.inf]
    assert len(sparkline(values, width=10)) == 10


def test_sparkline_flat_series_sits_mid_height_and_empty_is_blank() -> None:
    flat = sparkline([5.0] * 7)
    assert len(flat) == 7 and len(set(flat)) == 1
    assert flat[0] not in (BLOCKS[0], BLOCKS[-1])
    assert sparkline([]) == ""
    assert sparkline([math.nan]) == ""


def test_rules_prefer_exact_name_then_first_matching_glob_then_default() -> None:
    rules = MetricsRules(
        {
            "train/loss/entropy": MetricRule(precision=5),
            "train/loss/*": MetricRule(precision=4),
            "*": MetricRule(1),
        },
        default=MetricRule(precision=2),
    )
    assert rules.rule_for("train/loss/entropy").precision == 5
    assert rules.rule_for("train/loss/value").precision == 4
    assert rules.rule_for("val/anything").precision == 1
    assert MetricsRules({}, default=MetricRule(precision=2)).rule_for("x").precision == 2


def test_rules_flag_values_outside_bounds_only() -> None:
    rules = MetricsRules({"kl": MetricRule(max=0.05), "ev": MetricRule(min=0.0)})
    assert rules.out_of_bounds("kl", 0.08) and not rules.out_of_bounds("kl", 0.01)
    assert rules.out_of_bounds("ev", -0.5) and not rules.out_of_bounds("ev", 0.5)
    assert not rules.out_of_bounds("kl", math.nan)


def test_rules_format_counters_with_separators_and_nan_as_dash() -> None:
    rules = MetricsRules({"cnt": MetricRule(precision=0), "lr": MetricRule(precision=6)})
    assert rules.format("cnt", 100000.0) == "100,000"
    assert rules.format("lr", 3e-4) == "0.000300"
    assert rules.format("other", 0.123456) == "0.123"
    assert rules.format("other", math.nan) == "—"


def test_bundled_rules_file_loads_with_sensible_bounds() -> None:
    rules = MetricsRules.load()
    assert rules.out_of_bounds("train/approx_kl", 0.1)
    assert rules.out_of_bounds("train/clip_fraction", 0.7)
    assert rules.out_of_bounds("train/explained_variance", -0.2)
    assert rules.format("train/cnt/timesteps", 12345.0) == "12,345"


def test_rules_file_with_unknown_field_names_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "metrics.yaml"
    path.write_text("train/x: {precison: 2}\n")
    with pytest.raises(ValueError, match="train/x"):
        MetricsRules.load(path)


def test_log_epoch_prints_grouped_table_with_formatted_values() -> None:
    console, buffer = make_console()
    logger = ConsoleLogger(1000, rules=MetricsRules.load(), console=console, table_every=1)
    logger.start("CartPole-v1:ppo  run abc123")
    for epoch in range(3):
        logger.update_progress(100 * epoch)
        metrics = {
            "train/cnt/timesteps": 20000.0 * (epoch + 1),
            "train/approx_kl": 0.01,
            "train/loss/value": math.nan,
        }
        logger.log_epoch(epoch, metrics)
    logger.log_epoch(3, {"val/roll/ep_rew/mean": 123.456})
    logger.finish({"best_reward": 123.456, "status": "done"})
    out = buffer.getvalue()
    assert "CartPole-v1:ppo  run abc123" in out
    assert "train/" in out and "val/" in out
    assert "60,000" in out and "0.0100" in out and "123.46" in out
    loss_line = next(line for line in out.splitlines() if "loss/value" in line)
    assert "—" in loss_line
    kl_line = [line for line in out.splitlines() if "approx_kl" in line][-1]
    assert sparkline([0.01] * 3) in kl_line
    assert "status" in out and "done" in out


def test_quiet_mode_prints_no_table_but_still_prints_summary() -> None:
    console, buffer = make_console()
    logger = ConsoleLogger(1000, quiet=True, console=console, table_every=1)
    logger.start("quiet run")
    logger.log_epoch(0, {"train/approx_kl": 0.0123, "val/roll/ep_rew/mean": 9.0})
    logger.update_progress(1000)
    logger.finish({"final_reward": 42.5})
    out = buffer.getvalue()
    assert "approx_kl" not in out and "epoch 0" not in out
    assert "final_reward" in out and "42.50" in out
    assert list(logger.history["train/approx_kl"]) == [0.0123]


def test_tables_are_throttled_between_eval_epochs() -> None:
    console, buffer = make_console()
    logger = ConsoleLogger(1000, console=console, table_interval_s=3600.0)
    for epoch in range(5):
        logger.log_epoch(epoch, {"train/approx_kl": 0.01})
    logger.log_epoch(5, {"train/approx_kl": 0.01, "val/roll/ep_rew/mean": 1.0})
    out = buffer.getvalue()
    assert "epoch 0" in out and "epoch 5" in out
    assert not any(f"epoch {epoch}" in out for epoch in range(1, 5))
