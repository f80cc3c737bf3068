"""Domain recommenders in the local Personalize: Create/Describe/List/Update/Delete/Stop/Start
Recommender, and GetRecommendations on a recommender ARN.

Rules and their sources (docs/aws-fidelity.md, "Domain recommenders"):
- A recommender needs a domain dataset group and a use case of its domain: "Only Domain dataset group
  use cases can be used to create a recommender" (botocore, CreateRecommenderRequest.recipeArn); the
  use cases per domain: ECOMMERCE-use-cases, VIDEO_ON_DEMAND-use-cases (read through `borrowed`).
- Statuses: CREATE PENDING > CREATE IN_PROGRESS > ACTIVE -or- CREATE FAILED; STOP PENDING > STOP
  IN_PROGRESS > INACTIVE > START PENDING > START IN_PROGRESS > ACTIVE; DELETE PENDING > DELETE
  IN_PROGRESS (botocore, Recommender.status); latestRecommenderUpdate has its own CREATE PENDING >
  CREATE IN_PROGRESS > ACTIVE -or- CREATE FAILED (RecommenderUpdateSummary.status), and the old
  configuration serves until the update is ACTIVE (updating-recommender).
- "Stops a recommender that is ACTIVE" (StopRecommender); "After you stop a recommender, you can't use
  it to get recommendations" (stopping-starting-recommender). Which error GetRecommendations answers is
  not documented: InvalidInputException (one of the two it models) is this project's choice.
- Quotas: 5 recommenders per dataset group (limits), 15 per region (creating-recommenders).
- Training: the use case's datasets (Items for those that train on it) must be imported, with the
  service's minimums (1000 interactions of the use case's event types, 25 users with 2 or more).
- itemExplorationConfig only for use cases that recommend for a user (botocore,
  RecommenderConfig.itemExplorationConfig: "Provide itemExplorationConfig data only if your
  recommenders generate personalized recommendations for a user").

Local simplification (docs/recommenders.md): each use case is served by the local training of a
custom recipe of the same kind: top picks / recommended for you by User-Personalization, more like X
by Similar-Items, because you watched X / customers who viewed X / frequently bought together by SIMS,
most popular / popular by views or purchases by Popularity-Count over the use case's event type,
trending now by Trending-Now.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, ClassVar

from local.emulator.personalize import borrowed
from local.emulator.personalize.errors import exists, in_use, invalid, limit, not_found
from local.emulator.personalize.resources import (
    DELETING,
    IN_PROGRESS,
    Dataset,
    Filter,
    Progress,
    Resource,
    clean,
)
from local.emulator.personalize.store import Context, Part, Store

#: Recommenders per dataset group (limits) and per region (creating-recommenders).
PER_DATASET_GROUP = 5
PER_REGION = 15
STOPPING = ("STOP PENDING", "STOP IN_PROGRESS")
STARTING = ("START PENDING", "START IN_PROGRESS")
#: Use case -> (the local recipe that serves it, the event type its training counts, if any).
LOCAL_RECIPE = {
    "aws-vod-top-picks": ("aws-user-personalization", None),
    "aws-ecomm-recommended-for-you": ("aws-user-personalization", None),
    "aws-vod-more-like-x": ("aws-similar-items", None),
    "aws-vod-because-you-watched-x": ("aws-sims", "Watch"),
    "aws-ecomm-customers-who-viewed-x-also-viewed": ("aws-sims", "View"),
    "aws-ecomm-frequently-bought-together": ("aws-sims", "Purchase"),
    "aws-vod-most-popular": ("aws-popularity-count", "Watch"),
    "aws-ecomm-popular-items-by-views": ("aws-popularity-count", "View"),
    "aws-ecomm-popular-items-by-purchases": ("aws-popularity-count", "Purchase"),
    "aws-vod-trending-now": ("aws-trending-now", None),
}


@dataclass
class RecommenderUpdate(Progress):
    """An UpdateRecommender and its progress: latestRecommenderUpdate."""

    config: dict[str, Any]
    status: str
    created: float
    updated: float
    failure_reason: str | None = None

    def summary(self) -> dict[str, Any]:
        return clean({"recommenderConfig": self.config, **self.progress()})


@dataclass
class Recommender(Resource):
    KIND: ClassVar[str] = "recommender"
    ARN_KEY: ClassVar[str] = "recommenderArn"
    dataset_group_arn: str = ""
    recipe_arn: str = ""
    config: dict[str, Any] | None = None
    latest_update: RecommenderUpdate | None = None
    model: Any = None

    def summary(self) -> dict[str, Any]:
        return clean({**self.base(), "datasetGroupArn": self.dataset_group_arn, "recipeArn": self.recipe_arn,
                      "recommenderConfig": self.config})

    def describe(self) -> dict[str, Any]:
        metrics = ({k: float(v) for k, v in self.model.metrics().items()}
                   if self.model is not None and self.status not in IN_PROGRESS + DELETING else None)
        return clean({**self.summary(), "failureReason": self.failure_reason, "modelMetrics": metrics,
                      "latestRecommenderUpdate": self.latest_update.summary() if self.latest_update
                      else None})

    @property
    def use_case(self) -> str:
        return borrowed.recipe_name(self.recipe_arn)

    @property
    def updating(self) -> bool:
        return self.latest_update is not None and self.latest_update.status in IN_PROGRESS


def recommenders_of(store: Store, group_arn: str) -> list[Recommender]:
    """The dataset group's recommenders (DeleteDatasetGroup refuses while there are any)."""
    return store.all_of(Recommender, lambda r: r.dataset_group_arn == group_arn)


