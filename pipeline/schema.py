"""Personalize dataset schemas: Avro records in the shape CreateSchema accepts, checked before deploy.

Rules (sources in docs/data-validation.md): the Personalize developer guide pages
how-it-works-dataset-schema (formatting, data types), custom-datasets-and-schemas (required fields and
reserved keywords per dataset type), interactions-/user-/item-dataset-requirements and limits (metadata
field counts, categorical and textual fields).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pipeline.problems import Problem

DatasetType = Literal["interactions", "items", "users"]
DATASET_TYPES: tuple[DatasetType, ...] = ("interactions", "items", "users")

#: The record name must match the dataset type.
RECORD_NAMES: dict[str, str] = {"interactions": "Interactions", "items": "Items", "users": "Users"}
NAMESPACE = "com.amazonaws.personalize.schema"
PRIMITIVES = frozenset({"string", "int", "long", "float", "double", "boolean"})
NUMERIC = frozenset({"int", "long", "float", "double"})

#: Required fields and their types, per dataset type (custom dataset groups).
REQUIRED: dict[str, dict[str, str]] = {
    "interactions": {"USER_ID": "string", "ITEM_ID": "string", "TIMESTAMP": "long"},
    "items": {"ITEM_ID": "string"},
    "users": {"USER_ID": "string"},
}
#: Reserved keywords: optional, but when present they must have these types. They are not metadata.
#: Each value: (allowed primitive types, nullable allowed, must/may not be categorical).
RESERVED: dict[str, dict[str, tuple[frozenset[str], bool]]] = {
    "interactions": {
        "EVENT_TYPE": (frozenset({"string"}), False),
        "EVENT_VALUE": (frozenset({"float", "double"}), True),
        "IMPRESSION": (frozenset({"string"}), True),
        "RECOMMENDATION_ID": (frozenset({"string"}), True),
        "EVENT_ATTRIBUTION_SOURCE": (frozenset({"string"}), True),
    },
    "items": {"CREATION_TIMESTAMP": (frozenset({"long"}), False)},
    "users": {},
}
#: Reserved string fields that may not be categorical (the service parses them itself).
NOT_CATEGORICAL = frozenset({"EVENT_TYPE", "IMPRESSION", "RECOMMENDATION_ID", "EVENT_ATTRIBUTION_SOURCE"})
#: Metadata fields beyond the required and reserved ones (limits page; user-dataset-requirements).
MAX_METADATA: dict[str, int] = {"interactions": 5, "items": 100, "users": 25}
#: Distinct event types plus optional interactions metadata (EVENT_TYPE, EVENT_VALUE, custom) <= 10.
MAX_EVENT_TYPES_PLUS_METADATA = 10
#: CreateSchema's `schema` parameter length limit (API reference).
MAX_SCHEMA_CHARS = 10000
ID_FIELDS = {"interactions": ("USER_ID", "ITEM_ID"), "items": ("ITEM_ID",), "users": ("USER_ID",)}
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Field:
    """One column: its Avro primitive type, whether empty values are allowed, and its attributes."""

    name: str
    type: str
    nullable: bool
    categorical: bool = False
    textual: bool = False


def fields_of(schema: dict[str, Any]) -> list[Field]:
    """The columns of a schema that passed check_schema, in CSV order."""
    out = []
    for raw in schema["fields"]:
        kind = raw["type"]
        nullable = isinstance(kind, list)
        base = next(t for t in kind if t != "null") if nullable else kind
        out.append(
            Field(
                raw["name"],
                base,
                nullable,
                bool(raw.get("categorical", False)),
                bool(raw.get("textual", False)),
            )
        )
    return out


def load_schema(
    path: Path, dataset_type: str, file: str | None = None
) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Read and check a schema file (`file`: the name problems show); the schema is None when unusable."""
    file = file or str(path)
    if not path.is_file():
        return None, [
            Problem(file, None, None, None, f"schema file not found (the {dataset_type} dataset's schema)")
        ]
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        return None, [Problem(file, None, None, None, f"not UTF-8 text: {error}")]
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as error:
        return None, [Problem(file, error.lineno, None, None, f"not valid JSON: {error.msg}")]
    problems = check_schema(schema, dataset_type, file)
    if len(json.dumps(schema, separators=(",", ":"))) > MAX_SCHEMA_CHARS:
        problems.append(
            Problem(
                file, None, None, None, f"schema is longer than CreateSchema's {MAX_SCHEMA_CHARS} characters"
            )
        )
    errors = [p for p in problems if p.severity == "error"]
    return (None if errors else schema), problems


def _field_type(raw: Any, where: str, file: str) -> tuple[str | None, bool, list[Problem]]:
    """(primitive type, nullable, problems) of a field's `type`."""
    allowed = f'one of {sorted(PRIMITIVES)}, or a union ["null", <one of those>] for an optional field'
    if isinstance(raw, str):
        if raw in PRIMITIVES:
            return raw, False, []
        if raw == "null":
            return (
                None,
                False,
                [Problem(file, None, where, raw, f"'null' only appears in a union; expected {allowed}")],
            )
        return None, False, [Problem(file, None, where, raw, f"unsupported type; expected {allowed}")]
    if isinstance(raw, list):
        others = [t for t in raw if t != "null"]
        if (
            "null" in raw
            and len(raw) == 2
            and len(others) == 1
            and isinstance(others[0], str)
            and others[0] in PRIMITIVES
        ):
            return others[0], True, []
        return None, False, [Problem(file, None, where, raw, f"unsupported union; expected {allowed}")]
    return (
        None,
        False,
        [
            Problem(
                file,
                None,
                where,
                raw,
                f"complex types (records, arrays, maps) are not supported; expected {allowed}",
            )
        ],
    )


