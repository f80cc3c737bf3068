"""Every custom resource of the synthesized templates holds to the handlers' contract
(lambda/personalize_handlers/contract.py): its type is one, its properties are the type's (every
required one, literal values its type accepts), and every Fn::GetAtt on it reads a Data key the
handler returns. The constructs refuse at synth what would not."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

import aws_cdk as cdk
import pytest

from personalize_constructs.contract import contract
from personalize_constructs.resources import PersonalizeResource
from stack.conftest import Synth

CUSTOM = "Custom::Personalize"


def is_intrinsic(value: Any) -> bool:
    """A value CloudFormation resolves at deploy time: `{"Ref": ...}` or `{"Fn::...": ...}`."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    (key,) = value
    return key == "Ref" or key.startswith("Fn::")


def _get_atts(node: Any) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        if "Fn::GetAtt" in node and isinstance(node["Fn::GetAtt"], list):
            logical_id, attribute = node["Fn::GetAtt"]
            yield logical_id, attribute
        for value in node.values():
            yield from _get_atts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _get_atts(value)


def contract_problems(
    template: dict[str, Any], types: Mapping[str, Any] | None = None
) -> list[str]:
    """Where a template's custom resources break the contract (`types`: the contract's by default)."""
    types = contract.TYPES if types is None else types
    resources = template["Resources"]
    out = []
    for logical_id, resource in resources.items():
        kind = resource["Type"]
        if not kind.startswith(CUSTOM):
            continue
        spec = types.get(kind)
        if spec is None:
            out.append(f"{logical_id}: {kind} is not a type of the contract")
            continue
        props = resource.get("Properties", {})
        out += [f"{logical_id}: {problem}" for problem in spec.problems(props, deferred=is_intrinsic)]
    for logical_id, attribute in _get_atts(template):
        kind = resources.get(logical_id, {}).get("Type", "")
        if kind in types and attribute not in types[kind].data:
            out.append(f"Fn::GetAtt {logical_id}.{attribute}: {kind} returns no such Data")
    return out


def test_every_custom_resource_holds_to_the_contract(shipped: Synth) -> None:
    kinds = {r["Type"] for r in shipped.resources.values() if r["Type"].startswith(CUSTOM)}
    assert len(kinds) >= 10  # every kind the shipped configs use (batch jobs: test_monitoring_batch)
    assert contract_problems(shipped.template) == []


def test_the_template_check_fails_on_a_broken_template(dev: Synth) -> None:
    template = copy.deepcopy(dev.template)
    resources = template["Resources"]
    del resources["DatasetInteractions"]["Properties"]["DatasetType"]
    resources["CampaignUserRecs"]["Properties"]["MinProvisionedTPS"] = "0"
    resources["SchemaItems"]["Properties"]["Tags"] = [{"tagKey": "a", "tagValue": "b"}]
    resources["ImportUsers"]["Properties"]["ImportMode"] = "PARTIAL"
    template["Outputs"]["Broken"] = {"Value": {"Fn::GetAtt": ["CampaignUserRecs", "TrackingId"]}}
    problems = "\n".join(contract_problems(template))
    assert "DatasetInteractions: property DatasetType is required" in problems
    assert "CampaignUserRecs: property MinProvisionedTPS: expected an integer >= 1, got '0'" in problems
    assert "SchemaItems: properties ['Tags'] are not in its contract" in problems
    assert "ImportUsers: property ImportMode: expected one of ('FULL', 'INCREMENTAL')" in problems
    assert "Fn::GetAtt CampaignUserRecs.TrackingId" in problems


def test_the_template_check_fails_on_a_changed_contract(dev: Synth) -> None:
    campaign = contract.CAMPAIGN
    owner = dataclasses.replace(campaign, props=(*campaign.props, contract.Prop("Owner", required=True)))
    found = contract_problems(dev.template, {**contract.TYPES, campaign.type: owner})
    assert any("property Owner is required" in p for p in found)
    kept = tuple(p for p in campaign.props if p.name != "MinProvisionedTPS")
    no_tps = dataclasses.replace(campaign, props=kept)
    found = contract_problems(dev.template, {**contract.TYPES, campaign.type: no_tps})
    assert any("['MinProvisionedTPS'] are not in its contract" in p for p in found)


def _resource(properties: dict[str, Any], kind: str = "Filter") -> PersonalizeResource:
    stack = cdk.Stack(cdk.App(), "S")
    return PersonalizeResource(stack, "R", kind=kind, service_token="arn:aws:lambda:x", properties=properties)


FILTER = {"Name": "dev-retail-f", "DatasetGroupArn": "arn:dg", "FilterExpression": "EXCLUDE ItemID WHERE x"}


def test_constructs_emit_only_contract_properties() -> None:
    assert _resource(FILTER).spec is contract.FILTER
    with pytest.raises(ValueError, match=r"S/R: Custom::PersonalizeFilter properties \['Extra'\] are not in"):
        _resource({**FILTER, "Extra": "x"})
    with pytest.raises(ValueError, match="property FilterExpression is required"):
        _resource({**FILTER, "FilterExpression": None})
    campaign = {"Name": "dev-retail-c", "SolutionVersionArn": "arn:v"}
    with pytest.raises(ValueError, match=r"property MinProvisionedTPS: expected an integer >= 1, got '0'"):
        _resource({**campaign, "MinProvisionedTPS": "0"}, "Campaign")
    # A token is known only at deploy time: not checked here.
    _resource({**campaign, "MinProvisionedTPS": cdk.Fn.ref("Tps")}, "Campaign")


def test_constructs_read_only_contract_data() -> None:
    resource = _resource(FILTER)
    assert cdk.Token.is_unresolved(resource.data("Arn"))
    with pytest.raises(ValueError, match="returns no Data 'TrackingId'"):
        resource.data("TrackingId")
