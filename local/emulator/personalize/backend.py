"""The local Personalize as one object: the store with every part's operations on top.

`PersonalizeBackend` is the `Store` (state, timeline, shared rules) plus the parts that answer
operations: datasets, solutions, serving, tags and batch for the control plane (`handle`), and the
runtime for GetRecommendations, GetPersonalizedRanking and PutEvents (`runtime`). The World holds
one and pickles it: only the store's state is saved; the parts are rebuilt on load.
"""

from __future__ import annotations

from typing import Any

from local.emulator.clock import Clock
from local.emulator.faults import FaultInjector
from local.emulator.personalize.attribution import Attribution
from local.emulator.personalize.batch import Batch
from local.emulator.personalize.datasets import Datasets
from local.emulator.personalize.deletion import DataDeletion
from local.emulator.personalize.errors import PersonalizeError
from local.emulator.personalize.recommenders import Recommenders
from local.emulator.personalize.runtime import Runtime
from local.emulator.personalize.serving import Serving
from local.emulator.personalize.solutions import Solutions
from local.emulator.personalize.store import Part, Store
from local.emulator.personalize.tags import Tags

#: The parts answering the control plane, in the order they are built.
PARTS: tuple[type[Part], ...] = (
    Datasets, Solutions, Serving, Tags, Batch, DataDeletion, Attribution, Recommenders
)


def _control_plane() -> dict[str, type[Part]]:
    table: dict[str, type[Part]] = {}
    for part in PARTS:
        for operation in part.operations():
            if operation in table:
                raise TypeError(f"{operation} is answered by both {table[operation].__name__} and "
                                f"{part.__name__}")
            table[operation] = part
    return table


#: Every control-plane operation the local Personalize implements -> the part answering it.
CONTROL_PLANE = _control_plane()
#: The data-plane operations (personalize-runtime and personalize-events), answered by `runtime`.
DATA_PLANE = ("GetRecommendations", "GetPersonalizedRanking", "PutEvents")
#: rebuilt on load
_WIRING = ("runtime", "_operations")


class PersonalizeBackend(Store):
    """All accounts and regions of the local Personalize (ARNs carry both)."""

    def __init__(self, clock: Clock | None = None, faults: FaultInjector | None = None) -> None:
        super().__init__(clock, faults)
        self._assemble()

    def _assemble(self) -> None:
        parts = [part(self) for part in PARTS]
        self._operations = {name: getattr(part, f"op_{name}") for part in parts for name in part.operations()}
        self.runtime = Runtime(self, next(p for p in parts if isinstance(p, Attribution)))

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in super().__getstate__().items() if k not in _WIRING}

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._assemble()

    def handle(self, operation: str, params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
        """Run one control-plane operation; raises PersonalizeError as the service answers."""
        method = self._operations.get(operation)
        if method is None:
            raise PersonalizeError("InvalidAction",
                                   f"The local Personalize does not implement {operation}", 400)
        with self.settled():
            result: dict[str, Any] = method((account, region), params)
            return result
