"""The waiter's poll schedule: a pure function of the time already waited.

Why this shape. Two costs pull in opposite directions:

* **Lateness** (the delay between the operation finishing and the poll that notices it) is at
  most the gap between two polls, so the gap must stay small *relative to the operation*: the
  benchmark target is virtual deploy time / critical path <= 1.02, i.e. all lateness on the
  critical path together under 2 % of it.
* **Describe calls** must stay <= 60 per operation-hour, i.e. polls on average at least 60 s apart.

Both cannot hold for every short operation (a 5-minute import polled every 6 s to be 2 % late
costs 600 describes/hour), so the schedule is proportional with a floor and a cap::

    next_delay(t) = min(CAP, max(FLOOR, RATIO * t))     FLOOR = 60 s, RATIO = 1 %, CAP = 600 s

Arithmetic (worst cases; tests/handlers/test_schedule.py computes them for 5 min .. 12 h):

* Lateness of an operation of length T is < next_delay(T): 60 s while T <= 100 min, then 1 % of T
  (6 h training: <= 216 s; 12 h: <= 432 s). The cap (600 s) is never reached inside the 12 h
  WaitCondition ceiling; it only bounds a runaway. RATIO is 1 %, not 2 %, because the critical path
  also carries short operations (imports, campaign) whose lateness is the 60 s floor: e.g. import
  30 min + training 4 h + campaign 20 min = 17 400 s, worst lateness 60 + 144 + 60 = 264 s = 1.5 %
  (expected about half of that, since completion falls uniformly inside a gap).
* Describe calls: one poll at t = 0, then one per 60 s up to 100 min (6000 s), then the gaps grow
  geometrically (t_{k+1} = 1.01 t_k), i.e. ~100 * ln(T / 6000 s) more polls. 3 h: ~161 polls
  (54 /h); 6 h: ~231 (39 /h); 12 h: ~300 (25 /h). Operations shorter than about 30 min pay for the
  t = 0 poll and the final overshooting poll: a 5-minute operation costs 6 describes (72 /h); they
  are a small share of operation-hours on a pipeline dominated by multi-hour trainings.

`elapsed_seconds` is the time waited so far (the sum of the delays already returned), which keeps
the schedule independent of any clock and exact under the local virtual clock.
"""

from __future__ import annotations

import math

FLOOR_SECONDS = 60
RATIO = 0.01
CAP_SECONDS = 600


def next_delay(elapsed_seconds: float) -> int:
    """Seconds to wait before the next describe, given the seconds already waited."""
    if math.isnan(elapsed_seconds) or elapsed_seconds < 0:
        elapsed_seconds = 0.0
    proportional = math.ceil(RATIO * elapsed_seconds) if math.isfinite(elapsed_seconds) else CAP_SECONDS
    return int(min(CAP_SECONDS, max(FLOOR_SECONDS, proportional)))


def poll_times(duration_seconds: float) -> list[float]:
    """The times (since start) at which the waiter polls an operation of this length; the last
    one is the first at or after `duration_seconds`. Used by the tests and the benchmark."""
    times = [0.0]
    while times[-1] < duration_seconds:
        times.append(times[-1] + next_delay(times[-1]))
    return times
