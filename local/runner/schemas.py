"""CloudFormation's resource type schemas, as the installed cfn-lint ships them, read at run time.

The runner takes what CloudFormation enforces about a resource type from AWS's own schemas, not
from lists written here: `createOnlyProperties` (a change needs a new physical resource),
`readOnlyProperties` and the attributes `Fn::GetAtt` may name, `primaryIdentifier`, property
`default`s and descriptions. cfn-lint stores one schema per type: the region index
`cfnlint/data/schemas/providers/<region>.json` maps a type to a hash, the schema is
`cfnlint/data/schemas/resources/<hash>.json` (the same files cfn-lint validates templates with).
Every `Custom::*` type is `AWS::CloudFormation::CustomResource`.

The JSON files are read directly (cached per type); cfn-lint itself is imported only for the list
of `Fn::GetAtt` attributes (`cfnlint.schema`'s `get_atts`, which knows the types whose attributes
differ from their read-only properties) and for the types that support `Snapshot`.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CUSTOM_RESOURCE = "AWS::CloudFormation::CustomResource"
#: the region whose index is used when the stack's region has none in this cfn-lint
FALLBACK_REGION = "us-east-1"


class SchemaError(Exception):
    """cfn-lint's schemas are missing, or have no schema for a type."""


def schema_type(type_name: str) -> str:
    """The schema's type name: every `Custom::X` is a CustomResource."""
    return CUSTOM_RESOURCE if type_name.startswith("Custom::") else type_name


@functools.cache
def schemas_dir() -> Path:
    """`cfnlint/data/schemas` of the installed cfn-lint (found without importing cfn-lint)."""
    spec = importlib.util.find_spec("cfnlint")
    if spec is None or not spec.submodule_search_locations:
        raise SchemaError(
            "cfn-lint is not installed: the runner reads its resource schemas (requirements-dev.txt)"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "data" / "schemas"
    if not (folder / "providers").is_dir():
        raise SchemaError(f"cfn-lint's schemas are not where expected: {folder}")
    return folder


@functools.cache
def _index(region: str) -> dict[str, str]:
    path = schemas_dir() / "providers" / f"{region}.json"
    if not path.exists():
        path = schemas_dir() / "providers" / f"{FALLBACK_REGION}.json"
    index: dict[str, str] = json.loads(path.read_text())
    return index


@dataclass(frozen=True)
class TypeSchema:
    """What the runner reads from one type's schema; `source` is the file, relative to
    site-packages, to cite in messages and docs."""

    type_name: str
    source: str
    create_only: tuple[str, ...]
    conditional_create_only: tuple[str, ...]
    read_only: tuple[str, ...]
    primary_identifier: tuple[str, ...]
    properties: dict[str, Any]
    has_update_handler: bool

    def default(self, name: str) -> Any:
        """The schema's `default` for a top-level property (None when it has none)."""
        return self.properties.get(name, {}).get("default")

    def description(self, name: str) -> str:
        return str(self.properties.get(name, {}).get("description", ""))


@functools.cache
def schema(type_name: str, region: str) -> TypeSchema:
    """The schema of `type_name` (a `Custom::*` name is the CustomResource schema)."""
    name = schema_type(type_name)
    digest = _index(region).get(name)
    if digest is None:
        raise SchemaError(f"cfn-lint has no resource schema for {name} in {region}")
    path = schemas_dir() / "resources" / f"{digest}.json"
    raw = json.loads(path.read_text())
    return TypeSchema(
        type_name=name,
        source=f"cfnlint/data/schemas/resources/{digest}.json",
        create_only=tuple(raw.get("createOnlyProperties", ())),
        conditional_create_only=tuple(raw.get("conditionalCreateOnlyProperties", ())),
        read_only=tuple(raw.get("readOnlyProperties", ())),
        primary_identifier=tuple(raw.get("primaryIdentifier", ())),
        properties=dict(raw.get("properties", {})),
        has_update_handler="update" in raw.get("handlers", {}),
    )


def pointer_name(pointer: str) -> str:
    """`/properties/A/B` -> `A.B` (the form Fn::GetAtt and messages use)."""
    return ".".join(pointer.split("/")[2:])


def values_at(properties: dict[str, Any], pointer: str) -> list[Any]:
    """The values a `/properties/...` JSON pointer selects (`*` walks every list item); a missing
    step selects nothing, so an absent property and a removed one compare equal only to each other."""
    parts = pointer.split("/")[2:]

    def walk(value: Any, rest: list[str]) -> Iterator[Any]:
        if not rest:
            yield value
            return
        head, tail = rest[0], rest[1:]
        if head == "*" and isinstance(value, list):
            for item in value:
                yield from walk(item, tail)
        elif isinstance(value, dict) and head in value:
            yield from walk(value[head], tail)

    return list(walk(properties, parts))


@functools.cache
def _getatts(type_name: str, region: str) -> tuple[frozenset[str], tuple[re.Pattern[str], ...]]:
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER, ResourceNotFoundError

    name = schema_type(type_name)
    try:
        try:
            found = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, name)
        except KeyError:  # a region this cfn-lint does not know
            found = PROVIDER_SCHEMA_MANAGER.get_resource_schema(FALLBACK_REGION, name)
    except ResourceNotFoundError as error:
        raise SchemaError(f"cfn-lint has no resource schema for {name} in {region}") from error
    names = frozenset(str(k) for k in found.get_atts)
    patterns = tuple(re.compile(n) for n in names if any(c in n for c in "*+?[]()"))
    return names, patterns


def has_attribute(type_name: str, attribute: str, region: str) -> bool:
    """Whether `Fn::GetAtt` may name `attribute` of this type (cfn-lint's `get_atts`: the read-only
    properties, with cfn-lint's known exceptions; any name for a custom resource)."""
    names, patterns = _getatts(type_name, region)
    return attribute in names or any(p.fullmatch(attribute) for p in patterns)


@functools.cache
def snapshot_types() -> frozenset[str]:
    """The types that take a DeletionPolicy / UpdateReplacePolicy of `Snapshot` (cfn-lint rule
    E3035, from the DeletionPolicy attribute reference)."""
    from cfnlint.helpers import valid_snapshot_types

    return frozenset(valid_snapshot_types)


__all__ = [
    "CUSTOM_RESOURCE",
    "SchemaError",
    "TypeSchema",
    "has_attribute",
    "pointer_name",
    "schema",
    "schema_type",
    "snapshot_types",
    "values_at",
]
