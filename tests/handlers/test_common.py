"""Pure pieces: property coercion, error formatting, event parsing, names."""

from __future__ import annotations

from typing import Any

import pytest
from personalize_handlers.common import (
    Event,
    HandlerError,
    failure,
    is_personalize_arn,
    is_subset,
    read,
    truncate,
    unique_name,
)
from personalize_handlers.contract import Boolean, Integer, Prop, PropType, Struct, Tags
from personalize_handlers.entry import KINDS, on_event


def coerce(raw: object, name: str, kind: PropType, default: object = None) -> Any:
    """An optional property of type `kind` read as a handler reads it (contract.Prop, common.read)."""
    return read(Prop(name, kind, default=default), {name: raw}, "Solution", "s")


@pytest.mark.parametrize(("raw", "expected"), [
    ("true", True), ("True", True), ("1", True), (True, True),
    ("false", False), ("FALSE", False), ("0", False), ("", False), (False, False), (None, False),
])
def test_to_bool(raw: object, expected: bool) -> None:
    assert coerce(raw, "PerformHPO", Boolean(), default=False) is expected


def test_to_bool_rejects_other_values_naming_the_property() -> None:
    with pytest.raises(HandlerError, match=r"PerformHPO: expected a boolean .* got 'maybe'"):
        coerce("maybe", "PerformHPO", Boolean())


def test_to_int() -> None:
    assert coerce("5", "MinProvisionedTPS", Integer()) == 5
    assert coerce(" 7 ", "MinProvisionedTPS", Integer()) == 7
    assert coerce(None, "MinProvisionedTPS", Integer(), default=1) == 1
    assert coerce("", "MinProvisionedTPS", Integer(), default=1) == 1
    with pytest.raises(HandlerError, match=r"MinProvisionedTPS: expected an integer >= 1, got '0'"):
        coerce("0", "MinProvisionedTPS", Integer(minimum=1))
    with pytest.raises(HandlerError, match="expected an integer"):
        coerce("1.5", "MinProvisionedTPS", Integer())
    with pytest.raises(HandlerError, match="expected an integer"):
        coerce(True, "MinProvisionedTPS", Integer())


def test_to_json_object() -> None:
    assert coerce('{"a": {"b": "1"}}', "SolutionConfig", Struct()) == {"a": {"b": "1"}}
    assert coerce({"a": 1}, "SolutionConfig", Struct()) == {"a": 1}
    assert coerce("", "SolutionConfig", Struct()) is None
    with pytest.raises(HandlerError, match=r"SolutionConfig: expected a JSON object \(.*character"):
        coerce("{nope", "SolutionConfig", Struct())
    with pytest.raises(HandlerError, match="SolutionConfig: expected a JSON object"):
        coerce("[1, 2]", "SolutionConfig", Struct())


def test_to_tags() -> None:
    tags = [{"tagKey": "project", "tagValue": "recs"}]
    assert coerce(tags, "Tags", Tags()) == tags
    assert coerce('[{"tagKey": "project", "tagValue": "recs"}]', "Tags", Tags()) == tags
    assert coerce({"project": "recs"}, "Tags", Tags()) == tags
    assert coerce(None, "Tags", Tags()) is None  # absent: no tags (the kinds send none)
    with pytest.raises(HandlerError, match="Tags"):
        coerce([{"key": "x"}], "Tags", Tags())


def test_is_subset_ignores_service_defaults_and_string_typing() -> None:
    wanted = {"algorithmHyperParameters": {"hidden_dimension": "64"}}
    actual = {"algorithmHyperParameters": {"hidden_dimension": "64", "bptt": "32"},
              "eventValueThreshold": "0"}
    assert is_subset(wanted, actual)
    assert not is_subset({"algorithmHyperParameters": {"hidden_dimension": "128"}}, actual)
    assert is_subset({"x": "1"}, {"x": 1})
    assert is_subset({"x": "true"}, {"x": True})
    assert not is_subset({"x": "1"}, {})


