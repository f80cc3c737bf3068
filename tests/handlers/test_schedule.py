"""The poll schedule's properties, and the two benchmark targets computed analytically."""

from __future__ import annotations

import itertools
import math

import pytest
from personalize_handlers.schedule import CAP_SECONDS, FLOOR_SECONDS, RATIO, next_delay, poll_times

MINUTE, HOUR = 60, 3600
#: 5 min .. 12 h on a step that never divides the floor, so polls cannot align by luck
DURATIONS = range(5 * MINUTE, 12 * HOUR + 1, 13)


def test_monotone_and_bounded() -> None:
    previous = 0
    for t in range(0, 200_000, 7):
        delay = next_delay(t)
        assert FLOOR_SECONDS <= delay <= CAP_SECONDS
        assert delay >= previous
        previous = delay
    assert next_delay(10**12) == CAP_SECONDS


@pytest.mark.parametrize("odd", [-5.0, float("nan"), float("inf"), 0.0])
def test_odd_inputs_stay_in_bounds(odd: float) -> None:
    assert FLOOR_SECONDS <= next_delay(odd) <= CAP_SECONDS
    assert isinstance(next_delay(odd), int)


def test_short_at_first_growing_then_capped() -> None:
    assert next_delay(0) == FLOOR_SECONDS
    assert next_delay(6 * HOUR) == math.ceil(RATIO * 6 * HOUR) > FLOOR_SECONDS
    assert next_delay(12 * HOUR) < CAP_SECONDS  # the cap is a guard, never hit within 12 h


def test_poll_times_follow_the_schedule() -> None:
    times = poll_times(2 * HOUR)
    assert times[0] == FLOOR_SECONDS  # no describe at t = 0
    assert all(b - a == next_delay(a) for a, b in itertools.pairwise(times))
    assert times[-2] < 2 * HOUR <= times[-1]


def _lateness(duration: float) -> float:
    return poll_times(duration)[-1] - duration


def _describes_per_hour(duration: float) -> float:
    return len(poll_times(duration)) / (duration / HOUR)


def test_lateness_is_at_most_one_gap() -> None:
    for duration in DURATIONS:
        assert 0 <= _lateness(duration) < next_delay(duration)


def test_lateness_within_two_percent_for_operations_over_54_minutes() -> None:
    worst = max(_lateness(d) / d for d in DURATIONS if d >= 54 * MINUTE)
    assert worst <= 0.02, worst
    # shorter ones are late by at most the floor
    assert max(_lateness(d) for d in DURATIONS if d < 54 * MINUTE) < FLOOR_SECONDS


def test_describe_budget_per_operation_hour() -> None:
    assert max(_describes_per_hour(d) for d in DURATIONS if d >= 15 * MINUTE) <= 60
    assert max(_describes_per_hour(d) for d in DURATIONS) < 67
    assert len(poll_times(5 * MINUTE)) == 5  # a 5-minute operation: 5 describes in all


def test_reference_pipeline_worst_case() -> None:
    """Three imports in parallel, two trainings in parallel, one campaign (the shape of the local
    deploy benchmark's reference pipeline): the critical path is the longest import, the longest
    training and the campaign."""
    imports = [23 * MINUTE + 7, 31 * MINUTE + 41, 17 * MINUTE + 3]
    trainings = [2 * HOUR + 47 * MINUTE + 13, 4 * HOUR + 11 * MINUTE + 29]
    campaign = 19 * MINUTE + 11
    critical = max(imports) + max(trainings) + campaign
    # worst case: every operation on the path is noticed one full gap late
    worst_late = sum(next_delay(d) for d in (max(imports), max(trainings), campaign))
    assert (critical + worst_late) / critical <= 1.02
    # as computed (deterministic lateness of each operation)
    actual_late = sum(_lateness(d) for d in (max(imports), max(trainings), campaign))
    assert (critical + actual_late) / critical <= 1.02
    operations = [*imports, *trainings, campaign]
    describes = sum(len(poll_times(d)) for d in operations)
    assert describes / (sum(operations) / HOUR) <= 60
