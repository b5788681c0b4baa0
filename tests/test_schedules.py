"""Hyperparameter schedules: values along training progress, mapping round trips, errors."""

from __future__ import annotations

import pytest

from utils.schedules import Schedule, ScheduleError, scheduled_value

MAX_STEPS = 1000


def test_linear_schedule_moves_evenly_from_start_to_end() -> None:
    schedule = Schedule.from_dict({"start": 1.0, "end": 0.0})
    assert schedule.value(0, MAX_STEPS) == 1.0
    assert schedule.value(250, MAX_STEPS) == pytest.approx(0.75)
    assert schedule.value(500, MAX_STEPS) == pytest.approx(0.5)
    assert schedule.value(1000, MAX_STEPS) == 0.0


def test_cosine_schedule_is_half_way_at_the_middle_and_slow_near_the_ends() -> None:
    schedule = Schedule.from_dict({"start": 2.0, "end": 0.0, "schedule": "cosine"})
    assert schedule.value(0, MAX_STEPS) == 2.0
    assert schedule.value(500, MAX_STEPS) == pytest.approx(1.0)
    # 0.5 * (1 - cos(pi / 4)) of the way at a quarter: 2 - 2 * 0.1464466 = 1.7071068
    assert schedule.value(250, MAX_STEPS) == pytest.approx(1.7071068, abs=1e-6)
    assert schedule.value(1000, MAX_STEPS) == 0.0


def test_exponential_schedule_reaches_the_geometric_mean_at_the_middle() -> None:
    schedule = Schedule.from_dict({"start": 1e-2, "end": 1e-4, "schedule": "exponential"})
    assert schedule.value(0, MAX_STEPS) == pytest.approx(1e-2)
    assert schedule.value(500, MAX_STEPS) == pytest.approx(1e-3)
    assert schedule.value(250, MAX_STEPS) == pytest.approx(1e-2 * 10 ** (-0.5))
    assert schedule.value(1000, MAX_STEPS) == pytest.approx(1e-4)


def test_from_and_to_up_to_one_are_fractions_of_max_timesteps() -> None:
    schedule = Schedule.from_dict({"start": 1.0, "end": 0.0, "from": 0.2, "to": 0.6})
    # Active between steps 200 and 600 of a 1000-step run.
    assert schedule.value(100, MAX_STEPS) == 1.0
    assert schedule.value(200, MAX_STEPS) == 1.0
    assert schedule.value(400, MAX_STEPS) == pytest.approx(0.5)
    assert schedule.value(600, MAX_STEPS) == 0.0
    assert schedule.value(900, MAX_STEPS) == 0.0


def test_from_and_to_above_one_are_absolute_env_steps() -> None:
    schedule = Schedule.from_dict({"start": 0.0, "end": 10.0, "from": 100, "to": 300})
    assert schedule.value(100, MAX_STEPS) == 0.0
    assert schedule.value(150, MAX_STEPS) == pytest.approx(2.5)
    assert schedule.value(200, MAX_STEPS) == pytest.approx(5.0)
    assert schedule.value(300, MAX_STEPS) == 10.0
    # Absolute points do not scale with the run length.
    assert schedule.value(200, 10 * MAX_STEPS) == pytest.approx(5.0)


def test_to_equal_to_one_means_the_end_of_the_run_not_step_one() -> None:
    schedule = Schedule.from_dict({"start": 1.0, "end": 0.0, "to": 1})
    assert schedule.value(500, MAX_STEPS) == pytest.approx(0.5)


def test_scheduled_value_passes_plain_numbers_through() -> None:
    assert scheduled_value(0.25, 123, MAX_STEPS) == 0.25
    assert scheduled_value(Schedule(start=4.0, end=0.0), 500, MAX_STEPS) == pytest.approx(2.0)


def test_to_dict_from_dict_to_dict_is_unchanged() -> None:
    original = {"start": 0.003, "end": 1e-5, "from": 0.1, "to": 5000.0, "schedule": "exponential"}
    first = Schedule.from_dict(original).to_dict()
    assert first == original
    assert Schedule.from_dict(first).to_dict() == first
    assert Schedule.from_dict(first) == Schedule.from_dict(original)


