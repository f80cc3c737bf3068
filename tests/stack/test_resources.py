"""Every resource the stack declares, and the properties the handlers and the runner rely on."""

from __future__ import annotations

import json
import re
from typing import Any

from personalize_constructs.contract import contract
from personalize_constructs.provider import QUERY_INTERVAL, TOTAL_TIMEOUT
from personalize_constructs.resources import JOB_NAME_MAX
from pipeline.naming import stack_name
from tests.stack.helpers import Synth

#: The handlers' contract (every custom resource's properties: tests/stack/test_contract.py).
CONTRACT = contract.TYPES

EXPECTED_COUNTS = {
    "Custom::PersonalizeDatasetGroup": 1,
    "Custom::PersonalizeSchema": 3,
    "Custom::PersonalizeDataset": 3,
    "Custom::PersonalizeDatasetImportJob": 3,
    "Custom::PersonalizeSolution": 3,
    "Custom::PersonalizeSolutionVersion": 3,
    "Custom::PersonalizeCampaign": 3,
    "Custom::PersonalizeEventTracker": 1,
    "AWS::CloudFormation::WaitConditionHandle": 9,
    "AWS::CloudFormation::WaitCondition": 9,
    "AWS::S3::Bucket": 2,
    "AWS::S3::BucketPolicy": 2,
    "Custom::PersonalizeDataObject": 3,  # one copy per repo data file (no BucketDeployment)
    "Custom::CDKBucketDeployment": 0,
    "AWS::StepFunctions::StateMachine": 2,  # our waiter + the Provider framework's isComplete loop
}


#: dev also ships the parameterised `in-category` filter (filter values exercised end to end).
FILTERS = {"dev": 2, "prod": 1}


def test_resource_counts(shipped: Synth) -> None:
    expected = {**EXPECTED_COUNTS, "Custom::PersonalizeFilter": FILTERS[shipped.env]}
    for kind, count in expected.items():
        assert len(shipped.of_type(kind)) == count, kind


def test_readable_logical_ids(dev: Synth) -> None:
    for logical_id in (
        "DatasetGroup",
        "SchemaInteractions",
        "DatasetItems",
        "ImportUsers",
        "SolutionUserPersonalization",
        "TrainUserPersonalization",
        "CampaignUserRecs",
        "FilterExcludePurchased",
        "EventTracker",
    ):
        assert logical_id in dev.resources


def test_all_custom_resources_use_one_provider(shipped: Synth) -> None:
    tokens = {
        json.dumps(r["Properties"]["ServiceToken"], sort_keys=True)
        for kind in CONTRACT
        for r in shipped.of_type(kind).values()
    }
    assert len(tokens) == 1


def test_names_are_environment_first(shipped: Synth) -> None:
    prefix = f"{shipped.env}-retail"
    for kind in CONTRACT:
        for resource in shipped.of_type(kind).values():
            props = resource["Properties"]
            name = props.get("Name") or props.get("JobName")
            if name is None:
                continue
            assert name == prefix or name.startswith(prefix + "-"), name
            assert len(name) <= 63


def test_immutable_kinds_carry_a_hash(dev: Synth) -> None:
    for kind in ("Custom::PersonalizeSchema", "Custom::PersonalizeSolution", "Custom::PersonalizeFilter"):
        for resource in dev.of_type(kind).values():
            assert re.search(r"-[0-9a-f]{6}$", resource["Properties"]["Name"]), resource["Properties"]["Name"]
    job_names = [
        r["Properties"]["JobName"] for r in dev.of_type("Custom::PersonalizeDatasetImportJob").values()
    ]
    for job, resource in zip(
        job_names, dev.of_type("Custom::PersonalizeDatasetImportJob").values(), strict=True
    ):
        assert job.endswith("-" + resource["Properties"]["SourceHash"][:6])
        assert len(job) <= JOB_NAME_MAX  # the handler appends its per-request suffix


