"""The data plane of the local Personalize: GetRecommendations and GetPersonalizedRanking
(`personalize-runtime`) and PutEvents (`personalize-events`).

A campaign serves its solution version's model (local.emulator.personalize.training); filters read
the dataset group's current Items and Users (`filter_data`, which batch jobs use too) and the
user's interactions as the model knows them (training data plus recorded events).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from local.emulator.personalize import borrowed, recommenders
from local.emulator.personalize.errors import invalid, not_found
from local.emulator.personalize.resources import (
    DELETING,
    Campaign,
    Dataset,
    EventTracker,
    Filter,
    Solution,
    SolutionVersion,
)
from local.emulator.personalize.store import Store

if TYPE_CHECKING:
    from local.emulator.personalize.attribution import Attribution

Family = borrowed.RecipeFamily


class Runtime:
    """The runtime and events APIs (no account context: the ARN or tracking id names the target)."""

    def __init__(self, store: Store, attribution: Attribution | None = None) -> None:
        self.store = store
        self.attribution = attribution

    def get_recommendations(self, p: dict[str, Any]) -> dict[str, Any]:
        if p.get("recommenderArn"):
            return self._from_recommender(p)
        with self.store.settled():
            campaign, model, recipe = self._serving(p.get("campaignArn"))
            family = borrowed.family(recipe)
            user_id, item_id = p.get("userId"), p.get("itemId")
            if family == Family.PERSONALIZED_RANKING:
                raise invalid(f"Campaign {campaign.arn} uses a personalized-ranking recipe: "
                              "call GetPersonalizedRanking.")
            if family == Family.RELATED_ITEMS and not item_id:
                raise invalid("itemId is required for a related-items campaign.")
            if family == Family.USER_PERSONALIZATION and not user_id:
                raise invalid("userId is required for a user-personalization campaign.")
            num = int(p.get("numResults") or 25)
            if not 1 <= num <= 500:
                raise invalid(f"numResults must be between 1 and 500, got {num}.")
            compiled = self._filter_for(campaign, p.get("filterArn"))
            values = p.get("filterValues") or {}
            context = self._filter_data(campaign) if compiled is not None else {}
            try:
                ranked = model.recommend(user_id, item_id, num, filter=compiled, filter_values=values,
                                         **context)
            except ValueError as error:
                raise invalid(str(error)) from None
            listed = [{"itemId": i, "score": round(float(s), 7)} for i, s in ranked]
            self._add_metadata(campaign, listed, p.get("metadataColumns"))
            return {"itemList": listed,
                    "recommendationId": self._recommendation_id(campaign.arn, user_id, item_id)}

    def get_personalized_ranking(self, p: dict[str, Any]) -> dict[str, Any]:
        with self.store.settled():
            campaign, model, recipe = self._serving(p.get("campaignArn"))
            family = borrowed.family(recipe)
            if family is not None and family != Family.PERSONALIZED_RANKING:
                raise invalid(f"Campaign {campaign.arn} does not use a personalized-ranking recipe: "
                              "call GetRecommendations.")
            inputs = p.get("inputList") or []
            if not inputs or len(inputs) > 500:
                raise invalid("inputList must have between 1 and 500 items.")
            compiled = self._filter_for(campaign, p.get("filterArn"))
            context = self._filter_data(campaign) if compiled is not None else {}
            try:
                ranked = model.rank(p.get("userId"), list(inputs), filter=compiled,
                                    filter_values=p.get("filterValues") or {}, **context)
            except ValueError as error:
                raise invalid(str(error)) from None
            listed = [{"itemId": i, "score": round(float(s), 7)} for i, s in ranked]
            self._add_metadata(campaign, listed, p.get("metadataColumns"))
            return {"personalizedRanking": listed,
                    "recommendationId": self._recommendation_id(campaign.arn, p.get("userId"))}

    def put_events(self, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        with store.settled():
            tracking_id = str(p.get("trackingId"))
            tracker = next(iter(store.all_of(EventTracker, lambda t: t.tracking_id == tracking_id)), None)
            if tracker is None or tracker.status != "ACTIVE":
                # PutEvents models InvalidInputException only (botocore's personalize-events model)
                raise invalid(f"Event tracker with tracking ID {p.get('trackingId')} not found.")
            user_id = p.get("userId")
            events = p.get("eventList") or []
            if not 1 <= len(events) <= 10:
                raise invalid("eventList must have between 1 and 10 events.")
            if not p.get("sessionId"):
                raise invalid("sessionId is required.")
            models = self._group_models(tracker.dataset_group_arn)
            interactions = next(iter(store.all_of(
                Dataset, lambda d: d.dataset_group_arn == tracker.dataset_group_arn
                and d.dataset_type.lower() == "interactions")), None)
            for event in events:
                item = event.get("itemId")
                when = float(event.get("sentAt") or store.now())
                event_type = event.get("eventType")
                if not event_type:
                    raise invalid("eventType is required for each event.")
                value = event.get("eventValue")
                if user_id and item:
                    for model in models:
                        model.observe(user_id, item, event_type, when, value)
                    if interactions is not None and interactions.data is not None:
                        # the service adds recorded events to the Item interactions dataset
                        interactions.data.add(user_id, item, int(when), event_type,
                                              None if value is None else float(value))
                if self.attribution is not None:
                    self.attribution.record(tracker.dataset_group_arn, user_id, p.get("sessionId"), event,
                                            store.recommendation_sources)
            return {}

    def _from_recommender(self, p: dict[str, Any]) -> dict[str, Any]:
        """GetRecommendations with recommenderArn: "For recommenders, the recommender's ARN is required
        and the required item and user input depends on the use case" (botocore's doc)."""
        store = self.store
        with store.settled():
            if p.get("campaignArn"):
                raise invalid("Specify either campaignArn or recommenderArn, not both.")
            recommender = recommenders.serving(store, p.get("recommenderArn"))
            user_id, item_id = p.get("userId"), p.get("itemId")
            recommenders.check_inputs(recommender, user_id, item_id)
            num = int(p.get("numResults") or 25)
            if not 1 <= num <= 500:
                raise invalid(f"numResults must be between 1 and 500, got {num}.")
            compiled = recommenders.filter_of(store, recommender, p.get("filterArn"))
            context = filter_data(store, recommender.dataset_group_arn) if compiled is not None else {}
            try:
                ranked = recommender.model.recommend(user_id, item_id, num, filter=compiled,
                                                     filter_values=p.get("filterValues") or {}, **context)
            except ValueError as error:
                raise invalid(str(error)) from None
            listed = [{"itemId": i, "score": round(float(s), 7)} for i, s in ranked]
            return {"itemList": listed,
                    "recommendationId": self._recommendation_id(recommender.arn, user_id, item_id)}

    # --- helpers --------------------------------------------------------------------------------
    def _serving(self, campaign_arn: Any) -> tuple[Campaign, Any, str]:
        resources = self.store.resources
        campaign = resources.get(str(campaign_arn))
        if not isinstance(campaign, Campaign) or campaign.serving_arn is None or campaign.status in DELETING:
            raise not_found(f"Campaign not found: {campaign_arn}")
        version = resources.get(campaign.serving_arn)
        if _synced(campaign) and isinstance(version, SolutionVersion):
            # a campaign synced with `<solution ARN>/$LATEST` serves the newest ACTIVE version
            version = self.store.newest_active_version(version.solution_arn) or version
        if not isinstance(version, SolutionVersion) or version.model is None:
            raise not_found(f"Campaign not found: {campaign_arn}")
        solution = resources[version.solution_arn]
        assert isinstance(solution, Solution)
        return campaign, version.model, borrowed.recipe_name(solution.recipe_arn)

    def _filter_for(self, campaign: Campaign, filter_arn: Any) -> Any:
        if not filter_arn:
            return None
        flt = self.store.resources.get(str(filter_arn))
        if not isinstance(flt, Filter):
            raise not_found(f"Filter not found: {filter_arn}")
        if flt.status != "ACTIVE":
            raise invalid(f"Filter {filter_arn} is not ACTIVE (status: {flt.status}).")
        group = self.store.dataset_group_of(campaign.serving_arn or "")
        if flt.dataset_group_arn != group:
            raise invalid(f"Filter {filter_arn} does not belong to the dataset group of campaign "
                          f"{campaign.arn}.")
        return flt.compiled

    def _filter_data(self, campaign: Campaign) -> dict[str, Any]:
        return filter_data(self.store, self.store.dataset_group_of(campaign.serving_arn or ""))

    def _add_metadata(self, campaign: Campaign, listed: list[dict[str, Any]], columns: Any) -> None:
        """metadataColumns {"ITEMS": [...]}: item fields with each recommendation, only when the
        campaign was created with campaignConfig.enableMetadataWithRecommendations."""
        if not columns:
            return
        if not (campaign.config or {}).get("enableMetadataWithRecommendations"):
            raise invalid(f"Campaign {campaign.arn} does not return metadata: create or update it with "
                          "campaignConfig enableMetadataWithRecommendations true.")
        unknown = set(columns) - {"ITEMS"}
        if unknown:
            raise invalid(f"metadataColumns supports the ITEMS dataset only, got {sorted(unknown)}.")
        items = self._filter_data(campaign).get("items")
        wanted = list(columns.get("ITEMS") or [])
        if items is None or any(items.field(name) is None for name in wanted):
            missing = [n for n in wanted if items is None or items.field(n) is None]
            raise invalid(f"metadataColumns names fields the Items dataset does not have: {missing}.")
        for entry in listed:
            values = {name: items.value(entry["itemId"], name) for name in wanted}
            entry["metadata"] = {k: str(v) for k, v in values.items() if v is not None}

    def _recommendation_id(self, source: str, *parts: Any) -> str:
        self.store.served += 1
        digest = hashlib.sha256(f"{self.store.served}:{(source, *parts)}".encode()).hexdigest()
        rid = f"RID-{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
        self.store.recommendation_sources[rid] = source
        return rid

    def _group_models(self, group_arn: str) -> list[Any]:
        models: dict[int, Any] = {}
        for version in self.store.all_of(SolutionVersion, lambda v: v.model is not None):
            solution = self.store.resources.get(version.solution_arn)
            if isinstance(solution, Solution) and solution.dataset_group_arn == group_arn:
                models[id(version.model)] = version.model
        return list(models.values())


def filter_data(store: Store, group: str | None) -> dict[str, Any]:
    """What filters read besides the user's interactions: the dataset group's current Items and
    Users (as the service's filters do), not the copies the model trained with; as keyword
    arguments of the model's recommend() and rank()."""
    context: dict[str, Any] = {}
    for dataset in store.all_of(Dataset, lambda d: d.dataset_group_arn == group and d.data is not None):
        kind = dataset.dataset_type.lower()
        if kind in ("items", "users"):
            context[kind] = dataset.data
    return context


def _synced(campaign: Campaign) -> bool:
    """syncWithLatestSolutionVersion (CampaignConfig), which requires `<solution ARN>/$LATEST`."""
    return bool((campaign.config or {}).get("syncWithLatestSolutionVersion"))
