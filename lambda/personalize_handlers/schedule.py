"""The waiter's poll schedule: a pure function of the time already waited.

Why this shape. Two costs pull in opposite directions:

* **Lateness** (the delay between the operation finishing and the poll that notices it) is at
  most the gap between two polls, so the gap must stay small *relative to the operation*: the
  benchmark target is virtual deploy time / critical path <= 1.02, i.e. all lateness on the
  critical path together under 2 % of it.
* **Describe calls** must stay <= 60 per operation-hour, i.e. polls on average at least 60 s apart.

Both cannot hold for every short operation (a 5-minute import polled every 6 s to be 2 % late
costs 600 describes/hour), so the schedule is proportional with a floor and a cap::

    next_delay(t) = min(CAP, max(FLOOR, ceil(RATIO * t)))    FLOOR = 65 s, RATIO = 0.5 %, CAP = 600 s

Arithmetic (worst cases; tests/handlers/test_schedule.py computes them for 5 min .. 12 h):

* Lateness of an operation of length T is below next_delay(T): 65 s while T <= 3.6 h
  (13 000 s), then 0.5 % of T (6 h: <= 108 s; 12 h: <= 216 s), so <= 2 % of T for every T >= 54
  min. The cap (600 s) is never reached inside the 12 h WaitCondition ceiling; it bounds a runaway.
  The ratio is well under 2 % because the critical path also carries short operations (an import,
  the campaign) whose lateness is the floor: import 30 min + training 3 h + campaign 20 min =
  13 800 s with worst lateness 3 x 65 s = 1.4 % (expected about half: completion falls uniformly
  inside a gap).
* Describe calls: none at t = 0 (the operation was started a moment ago: the waiter's first
  invocation only schedules, see waiter.poll), then one per 65 s up to 3.6 h (55.4 /h plus the
  overshooting last one), then gaps growing geometrically (t_{k+1} = 1.005 t_k), i.e.
  200 * ln(T / 13 000 s) more. 1 h: 56 describes; 3 h: 167 (56 /h); 6 h: 302 (50 /h); 12 h: 440
  (37 /h). Every operation of 15 min or more stays <= 60 /h; 5-15 min ones pay up to one
  overshooting describe (< 67 /h; 5 min: 5 describes); they are a small share of the
  operation-hours of a pipeline dominated by multi-hour trainings. The floor is 65 s, not 60,
  because that last overshooting describe would otherwise push every operation under ~2 h over
  60 /h.
* Not reachable together for short pipelines: with a critical path of ~1 h carrying three waited
  operations, expected lateness is ~3 x 32 s = 2.7 %; getting that under 2 % needs ~40 s gaps,
  i.e. ~90 describes/hour. The schedule favours the describe budget there and meets both targets
  once trainings take a few hours (the benchmark's reference pipeline).

`elapsed_seconds` is the time waited so far (the sum of the delays already returned), which keeps
the schedule independent of any clock and exact under the local virtual clock.
"""

from __future__ import annotations

import math

FLOOR_SECONDS = 65
RATIO = 0.005
CAP_SECONDS = 600


def next_delay(elapsed_seconds: float) -> int:
    """Seconds to wait before the next describe, given the seconds already waited."""
    if math.isnan(elapsed_seconds) or elapsed_seconds < 0:
        elapsed_seconds = 0.0
    proportional = math.ceil(RATIO * elapsed_seconds) if math.isfinite(elapsed_seconds) else CAP_SECONDS
    return int(min(CAP_SECONDS, max(FLOOR_SECONDS, proportional)))


def poll_times(duration_seconds: float) -> list[float]:
    """The times (since start) at which the waiter describes an operation of this length; the
    last one is the first at or after `duration_seconds`. Used by the tests and the benchmark."""
    times = [float(next_delay(0.0))]
    while times[-1] < duration_seconds:
        times.append(times[-1] + next_delay(times[-1]))
    return times
