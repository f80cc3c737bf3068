"""`Recommender`: ask a deployed environment's campaigns, on AWS or on the local Personalize.

    from recs import Recommender
    with Recommender.for_environment("dev", target="local") as rec:
        result = rec.recommend("user-recs", user_id="u0246", num=5)
        for item in result.items:
            print(item.item_id, item.score, item.fields.get("CATEGORY_L1"))

The campaign, filter and dataset group ARNs come from the deployed stack (recs/stack.py), item fields
from the environment's items file (recs/catalog.py). The AWS target needs boto3 and pipeline/ only;
the local target imports local/ (and so moto) when it is chosen, not before.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pipeline.config import CONFIG_DIR, PipelineConfig, config_path, load_config
from pipeline.domains import USE_CASES
from pipeline.filters import filter_parameters
from pipeline.naming import REPO_ROOT
from pipeline.problems import ProblemReport
from recs.catalog import Catalog
from recs.errors import (
    BadRequest,
    CampaignNotDeployed,
    CredentialsMissing,
    MissingFilterValues,
    NoSuchEnvironment,
    RecsError,
    UnknownCampaign,
    UnknownFilter,
)
from recs.service import translate
from recs.stack import Campaign, DeployedStack, Kind, from_cloudformation

Target = Literal["aws", "local"]
#: GetRecommendations numResults and GetPersonalizedRanking inputList bounds (API reference)
MAX_RESULTS = 500
DEFAULT_NUM = 10
#: `$NAME` placeholders in a filter expression
COLD_START_NOTE = (
    "user {user!r} has no interactions in the imported data (cold start): Personalize answers with "
    "popular items, not personal ones"
)


@dataclass(frozen=True)
class Recommendation:
    """One returned item: its id, Personalize's score (None when the recipe gives none) and its
    row of the items dataset (empty when the item or the items file is unknown)."""

    item_id: str
    score: float | None
    fields: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"itemId": self.item_id, "score": self.score, "fields": self.fields}


@dataclass(frozen=True)
class Result:
    """What one GetRecommendations / GetPersonalizedRanking call returned, and for whom."""

    campaign: str
    campaign_arn: str
    kind: Kind
    items: tuple[Recommendation, ...]
    user_id: str | None = None
    item_id: str | None = None
    filter: str | None = None
    filter_values: dict[str, str] = field(default_factory=dict)
    recommendation_id: str | None = None
    #: True: the user is not in the imported interactions (popular items are served); None: unknown
    cold_start: bool | None = None
    #: ranking only: input items the items dataset does not know (Personalize scores them 0)
    unknown_items: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def item_ids(self) -> list[str]:
        return [item.item_id for item in self.items]

    def to_json(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "campaignArn": self.campaign_arn,
            "kind": self.kind,
            "userId": self.user_id,
            "itemId": self.item_id,
            "filter": self.filter,
            "filterValues": self.filter_values,
            "recommendationId": self.recommendation_id,
            "coldStart": self.cold_start,
            "unknownItems": list(self.unknown_items),
            "notes": list(self.notes),
            "items": [item.to_json() for item in self.items],
        }


@dataclass(frozen=True)
class Filter:
    """A deployed filter, by its config name."""

    name: str
    arn: str
    personalize_name: str
    status: str


class Recommender:
    """One deployed environment's campaigns and filters. Use `for_environment`; the constructor is
    for callers that already hold the stack outputs (the local demo)."""

    def __init__(
        self,
        stack: DeployedStack,
        *,
        config: PipelineConfig,
        root: Path = REPO_ROOT,
        session: Any = None,
        activate: Callable[[], AbstractContextManager[Any]] | None = None,
        on_close: Callable[[], None] | None = None,
        sleep: Callable[[float], Any] | None = None,
        persist: Callable[[], Any] | None = None,
    ) -> None:
        import boto3
        from botocore.config import Config

        self.stack = stack
        self.config = config
        self.catalog = Catalog(config, root)
        self._session = session or boto3.session.Session()
        self._activate = activate or nullcontext
        #: local worlds patch botocore while active: clients are made inside each activation there
        self._reuse_clients = activate is None
        self._clients: dict[str, Any] = {}
        self._on_close = on_close
        #: how waiting passes (the local world: its virtual clock) and how a change is kept (its save)
        self._sleep = sleep or time.sleep
        self._persist = persist
        self._filters: dict[str, Filter] | None = None
        self._expressions: dict[str, str] = {}
        self._client_config = Config(
            retries={"mode": "standard", "max_attempts": 3}, connect_timeout=10, read_timeout=30
        )

    # ---------------------------------------------------------------- construction
    @classmethod
    def for_environment(
        cls,
        env: str = "dev",
        *,
        target: Target = "local",
        region: str | None = None,
        profile: str | None = None,
        state_dir: Path | str | None = None,
        config_dir: Path | str | None = None,
        root: Path | str | None = None,
    ) -> Recommender:
        """The environment `env` (config/<env>.toml) as deployed on `target`.

        aws: the stack `cdk deploy` made, found with CloudFormation DescribeStacks in `region`
        (default: the config's environment.region, else the AWS profile's region), with the
        credentials of `profile` (default: the usual boto3 chain).
        local: the stack `pz deploy` made, from `state_dir` (default ./.local).
        Raises NoSuchEnvironment, StackNotDeployed, CredentialsMissing.
        """
        config = load_environment(env, Path(config_dir) if config_dir else CONFIG_DIR)
        base = Path(root) if root else REPO_ROOT
        if target == "local":
            from recs.local_target import open_local

            local = Path(state_dir) if state_dir else base / ".local"
            stack, world = open_local(env, local)
            return cls(stack, config=config, root=base, activate=world.active, on_close=world.close,
                       sleep=world.clock.advance, persist=lambda: world.save(local / "world.pkl"))
        if target != "aws":
            raise BadRequest(f"target must be 'aws' or 'local', got {target!r}")
        session = aws_session(profile)
        where = region or config.environment.region or session.region_name
        if not where:
            raise RecsError(
                f"no AWS region: pass --region, set environment.region in config/{env}.toml, or set "
                "AWS_REGION"
            )
        stack = from_cloudformation(env, session, where)
        stack.check_serving(f"deploy it with `npx cdk deploy -c env={env}`")
        return cls(stack, config=config, root=base, session=session)

    def __enter__(self) -> Recommender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release what the target holds (the local world's buffers)."""
        self._clients.clear()
        if self._on_close is not None:
            self._on_close()
            self._on_close = None

    @property
    def env(self) -> str:
        return self.stack.env

    @property
    def region(self) -> str:
        return self.stack.region

    # ---------------------------------------------------------------- lookups
    def campaigns(self) -> dict[str, Campaign]:
        """Config name -> Campaign for every campaign the deployed stack has."""
        return self.stack.campaigns()

    def campaign(self, name: str) -> Campaign:
        """The deployed campaign `name` (its config name, e.g. user-recs)."""
        deployed = self.campaigns()
        if name in deployed:
            return deployed[name]
        configured = [c.name for c in self.config.campaigns]
        if name in configured:
            raise CampaignNotDeployed(
                f"campaign {name!r} is in config/{self.env}.toml but not in the deployed stack "
                f"{self.stack.name} ({self.stack.where}); deployed: {sorted(deployed)}. Deploy the "
                "current config again"
            )
        raise UnknownCampaign(
            f"campaign {name!r} is not in the deployed stack {self.stack.name}; campaigns: {sorted(deployed)}"
        )

    def filters(self) -> dict[str, Filter]:
        """Config name -> Filter for the filters in the deployed dataset group (ListFilters)."""
        if self._filters is not None:
            return self._filters
        group = self.stack.dataset_group_arn
        found: dict[str, Filter] = {}
        if group:
            group_name = group.rsplit("/", 1)[-1]
            pattern = re.compile(rf"^{re.escape(group_name)}-(.+?)(?:-[0-9a-f]{{6}})?$")
            token: str | None = None
            while True:
                extra: dict[str, Any] = {"nextToken": token} if token else {}
                page = self._call(
                    "personalize", "list_filters", datasetGroupArn=group, maxResults=100, **extra
                )
                for entry in page.get("Filters", []):
                    match = pattern.match(entry["name"])
                    name = match.group(1) if match else entry["name"]
                    found[name] = Filter(name, entry["filterArn"], entry["name"], entry.get("status", ""))
                token = page.get("nextToken")
                if not token:
                    break
        self._filters = found
        return found

    def filter(self, name: str) -> Filter:
        known = self.filters()
        if name not in known:
            configured = [f.name for f in self.config.filters]
            hint = (
                f"; it is in config/{self.env}.toml: deploy again"
                if name in configured
                else f"; add it as [[filters]] in config/{self.env}.toml and deploy"
            )
            raise UnknownFilter(
                f"filter {name!r} is not in the deployed dataset group {self.stack.dataset_group_arn}; "
                f"filters: {sorted(known)}{hint}"
            )
        found = known[name]
        if found.status and found.status != "ACTIVE":
            raise UnknownFilter(
                f"filter {name!r} ({found.arn}) is {found.status}, not ACTIVE: wait and retry"
            )
        return found

    def filter_expression(self, name: str) -> str:
        arn = self.filter(name).arn
        if arn not in self._expressions:
            answer = self._call("personalize", "describe_filter", filterArn=arn)
            self._expressions[arn] = str(answer["filter"].get("filterExpression", ""))
        return self._expressions[arn]

    # ---------------------------------------------------------------- queries
    def recommend(
        self,
        campaign: str,
        user_id: str | None = None,
        item_id: str | None = None,
        *,
        num: int = DEFAULT_NUM,
        filter: str | None = None,
        filter_values: Mapping[str, str | Sequence[str]] | None = None,
    ) -> Result:
        """GetRecommendations: items for `user_id` (user campaigns) or like `item_id` (related-items
        campaigns), best first, at most `num` (1-500). `filter` is a config filter name;
        `filter_values` maps its $PARAMETERS to a value or a list of values."""
        found = self.campaign(campaign)
        if isinstance(num, bool) or not isinstance(num, int) or not 1 <= num <= MAX_RESULTS:
            raise BadRequest(f"num must be an integer from 1 to {MAX_RESULTS}, got {num!r}")
        _check_id("user id", user_id)
        _check_id("item id", item_id)
        if found.kind == "ranking":
            raise BadRequest(
                f"campaign {campaign!r} ranks a list of items (GetPersonalizedRanking): call rank(), "
                f"on the command line {found.usage}"
            )
        if user_id is None and item_id is None:
            raise BadRequest(f"give a user id or an item id; campaign {campaign!r} takes {found.usage}")
        if found.kind == "related-items" and item_id is None:
            raise BadRequest(
                f"campaign {campaign!r} recommends items related to an item: give an item id ({found.usage})"
            )
        if found.kind == "user" and user_id is None:
            raise BadRequest(f"campaign {campaign!r} recommends for a user: give a user id ({found.usage})")
        params: dict[str, Any] = {"campaignArn": found.arn, "numResults": num}
        if user_id is not None:
            params["userId"] = user_id
        if item_id is not None:
            params["itemId"] = item_id
        values = self._filter_params(filter, filter_values, params)
        answer = self._call("personalize-runtime", "get_recommendations", campaign=found, **params)
        cold = self.catalog.is_cold(user_id)
        notes = [COLD_START_NOTE.format(user=user_id)] if cold else []
        if item_id is not None and self.catalog.items and item_id not in self.catalog.items:
            notes.append(
                f"item {item_id!r} is not in the items dataset: Personalize answers with popular items"
            )
        return Result(
            campaign,
            found.arn,
            found.kind,
            self._items(answer.get("itemList", [])),
            user_id,
            item_id,
            filter,
            values,
            answer.get("recommendationId"),
            cold,
            (),
            tuple(notes),
        )

    def rank(
        self,
        campaign: str,
        user_id: str,
        items: Sequence[str],
        *,
        filter: str | None = None,
        filter_values: Mapping[str, str | Sequence[str]] | None = None,
    ) -> Result:
        """GetPersonalizedRanking: `items` (1-500 distinct ids) reordered for `user_id`, best first;
        scores sum to 1 and items Personalize was not trained on score 0 and come last."""
        found = self.campaign(campaign)
        if found.kind != "ranking":
            raise BadRequest(
                f"campaign {campaign!r} does not rank lists (it serves GetRecommendations): call "
                f"recommend(), on the command line {found.usage}"
            )
        _check_id("user id", user_id)
        if not user_id:
            raise BadRequest(f"ranking needs a user id ({found.usage})")
        listed = list(items) if not isinstance(items, str) else [items]
        if not listed:
            raise BadRequest(f"give 1 to {MAX_RESULTS} item ids to rank ({found.usage})")
        empty = [i for i, item in enumerate(listed, 1) if not isinstance(item, str) or not item.strip()]
        if empty:
            raise BadRequest(f"item ids to rank must not be empty: positions {empty} of {listed}")
        if len(listed) > MAX_RESULTS:
            raise BadRequest(f"at most {MAX_RESULTS} items can be ranked, got {len(listed)}")
        repeated = sorted({item for item in listed if listed.count(item) > 1})
        if repeated:
            raise BadRequest(f"each item can be ranked once; repeated: {repeated}")
        params: dict[str, Any] = {"campaignArn": found.arn, "userId": user_id, "inputList": listed}
        values = self._filter_params(filter, filter_values, params)
        answer = self._call("personalize-runtime", "get_personalized_ranking", campaign=found, **params)
        cold = self.catalog.is_cold(user_id)
        unknown = tuple(i for i in listed if self.catalog.items and i not in self.catalog.items)
        notes = [COLD_START_NOTE.format(user=user_id)] if cold else []
        if unknown:
            notes.append(
                f"items not in the items dataset: {list(unknown)}: Personalize scores items it was not "
                "trained on 0 and ranks them last"
            )
        return Result(
            campaign,
            found.arn,
            "ranking",
            self._items(answer.get("personalizedRanking", [])),
            user_id,
            None,
            filter,
            values,
            answer.get("recommendationId"),
            cold,
            unknown,
            tuple(notes),
        )

    def solution_metrics(self) -> dict[str, dict[str, float]]:
        """GetSolutionMetrics of each trained version, by output label (e.g. UserPersonalization)."""
        metrics = {}
        for label, arn in self.stack.solution_versions().items():
            answer = self._call("personalize", "get_solution_metrics", solutionVersionArn=arn)
            metrics[label] = {k: float(v) for k, v in answer.get("metrics", {}).items()}
        return metrics

    # ---------------------------------------------------------------- recommenders
    def recommender(self, name: str) -> str:
        """The ARN of the deployed recommender `name` (its config name, e.g. top-picks)."""
        deployed = self.stack.recommenders()
        if name in deployed:
            return deployed[name]
        configured = [r.name for r in self.config.recommenders]
        if name in configured:
            raise CampaignNotDeployed(
                f"recommender {name!r} is in config/{self.env}.toml but not in the deployed stack "
                f"{self.stack.name}: deploy it first"
            )
        raise CampaignNotDeployed(
            f"recommender {name!r} is not in the deployed stack {self.stack.name}; recommenders: "
            f"{sorted(deployed) or 'none'}"
        )

    def recommend_from(
        self,
        recommender: str,
        user_id: str | None = None,
        item_id: str | None = None,
        *,
        num: int = DEFAULT_NUM,
        filter: str | None = None,
        filter_values: Mapping[str, str | Sequence[str]] | None = None,
    ) -> Result:
        """GetRecommendations from a domain recommender (recommenderArn): what it needs, a user id, an
        item id or both, depends on its use case (ECOMMERCE-use-cases, VIDEO_ON_DEMAND-use-cases)."""
        arn = self.recommender(recommender)
        if isinstance(num, bool) or not isinstance(num, int) or not 1 <= num <= MAX_RESULTS:
            raise BadRequest(f"num must be an integer from 1 to {MAX_RESULTS}, got {num!r}")
        _check_id("user id", user_id)
        _check_id("item id", item_id)
        configured = next((r for r in self.config.recommenders if r.name == recommender), None)
        case = USE_CASES.get(configured.recipe) if configured is not None else None
        if case is not None:
            if case.user_id == "required" and user_id is None:
                raise BadRequest(f"recommender {recommender!r} ({case.title}) needs a user id (--user-id)")
            if case.item_id == "required" and item_id is None:
                raise BadRequest(f"recommender {recommender!r} ({case.title}) needs an item id (--item-id)")
        params: dict[str, Any] = {"recommenderArn": arn, "numResults": num}
        if user_id is not None:
            params["userId"] = user_id
        if item_id is not None:
            params["itemId"] = item_id
        values = self._filter_params(filter, filter_values, params)
        answer = self._call("personalize-runtime", "get_recommendations", **params)
        cold = self.catalog.is_cold(user_id)
        return Result(
            recommender,
            arn,
            "related-items" if item_id is not None and user_id is None else "user",
            self._items(answer.get("itemList", [])),
            user_id,
            item_id,
            filter,
            values,
            answer.get("recommendationId"),
            cold,
            (),
            (COLD_START_NOTE.format(user=user_id),) if cold else (),
        )

    def recommender_status(self, name: str) -> str:
        """DescribeRecommender's status (ACTIVE, INACTIVE, STOP PENDING, ...)."""
        answer = self._call("personalize", "describe_recommender", recommenderArn=self.recommender(name))
        return str(answer["recommender"]["status"])

    def set_running(
        self, name: str, running: bool, *, wait: bool = True, poll_seconds: float = 30.0,
        timeout_seconds: float = 3 * 3600, progress: Callable[[str], Any] | None = None,
    ) -> str:
        """StartRecommender (running) or StopRecommender, then (with `wait`) DescribeRecommender until
        it is ACTIVE or INACTIVE; returns the last status. Already there: nothing is called."""
        arn = self.recommender(name)
        goal = "ACTIVE" if running else "INACTIVE"
        status = self.recommender_status(name)
        if status != goal:
            operation = "start_recommender" if running else "stop_recommender"
            self._call("personalize", operation, recommenderArn=arn)
            waited = 0.0
            while wait and waited <= timeout_seconds:
                status = self.recommender_status(name)
                if progress is not None:
                    progress(status)
                if status == goal:
                    break
                self._sleep(poll_seconds)
                waited += poll_seconds
            else:
                status = self.recommender_status(name)
        if self._persist is not None:
            self._persist()
        return status

    # ---------------------------------------------------------------- internals
    def _filter_params(
        self,
        name: str | None,
        values: Mapping[str, str | Sequence[str]] | None,
        params: dict[str, Any],
    ) -> dict[str, str]:
        """Add filterArn/filterValues to `params` after checking the values against the filter's
        expression; returns the values as sent."""
        if name is None:
            if values:
                raise BadRequest(f"filter values {sorted(values)} given without a filter")
            return {}
        found = self.filter(name)
        expression = self.filter_expression(name)
        sent = {key.lstrip("$"): format_filter_value(value) for key, value in (values or {}).items()}
        required, optional = filter_parameters(expression)
        unknown = sorted(set(sent) - required - optional)
        if unknown:
            raise BadRequest(
                f"filter {name!r} has no parameter {unknown}; its parameters: "
                f"{sorted(required | optional) or 'none'} (expression: {expression})"
            )
        missing = sorted(required - set(sent))
        if missing:
            example = " ".join(f"--filter-value {p}=VALUE" for p in missing)
            raise MissingFilterValues(
                f"filter {name!r} needs a value for {missing} (expression: {expression}); "
                f"pass filter_values, on the command line {example}"
            )
        params["filterArn"] = found.arn
        if sent:
            params["filterValues"] = sent
        return sent

    def _items(self, listed: Sequence[Mapping[str, Any]]) -> tuple[Recommendation, ...]:
        items = self.catalog.items
        out = []
        for entry in listed:
            item_id = str(entry.get("itemId", ""))
            score = entry.get("score")
            out.append(
                Recommendation(
                    item_id, float(score) if score is not None else None, dict(items.get(item_id, {}))
                )
            )
        return tuple(out)

    @contextmanager
    def _client(self, service: str) -> Iterator[Any]:
        with self._activate():
            client = self._clients.get(service)
            if client is None:
                client = self._session.client(service, region_name=self.region, config=self._client_config)
                if self._reuse_clients:
                    self._clients[service] = client
            yield client

    def _call(self, service: str, operation: str, *, campaign: Campaign | None = None, **params: Any) -> Any:
        """One API call; botocore errors become this package's errors."""
        from botocore.exceptions import BotoCoreError, ClientError

        with self._client(service) as client:
            try:
                return getattr(client, operation)(**params)
            except (ClientError, BotoCoreError) as error:
                what = "".join(part.title() for part in operation.split("_"))
                raise translate(error, what, campaign) from None