class Recommenders(Part):
    """Recommenders of domain dataset groups."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        store.on("recommender_train", self._on_train)
        store.on("recommender_active", self._on_active)
        store.on("recommender_update_status", self._on_update_status)
        store.on("recommender_update_done", self._on_update_done)

    # ---- create -------------------------------------------------------------------------------
    def op_CreateRecommender(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        name = store.check_name(p.get("name"))
        group = store.active_dataset_group(p.get("datasetGroupArn"))
        recipe_arn = str(p.get("recipeArn") or "")
        case = borrowed.use_case(recipe_arn)
        if group.domain is None:
            raise invalid(f"Dataset group {group.arn} is not a Domain dataset group: only Domain dataset "
                          "group use cases can be used to create a recommender.")
        if case is None or case.arn != recipe_arn:
            raise invalid(f"{recipe_arn} is not a Domain dataset group use case; the {group.domain} use "
                          f"cases are {borrowed.use_cases_of(group.domain)}.")
        if case.domain != group.domain:
            raise invalid(f"{recipe_arn} is a {case.domain} use case; dataset group {group.arn} is "
                          f"{group.domain} (use cases: {borrowed.use_cases_of(group.domain)}).")
        config = self._config(p.get("recommenderConfig"), case)
        arn = store.arn(ctx, "recommender", name)
        if arn in store.resources:
            raise exists(f"A recommender named {name} already exists.")
        if len(recommenders_of(store, group.arn)) >= PER_DATASET_GROUP:
            raise limit(f"You have reached the maximum of {PER_DATASET_GROUP} recommenders in dataset group "
                        f"{group.arn}.")
        if len(store.all_of(Recommender, lambda r: store.in_context(r, ctx))) >= PER_REGION:
            raise limit(f"You can create at most {PER_REGION} recommenders per region.")
        recommender = store.new(Recommender, ctx, arn, name, p.get("tags"), dataset_group_arn=group.arn,
                                recipe_arn=recipe_arn, config=config)
        store.add(recommender)
        store.schedule(recommender.created + 10.0, "recommender_train", recommender)
        return {"recommenderArn": arn}

    def _config(self, raw: Any, case: Any) -> dict[str, Any]:
        config = dict(raw or {})
        if config.get("itemExplorationConfig") and not case.exploration:
            raise invalid(f"{case.name} does not take itemExplorationConfig: provide it only for use cases "
                          "that generate personalized recommendations for a user.")
        config.setdefault("minRecommendationRequestsPerSecond", 1)
        return config

    def _on_train(self, recommender: Recommender, at: float, _: Any) -> None:
        """CREATE IN_PROGRESS: train on the dataset group's data (as a solution version does)."""
        store = self.store
        store.set_status(recommender, "CREATE IN_PROGRESS", at)
        model, reason, seconds = self._train(recommender, recommender.config or {})
        if model is None:
            store.schedule(at + 60.0, "failed", recommender, reason)
            return
        store.schedule(at + seconds, "recommender_active", recommender, model)

    def _train(self, recommender: Recommender, config: dict[str, Any]) -> tuple[Any, str, float]:
        """(model, why not, training seconds) on the dataset group's current data."""
        from local.emulator.personalize.solutions import training_minimums
        from local.emulator.personalize.training import train

        store = self.store
        case = borrowed.use_case(recommender.recipe_arn)
        assert case is not None
        datasets = {d.dataset_type.lower(): d for d in
                    store.all_of(Dataset, lambda d: d.dataset_group_arn == recommender.dataset_group_arn)}
        interactions = datasets.get("interactions")
        items, users = datasets.get("items"), datasets.get("users")
        if interactions is None or interactions.data is None or not len(interactions.data):
            return None, (f"There is no data in the Interactions dataset of dataset group "
                          f"{recommender.dataset_group_arn}: import interactions before creating "
                          "a recommender."), 0.0
        if case.needs_items and (items is None or items.data is None):
            return None, (f"{case.name} trains on the Items dataset too: import items into dataset group "
                          f"{recommender.dataset_group_arn} before creating the recommender."), 0.0
        local, event_type = LOCAL_RECIPE[case.name]
        short = training_minimums(interactions.data, event_type)
        if short:
            return None, short, 0.0
        settings: dict[str, Any] = {"eventType": event_type} if event_type else {}
        try:
            model = train(local, interactions.data, items.data if items and items.data is not None else None,
                          users.data if users and users.data is not None else None, settings,
                          seed=int(hashlib.sha256(recommender.arn.encode()).hexdigest()[:8], 16))
        except (ValueError, LookupError) as error:
            return None, str(error), 0.0
        return model, "", store.durations.training(local, len(interactions.data), False, recommender.name)

    def _on_active(self, recommender: Recommender, at: float, model: Any) -> None:
        recommender.model = model
        self.store.set_status(recommender, "ACTIVE", at)

    # ---- read ---------------------------------------------------------------------------------
    def op_DescribeRecommender(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        return {"recommender": self.store.find(Recommender, p.get("recommenderArn")).describe()}

    def op_ListRecommenders(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        group = p.get("datasetGroupArn")
        found = store.listed(Recommender, ctx, lambda r: group is None or r.dataset_group_arn == group)
        return store.page([r.summary() for r in found], p, "recommenders")

    # ---- update -------------------------------------------------------------------------------
    def op_UpdateRecommender(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        recommender = store.find(Recommender, p.get("recommenderArn"))
        if recommender.status != "ACTIVE":
            raise in_use(f"Recommender {recommender.arn} is not in ACTIVE state "
                         f"(status: {recommender.status}).")
        if recommender.updating:
            raise in_use(f"Recommender {recommender.arn} has an update in progress.")
        case = borrowed.use_case(recommender.recipe_arn)
        config = self._config(p.get("recommenderConfig"), case)
        now = store.now()
        recommender.latest_update = RecommenderUpdate(config, "CREATE PENDING", now, now)
        recommender.updated = now
        total = store.durations.of("campaign_update", recommender.name)
        store.schedule(now + total / 4, "recommender_update_status", recommender, "CREATE IN_PROGRESS")
        store.schedule(now + total, "recommender_update_done", recommender)
        return {"recommenderArn": recommender.arn}

    def _on_update_status(self, recommender: Recommender, at: float, status: str) -> None:
        if recommender.latest_update:
            recommender.latest_update.status, recommender.latest_update.updated = status, at

    def _on_update_done(self, recommender: Recommender, at: float, _: Any) -> None:
        """The new configuration serves from now; new training columns retrain ("updating-recommender":
        "If you modify the columns used when training, Amazon Personalize automatically starts a full
        retraining")."""
        update = recommender.latest_update
        if update is None:
            return
        update.updated = at
        old = (recommender.config or {}).get("trainingDataConfig")
        if update.config.get("trainingDataConfig") != old:
            model, reason, _ = self._train(recommender, update.config)
            if model is None:
                update.status, update.failure_reason = "CREATE FAILED", reason
                return
            recommender.model = model
        update.status = "ACTIVE"
        recommender.config = update.config
        recommender.updated = at

    # ---- stop, start, delete --------------------------------------------------------------------
    def op_StopRecommender(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        recommender = store.find(Recommender, p.get("recommenderArn"))
        if recommender.status != "ACTIVE" or recommender.updating:
            raise in_use(f"Recommender {recommender.arn} is {recommender.status}: only an ACTIVE recommender "
                         "without an update in progress can be stopped.")
        self._move(recommender, STOPPING, "INACTIVE", store.durations.of("stop_training", recommender.name))
        return {"recommenderArn": recommender.arn}

    def op_StartRecommender(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        recommender = store.find(Recommender, p.get("recommenderArn"))
        if recommender.status != "INACTIVE":
            raise in_use(f"Recommender {recommender.arn} is {recommender.status}: only an INACTIVE (stopped) "
                         "recommender can be started.")
        self._move(recommender, STARTING, "ACTIVE", store.durations.of("campaign", recommender.name))
        return {"recommenderArn": recommender.arn}

    def _move(self, recommender: Recommender, steps: tuple[str, str], end: str, total: float) -> None:
        store = self.store
        now = store.now()
        store.set_status(recommender, steps[0], now)
        store.schedule(now + total / 4, "status", recommender, steps[1])
        store.schedule(now + total, "status", recommender, end)

    def op_DeleteRecommender(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        recommender = store.find(Recommender, p.get("recommenderArn"))
        store.check_deletable(recommender)
        if recommender.status in STOPPING + STARTING or recommender.updating:
            raise in_use(f"Recommender {recommender.arn} is {recommender.status}"
                         f"{' with an update in progress' if recommender.updating else ''}; delete it once "
                         "that has finished.")
        store.start_delete(recommender, store.durations.of("delete_campaign", recommender.name))
        return {}


# ---- GetRecommendations on a recommender ---------------------------------------------------------
def serving(store: Store, arn: Any) -> Recommender:
    """The recommender GetRecommendations names: it must exist and be ACTIVE (a stopped one serves
    nothing until StartRecommender)."""
    recommender = store.resources.get(str(arn))
    if not isinstance(recommender, Recommender) or recommender.status in DELETING:
        raise not_found(f"Recommender not found: {arn}")
    if recommender.status != "ACTIVE" or recommender.model is None:
        raise invalid(f"Recommender {arn} is not ACTIVE (status: {recommender.status}); "
                      "start it (StartRecommender) to get recommendations.")
    return recommender


def check_inputs(recommender: Recommender, user_id: Any, item_id: Any) -> None:
    """The use case's userId/itemId needs (ECOMMERCE-use-cases, VIDEO_ON_DEMAND-use-cases)."""
    case = borrowed.use_case(recommender.recipe_arn)
    assert case is not None
    if case.user_id == "required" and not user_id:
        raise invalid(f"userId is required for a recommender of {case.name}.")
    if case.item_id == "required" and not item_id:
        raise invalid(f"itemId is required for a recommender of {case.name}.")


def filter_of(store: Store, recommender: Recommender, filter_arn: Any) -> Any:
    if not filter_arn:
        return None
    flt = store.resources.get(str(filter_arn))
    if not isinstance(flt, Filter):
        raise not_found(f"Filter not found: {filter_arn}")
    if flt.status != "ACTIVE" or flt.dataset_group_arn != recommender.dataset_group_arn:
        raise invalid(f"Filter {filter_arn} is not an ACTIVE filter of recommender {recommender.arn}'s "
                      "dataset group.")
    return flt.compiled
