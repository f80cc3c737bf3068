"""The shipped VIDEO_ON_DEMAND example (config/vod.toml) end to end on the local Personalize: deployed
by the runner, recommendations from its two recommenders, a recommender stopped (GetRecommendations
refused) and started (served again), and destroy leaving nothing.

The deployed world is one module-scoped fixture (`vod`), so later steps on the same deployment can
be added as tests before the destroy, which is this module's last test."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from cli.support import region_of
from local.runner import StackArtifact
from pipeline.config import load_config
from pipeline.naming import stack_name
from recs.api import Recommender
from recs.stack import DeployedStack
from tests.e2e.helpers import Local, send_attributed_events, synth

pytestmark = pytest.mark.slow
ENV = "vod"


@dataclasses.dataclass
class Deployed:
    local: Local
    artifact: StackArtifact
    outputs: dict[str, str]

    def recs(self) -> Recommender:
        """The recommendations API on this deployment (the local world's clock passes the waits)."""
        stack = DeployedStack(ENV, stack_name(ENV), self.local.runner.region, "CREATE_COMPLETE",
                              dict(self.outputs), "the local runner")
        world = self.local.world
        return Recommender(stack, config=load_config(ENV), activate=world.active, sleep=world.clock.advance)


@pytest.fixture(scope="module")
def vod_artifact(tmp_path_factory: pytest.TempPathFactory) -> StackArtifact:
    return synth(ENV, tmp_path_factory.mktemp("cdk-vod"))


@pytest.fixture(scope="module")
def vod(tmp_path_factory: pytest.TempPathFactory, vod_artifact: StackArtifact) -> Iterator[Deployed]:
    local = Local(tmp_path_factory.mktemp("vod-state"), region_of(vod_artifact))
    result = local.runner.deploy(vod_artifact)
    assert result.status == "CREATE_COMPLETE", result.reason
    yield Deployed(local, vod_artifact, {k: str(v) for k, v in result.outputs.items()})
    if local.runner.state(stack_name(ENV)) is not None:
        local.runner.destroy(stack_name(ENV))
    local.runner.close()


def test_the_domain_dataset_group_and_its_recommenders_are_active(vod: Deployed) -> None:
    resources = {r.name: r for r in vod.local.personalize(ENV)}
    group = resources["vod-streaming"]
    assert getattr(group, "domain", None) == "VIDEO_ON_DEMAND" and group.status == "ACTIVE"
    recommenders = [r for r in resources.values() if r.KIND == "recommender"]
    assert len(recommenders) == 2 and {r.status for r in recommenders} == {"ACTIVE"}
    assert set(vod.recs().stack.recommenders()) == {"top-picks", "because-you-watched"}


def test_two_recommenders_serve_recommendations(vod: Deployed) -> None:
    with vod.recs() as rec:
        top = rec.recommend_from("top-picks", "p0001", num=5)
        watched = rec.recommend_from("because-you-watched", "p0001", "v001", num=5)
    assert len(top.item_ids) == 5 and len(watched.item_ids) == 5
    assert top.campaign_arn.split(":recommender/")[1].startswith("vod-streaming-top-picks")
    assert "v001" not in watched.item_ids  # more of what was watched, not the video itself


def test_a_stopped_recommender_refuses_recommendations_and_serves_again_once_started(vod: Deployed) -> None:
    with vod.recs() as rec:
        arn = rec.recommender("top-picks")
        assert rec.set_running("top-picks", False) == "INACTIVE"
        with vod.local.world.active():
            runtime = boto3.client("personalize-runtime", region_name=vod.local.runner.region)
            with pytest.raises(ClientError) as refused:
                runtime.get_recommendations(recommenderArn=arn, userId="p0001")
        assert refused.value.response["Error"]["Code"] == "InvalidInputException"
        assert "INACTIVE" in refused.value.response["Error"]["Message"]
        # the other recommender is untouched
        assert rec.recommend_from("because-you-watched", "p0001", "v001").items
        assert rec.set_running("top-picks", True) == "ACTIVE"
        assert rec.recommend_from("top-picks", "p0001").items


def test_events_attributed_to_a_recommender_move_its_metrics(vod: Deployed) -> None:
    """A page showing top picks names itself as the source; events carrying only the recommendation
    id are attributed to the recommender that answered it (metric-attribution docs)."""
    with vod.recs() as rec:
        arn = rec.recommender("top-picks")
    with vod.local.world.active():
        runtime = boto3.client("personalize-runtime", region_name=vod.local.runner.region)
        common = {
            "tracking_id": vod.outputs["EventTrackingId"],
            "dataset_group_arn": vod.outputs["DatasetGroupArn"],
            "served_by": arn,
            "user_id": "p0002",
        }
        answer = runtime.get_recommendations(recommenderArn=arn, userId="p0002", numResults=5)
        assert send_attributed_events(vod.local.world, vod.local.runner.region, recommendation=answer,
                                      event_type="Watch", metric="watches", source="home-row",
                                      **common) == 3
        answer = runtime.get_recommendations(recommenderArn=arn, userId="p0002", numResults=5)
        assert send_attributed_events(vod.local.world, vod.local.runner.region, recommendation=answer,
                                      event_type="Click", metric="clicks", count=2, **common) == 2


def test_destroy_leaves_nothing(vod: Deployed) -> None:
    """The last step: everything goes, recommenders before their dataset group."""
    gone = vod.local.runner.destroy(stack_name(ENV))
    assert gone is not None and gone.status == "DELETE_COMPLETE", gone.reason
    assert vod.local.left(ENV) == {}
    assert vod.local.personalize(ENV) == []


def _without_statement(template: dict[str, Any], sid: str) -> dict[str, Any]:
    out = copy.deepcopy(template)
    role = next(r for lid, r in out["Resources"].items()
                if lid.startswith("ProviderHandlerRole") and r["Type"] == "AWS::IAM::Role")
    policy = role["Properties"]["Policies"][0]["PolicyDocument"]
    before = len(policy["Statement"])
    policy["Statement"] = [s for s in policy["Statement"] if s.get("Sid") != sid]
    assert len(policy["Statement"]) == before - 1, sid
    return out


def test_without_its_statement_the_handler_cannot_create_a_recommender(
    vod_artifact: StackArtifact, tmp_path: Path
) -> None:
    """IAM is evaluated on every call: the handler role without the recommender statement is refused
    CreateRecommender, and the deploy rolls back naming the action."""
    artifact = dataclasses.replace(
        vod_artifact, template=_without_statement(vod_artifact.template, "PersonalizeRecommender"))
    local = Local(tmp_path / "state", region_of(vod_artifact))
    try:
        result = local.runner.deploy(artifact)
        assert result.status == "ROLLBACK_COMPLETE", result.reason
        assert "not authorized to perform: personalize:CreateRecommender" in result.reason, result.reason
        assert local.left(ENV) == {}
    finally:
        local.runner.close()