def test_missing_optional_keys_take_documented_defaults() -> None:
    assert Schedule.from_dict({"start": 1, "end": 2}).to_dict() == {
        "start": 1.0,
        "end": 2.0,
        "from": 0.0,
        "to": 1.0,
        "schedule": "linear",
    }


def test_numeric_strings_are_numbers_as_pyyaml_reads_1e_minus_3() -> None:
    schedule = Schedule.from_dict({"start": "1e-3", "end": "0"})
    assert schedule.start == pytest.approx(0.001)
    assert schedule.end == 0.0


def test_unknown_key_error_names_the_key_and_the_allowed_keys() -> None:
    with pytest.raises(ScheduleError, match=r"unknown schedule key.*'stop'.*allowed keys"):
        Schedule.from_dict({"start": 1.0, "end": 0.0, "stop": 5})


def test_missing_start_error_names_start() -> None:
    with pytest.raises(ScheduleError, match=r"missing \['start'\]"):
        Schedule.from_dict({"end": 0.0})


def test_bad_kind_error_names_the_kind_and_the_choices() -> None:
    with pytest.raises(ScheduleError, match=r"'quadratic'.*linear.*cosine.*exponential"):
        Schedule.from_dict({"start": 1.0, "end": 0.0, "schedule": "quadratic"})


def test_non_numeric_bound_error_names_the_key() -> None:
    with pytest.raises(ScheduleError, match=r"'end' must be a number"):
        Schedule.from_dict({"start": 1.0, "end": "lots"})
    with pytest.raises(ScheduleError, match=r"'start' must be a number"):
        Schedule.from_dict({"start": True, "end": 0.0})


def test_exponential_schedule_rejects_a_zero_end() -> None:
    with pytest.raises(ScheduleError, match="exponential"):
        Schedule.from_dict({"start": 1.0, "end": 0.0, "schedule": "exponential"})


def test_negative_progress_points_are_rejected() -> None:
    with pytest.raises(ScheduleError, match="'from' and 'to' must be >= 0"):
        Schedule.from_dict({"start": 1.0, "end": 0.0, "from": -0.1})


def test_schedule_errors_are_value_errors_so_callers_can_catch_them_as_such() -> None:
    with pytest.raises(ValueError):
        Schedule.from_dict({"start": 1.0})


@pytest.mark.parametrize("key", ["start", "end", "from", "to"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), "inf", "nan", 10**400])
def test_non_finite_values_are_rejected_and_named(key: str, value: object) -> None:
    data = {"start": 1.0, "end": 0.5, key: value}
    with pytest.raises(ScheduleError, match=rf"^schedule '{key}' must be a finite number"):
        Schedule.from_dict(data)


def test_from_after_to_is_an_error_when_both_are_fractions_or_both_steps() -> None:
    with pytest.raises(ScheduleError, match=r"'from' \(0.8\) is after 'to' \(0.2\)"):
        Schedule.from_dict({"start": 1.0, "end": 0.0, "from": 0.8, "to": 0.2})
    with pytest.raises(ScheduleError, match=r"'from' \(3000\) is after 'to' \(2000\)"):
        Schedule.from_dict({"start": 1.0, "end": 0.0, "from": 3000, "to": 2000})


def test_from_equal_to_to_is_a_step_change() -> None:
    schedule = Schedule.from_dict({"start": 1.0, "end": 0.0, "from": 0.5, "to": 0.5})
    assert schedule.value(499, MAX_STEPS) == 1.0
    assert schedule.value(501, MAX_STEPS) == 0.0


def test_mixed_units_are_left_to_the_config_which_knows_max_timesteps() -> None:
    # from: 0.5 (a fraction) and to: 300 (steps) cannot be ordered without the run length.
    schedule = Schedule.from_dict({"start": 1.0, "end": 0.0, "from": 0.5, "to": 300})
    assert schedule.steps(MAX_STEPS) == (500.0, 300.0)
    assert schedule.steps(100) == (50.0, 300.0)
