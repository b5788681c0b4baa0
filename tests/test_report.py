"""write_report: learning curve PNG and markdown report from metrics.csv."""

from __future__ import annotations

from pathlib import Path

from utils.metrics_csv import CsvMetricsLogger
from utils.report import write_report

CONFIG = {
    "env_id": "CartPole-v1",
    "algo_id": "ppo",
    "n_envs": 8,
    "policy_lr": {"start": 3e-4, "end": 0.0},
    "gamma": 0.99,
    "seed": 42,
    "unrelated": "not shown",
}


def write_metrics(run_dir: Path, rows: list[dict[str, float]]) -> None:
    with CsvMetricsLogger(run_dir / "metrics.csv") as logger:
        for row in rows:
            logger.log(row)


def test_report_has_curve_and_all_sections(tmp_path: Path) -> None:
    rows: list[dict[str, float]] = []
    for epoch in range(6):
        row = {
            "train/cnt/timesteps": 1000.0 * (epoch + 1),
            "train/roll/ep_rew/mean": 10.0 + 30 * epoch,
        }
        if epoch % 2 == 1:
            row["val/roll/ep_rew/mean"] = 500.0 if epoch == 3 else 100.0
        rows.append(row)
    write_metrics(tmp_path, rows)
    summary = {"status": "solved", "reward_threshold": 475.0}
    report = write_report(tmp_path, "CartPole-v1:ppo  run abc", CONFIG, summary)
    text = report.read_text()
    assert report == tmp_path / "report.md"
    assert (tmp_path / "learning_curve.png").read_bytes().startswith(b"\x89PNG")
    assert text.startswith("# CartPole-v1:ppo  run abc")
    for section in (
        "## Summary",
        "## Configuration",
        "## Metrics",
        "## Learning curve",
    ):
        assert section in text
    assert "| status | solved |" in text
    assert "| env_id | CartPole-v1 |" in text and "| policy_lr | start=0.0003, end=0 |" in text
    assert "unrelated" not in text
    assert "| val/roll/ep_rew/mean | 100.00 | 500.00 | 4,000 |" in text
    assert "![learning curve](learning_curve.png)" in text
    assert "no evaluation yet" not in text
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "learning_curve.png",
        "metrics.csv",
        "report.md",
    ]


def test_report_without_eval_rows_says_so(tmp_path: Path) -> None:
    write_metrics(tmp_path, [{"train/cnt/timesteps": 512.0, "train/roll/ep_rew/mean": 12.0}])
    text = write_report(tmp_path, "t", {}, {}).read_text()
    assert "no evaluation yet" in text
    assert (tmp_path / "learning_curve.png").exists()


def test_report_without_metrics_file_still_writes_both_files(tmp_path: Path) -> None:
    text = write_report(tmp_path, "empty", {"env_id": "X"}, {"status": "crashed"}).read_text()
    assert "no evaluation yet" in text and "| status | crashed |" in text
    assert (tmp_path / "learning_curve.png").exists()


def test_a_nan_metric_is_written_out_not_hidden_and_never_counted_as_best(tmp_path: Path) -> None:
    rows = [
        {"train/cnt/timesteps": 100, "val/roll/ep_rew/mean": 10.0},
        {"train/cnt/timesteps": 200, "val/roll/ep_rew/mean": float("nan")},
    ]
    with CsvMetricsLogger(tmp_path / "metrics.csv") as logger:
        for row in rows:
            logger.log(row)
    report = write_report(tmp_path, "t", {}, {"status": "diverged: x"}).read_text()
    line = next(line for line in report.splitlines() if line.startswith("| val/roll/ep_rew/mean |"))
    assert line.split("|")[2].strip() == "nan"  # final
    assert line.split("|")[3].strip() == "10.00" and line.split("|")[4].strip() == "100"  # best and its step
