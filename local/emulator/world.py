"""The whole local AWS in one object: moto (S3, IAM, STS, Logs, Step Functions API, ...), the local
Personalize (control plane, runtime, events), a clock and a fault injector.

    world = World()                      # VirtualClock, no faults
    with world.active():                 # in-process boto3 now reaches moto and the local Personalize
        boto3.client("personalize", region_name="us-east-1").create_dataset_group(name="dg")
        world.clock.advance(60)          # statuses follow the clock
    world.save(".local/world.pkl")       # everything, S3 objects and trained models included
    world = World.load(".local/world.pkl")

How Personalize calls reach us: moto registers one botocore `before-send` handler (its
BotocoreStubber) for every client; `install_bridge()` wraps that stubber's `process_request` so that a
request to personalize / personalize-runtime / personalize-events, while a World is active, is
answered by this world (fault injection and call counting included) and every other request goes to
moto as before. Because the hook is moto's own stubber, clients created before or after activation
behave the same. This and every other use of moto's and botocore's internals below goes through
local.emulator.moto_internals, which lists them with the versions they were written for.

Retries under virtual time: botocore sleeps between retries with `time.sleep` in
`botocore.endpoint`; while a World is active that module's `time` is a proxy whose `sleep` follows
the world's clock (`retry_sleep="clock"`, the default: a VirtualClock advances instead of waiting, a
ScaledClock waits seconds / speed), or returns at once (`"skip"`), or really sleeps (`"real"`). So
30% throttling costs virtual seconds, not real ones.

moto's state is module-global (one BackendDict per service). A World keeps its own copy of the
contents of those dicts and puts it in place while active, so several Worlds can exist in one process
(one active at a time) and a World pickles with its moto state.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import threading
import time
import weakref
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from local.emulator import moto_internals
from local.emulator.clock import Clock, VirtualClock
from local.emulator.faults import FaultInjector
from local.emulator.personalize import protocol
from local.emulator.personalize.backend import PersonalizeBackend

ACCOUNT_ID = "123456789012"
DEFAULT_PATH = Path(".local/world.pkl")
#: Bumped when what a saved world holds changes shape (or a pickled class moves): older files
#: are refused with a message saying to delete them.
_FORMAT = 2


@dataclass
class Stats:
    """API calls seen by the world, per `service:Operation` (describe calls included), and errors
    answered per `service:Operation:Code`. The runner's summary reads these."""

    calls: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)

    def count(self, service: str, operation: str) -> None:
        self.calls[f"{service}:{operation}"] += 1

    def error(self, service: str, operation: str, code: str) -> None:
        self.errors[f"{service}:{operation}:{code}"] += 1

    def describe_calls(self, service: str = "personalize") -> int:
        return sum(n for k, n in self.calls.items() if k.startswith(f"{service}:Describe"))

    def total(self, service: str | None = None) -> int:
        return sum(n for k, n in self.calls.items() if service is None or k.split(":", 1)[0] == service)

    def reset(self) -> None:
        self.calls.clear()
        self.errors.clear()


# --------------------------------------------------------------------------------------------------
# the bridge: moto's stubber answers Personalize from the active World
# --------------------------------------------------------------------------------------------------
_current: World | None = None
_activation_lock = threading.RLock()


def operation_of(url: str, headers: Any, body: Any) -> tuple[str, str]:
    """(service, operation) of a non-Personalize request, as well as can be told, for the stats."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    service = host.split(".")[0] if host.endswith("amazonaws.com") else "unknown"
    target = headers.get("X-Amz-Target") or headers.get("x-amz-target")
    if isinstance(target, bytes):
        target = target.decode()
    if target:
        return service, str(target).rsplit(".", 1)[-1]
    raw = body.encode() if isinstance(body, str) else body if isinstance(body, bytes) else b""
    action = parse_qs(raw.decode("utf-8", "replace")).get("Action") or parse_qs(parts.query).get("Action")
    if action:
        return service, action[0]
    if service == "s3" or ".s3." in host or host.startswith("s3"):
        return "s3", "request"
    return service, "request"


def _route(request: Any, moto: Any) -> Any:
    """A request botocore sends under the mock: the active World's Personalize answers it, or moto."""
    world = _current
    if world is None:
        return moto(request)
    parts = urlsplit(request.url)
    headers = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()}
    found = protocol.identify(parts.netloc, parts.path, headers)
    if found is None:
        service, operation = operation_of(request.url, headers, request.body)
        if service == "s3":
            operation = request.method
        world.stats.count(service, operation)
        return moto(request)
    service, operation, region = found
    body = request.body
    if hasattr(body, "read"):
        body = body.read()
    return world.personalize_request(service, operation, region, body, in_process=True)


