"""CsvMetricsLogger: header widening, resume-append, crash tolerance."""

from __future__ import annotations

from pathlib import Path

from utils.metrics_csv import CsvMetricsLogger, read_metrics_csv


def test_new_key_widens_header_and_keeps_old_rows(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    with CsvMetricsLogger(path) as logger:
        logger.log({"train/a": 1.0, "train/b": 0.5})
        logger.log({"train/a": 2.0, "val/c": 7.25})
        logger.log({"train/b": 1.5})
    assert path.read_text().splitlines()[0] == "train/a,train/b,val/c"
    assert read_metrics_csv(path) == [
        {"train/a": 1.0, "train/b": 0.5},
        {"train/a": 2.0, "val/c": 7.25},
        {"train/b": 1.5},
    ]
    assert not [p for p in tmp_path.iterdir() if p.name != "metrics.csv"], "temp files left behind"


def test_resumed_run_appends_keeping_existing_columns(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    with CsvMetricsLogger(path) as logger:
        logger.log({"x": 1.0, "y": 2.0})
    with CsvMetricsLogger(path) as logger:
        assert logger.columns == ["x", "y"]
        logger.log({"y": 3.0, "x": 4.0})
        logger.log({"x": 5.0, "z": 6.0})
    assert path.read_text().splitlines()[0] == "x,y,z"
    assert read_metrics_csv(path) == [
        {"x": 1.0, "y": 2.0},
        {"x": 4.0, "y": 3.0},
        {"x": 5.0, "z": 6.0},
    ]


def test_each_row_is_on_disk_before_close(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    logger = CsvMetricsLogger(path)
    logger.log({"x": 1.0})
    logger.log({"x": 2.0})
    assert read_metrics_csv(path) == [{"x": 1.0}, {"x": 2.0}]
    logger.close()


def test_row_cut_off_by_a_crash_is_dropped_on_resume(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    path.write_text("x,y\n1,2\n3,")
    with CsvMetricsLogger(path) as logger:
        logger.log({"x": 5.0, "y": 6.0})
    assert read_metrics_csv(path) == [{"x": 1.0, "y": 2.0}, {"x": 5.0, "y": 6.0}]


def test_values_round_trip_exactly_and_missing_file_reads_empty(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    with CsvMetricsLogger(path) as logger:
        logger.log({"lr": 0.1 + 0.2, "steps": 100000.0, "nan": float("nan")})
    row = read_metrics_csv(path)[0]
    assert row["lr"] == 0.1 + 0.2 and row["steps"] == 100000.0 and row["nan"] != row["nan"]
    assert read_metrics_csv(tmp_path / "absent.csv") == []


def test_expected_columns_are_in_the_first_header_so_later_rows_never_rewrite_it(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    logger = CsvMetricsLogger(path)
    logger.log({"train/cnt/epoch": 1}, expected=["train/roll/ep_rew/mean", "val/roll/ep_rew/mean"])
    inode = path.stat().st_ino
    with path.open() as tail:  # a reader following the live file
        assert tail.readline().strip() == "train/cnt/epoch,train/roll/ep_rew/mean,val/roll/ep_rew/mean"
        logger.log({"train/cnt/epoch": 2, "val/roll/ep_rew/mean": 9.5})
        logger.log({"train/cnt/epoch": 3, "train/roll/ep_rew/mean": 4.0})
        logger.close()
        assert tail.read().splitlines() == ["1,,", "2,,9.5", "3,4,"]
    assert path.stat().st_ino == inode
