"""Intrinsic functions, condition functions and pseudo parameters, as CloudFormation documents them."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from local.runner.intrinsics import Context, Resolver, TemplateError, references, stringify


def resolver(**kwargs: Any) -> Resolver:
    attrs = {("Bucket", "Arn"): "arn:aws:s3:::b", ("Res", "Data.Nested"): "n"}
    ctx = Context(
        account="123456789012",
        region="ap-southeast-2",
        stack_name="S",
        stack_id="arn:aws:cloudformation:ap-southeast-2:123456789012:stack/S/id",
        parameters={"Env": "dev", "List": ["a", "b"]},
        mappings={"M": {"dev": {"Size": 3}}},
        condition_defs={
            "IsDev": {"Fn::Equals": [{"Ref": "Env"}, "dev"]},
            "IsProd": {"Fn::Not": [{"Condition": "IsDev"}]},
        },
        **kwargs,
    )
    ctx.ref = lambda name: {"Bucket": "b"}[name]
    ctx.getatt = lambda name, attr: attrs[(name, attr)]
    return Resolver(ctx)


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ({"Ref": "AWS::AccountId"}, "123456789012"),
        ({"Ref": "AWS::Region"}, "ap-southeast-2"),
        ({"Ref": "AWS::Partition"}, "aws"),
        ({"Ref": "AWS::URLSuffix"}, "amazonaws.com"),
        ({"Ref": "AWS::StackName"}, "S"),
        ({"Ref": "AWS::StackId"}, "arn:aws:cloudformation:ap-southeast-2:123456789012:stack/S/id"),
        ({"Ref": "Env"}, "dev"),
        ({"Ref": "Bucket"}, "b"),
        ({"Fn::GetAtt": ["Bucket", "Arn"]}, "arn:aws:s3:::b"),
        ({"Fn::GetAtt": "Bucket.Arn"}, "arn:aws:s3:::b"),
        ({"Fn::Join": ["/", ["a", {"Ref": "Env"}, 3]]}, "a/dev/3"),
        (
            {"Fn::Sub": "${AWS::Region}-${Env}-${Bucket}-${Bucket.Arn}-${!Literal}"},
            "ap-southeast-2-dev-b-arn:aws:s3:::b-${Literal}",
        ),
        ({"Fn::Sub": ["${X}-${Env}", {"X": {"Ref": "Bucket"}}]}, "b-dev"),
        ({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}, "b"),
        ({"Fn::Select": ["0", {"Ref": "List"}]}, "a"),
        ({"Fn::If": ["IsDev", "yes", "no"]}, "yes"),
        ({"Fn::If": ["IsProd", "yes", "no"]}, "no"),
        ({"Fn::Equals": ["1", 1]}, True),
        ({"Fn::And": [{"Condition": "IsDev"}, {"Fn::Equals": ["a", "a"]}]}, True),
        ({"Fn::Or": [{"Condition": "IsProd"}, {"Fn::Equals": ["a", "b"]}]}, False),
        ({"Fn::Not": [{"Fn::Equals": ["a", "b"]}]}, True),
        ({"Fn::GetAZs": ""}, ["ap-southeast-2a", "ap-southeast-2b", "ap-southeast-2c"]),
        ({"Fn::Base64": "hi"}, base64.b64encode(b"hi").decode()),
        ({"Fn::FindInMap": ["M", {"Ref": "Env"}, "Size"]}, 3),
        ({"Fn::FindInMap": ["M", "prod", "Size", {"DefaultValue": 1}]}, 1),
    ],
)
def test_functions(fragment: Any, expected: Any) -> None:
    assert resolver().resolve(fragment) == expected


def test_novalue_removes_keys_and_list_items() -> None:
    value = resolver().resolve(
        {"A": {"Ref": "AWS::NoValue"}, "B": [1, {"Fn::If": ["IsProd", 2, {"Ref": "AWS::NoValue"}]}], "C": "c"}
    )
    assert value == {"B": [1], "C": "c"}


@pytest.mark.parametrize("name", ["Fn::ImportValue", "Fn::Cidr", "Fn::Length", "Fn::Whatever"])
def test_unknown_function_is_an_error_naming_it(name: str) -> None:
    with pytest.raises(TemplateError, match=name):
        resolver().resolve({"X": {name: ["a"]}})


def test_errors_say_what_was_expected() -> None:
    with pytest.raises(TemplateError, match="out of range"):
        resolver().resolve({"Fn::Select": [5, ["a"]]})
    with pytest.raises(TemplateError, match="condition 'Nope' is not defined"):
        resolver().resolve({"Fn::If": ["Nope", 1, 2]})
    with pytest.raises(TemplateError, match="unknown pseudo parameter AWS::Bogus"):
        resolver().resolve({"Ref": "AWS::Bogus"})
    with pytest.raises(TemplateError, match=r"no M\.x\.Size in Mappings"):
        resolver().resolve({"Fn::FindInMap": ["M", "x", "Size"]})


def test_references_cover_ref_getatt_and_sub() -> None:
    fragment = {
        "a": {"Ref": "A"},
        "b": {"Fn::GetAtt": ["B", "Arn"]},
        "c": {"Fn::Sub": "${C}-${D.Name}-${AWS::Region}"},
        "d": {"Fn::Sub": ["${X}", {"X": {"Ref": "E"}}]},
        "p": {"Ref": "AWS::AccountId"},
    }
    assert sorted(references(fragment)) == ["A", "B", "C", "D", "E"]


def test_stringify() -> None:
    assert stringify({"n": 1, "b": False, "l": [2.5, "x"], "o": {"t": True}}) == {
        "n": "1",
        "b": "false",
        "l": ["2.5", "x"],
        "o": {"t": "true"},
    }