def test_error_format_and_4kb_limit() -> None:
    err = failure("Solution", "dev-retail-up", "CreateSolution", "InvalidInputException: bad recipe")
    assert str(err) == "Solution dev-retail-up: CreateSolution failed: InvalidInputException: bad recipe"
    long = failure("DatasetImportJob", "dev-x", "CreateDatasetImportJob", "é" * 10_000)
    assert len(str(long).encode()) <= 2048 < 4096
    assert str(long).startswith("DatasetImportJob dev-x: CreateDatasetImportJob failed: ")
    assert str(long).endswith("[truncated]")
    assert truncate("short") == "short"


def test_unique_name_is_deterministic_and_fits() -> None:
    a = unique_name("dev-retail-interactions-abc123", "request-1")
    assert a == unique_name("dev-retail-interactions-abc123", "request-1")
    assert a != unique_name("dev-retail-interactions-abc123", "request-2")
    assert a.startswith("dev-retail-interactions-abc123-")
    long = unique_name("x" * 80, "r")
    assert len(long) == 63


def test_arn_check() -> None:
    arn = "arn:aws:personalize:ap-southeast-2:123456789012:dataset-group/dev-retail"
    assert is_personalize_arn(arn, "dataset-group")
    assert not is_personalize_arn(arn, "dataset")
    assert not is_personalize_arn("AWSCDK::CustomResourceProviderFramework::CREATE_FAILED", "dataset-group")
    assert not is_personalize_arn(None, "dataset-group")


def _event(**overrides: object) -> dict[str, object]:
    event: dict[str, object] = {
        "RequestType": "Update", "ResourceType": "Custom::PersonalizeCampaign", "LogicalResourceId": "Recs",
        "RequestId": "r-1", "PhysicalResourceId": "arn:aws:personalize:us-east-1:123456789012:campaign/c",
        "ResourceProperties": {"ServiceToken": "arn:lambda", "Name": "c", "MinProvisionedTPS": "2"},
        "OldResourceProperties": {"ServiceToken": "arn:lambda-old", "Name": "c", "MinProvisionedTPS": "1"},
    }
    event.update(overrides)
    return event


def test_event_parse_and_changed_ignores_service_token() -> None:
    event = Event.parse(_event())
    assert event.request_type == "Update"
    assert event.changed() == {"MinProvisionedTPS"}
    assert "ServiceToken" not in event.properties


@pytest.mark.parametrize(("bad", "message"), [
    ({"RequestType": "Upsert"}, "RequestType 'Upsert'"),
    ({"ResourceType": ""}, "missing ResourceType"),
    ({"ResourceProperties": ["x"]}, "ResourceProperties must be an object"),
])
def test_event_parse_rejects_bad_events(bad: dict[str, object], message: str) -> None:
    with pytest.raises(HandlerError, match=message):
        Event.parse(_event(**bad))


def test_unknown_resource_type_is_named() -> None:
    with pytest.raises(HandlerError, match=r"unknown resource type 'Custom::PersonalizeNoSuchKind'"):
        on_event(_event(ResourceType="Custom::PersonalizeNoSuchKind"))


def test_every_contract_type_has_a_handler() -> None:
    assert set(KINDS) == {
        "Custom::PersonalizeDatasetGroup", "Custom::PersonalizeSchema", "Custom::PersonalizeDataset",
        "Custom::PersonalizeDatasetImportJob", "Custom::PersonalizeSolution",
        "Custom::PersonalizeSolutionVersion", "Custom::PersonalizeCampaign",
        "Custom::PersonalizeEventTracker", "Custom::PersonalizeFilter",
        "Custom::PersonalizeSolutionMetrics", "Custom::PersonalizeBatchInferenceJob",
        "Custom::PersonalizeDataObject", "Custom::PersonalizeMetricAttribution",
        "Custom::PersonalizeRecommender",
    }


def test_bad_property_fails_before_any_call() -> None:
    """A bad value is reported with the resource, property and value, before Personalize is called
    (no endpoint exists here, so reaching the service would raise a different error)."""
    props = {"Name": "c", "SolutionVersionArn": "arn:x", "MinProvisionedTPS": "zero"}
    event = _event(RequestType="Create", ResourceType="Custom::PersonalizeCampaign", PhysicalResourceId=None,
                   ResourceProperties=props)
    with pytest.raises(HandlerError, match=r"MinProvisionedTPS: expected an integer, got 'zero'"):
        on_event(event)
