"""Custom::PersonalizeDataObject against the local world's S3 (moto): copy, update in place, a new
key, delete vs retain, clear errors."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from personalize_handlers.common import HandlerError
from personalize_handlers.entry import is_complete, on_event

ASSETS = "cdk-hnb659fds-assets-123456789012-us-east-1"
DATA = "personalize-dev-data"


def _event(request: str, props: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "RequestType": request,
        "ResourceType": "Custom::PersonalizeDataObject",
        "LogicalResourceId": "UploadItemsObject",
        "RequestId": "r-1",
        "ResourceProperties": {"ServiceToken": "arn:fn", **props},
        **extra,
    }


def _props(
    source_key: str = "abc.csv", key: str = "datasets/items/items.csv", retain: str = "false"
) -> dict[str, str]:
    return {
        "Bucket": DATA,
        "Key": key,
        "SourceBucket": ASSETS,
        "SourceKey": source_key,
        "RetainOnDelete": retain,
    }


@pytest.fixture
def s3(world: Any) -> Any:
    client = boto3.client("s3", region_name="us-east-1")
    for bucket in (ASSETS, DATA):
        client.create_bucket(Bucket=bucket)
    client.put_object(Bucket=ASSETS, Key="abc.csv", Body=b"ITEM_ID\ni1\n")
    client.put_object(Bucket=ASSETS, Key="def.csv", Body=b"ITEM_ID\ni2\n")
    return client


def _body(s3: Any, key: str = "datasets/items/items.csv") -> bytes:
    return bytes(s3.get_object(Bucket=DATA, Key=key)["Body"].read())


def test_create_copies_and_is_complete_at_once(s3: Any) -> None:
    answer = on_event(_event("Create", _props()))
    assert answer["PhysicalResourceId"] == f"s3://{DATA}/datasets/items/items.csv"
    assert answer["Data"]["Uri"] == answer["PhysicalResourceId"] and answer["Data"]["ETag"]
    assert _body(s3) == b"ITEM_ID\ni1\n"
    assert is_complete(_event("Create", _props(), **answer)) == {"IsComplete": True}


def test_new_content_updates_in_place_and_a_new_key_is_a_new_object(s3: Any) -> None:
    first = on_event(_event("Create", _props()))
    same_key = on_event(
        _event("Update", _props("def.csv"), PhysicalResourceId=first["PhysicalResourceId"],
               OldResourceProperties=_props())
    )
    assert same_key["PhysicalResourceId"] == first["PhysicalResourceId"]
    assert _body(s3) == b"ITEM_ID\ni2\n"
    moved = on_event(
        _event("Update", _props("def.csv", key="datasets/items/items-v2.csv"),
               PhysicalResourceId=first["PhysicalResourceId"], OldResourceProperties=_props("def.csv"))
    )
    # A new physical id: CloudFormation then deletes the old object with the old properties.
    assert moved["PhysicalResourceId"].endswith("/datasets/items/items-v2.csv")
    on_event(_event("Delete", _props("def.csv"), PhysicalResourceId=first["PhysicalResourceId"]))
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=DATA).get("Contents", [])]
    assert keys == ["datasets/items/items-v2.csv"]


def test_delete_removes_unless_retained_and_gone_is_success(s3: Any) -> None:
    kept = on_event(_event("Create", _props(retain="true")))
    on_event(_event("Delete", _props(retain="true"), PhysicalResourceId=kept["PhysicalResourceId"]))
    assert _body(s3) == b"ITEM_ID\ni1\n"
    on_event(_event("Delete", _props(), PhysicalResourceId=kept["PhysicalResourceId"]))
    assert "Contents" not in s3.list_objects_v2(Bucket=DATA)
    # again (already gone), and with the bucket itself gone: both succeed
    on_event(_event("Delete", _props(), PhysicalResourceId=kept["PhysicalResourceId"]))
    s3.delete_bucket(Bucket=DATA)
    on_event(_event("Delete", _props(), PhysicalResourceId=kept["PhysicalResourceId"]))


def test_missing_source_names_both_ends(s3: Any) -> None:
    with pytest.raises(HandlerError, match=r"DataObject datasets/items/items.csv: CopyObject failed: "
                                           rf"s3://{ASSETS}/nope.csv -> s3://{DATA}/datasets/items/items.csv"):
        on_event(_event("Create", _props("nope.csv")))


def test_bad_properties_fail_early(s3: Any) -> None:
    with pytest.raises(HandlerError, match="property SourceKey is required"):
        on_event(_event("Create", {k: v for k, v in _props().items() if k != "SourceKey"}))
    with pytest.raises(HandlerError, match="RetainOnDelete: expected a boolean"):
        on_event(_event("Create", _props(retain="maybe")))