def check_schema(schema: object, dataset_type: str, file: str) -> list[Problem]:
    """Every problem with a Personalize schema for this dataset type (empty list when it is fine)."""
    if dataset_type not in REQUIRED:
        return [
            Problem(
                file, None, None, dataset_type, f"unknown dataset type; expected one of {list(DATASET_TYPES)}"
            )
        ]
    if not isinstance(schema, dict):
        return [Problem(file, None, None, type(schema).__name__, "expected a JSON object (an Avro record)")]
    problems: list[Problem] = []

    def add(
        field: str | None, value: Any, message: str, severity: Literal["error", "warning"] = "error"
    ) -> None:
        problems.append(Problem(file, None, field, value, message, severity))

    if schema.get("type") != "record":
        add("type", schema.get("type"), 'expected "record"')
    expected_name = RECORD_NAMES[dataset_type]
    if schema.get("name") != expected_name:
        add(
            "name",
            schema.get("name"),
            f"expected {expected_name!r}: the record name must match the dataset type",
        )
    if "namespace" in schema and schema["namespace"] != NAMESPACE:
        add("namespace", schema["namespace"], f"expected {NAMESPACE!r}", "warning")
    known = {"type", "name", "namespace", "fields", "version", "doc"}
    for key in sorted(set(schema) - known):
        add(key, None, f"unknown schema key; expected only {sorted(known)}")
    fields = schema.get("fields")
    if not isinstance(fields, list) or not fields:
        add(
            "fields",
            fields if not isinstance(fields, (dict, list)) else None,
            "expected a non-empty list of fields",
        )
        return problems

    required = REQUIRED[dataset_type]
    reserved = RESERVED[dataset_type]
    seen: dict[str, str] = {}  # normalised (alphanumeric, upper) name -> name as written
    present: dict[str, tuple[str | None, bool]] = {}
    metadata: list[str] = []
    textual_ok = dataset_type == "items"
    for index, raw in enumerate(fields):
        where = f"fields[{index}]"
        if not isinstance(raw, dict):
            add(where, raw, "expected an object with name and type")
            continue
        name = raw.get("name")
        if not isinstance(name, str) or not _FIELD_NAME.match(name):
            add(f"{where}.name", name, "expected a name of letters, digits and '_' not starting with a digit")
            continue
        where = f"fields[{index}] ({name})"
        normal = re.sub(r"[^A-Za-z0-9]", "", name).upper()
        if normal in seen:
            add(
                where,
                name,
                f"duplicate field name (clashes with {seen[normal]!r}): names must be unique, "
                "ignoring case and '_'",
            )
            continue
        seen[normal] = name
        for key in sorted(set(raw) - {"name", "type", "categorical", "textual", "doc", "default"}):
            add(f"{where}.{key}", None, "unknown field attribute; expected name, type, categorical, textual")
        if "type" not in raw:
            add(f"{where}.type", None, "missing type")
            continue
        base, nullable, type_problems = _field_type(raw["type"], f"{where}.type", file)
        problems.extend(type_problems)
        present[name] = (base, nullable)
        categorical = raw.get("categorical", False)
        textual = raw.get("textual", False)
        for attr, value in (("categorical", categorical), ("textual", textual)):
            if not isinstance(value, bool):
                add(f"{where}.{attr}", value, "expected true or false")
        if categorical is True and base is not None and base != "string":
            add(f"{where}.categorical", True, f"only string fields can be categorical; this field is {base}")
        if textual is True:
            if not textual_ok:
                add(
                    f"{where}.textual",
                    True,
                    f"textual fields are only supported in Items schemas, not {dataset_type}",
                )
            elif base is not None and base != "string":
                add(f"{where}.textual", True, f"only string fields can be textual; this field is {base}")
            if categorical is True:
                add(where, name, "a field cannot be both categorical and textual")
        if name in required:
            want = required[name]
            if base is not None and (base != want or nullable):
                add(f"{where}.type", raw["type"], f"{name} is required as {want!r} (not nullable)")
            if categorical is True:
                add(f"{where}.categorical", True, f"{name} is an id and cannot be categorical")
        elif name in reserved:
            types, may_be_null = reserved[name]
            if base is not None and (base not in types or (nullable and not may_be_null)):
                expect = " or ".join(repr(t) for t in sorted(types)) + (
                    " (may be nullable)" if may_be_null else ""
                )
                add(f"{where}.type", raw["type"], f"reserved keyword {name} must be {expect}")
            if name in NOT_CATEGORICAL and categorical is True:
                add(f"{where}.categorical", True, f"reserved keyword {name} cannot be categorical")
        else:
            metadata.append(name)
            if base == "string" and categorical is not True and textual is not True:
                add(
                    where,
                    name,
                    'string metadata without "categorical": true'
                    + (' or "textual": true' if textual_ok else "")
                    + " is ignored by Personalize in training",
                    "warning",
                )
    for name, want in required.items():
        if name not in present:
            add("fields", None, f"missing required field {name} ({want})")
    if dataset_type in ("items", "users") and not metadata:
        add(
            "fields",
            None,
            f"a {RECORD_NAMES[dataset_type]} schema needs at least one metadata field "
            f"besides {', '.join(required)}",
        )
    limit = MAX_METADATA[dataset_type]
    if len(metadata) > limit:
        add(
            "fields",
            len(metadata),
            f"too many metadata fields ({', '.join(metadata)}): a "
            f"{RECORD_NAMES[dataset_type]} schema allows at most {limit} besides required and reserved "
            "fields",
        )
    return problems