def load_environment(env: str, config_dir: Path = CONFIG_DIR) -> PipelineConfig:
    """config/<env>.toml, or NoSuchEnvironment naming the environments there are."""
    path = config_path(env, config_dir)
    if not path.is_file():
        available = sorted(p.stem for p in config_dir.glob("*.toml")) if config_dir.is_dir() else []
        raise NoSuchEnvironment(
            f"no environment {env!r}: {path} does not exist; environments: {available} (-c env=NAME)"
        )
    try:
        return load_config(env, path)
    except ProblemReport as report:
        raise NoSuchEnvironment(f"config/{env}.toml is not a valid configuration:\n{report}") from None


def aws_session(profile: str | None) -> Any:
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        return boto3.session.Session(profile_name=profile)
    except ProfileNotFound as error:
        raise CredentialsMissing(f"{error}: pick one of `aws configure list-profiles`") from None


def format_filter_value(value: str | Sequence[str]) -> str:
    """Personalize's filterValues form: each value in double quotes, several separated by commas. A
    string already starting with a double quote is taken as written."""
    if isinstance(value, str):
        return value if value.startswith('"') else _quote(value)
    return ",".join(_quote(v) for v in value)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check_id(what: str, value: str | None) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise BadRequest(f"{what} must be a non-empty string, got {value!r}")
