"""The contract (contract.py) against what is not this project's code: botocore's service models
(every API member a property becomes, its type, enumerations and bounds), and against what reads it:
the handler kinds, and docs/handler-contract.md's table."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import botocore.session
import pytest
from personalize_handlers import contract
from personalize_handlers.contract import (
    Boolean,
    Choice,
    Integer,
    ListOf,
    Prop,
    ResourceType,
    Struct,
    Tags,
    Text,
    Update,
)
from personalize_handlers.entry import KINDS

from pipeline.naming import REPO_ROOT

DOC = REPO_ROOT / "docs" / "handler-contract.md"
_TABLE = re.compile(r"<!-- contract table:[^\n]*-->\n(.*?)<!-- end of contract table -->", re.S)
SESSION = botocore.session.get_session()


def doc_mismatch(text: str, types: dict[str, ResourceType]) -> str | None:
    """Why the documentation's table is not the contract's, or None when it is."""
    found = _TABLE.search(text)
    if found is None:
        return "docs/handler-contract.md has no contract table between its markers"
    written, wanted = found.group(1).splitlines(), contract.table(types).splitlines()
    if written == wanted:
        return None
    differ = [f"- {w}\n+ {x}" for w, x in zip(written, wanted, strict=False) if w != x]
    if len(written) != len(wanted):
        differ.append(f"{len(written)} lines written, {len(wanted)} in the contract")
    return "the table differs from contract.table() (print it with python lambda/personalize_handlers/" \
        "contract.py):\n" + "\n".join(differ)


def test_the_documented_table_is_the_contract() -> None:
    why = doc_mismatch(DOC.read_text(), contract.TYPES)
    assert why is None, why


def _mutated(kind: str, **changes: Any) -> dict[str, ResourceType]:
    return {t: dataclasses.replace(s, **changes) if s.kind == kind else s for t, s in contract.TYPES.items()}


@pytest.mark.parametrize("change", ["optional", "in place", "data"])
def test_the_table_check_fails_on_a_changed_contract(change: str) -> None:
    campaign = contract.CAMPAIGN
    if change == "optional":  # Name no longer required
        props = tuple(
            dataclasses.replace(p, required=False) if p.name == "Name" else p for p in campaign.props
        )
        types = _mutated("Campaign", props=props)
    elif change == "in place":  # MinProvisionedTPS would replace the campaign
        props = tuple(
            dataclasses.replace(p, update=Update.REPLACE, via=None) if p.name == "MinProvisionedTPS" else p
            for p in campaign.props
        )
        types = _mutated("Campaign", props=props)
    else:
        types = _mutated("Campaign", data=("Arn",))
    why = doc_mismatch(DOC.read_text(), types)
    assert why is not None and "Custom::PersonalizeCampaign" in why


def test_every_type_has_its_kind_reading_its_contract() -> None:
    assert set(KINDS) == set(contract.TYPES)
    for resource_type, kind in KINDS.items():
        assert kind.spec is contract.TYPES[resource_type] and kind.label == kind.spec.kind


# ---- botocore's service models --------------------------------------------------------------


def _member(spec: ResourceType, operation: str, path: str) -> Any:
    """The botocore shape at a dotted member path of an operation's input."""
    shape = SESSION.get_service_model(spec.service).operation_model(operation).input_shape
    for part in path.split("."):
        assert part in shape.members, f"{spec.type}: {operation} has no member {path!r}"
        shape = shape.members[part]
    return shape


def _agrees(prop: Prop, shape: Any, where: str) -> None:
    kind = prop.type
    assert shape.type_name in kind.api_types, f"{where}: {type(kind).__name__} feeds a {shape.type_name}"
    if isinstance(kind, Choice):
        if shape.enum:
            assert set(kind.values) <= set(shape.enum), (where, kind.values, shape.enum)
        pattern = shape.metadata.get("pattern")
        if pattern:
            assert all(re.match(pattern, v) for v in kind.values), (where, pattern)
    if isinstance(kind, Integer) and shape.metadata.get("min") is not None:
        assert kind.minimum is not None and kind.minimum >= shape.metadata["min"], where
    if isinstance(kind, Struct) and kind.shape is not None:
        assert shape.name == kind.shape, (where, shape.name)
    if isinstance(kind, Tags):
        assert set(shape.member.members) == {"tagKey", "tagValue"}, where


@pytest.mark.parametrize("spec", contract.TYPES.values(), ids=lambda s: s.kind)
def test_members_and_types_are_the_apis(spec: ResourceType) -> None:
    """Each property's API member exists in botocore's model of the call it feeds (and of the call
    that changes it in place), with a type the property's type can produce."""
    for prop in spec.props:
        if prop.member is None:
            assert prop.update is Update.NEW_WORK or prop.name in ("WaitHandle", "RetainOnDelete"), prop.name
            continue
        _agrees(prop, _member(spec, spec.operation, prop.member), f"{spec.type}.{prop.name}")
        if prop.via and not prop.via.startswith("TagResource") and prop.via != spec.operation:
            where = f"{spec.type}.{prop.name} ({prop.via})"
            if prop.via_member is None:
                _agrees(prop, _member(spec, prop.via, prop.member), where)
                continue
            # A part of the property changes in place: the update's member is a part of the create's.
            part = _member(spec, prop.via, prop.via_member)
            whole = _member(spec, spec.operation, prop.member)
            assert part.type_name in prop.type.api_types, where
            assert set(part.members) <= set(whole.members), (where, sorted(part.members))
            assert all(part.members[m].name == whole.members[m].name for m in part.members), where