def test_key_properties(dev: Synth) -> None:
    solution = dev.resources["SolutionUserPersonalization"]["Properties"]
    # The stack's partition (aws-cn, aws-us-gov too), as the IAM statements use it.
    assert solution["RecipeArn"] == {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"},
                          ":personalize:::recipe/aws-user-personalization-v2"]]
    }
    assert solution["PerformAutoTraining"] == "false"  # cost: no weekly retraining unless asked
    assert solution["PerformHPO"] == "false"
    dataset = dev.resources["DatasetInteractions"]["Properties"]
    assert dataset["DatasetType"] == "Interactions"
    assert dataset["SchemaArn"] == {"Fn::GetAtt": ["SchemaInteractions", "Arn"]}
    schema = json.loads(dev.resources["SchemaInteractions"]["Properties"]["Schema"])
    assert [f["name"] for f in schema["fields"]][:3] == ["USER_ID", "ITEM_ID", "TIMESTAMP"]
    job = dev.resources["ImportInteractions"]["Properties"]
    assert job["ImportMode"] == "FULL"
    assert job["DataLocation"]["Fn::Join"][1][-1] == "/datasets/interactions/interactions.csv"
    assert job["RoleArn"] == {"Fn::GetAtt": [_role(dev), "Arn"]}
    campaign = dev.resources["CampaignUserRecs"]["Properties"]
    assert campaign["MinProvisionedTPS"] == "1"
    assert campaign["SolutionVersionArn"] == {"Fn::GetAtt": ["TrainUserPersonalization", "Arn"]}
    for kind, spec in CONTRACT.items():
        for resource in dev.of_type(kind).values():
            for key, value in resource["Properties"].items():
                if key == "ServiceToken" or isinstance(spec.prop(key).type, contract.Struct | contract.Tags):
                    continue
                assert isinstance(value, str | dict), (key, value)  # strings or intrinsics


def test_prod_campaign_tps_from_config(prod: Synth) -> None:
    assert prod.resources["CampaignUserRecs"]["Properties"]["MinProvisionedTPS"] == "2"


def test_tags_on_custom_resources_and_taggable_resources(dev: Synth) -> None:
    expected = [{"tagKey": "owner", "tagValue": "data-team"}, {"tagKey": "project", "tagValue": "recs"}]
    assert dev.resources["DatasetGroup"]["Properties"]["Tags"] == expected
    assert "Tags" not in dev.resources["SchemaInteractions"]["Properties"]  # CreateSchema takes none
    for kind in (
        "AWS::S3::Bucket",
        "AWS::IAM::Role",
        "AWS::Lambda::Function",
        "AWS::StepFunctions::StateMachine",
        "AWS::Logs::LogGroup",
    ):
        for logical_id, resource in dev.of_type(kind).items():
            tags = {t["Key"]: t["Value"] for t in resource["Properties"].get("Tags", [])}
            assert tags.get("project") == "recs" and tags.get("owner") == "data-team", logical_id


def _our_functions(synth: Synth) -> dict[str, dict[str, Any]]:
    return {
        k: r
        for k, r in synth.of_type("AWS::Lambda::Function").items()
        if str(r["Properties"].get("Handler", "")).startswith("personalize_handlers.")
    }


def test_handler_functions(dev: Synth) -> None:
    functions = _our_functions(dev)
    handlers = sorted(r["Properties"]["Handler"] for r in functions.values())
    assert handlers == [
        "personalize_handlers.entry.is_complete",
        "personalize_handlers.entry.on_event",
        "personalize_handlers.entry.poll",
        "personalize_handlers.entry.signal",
    ]
    codes = {json.dumps(r["Properties"]["Code"], sort_keys=True) for r in functions.values()}
    assert len(codes) == 1  # one asset
    for resource in functions.values():
        assert resource["Properties"]["Runtime"] in ("python3.12", "python3.13")
        assert "LogGroup" in resource["Properties"]["LoggingConfig"]
    waiter_sm = _waiter_state_machine(dev)
    for resource in functions.values():
        if resource["Properties"]["Handler"].endswith(("on_event", "is_complete")):
            env = resource["Properties"]["Environment"]["Variables"]
            assert env["WAITER_STATE_MACHINE_ARN"] == {"Ref": waiter_sm}


def test_log_groups_have_retention(dev: Synth) -> None:
    groups = dev.of_type("AWS::Logs::LogGroup")
    assert len(groups) >= 7
    for resource in groups.values():
        assert resource["Properties"]["RetentionInDays"] > 0
    # Every function we or the Provider/BucketDeployment own logs to an explicit group.
    for logical_id, resource in dev.of_type("AWS::Lambda::Function").items():
        if "AutoDeleteObjects" in logical_id:
            continue  # CDK's auto-delete handler: a CustomResourceProvider without that option
        assert "LoggingConfig" in resource["Properties"], logical_id


