"""What the runner remembers about a deployed stack between CLI runs (CloudFormation's own record):
resources with physical ids, attributes and resolved properties, outputs, status, and the Lambda
code the stack's functions were deployed with (the Lambda service keeps a copy; so does the store).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class ResourceState:
    logical_id: str
    type: str
    physical_id: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)
    status: str = "NOT_STARTED"
    reason: str = ""
    deletion_policy: str = "Delete"
    update_replace_policy: str = "Delete"
    depends_on: list[str] = field(default_factory=list)
    #: type-specific bookkeeping (a handle's token and signals, a function's code dir, ...)
    extra: dict[str, Any] = field(default_factory=dict)
    generation: int = 0


@dataclass
class StackState:
    name: str
    stack_id: str
    status: str = "REVIEW_IN_PROGRESS"
    reason: str = ""
    resources: dict[str, ResourceState] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    template: dict[str, Any] = field(default_factory=dict)
    assembly: str = ""
    #: resources left behind on purpose (DeletionPolicy Retain) by the last delete
    retained: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StackState:
        resources = {k: ResourceState(**v) for k, v in data.pop("resources", {}).items()}
        return cls(resources=resources, **data)


class StackStore:
    """`<root>/stacks/<name>.json` and `<root>/published/<hash>/` (assets deploys used)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, name: str) -> Path:
        return self.root / "stacks" / f"{name}.json"

    def load(self, name: str) -> StackState | None:
        path = self.path(name)
        if not path.exists():
            return None
        return StackState.from_json(json.loads(path.read_text()))

    def save(self, state: StackState) -> None:
        path = self.path(state.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state.to_json(), indent=1, sort_keys=True, default=str))
        tmp.replace(path)

    def names(self) -> list[str]:
        folder = self.root / "stacks"
        return sorted(p.stem for p in folder.glob("*.json")) if folder.exists() else []

    def keep_code(self, source: Path, key: str, folder: str = "lambda-code") -> Path:
        """Copy an asset dir into the store (as Lambda keeps deployed code, as the bootstrap bucket
        keeps published assets)."""
        target = self.root / folder / key
        if not target.exists():
            tmp = target.with_name(target.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.copytree(source, tmp, ignore=shutil.ignore_patterns("__pycache__"))
            tmp.replace(target)
        return target
