"""Schema checks against a corpus of bad schemas: each names the field and what was expected."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from pipeline.naming import REPO_ROOT
from pipeline.schema import check_schema, load_schema


def shipped(dataset_type: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((REPO_ROOT / "data" / "schemas" / f"{dataset_type}.json").read_text())
    return schema


def with_fields(dataset_type: str, *fields: dict[str, Any]) -> dict[str, Any]:
    schema = copy.deepcopy(shipped(dataset_type))
    schema["fields"] = list(fields)
    return schema


U = {"name": "USER_ID", "type": "string"}
I = {"name": "ITEM_ID", "type": "string"}  # noqa: E741
T = {"name": "TIMESTAMP", "type": "long"}
GENRE = {"name": "GENRE", "type": "string", "categorical": True}


@pytest.mark.parametrize("dataset_type", ["interactions", "items", "users"])
def test_shipped_schemas_are_clean(dataset_type: str) -> None:
    assert check_schema(shipped(dataset_type), dataset_type, "s.json") == []


def errors(schema: object, dataset_type: str) -> list[tuple[str | None, Any, str]]:
    return [
        (p.field, p.value, p.message)
        for p in check_schema(schema, dataset_type, "s.json")
        if p.severity == "error"
    ]


CASES: list[tuple[str, object, str, str | None, str]] = [
    ("not an object", [U, I, T], "interactions", None, "expected a JSON object (an Avro record)"),
    ("not a record", {**shipped("users"), "type": "enum"}, "users", "type", 'expected "record"'),
    (
        "wrong record name",
        {**shipped("items"), "name": "Item"},
        "items",
        "name",
        "expected 'Items': the record name must match the dataset type",
    ),
    (
        "missing USER_ID",
        with_fields("interactions", I, T),
        "interactions",
        "fields",
        "missing required field USER_ID (string)",
    ),
    (
        "TIMESTAMP as string",
        with_fields("interactions", U, I, {"name": "TIMESTAMP", "type": "string"}),
        "interactions",
        "fields[2] (TIMESTAMP).type",
        "TIMESTAMP is required as 'long' (not nullable)",
    ),
    (
        "nullable id",
        with_fields("users", {"name": "USER_ID", "type": ["null", "string"]}, GENRE),
        "users",
        "fields[0] (USER_ID).type",
        "USER_ID is required as 'string' (not nullable)",
    ),
    (
        "array type",
        with_fields("items", I, {"name": "TAGS", "type": {"type": "array", "items": "string"}}),
        "items",
        "fields[1] (TAGS).type",
        "complex types (records, arrays, maps) are not supported",
    ),
    (
        "unknown primitive",
        with_fields("items", I, {"name": "WHEN", "type": "date"}),
        "items",
        "fields[1] (WHEN).type",
        "unsupported type; expected one of",
    ),
    (
        "bare null",
        with_fields("items", I, {"name": "X", "type": "null"}),
        "items",
        "fields[1] (X).type",
        "'null' only appears in a union",
    ),
    (
        "three-way union",
        with_fields("items", I, {"name": "X", "type": ["null", "string", "int"]}),
        "items",
        "fields[1] (X).type",
        "unsupported union",
    ),
    (
        "categorical int",
        with_fields("users", U, {"name": "AGE", "type": "int", "categorical": True}),
        "users",
        "fields[1] (AGE).categorical",
        "only string fields can be categorical; this field is int",
    ),
    (
        "textual in users",
        with_fields("users", U, {"name": "BIO", "type": "string", "textual": True}),
        "users",
        "fields[1] (BIO).textual",
        "textual fields are only supported in Items schemas, not users",
    ),
    (
        "textual long",
        with_fields("items", I, {"name": "N", "type": "long", "textual": True}),
        "items",
        "fields[1] (N).textual",
        "only string fields can be textual; this field is long",
    ),
    (
        "duplicate names",
        with_fields("items", I, {**GENRE, "name": "GENRES_FIELD_1"}, {**GENRE, "name": "GENRESFIELD1"}),
        "items",
        "fields[2] (GENRESFIELD1)",
        "duplicate field name (clashes with 'GENRES_FIELD_1')",
    ),
    (
        "categorical EVENT_TYPE",
        with_fields("interactions", U, I, T, {"name": "EVENT_TYPE", "type": "string", "categorical": True}),
        "interactions",
        "fields[3] (EVENT_TYPE).categorical",
        "reserved keyword EVENT_TYPE cannot be categorical",
    ),
    (
        "EVENT_VALUE string",
        with_fields("interactions", U, I, T, {"name": "EVENT_VALUE", "type": "string"}),
        "interactions",
        "fields[3] (EVENT_VALUE).type",
        "reserved keyword EVENT_VALUE must be 'double' or 'float'",
    ),
    (
        "CREATION_TIMESTAMP int",
        with_fields("items", I, GENRE, {"name": "CREATION_TIMESTAMP", "type": "int"}),
        "items",
        "fields[2] (CREATION_TIMESTAMP).type",
        "reserved keyword CREATION_TIMESTAMP must be 'long'",
    ),
    (
        "six interaction metadata",
        with_fields("interactions", U, I, T, *({**GENRE, "name": f"M{n}"} for n in range(6))),
        "interactions",
        "fields",
        "a Interactions schema allows at most 5",
    ),
    (
        "26 user metadata",
        with_fields("users", U, *({**GENRE, "name": f"M{n}"} for n in range(26))),
        "users",
        "fields",
        "a Users schema allows at most 25",
    ),
    (
        "items without metadata",
        with_fields("items", I),
        "items",
        "fields",
        "a Items schema needs at least one metadata field besides ITEM_ID",
    ),
    (
        "bad field name",
        with_fields("items", I, {**GENRE, "name": "my genre"}),
        "items",
        "fields[1].name",
        "expected a name of letters, digits and '_'",
    ),
    (
        "unknown attribute",
        with_fields("items", I, {**GENRE, "categoricl": True}),
        "items",
        "fields[1] (GENRE).categoricl",
        "unknown field attribute",
    ),
    (
        "empty fields",
        {**shipped("users"), "fields": []},
        "users",
        "fields",
        "expected a non-empty list of fields",
    ),
    (
        "categorical and textual",
        with_fields("items", I, {**GENRE, "textual": True}),
        "items",
        "fields[1] (GENRE)",
        "a field cannot be both categorical and textual",
    ),
]


@pytest.mark.parametrize(
    ("label", "schema", "dataset_type", "field", "message"), CASES, ids=[c[0] for c in CASES]
)
def test_bad_schema(label: str, schema: object, dataset_type: str, field: str | None, message: str) -> None:
    found = errors(schema, dataset_type)
    assert any(f == field and message in m for f, _, m in found), found
    assert all(p.file == "s.json" for p in check_schema(schema, dataset_type, "s.json"))


def test_many_problems_at_once() -> None:
    schema = {
        "type": "record",
        "name": "Interaction",
        "fields": [{"name": "USER_ID", "type": "int"}, {"name": "TIMESTAMP", "type": "string"}],
    }
    found = errors(schema, "interactions")
    assert len(found) >= 4  # name, USER_ID type, TIMESTAMP type, missing ITEM_ID


def test_string_metadata_without_categorical_warns() -> None:
    (problem,) = check_schema(with_fields("users", U, {"name": "NOTE", "type": "string"}), "users", "s.json")
    assert problem.severity == "warning" and "ignored by Personalize in training" in problem.message


def test_load_schema_reports_json_line(tmp_path: Path) -> None:
    path = tmp_path / "items.json"
    path.write_text('{\n  "type": "record",\n  "name": "Items"\n  "fields": []\n}\n')
    schema, problems = load_schema(path, "items")
    assert schema is None
    (problem,) = problems
    assert problem.line == 4 and "not valid JSON" in problem.message


def test_load_schema_missing_file(tmp_path: Path) -> None:
    schema, (problem,) = load_schema(tmp_path / "nope.json", "users")
    assert schema is None and "schema file not found" in problem.message


def test_unknown_dataset_type() -> None:
    (problem,) = check_schema(shipped("users"), "actions", "s.json")
    assert "unknown dataset type" in problem.message