def test_provider_timeouts_within_one_hour(dev: Synth) -> None:
    assert TOTAL_TIMEOUT.to_seconds() <= 3600
    assert TOTAL_TIMEOUT.to_seconds() % QUERY_INTERVAL.to_seconds() == 0
    framework = [k for k in dev.of_type("AWS::StepFunctions::StateMachine") if k.startswith("Providerwaiter")]
    definition = _definition_text(dev.resources[framework[0]])
    attempts = int(TOTAL_TIMEOUT.to_seconds() // QUERY_INTERVAL.to_seconds())
    assert f'"IntervalSeconds":{int(QUERY_INTERVAL.to_seconds())}' in definition
    assert f'"MaxAttempts":{attempts}' in definition


def _role(synth: Synth) -> str:
    return next(k for k in synth.of_type("AWS::IAM::Role") if k.startswith("ServiceRole"))


def _waiter_state_machine(synth: Synth) -> str:
    return next(
        k for k in synth.of_type("AWS::StepFunctions::StateMachine") if k.startswith("ProviderWaiter")
    )


def _definition_text(resource: dict[str, Any]) -> str:
    definition = resource["Properties"]["DefinitionString"]
    if isinstance(definition, str):
        return definition
    return "".join(p if isinstance(p, str) else "<ref>" for p in definition["Fn::Join"][1])


def test_waiter_state_machine_follows_the_contract(dev: Synth) -> None:
    resource = dev.resources[_waiter_state_machine(dev)]
    definition = json.loads(_definition_text(resource))
    states = definition["States"]
    assert definition["StartAt"] == "Poll"
    assert set(states) == {"Poll", "Done?", "Wait", "SignalSuccess", "SignalFailure", "Succeeded", "Failed",
                           "SignalNotDelivered"}
    poll = states["Poll"]
    assert poll["Type"] == "Task" and poll["Next"] == "Done?"
    assert poll["Retry"] and all("Lambda." in e for r in poll["Retry"] for e in r["ErrorEquals"])
    assert poll["Catch"][0]["Next"] == "SignalFailure"
    choice = states["Done?"]
    assert choice["Type"] == "Choice"
    targets = {c["StringEquals"]: c["Next"] for c in choice["Choices"]}
    assert targets == {"SUCCEEDED": "SignalSuccess", "FAILED": "SignalFailure"}
    assert choice["Default"] == "Wait"
    assert states["Wait"] == {"Type": "Wait", "SecondsPath": "$.waitSeconds", "Next": "Poll"}
    assert states["SignalSuccess"]["Next"] == "Succeeded" and states["Succeeded"]["Type"] == "Succeed"
    assert states["SignalFailure"]["Next"] == "Failed" and states["Failed"]["Type"] == "Fail"
    for name in ("SignalSuccess", "SignalFailure"):
        # A transient failure of the one PUT after hours of waiting is retried, whatever its error,
        # with backoff; when every retry is spent the execution fails with a recorded reason.
        last = states[name]["Retry"][-1]
        assert last["ErrorEquals"] == ["States.ALL"], name
        assert last["MaxAttempts"] >= 5 and last["BackoffRate"] > 1 and last["MaxDelaySeconds"] >= 60, last
        (catch,) = states[name]["Catch"]
        assert catch["ErrorEquals"] == ["States.ALL"] and catch["ResultPath"] == "$.signalError", catch
        assert states[catch["Next"]]["Type"] == "Fail" and states[catch["Next"]]["Error"], catch
    props = resource["Properties"]
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ALL"


def test_uploads_one_file_per_dataset_prefix(dev: Synth) -> None:
    objects = dev.of_type("Custom::PersonalizeDataObject")
    keys = sorted(r["Properties"]["Key"] for r in objects.values())
    assert keys == [
        "datasets/interactions/interactions.csv",
        "datasets/items/items.csv",
        "datasets/users/users.csv",
    ]
    manifest = json.loads((dev.outdir / f"{stack_name('dev')}.assets.json").read_text())["files"]
    for resource in objects.values():
        props = resource["Properties"]
        assert props["Bucket"] == {"Ref": _data_bucket(dev)}
        assert props["RetainOnDelete"] == "false"
        # The source is a file asset (the file itself, no zip) in the bootstrap bucket.
        asset_hash, extension = props["SourceKey"].split(".", 1)
        entry = manifest[asset_hash]
        assert entry["source"]["packaging"] == "file" and extension == "csv"
        staged = dev.outdir / entry["source"]["path"]
        assert staged.is_file() and staged.name.endswith(".csv")
        assert props["SourceBucket"] == {"Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-ap-southeast-2"}
    # No BucketDeployment: no AWS CLI layer asset staged into the assembly.
    assert not [p for p in dev.outdir.glob("asset.*.zip") if p.stat().st_size > 10_000_000]


def test_data_object_grants_are_least_privilege(dev: Synth) -> None:
    """The handler role reads exactly each copied asset object and writes only under each dataset's
    prefix of the data bucket; nothing else in S3."""
    role = next(k for k in dev.of_type("AWS::IAM::Role") if k.startswith("ProviderHandlerRole"))
    statements = [
        s for p in dev.resources[role]["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]
    ]
    s3 = [s for s in statements if any(str(a).startswith("s3:") for a in _list(s["Action"]))]
    reads = sorted(json.dumps(s["Resource"]) for s in s3 if _list(s["Action"]) == ["s3:GetObject"])
    keys = sorted(r["Properties"]["SourceKey"] for r in dev.of_type("Custom::PersonalizeDataObject").values())
    assert len(reads) == len(keys) == 3
    for key in keys:  # each asset object by its exact key, no wildcard
        assert len([r for r in reads if f"/{key}" in r]) == 1, key
    assert not [r for r in reads if "*" in r]
    writes = [s for s in s3 if sorted(_list(s["Action"])) == ["s3:DeleteObject", "s3:PutObject"]]
    assert sorted(s["Resource"]["Fn::Join"][1][1] for s in writes) == [
        "/datasets/interactions/*",
        "/datasets/items/*",
        "/datasets/users/*",
    ]
    assert len(s3) == len(reads) + len(writes)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _data_bucket(synth: Synth) -> str:
    return next(k for k in synth.of_type("AWS::S3::Bucket") if k.startswith("Data") and "Access" not in k)


def test_s3_source_skips_upload_and_reads_that_object(tmp_path, workspace) -> None:  # type: ignore[no-untyped-def]
    from tests.stack.helpers import config_with, synth

    config = config_with(
        "dev",
        tmp_path,
        lambda t: t.replace('source = "data/items.csv"', 'source = "s3://shared-data/retail/items.csv"'),
    )
    result = synth("dev", tmp_path / "out", config=config, root=workspace)
    assert len(result.of_type("Custom::PersonalizeDataObject")) == 2
    job = result.resources["ImportItems"]["Properties"]
    assert job["DataLocation"] == "s3://shared-data/retail/items.csv"
    role = result.resources[_role(result)]["Properties"]
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    by_sid = {s["Sid"]: s for s in statements if "ExternalSource" in s.get("Sid", "")}
    assert by_sid["ReadExternalSource0"]["Action"] == "s3:GetObject"
    assert by_sid["ReadExternalSource0"]["Resource"] == "arn:aws:s3:::shared-data/retail/items.csv"
    assert by_sid["ListExternalSource0"]["Action"] == "s3:ListBucket"
    assert by_sid["ListExternalSource0"]["Resource"] == "arn:aws:s3:::shared-data"


def test_s3_folder_source_reads_the_objects_under_it_and_lists_only_that_prefix(  # type: ignore[no-untyped-def]
    tmp_path, workspace
) -> None:
    """`s3://bucket/folder/` (DataSource.dataLocation's documented form for many files): the import
    lists the prefix (ListObjectsV2: s3:ListBucket on the bucket ARN, s3:prefix condition) and reads
    every object below it (s3:GetObject on `folder/*`, not on `folder/`)."""
    from tests.security.helpers import Resolver, roles
    from tests.stack.helpers import config_with, synth

    config = config_with(
        "dev",
        tmp_path,
        lambda t: t.replace('source = "data/items.csv"', 'source = "s3://shared-data/retail/items/"'),
    )
    result = synth("dev", tmp_path / "out", config=config, root=workspace)
    assert result.resources["ImportItems"]["Properties"]["DataLocation"] == "s3://shared-data/retail/items/"
    role = roles(result.template, Resolver(result.template, "ap-southeast-2"))[_role(result)]
    for key in ("retail/items/part-0001.csv", "retail/items/2024/part-0002.csv"):
        assert role.allows("s3:GetObject", f"arn:aws:s3:::shared-data/{key}", {}), key
    assert not role.allows("s3:GetObject", "arn:aws:s3:::shared-data/retail/users.csv", {})
    assert role.allows("s3:ListBucket", "arn:aws:s3:::shared-data", {"s3:prefix": "retail/items/"})
    assert not role.allows("s3:ListBucket", "arn:aws:s3:::shared-data", {"s3:prefix": "retail/"})


def test_minimal_config_interactions_only(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pipeline.config import load_config
    from tests.stack.helpers import synth

    path = tmp_path / "dev.toml"
    path.write_text(
        """
[environment]
name = "dev"
region = "ap-southeast-2"

[dataset_group]
name = "mini"

[datasets.interactions]
schema = "data/schemas/interactions.json"
source = "data/interactions.csv"

[[solutions]]
name = "popular"
recipe = "aws-popularity-count"
"""
    )
    result = synth("dev", tmp_path / "out", config=load_config("dev", path))
    counts = {kind: len(result.of_type(kind)) for kind in CONTRACT}
    assert counts == {
        "Custom::PersonalizeDatasetGroup": 1,
        "Custom::PersonalizeSchema": 1,
        "Custom::PersonalizeDataset": 1,
        "Custom::PersonalizeDatasetImportJob": 1,
        "Custom::PersonalizeSolution": 1,
        "Custom::PersonalizeSolutionVersion": 1,
        "Custom::PersonalizeCampaign": 0,
        "Custom::PersonalizeEventTracker": 0,
        "Custom::PersonalizeFilter": 0,
        "Custom::PersonalizeSolutionMetrics": 1,
        "Custom::PersonalizeBatchInferenceJob": 0,
        "Custom::PersonalizeDataObject": 1,
        "Custom::PersonalizeMetricAttribution": 0,
        "Custom::PersonalizeRecommender": 0,
    }
    assert len(result.of_type("AWS::CloudFormation::WaitCondition")) == 2
    assert result.resources["DatasetGroup"]["Properties"]["Name"] == "dev-mini"
    assert "Tags" not in result.resources["DatasetGroup"]["Properties"]  # no tags configured
    assert "EventTrackingId" not in result.template["Outputs"]


def _typed_configs(text: str, weight: str = "0.7") -> str:
    text = text.replace(
        'training_timeout = "6h"             # at most 12h',
        'training_timeout = "6h"\nsolution_config = { eventsConfig = { eventParametersList = '
        f'[{{ eventType = "click", eventValueThreshold = 0.1, weight = {weight} }}] }} }}',
    )
    return text.replace(
        'min_provisioned_tps = 1',
        'min_provisioned_tps = 1\ncampaign_config = { syncWithLatestSolutionVersion = true, '
        'enableMetadataWithRecommendations = false, rankingInfluence = { POPULARITY = 0.5 } }',
    )


def test_typed_configs_synthesize_and_a_synced_campaign_deploys_the_solutions_latest(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.stack.helpers import config_with, synth

    result = synth("dev", tmp_path / "out", config=config_with("dev", tmp_path, _typed_configs))
    campaign = result.resources["CampaignUserRecs"]
    assert campaign["Properties"]["CampaignConfig"]["syncWithLatestSolutionVersion"] is True
    # CreateCampaignRequest.solutionVersionArn: `SolutionArn/$LATEST` with syncWithLatestSolutionVersion
    assert campaign["Properties"]["SolutionVersionArn"] == {
        "Fn::Join": ["", [{"Fn::GetAtt": ["SolutionUserPersonalization", "Arn"]}, "/$LATEST"]]
    }
    assert any(d.startswith("TrainUserPersonalizationWait") for d in campaign["DependsOn"])
    unsynced = result.resources["CampaignSimilarItems"]["Properties"]["SolutionVersionArn"]
    assert unsynced == {"Fn::GetAtt": ["TrainSimilarItems", "Arn"]}


def test_a_bad_config_value_is_refused_at_synth_naming_its_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from tests.stack.helpers import config_with, synth

    config = config_with("dev", tmp_path, lambda t: _typed_configs(t, weight='"heavy"'))
    with pytest.raises(Exception, match=r"SolutionConfig\.eventsConfig\.eventParametersList\[0\]\.weight: "
                                         r"expected a number, got 'heavy'"):
        synth("dev", tmp_path / "out", config=config)


def test_sync_with_latest_must_be_a_boolean_in_the_config(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from tests.stack.helpers import config_with

    with pytest.raises(Exception, match=r"syncWithLatestSolutionVersion: expected true or false, got 'yes'"):
        config_with("dev", tmp_path, lambda t: t.replace(
            'min_provisioned_tps = 1',
            'min_provisioned_tps = 1\ncampaign_config = { syncWithLatestSolutionVersion = "yes" }'))
