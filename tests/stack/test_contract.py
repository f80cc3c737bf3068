"""Every custom resource of the synthesized templates holds to the handlers' contract
(lambda/personalize_handlers/contract.py): its type is one, its properties are the type's (every
required one, literal values its type accepts), and every Fn::GetAtt on it reads a Data key the
handler returns. The constructs refuse at synth what would not."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import aws_cdk as cdk
import pytest

from personalize_constructs.contract import contract
from personalize_constructs.resources import PersonalizeResource
from tests.stack.helpers import CUSTOM, Synth, contract_problems


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
