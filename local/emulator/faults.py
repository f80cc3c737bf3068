"""Fault injection for the local world: what goes wrong in a real deploy, on demand and repeatably.

- `throttle(rate)`: a share of calls answer ThrottlingException (or LimitExceededException), as a
  busy account does; botocore's standard retry mode retries both.
- `fail_call(op, code, msg, after_effect=...)`: one chosen call fails, either before it took effect
  (an error response) or after (the operation happened but the response was lost: the client sees a
  connection error, as when a Lambda dies or the network drops after the create was sent).
- `fail_import` / `fail_training` / `hang_training` / `fail_campaign`: a chosen long operation ends
  CREATE FAILED with a reason, or never finishes.

Everything is seeded: the same scenario injects the same faults in the same places.
"""

from __future__ import annotations

import fnmatch
import random
import threading
from collections import Counter
from dataclasses import dataclass, field

THROTTLING_CODES = ("ThrottlingException", "LimitExceededException")


@dataclass
class Throttle:
    rate: float
    operations: frozenset[str] | None
    services: frozenset[str]
    error_code: str
    rng: random.Random


@dataclass
class CallFailure:
    operation: str
    error_code: str
    message: str
    times: int
    after_effect: bool
    service: str | None = None


@dataclass(frozen=True)
class InjectedError:
    """What the bridge answers instead of (or after) the real operation."""

    error_code: str
    message: str
    after_effect: bool = False
    status: int = 400


@dataclass
class FaultInjector:
    """Faults armed by tests; consulted by the local Personalize (and the bridge for every call)."""

    throttles: list[Throttle] = field(default_factory=list)
    call_failures: list[CallFailure] = field(default_factory=list)
    import_failures: dict[str, str] = field(default_factory=dict)
    training_failures: dict[str, str] = field(default_factory=dict)
    training_hangs: list[str] = field(default_factory=list)
    campaign_failures: dict[str, str] = field(default_factory=dict)
    #: what was injected, by kind and operation ("throttle:CreateSolution", "call:CreateCampaign", ...)
    injected: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    # --- arming -------------------------------------------------------------------------------
    def throttle(
        self,
        rate: float,
        operations: list[str] | set[str] | tuple[str, ...] | None = None,
        seed: int = 0,
        *,
        error_code: str = "ThrottlingException",
        services: tuple[str, ...] = ("personalize",),
    ) -> None:
        """Answer `error_code` on `rate` (0..1) of calls to `operations` (None: every operation of
        `services`; "personalize" covers the control plane only, add "personalize-runtime" or
        "personalize-events" for the data plane)."""
        if not 0 <= rate <= 1:
            raise ValueError(f"rate must be within 0..1, got {rate}")
        if error_code not in THROTTLING_CODES:
            raise ValueError(f"error_code must be one of {THROTTLING_CODES}, got {error_code!r}")
        self.throttles.append(
            Throttle(rate, frozenset(operations) if operations else None, frozenset(services),
                     error_code, random.Random(seed))
        )

    def fail_call(
        self,
        operation: str,
        error_code: str = "InternalServerError",
        message: str = "injected failure",
        times: int = 1,
        after_effect: bool = False,
        service: str | None = None,
    ) -> None:
        """The next `times` calls to `operation` fail. after_effect=False: with an error response
        (`error_code`, `message`), nothing done. after_effect=True: the operation takes effect and
        the caller gets a connection error instead of the response (a lost response)."""
        if times < 1:
            raise ValueError(f"times must be >= 1, got {times}")
        self.call_failures.append(CallFailure(operation, error_code, message, times, after_effect, service))

    def fail_import(self, name_glob: str, reason: str = "injected import failure") -> None:
        """Import jobs whose name matches end CREATE FAILED with `reason`."""
        self.import_failures[name_glob] = reason

    def fail_training(self, name_glob: str, reason: str = "injected training failure") -> None:
        """Solution versions whose solution name (or version name) matches end CREATE FAILED."""
        self.training_failures[name_glob] = reason

    def hang_training(self, name_glob: str) -> None:
        """Solution versions whose solution name (or version name) matches never finish (they can
        still be stopped)."""
        self.training_hangs.append(name_glob)

    def fail_campaign(self, name_glob: str, reason: str = "injected campaign failure") -> None:
        """Campaigns whose name matches end CREATE FAILED (creation) or their update ends
        CREATE FAILED in latestCampaignUpdate (UpdateCampaign), keeping the old version serving."""
        self.campaign_failures[name_glob] = reason

    def clear(self) -> None:
        """Disarm everything (the counts in `injected` stay)."""
        self.throttles.clear()
        self.call_failures.clear()
        self.import_failures.clear()
        self.training_failures.clear()
        self.training_hangs.clear()
        self.campaign_failures.clear()

    # --- consulted by the local world -----------------------------------------------------------
    def on_call(self, service: str, operation: str) -> InjectedError | None:
        """Called once per API call before it runs: the error to answer, if any."""
        with self._lock:
            for failure in self.call_failures:
                if failure.operation == operation and failure.times > 0 and (
                    failure.service is None or failure.service == service
                ):
                    failure.times -= 1
                    self.injected[f"call:{operation}"] += 1
                    return InjectedError(failure.error_code, failure.message, failure.after_effect,
                                         500 if failure.error_code.startswith("InternalServer") else 400)
            for throttle in self.throttles:
                if service not in throttle.services:
                    continue
                if throttle.operations is not None and operation not in throttle.operations:
                    continue
                if throttle.rng.random() < throttle.rate:
                    self.injected[f"throttle:{operation}"] += 1
                    message = ("Rate exceeded" if throttle.error_code == "ThrottlingException"
                               else "Rate of requests exceeds limit")
                    return InjectedError(throttle.error_code, message)
        return None

    @staticmethod
    def _match(globs: dict[str, str] | list[str], *names: str | None) -> str | None:
        for glob in globs:
            for name in names:
                if name and fnmatch.fnmatchcase(name, glob):
                    return glob
        return None

    def import_failure(self, job_name: str) -> str | None:
        glob = self._match(self.import_failures, job_name)
        if glob is None:
            return None
        self.injected["import"] += 1
        return self.import_failures[glob]

    def training_failure(self, solution_name: str, version_name: str | None = None) -> str | None:
        glob = self._match(self.training_failures, solution_name, version_name)
        if glob is None:
            return None
        self.injected["training"] += 1
        return self.training_failures[glob]

    def training_hang(self, solution_name: str, version_name: str | None = None) -> bool:
        if self._match(self.training_hangs, solution_name, version_name) is None:
            return False
        self.injected["hang"] += 1
        return True

    def campaign_failure(self, campaign_name: str) -> str | None:
        glob = self._match(self.campaign_failures, campaign_name)
        if glob is None:
            return None
        self.injected["campaign"] += 1
        return self.campaign_failures[glob]

    def __getstate__(self) -> dict[str, object]:
        state = self.__dict__.copy()
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
