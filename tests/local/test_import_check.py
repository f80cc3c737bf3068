"""The import job judges CSVs with the local Personalize's own code (importcheck), from the
documented import rules, not with the project's validator (pipeline.csvcheck): a bug planted in the
validator makes the two disagree, and the local import job is the one that still refuses the file.
Each documented rule also fails on its own bad input."""

from __future__ import annotations

import ast
import io
import json
from typing import Any

import pytest

import pipeline.csvcheck.core as validator_core
from local.emulator.personalize import importcheck
from local.emulator.world import World
from pipeline.csvcheck import check_csv
from tests.local.helpers import DATA, REPO, Pipeline, upload

SCHEMA: dict[str, Any] = json.loads((DATA / "schemas" / "interactions.json").read_text())
LINES = (DATA / "interactions.csv").read_text().splitlines(keepends=True)
HEADER = LINES[0]


def validator_errors(text: str) -> list[str]:
    result = check_csv(io.BytesIO(text.encode()), SCHEMA, "interactions", file="f.csv")
    return [str(p) for p in result.problems if p.severity == "error"]


def test_a_validator_bug_does_not_become_a_bug_of_the_local_service(
    world: World, pz: Any, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = HEADER + "".join(LINES[1:501])  # 500 interactions: the service refuses the import
    assert any("1000" in e for e in validator_errors(small))
    # the planted bug: the validator's minimum is wrong, so it now passes the file
    monkeypatch.setattr(validator_core, "MIN_INTERACTIONS", 10)
    assert validator_errors(small) == []
    # the local import job, which does not use the validator, still refuses it
    pipeline.group()
    pipeline.dataset("interactions")
    job = pipeline.imported("interactions", upload(pipeline.s3, "small.csv", small), "small")
    assert job["status"] == "CREATE FAILED"
    assert "500 interaction records" in job["failureReason"] and "at least 1000" in job["failureReason"]


def test_only_borrowed_reaches_the_pipeline_package() -> None:
    """The emulator's one use of pipeline/ is the recipe catalogue in borrowed.py; the import
    check in particular imports nothing of it (tests/unit/test_import_graph.py holds the floors)."""
    root = REPO / "local" / "emulator"
    users = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            )
            if any(name == "pipeline" or name.startswith("pipeline.") for name in names):
                users.add(path.relative_to(root).as_posix())
    assert users == {"personalize/borrowed.py"}


def problems(text: str, kind: str = "interactions", schema: dict[str, Any] | None = None) -> list[str]:
    return [str(p) for p in importcheck.check_import([("f.csv", text.encode())], schema or SCHEMA, kind)]


ROWS = "".join(LINES[1:1001])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '"USER_ID","ITEM_ID","TIMESTAMP","EVENT_TYPE","DEVICE"\n' + ROWS,
            "must not be enclosed in quotation marks",
        ),
        (
            "USER,ITEM_ID,TIMESTAMP,EVENT_TYPE,DEVICE\n" + ROWS,
            "f.csv:1 column USER: the header names no field",
        ),
        ("ITEM_ID,TIMESTAMP,EVENT_TYPE,DEVICE\n" + ROWS, "f.csv:1 column USER_ID: a required field"),
        (
            HEADER + ROWS + "u1,i1,1767225600.5,view,web\n",
            "f.csv:1002 column TIMESTAMP value '1767225600.5': "
            "a timestamp must be UNIX epoch time in seconds",
        ),
        (HEADER + ROWS + ",i1,1767225600,view,web\n", "f.csv:1002 column USER_ID value '': an empty value"),
        (HEADER + ROWS + "u" * 257 + ",i1,1767225600,view,web\n", "257 characters; an id has at most 256"),
        (HEADER + ROWS + "u1,i1,1767225600,view\n", "f.csv:1002: 4 values; the header has 5 columns"),
        (
            HEADER + "".join(LINES[1:999]),
            "998 interaction records; an import of item interactions needs at least 1000",
        ),
    ],
)
def test_each_documented_rule_refuses_its_bad_input(text: str, expected: str) -> None:
    found = problems(text)
    assert any(expected in p for p in found), found


def test_good_files_and_other_dataset_types_pass() -> None:
    assert problems(HEADER + ROWS) == []
    items = json.loads((DATA / "schemas" / "items.json").read_text())
    assert problems((DATA / "items.csv").read_text(), "items", items) == []
    # no interaction minimum for items; an optional (null-union) field may be empty or absent
    one_item = (DATA / "items.csv").read_text().splitlines(keepends=True)[:2]
    assert problems("".join(one_item), "items", items) == []
