"""What a resource type may ask of the stack operation that runs it.

Resource types (resources.py, custom.py) get a `Host`, not the engine: the stack's identity (for
generated names and ARNs), the virtual clock, boto3 clients on the local world, the Lambda service
and the wait-condition signals, the assets the deploy published, another resource's properties,
and a place for notes. The engine is the one implementation; keeping the protocol this small keeps
a provider from depending on how the operation is orchestrated (ordering, rollback, events).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from local.runner.lambdas import LambdaService
from local.runner.signals import SignalServer


class Host(Protocol):
    @property
    def account(self) -> str: ...

    @property
    def region(self) -> str: ...

    @property
    def partition(self) -> str: ...

    @property
    def stack_name(self) -> str: ...

    @property
    def stack_id(self) -> str: ...

    @property
    def lambdas(self) -> LambdaService:
        """The Lambda service: functions register here, custom resources find their ServiceToken."""
        ...

    @property
    def signals(self) -> SignalServer:
        """Wait-condition handles and the signals they received."""
        ...

    @property
    def duplicate_deliveries(self) -> bool:
        """Deliver every custom resource request to onEvent twice (at-least-once delivery)."""
        ...

    def now(self) -> float:
        """The virtual clock."""
        ...

    def client(self, service: str) -> Any:
        """A boto3 client on the local world, in the stack's region."""
        ...

    def note(self, message: str) -> None:
        """A line for the operation's summary (something recorded but not emulated, ...)."""
        ...

    def invoke(self, arn: str, payload: Any, logical_id: str) -> Any:
        """Invoke a function on behalf of resource `logical_id` (the service operations it starts,
        and the Step Functions executions, are attributed to that resource)."""
        ...

    def next_request_number(self) -> int:
        """1, 2, 3, ... over the operation: seeds deterministic RequestIds."""
        ...

    def resource_properties(self, type_name: str, physical_id: str) -> dict[str, Any] | None:
        """The resolved properties of the stack's resource of that type and physical id (None when
        the stack has none)."""
        ...

    def published_asset(self, key: str) -> Path:
        """A directory with the files of the asset published under this bootstrap-bucket key."""
        ...

    def function_code(self, logical_id: str, code: dict[str, Any], runtime: str) -> Path | None:
        """Where a function's code lives (None: a runtime that is recorded, never run)."""
        ...