@pytest.mark.parametrize("spec", contract.TYPES.values(), ids=lambda s: s.kind)
def test_what_the_api_requires_is_required(spec: ResourceType) -> None:
    required = set(SESSION.get_service_model(spec.service).operation_model(spec.operation).input_shape
                   .required_members)
    given = {p.member.split(".")[0] for p in spec.props if p.required and p.member}
    assert required <= given, f"{spec.type}: {spec.operation} requires {sorted(required - given)}"


def test_the_botocore_check_fails_on_a_wrong_contract() -> None:
    wrong = Prop("MinProvisionedTPS", Integer(minimum=0), member="minProvisionedTPS")
    with pytest.raises(AssertionError):
        _agrees(wrong, _member(contract.CAMPAIGN, "CreateCampaign", wrong.member or ""), "x")
    wrong = Prop("ImportMode", Choice(("FULL", "PARTIAL")), member="importMode")
    with pytest.raises(AssertionError):
        _agrees(wrong, _member(contract.DATASET_IMPORT_JOB, "CreateDatasetImportJob", "importMode"), "x")
    with pytest.raises(AssertionError):
        _member(contract.SOLUTION, "CreateSolution", "solutionConfig.noSuchField")
    with pytest.raises(AssertionError):  # the in-place part named as the create's member
        _member(contract.SOLUTION, "UpdateSolution", "solutionConfig")


def test_the_data_check_fails_on_data_outside_the_contract() -> None:
    from tests.handlers.helpers import check_data

    check_data("Custom::PersonalizeEventTracker", {"Arn": "a", "Name": "n", "TrackingId": "t"})
    with pytest.raises(AssertionError, match="lacks"):
        check_data("Custom::PersonalizeEventTracker", {"Arn": "a", "Name": "n"})
    with pytest.raises(AssertionError, match="beyond"):
        check_data("Custom::PersonalizeFilter", {"Arn": "a", "Name": "n", "TrackingId": "t"})
    metrics = {"SolutionVersionArn": "a", "Json": "{}", "coverage": "1"}
    check_data("Custom::PersonalizeSolutionMetrics", metrics)


# ---- types ----------------------------------------------------------------------------------


def test_nested_fields_are_coerced_from_strings() -> None:
    """What a later nested shape declaration does: CloudFormation's strings back to the API's types,
    undeclared keys as sent."""
    kind = Struct(fields={"flag": Boolean(), "sizes": ListOf(Integer(minimum=1)), "inner": Struct(
        fields={"n": Integer()})})
    sent = {"flag": "true", "sizes": ["1", "2"], "inner": {"n": "3"}, "other": "4"}
    assert kind.coerce(sent) == {"flag": True, "sizes": [1, 2], "inner": {"n": 3}, "other": "4"}
    with pytest.raises(contract.Invalid) as refused:
        kind.coerce({"sizes": ["1", "z"]})
    assert refused.value.where == ("sizes", "[1]") and refused.value.expected == "an integer"


def test_a_nested_refusal_names_its_place() -> None:
    from personalize_handlers.common import HandlerError, read

    prop = Prop("SolutionConfig", Struct(fields={"autoMLConfig": Struct(fields={"x": Boolean()})}))
    expected = r"^Solution s: property SolutionConfig\.autoMLConfig\.x: expected a boolean .*, got 'maybe'$"
    with pytest.raises(HandlerError, match=expected):
        read(prop, {"SolutionConfig": '{"autoMLConfig": {"x": "maybe"}}'}, "Solution", "s")


def test_required_text_must_be_a_string() -> None:
    from personalize_handlers.common import HandlerError, read

    with pytest.raises(HandlerError, match=r"^Filter f: property Name is required$"):
        read(Prop("Name", Text(), required=True), {"Name": ""}, "Filter", "f")
    with pytest.raises(HandlerError, match=r"^Filter f: property Name: expected a string, got 5$"):
        read(Prop("Name", Text(), required=True), {"Name": 5}, "Filter", "f")


def test_the_longest_job_name_a_stack_may_give_is_never_cut() -> None:
    """The constructs cap JobName so that the handler's per-request suffix still fits in
    Personalize's Name (botocore: max 63): a name of exactly the cap keeps every character."""
    from personalize_handlers.common import unique_name

    from personalize_constructs.resources import JOB_NAME_MAX

    limit = SESSION.get_service_model("personalize").shape_for("Name").metadata["max"]
    base = "dev-retail-interactions-" + "a" * (JOB_NAME_MAX - len("dev-retail-interactions-"))
    assert len(base) == JOB_NAME_MAX
    name = unique_name(base, "8a1f0b52-5c3d-4e7f-9a0b-1c2d3e4f5a6b")
    assert name.startswith(base + "-") and len(name) <= limit, (name, len(name))
    assert JOB_NAME_MAX == contract.JOB_NAME_MAX == limit - contract.REQUEST_SUFFIX_LENGTH
