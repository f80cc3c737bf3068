"""What every benchmark prints beside its figures: the machine's load, medians, ratios, goals."""

from __future__ import annotations

import os
import statistics
from collections.abc import Sequence


def load() -> str:
    """The 1-minute load average against the cores: the figures of a loaded machine move a lot."""
    return f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def verdict(met: bool, quick: bool) -> str:
    """A goal's outcome; a quick run (one round each, a smoke check) checks none."""
    return "not checked (--quick)" if quick else "met" if met else "MISSED"
