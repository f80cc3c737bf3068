"""Domain recommenders: one `Custom::PersonalizeRecommender` per `[[recommenders]]` entry, each waited
for through a WaitCondition (creating a recommender trains its models: "Amazon Personalize trains the
models backing the recommender", creating-recommenders; no duration is documented, so the wait is
`create_timeout`, at most 12 h).

Order: a recommender is created after every import's WaitCondition (it trains on the dataset group's
data) and deleted before the dataset group (it references the group's ARN, so CloudFormation deletes
it first; the handler waits until it is gone). A change of recommenderConfig is an UpdateRecommender
in place, waited for by a new WaitCondition (its inputs are in the wait's hash); a new recipe is a new
name (hashed into it), so the replacement never collides with the old one.
"""

from __future__ import annotations

from collections.abc import Sequence

from constructs import Construct

from personalize_constructs.hashing import logical_label
from personalize_constructs.long_wait import LongWait
from personalize_constructs.monitoring import WatchedCampaign
from personalize_constructs.provider import PersonalizeProvider
from personalize_constructs.resources import (
    Dataset,
    DatasetGroup,
    PersonalizeContext,
    cfn,
    depends,
    personalize_resource,
)
from pipeline.config import RecommenderConfig
from pipeline.domains import USE_CASES
from pipeline.naming import digest


class Recommender(Construct):
    """`Custom::PersonalizeRecommender` (-> WaitCondition). Exposes `resource`, `wait`, `arn`, `name`,
    `config`."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        ctx: PersonalizeContext,
        config: RecommenderConfig,
        dataset_group: DatasetGroup,
        datasets: Sequence[Dataset],
    ) -> None:
        super().__init__(scope, id)
        label = logical_label(config.name)
        self.config = config
        # The recipe cannot change in place (UpdateRecommender does not take it): it is in the name.
        self.name = ctx.name(config.name, version_of=config.recipe)
        settings = config.recommender_config
        self.wait = LongWait(
            self,
            "Wait",
            label=f"Recommender{label}",
            inputs_hash=digest(self.name, config.recipe, settings),
            timeout_seconds=config.create_timeout,
        )
        self.resource = personalize_resource(
            self,
            "Resource",
            ctx,
            "Recommender",
            f"Recommender{label}",
            {
                "Name": self.name,
                "DatasetGroupArn": dataset_group.arn,
                "RecipeArn": USE_CASES[config.recipe].arn,
                "RecommenderConfig": settings,
                "WaitHandle": self.wait.handle_ref,
            },
        )
        # Trains on what was imported: after every import's WaitCondition.
        depends(self.resource, *(d.wait.condition for d in datasets))
        self.wait.after(cfn(self.resource))
        self.arn = self.resource.data("Arn")


class Recommenders(Construct):
    """Every configured recommender, and the handlers' permissions for them. Exposes `recommenders`
    (config name -> Recommender) and `watched` (what the idle alarm and the dashboard need)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        ctx: PersonalizeContext,
        configs: Sequence[RecommenderConfig],
        dataset_group: DatasetGroup,
        datasets: Sequence[Dataset],
        provider: PersonalizeProvider,
    ) -> None:
        super().__init__(scope, id)
        provider.grant_recommenders()
        self.recommenders = {
            c.name: Recommender(
                self, logical_label(c.name), ctx=ctx, config=c, dataset_group=dataset_group, datasets=datasets
            )
            for c in configs
        }
        self.watched = [
            WatchedCampaign(
                name=name,
                arn=r.arn,
                api="GetRecommendations",
                min_provisioned_tps=r.config.min_recommendation_requests_per_second,
                kind="recommender",
            )
            for name, r in self.recommenders.items()
        ]
