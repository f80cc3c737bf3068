"""Where the local world's time comes from.

Every timestamp and every status transition of the local Personalize is computed from a clock, never
from `time.time()` directly: a `VirtualClock` lets tests and the runner make a six-hour training pass
in milliseconds (and deterministically); a `ScaledClock` runs wall time faster for the server.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol, runtime_checkable

#: 2026-01-01T00:00:00Z: a fixed default start, so virtual runs print the same timestamps every time.
DEFAULT_START = 1767225600.0


@runtime_checkable
class Clock(Protocol):
    """Epoch seconds, as `time.time()` gives them."""

    def now(self) -> float: ...


class VirtualClock:
    """Time that moves only when the caller moves it (thread-safe)."""

    def __init__(self, start: float = DEFAULT_START) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        """Move forward by `seconds` (>= 0); returns the new time."""
        if seconds < 0:
            raise ValueError(f"a clock cannot go back: advance({seconds})")
        with self._lock:
            self._now += float(seconds)
            return self._now

    def advance_to(self, when: float) -> float:
        """Move forward to `when` unless already past it (several waiters may race)."""
        with self._lock:
            self._now = max(self._now, float(when))
            return self._now

    def set(self, when: float) -> None:
        """Put the clock at `when` (may go back: for tests that want it)."""
        with self._lock:
            self._now = float(when)

    def sleep(self, seconds: float) -> None:
        """What a retrying client's sleep means under virtual time: time passes, nobody waits."""
        if seconds > 0:
            self.advance(seconds)

    def __getstate__(self) -> dict[str, float]:
        return {"now": self._now}

    def __setstate__(self, state: dict[str, float]) -> None:
        self._now = state["now"]
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"VirtualClock({self._now!r})"


class ScaledClock:
    """Wall time times `speed`, starting at `start` (the server's clock: `--speed 60` makes a
    one-hour training take a minute)."""

    def __init__(self, speed: float = 1.0, start: float | None = None) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self.speed = float(speed)
        self._start = time.time() if start is None else float(start)
        self._wall0 = time.monotonic()

    def now(self) -> float:
        return self._start + (time.monotonic() - self._wall0) * self.speed

    def advance(self, seconds: float) -> float:
        """Jump forward by `seconds` (>= 0) and keep running from there; returns the new time.
        The server's explicit way to let hours pass while the clock otherwise runs at wall speed."""
        if seconds < 0:
            raise ValueError(f"a clock cannot go back: advance({seconds})")
        self._start += float(seconds)
        return self.now()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.speed)

    def __getstate__(self) -> dict[str, float]:
        return {"speed": self.speed, "now": self.now()}

    def __setstate__(self, state: dict[str, float]) -> None:
        self.speed = state["speed"]
        self._start = state["now"]
        self._wall0 = time.monotonic()

    def __repr__(self) -> str:
        return f"ScaledClock(speed={self.speed!r}, now={self.now()!r})"