def install_bridge() -> None:
    """Route requests through the active World and correct moto's bucket-policy check
    (idempotent; see local.emulator.moto_internals)."""
    moto_internals.route_requests(_route)
    moto_internals.fix_bucket_policy()


class _TimeProxy:
    """`botocore.endpoint.time` while a World is active: retry sleeps follow the world's clock."""

    def __init__(self, world: World) -> None:
        self._world = world

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    def sleep(self, seconds: float) -> None:
        mode = self._world.retry_sleep
        if mode == "clock" and hasattr(self._world.clock, "sleep"):
            self._world.clock.sleep(seconds)  # VirtualClock: advances; ScaledClock: sleeps scaled
        elif mode == "real":
            time.sleep(seconds)


# --------------------------------------------------------------------------------------------------
class World:
    """moto + the local Personalize + a clock + faults; see the module docstring."""

    def __init__(self, clock: Clock | None = None, faults: FaultInjector | None = None,
                 retry_sleep: str | None = None) -> None:
        self._clock: Clock = clock or VirtualClock()
        self.faults = faults or FaultInjector()
        self.personalize = PersonalizeBackend(self._clock, self.faults)
        self.stats = Stats()
        self.account_id = ACCOUNT_ID
        #: "clock" (advance the clock), "skip" (no wait) or "real" (wall-clock sleep)
        self.retry_sleep = retry_sleep or "clock"
        self._moto: moto_internals.MotoState = {}
        self._depth = 0
        self._mock: Any = None
        self._saved_time: Any = None
        _WORLDS.add(self)

    # --- clock ----------------------------------------------------------------------------------
    @property
    def clock(self) -> Clock:
        return self._clock

    @clock.setter
    def clock(self, clock: Clock) -> None:
        self._clock = clock
        self.personalize.clock = clock

    def now(self) -> float:
        return self._clock.now()

    # --- activation -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def active(self) -> Iterator[World]:
        """In-process boto3 reaches this world (moto mock + the Personalize bridge)."""
        global _current
        with _activation_lock:
            if _current is not None and _current is not self:
                raise RuntimeError("another World is active in this process; leave it first")
            self._depth += 1
            if self._depth == 1:
                self._enter_mock()
        try:
            yield self
        finally:
            with _activation_lock:
                self._depth -= 1
                if self._depth == 0:
                    self._exit_mock()

    def _enter_mock(self) -> None:
        global _current
        from moto import mock_aws

        install_bridge()
        for key, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
            os.environ.setdefault(key, value)
        self._mock = mock_aws()
        self._mock.start(reset=True)
        moto_internals.restore_backends(self._moto)
        self._saved_time = moto_internals.swap_retry_time(_TimeProxy(self))
        _current = self

    def _exit_mock(self) -> None:
        global _current

        _current = None
        moto_internals.restore_retry_time(self._saved_time)
        self._moto = moto_internals.capture_backends(detach=True)
        self._mock.stop(remove_data=True)
        self._mock = None

    @contextlib.contextmanager
    def attached(self) -> Iterator[World]:
        """moto's globals hold this world's state, without mocking botocore (server mode)."""
        global _current
        with _activation_lock:
            if _current is not None:
                raise RuntimeError("another World is active in this process; leave it first")
            moto_internals.restore_backends(self._moto)
            _current = self
        try:
            yield self
        finally:
            with _activation_lock:
                _current = None
                self._moto = moto_internals.capture_backends(detach=True)

    @property
    def is_active(self) -> bool:
        return _current is self

    # --- the Personalize entry point (bridge and server) ----------------------------------------
    def personalize_request(self, service: str, operation: str, region: str, body: Any,
                            in_process: bool = False) -> protocol.Response:
        """Count, inject faults, run, encode. A lost response (fault with after_effect) raises
        botocore's ConnectionClosedError in process; the server drops the connection instead."""
        self.stats.count(service, operation)
        injected = self.faults.on_call(service, operation)
        if injected is not None and not injected.after_effect:
            self.stats.error(service, operation, injected.error_code)
            return protocol.error_response(service, injected.error_code, injected.message, injected.status)
        response = protocol.dispatch(self.personalize, service, operation, region, self.account_id, body)
        if response[0] >= 400:
            import json

            self.stats.error(service, operation, json.loads(response[2]).get("__type", "?"))
        if injected is not None:
            lost = LostResponse(service, operation, region)
            if in_process:
                from botocore.exceptions import ConnectionClosedError

                raise ConnectionClosedError(endpoint_url=lost.endpoint_url) from lost
            raise lost
        return response

    # --- persistence ----------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        moto_state = moto_internals.capture_backends(detach=False) if self.is_active else self._moto
        # A saved world always holds a VirtualClock at the current time: whoever loads it (the
        # runner, the demo) advances it; the server puts a ScaledClock back on at start.
        clock = self._clock if isinstance(self._clock, VirtualClock) else VirtualClock(self._clock.now())
        return {"format": _FORMAT, "clock": clock, "faults": self.faults,
                "personalize": self.personalize, "stats": self.stats, "account_id": self.account_id,
                "retry_sleep": self.retry_sleep, "moto": moto_state}

    def __setstate__(self, state: dict[str, Any]) -> None:
        if state.get("format") != _FORMAT:
            raise ValueError(f"world file format {state.get('format')} is not {_FORMAT}; delete it")
        self._clock = state["clock"]
        self.faults = state["faults"]
        self.personalize = state["personalize"]
        self.personalize.clock, self.personalize.faults = self._clock, self.faults
        self.stats = state["stats"]
        self.account_id = state["account_id"]
        self.retry_sleep = state["retry_sleep"]
        self._moto = state["moto"]
        self._depth, self._mock, self._saved_time = 0, None, None
        _WORLDS.add(self)

    def save(self, path: str | os.PathLike[str] = DEFAULT_PATH) -> Path:
        """Pickle everything (moto state with S3 objects and IAM, Personalize with trained models,
        clock, faults, stats) atomically to `path`."""
        moto_internals.register_key_pickling()  # moto's KMS keys hold `cryptography` keys
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(target.suffix + f".{os.getpid()}.tmp")
        with _activation_lock, self.personalize.lock, open(temporary, "wb") as stream:
            pickle.dump(self, stream, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, target)
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str] = DEFAULT_PATH) -> World:
        """The world saved at `path` (only load files you wrote: this is pickle)."""
        with open(path, "rb") as stream:
            try:
                world = pickle.load(stream)
            except (AttributeError, ModuleNotFoundError) as error:
                # a class it names has moved or gone: written by another layout of the local world
                raise ValueError(f"world file {path} was saved by another version of the local world "
                                 f"({error}); delete it") from error
        if not isinstance(world, World):
            raise TypeError(f"{path} does not hold a World")
        return world

    def close(self) -> None:
        """Release this world's S3 object buffers (moto keeps them in temporary files); the world
        is empty afterwards."""
        if self.is_active:
            raise RuntimeError("leave world.active() before closing it")
        moto_internals.dispose_s3_objects(self._moto)
        self._moto = {}

    @classmethod
    def load_or_create(cls, path: str | os.PathLike[str] = DEFAULT_PATH, **kwargs: Any) -> World:
        return cls.load(path) if Path(path).exists() else cls(**kwargs)


_WORLDS: weakref.WeakSet[World] = weakref.WeakSet()


def _dispose_s3_keys_at_exit() -> None:
    """moto's S3 keys warn when collected undisposed; at exit nothing needs them any more."""
    for world in list(_WORLDS):
        with contextlib.suppress(Exception):
            if not world.is_active:
                world.close()


atexit.register(_dispose_s3_keys_at_exit)


class LostResponse(Exception):
    """Raised in place of a response the caller never gets (turned into ConnectionClosedError)."""

    def __init__(self, service: str, operation: str, region: str) -> None:
        super().__init__(f"{service} {operation}: connection closed before the response")
        self.endpoint_url = f"https://{service}.{region}.amazonaws.com"

