"""The pipeline configuration: one TOML file per environment, parsed into typed, frozen models.

One model serves app.py (synth), the stacks, and local/ (the runner and the local Personalize), so
what `cdk synth` accepts and what the local import job accepts can never drift apart.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from pipeline.datafiles import validate_datasets
from pipeline.domains import (
    DOMAINS,
    MAX_RECOMMENDERS_PER_DATASET_GROUP,
    USE_CASES,
    Domain,
    use_case_problem,
)
from pipeline.naming import ENV_NAME_PATTERN, NAME_MAX, NAME_PATTERN, REPO_ROOT
from pipeline.problems import Problem, ProblemReport, display_path
from pipeline.recipes import (
    EVENTS_CONFIG_RECIPES,
    RECIPES,
    UPDATE_TRAINING_RECIPES,
    RecipeFamily,
    recipe_problem,
)

CONFIG_DIR = REPO_ROOT / "config"
#: CloudFormation's WaitCondition timeout ceiling.
MAX_WAIT_SECONDS = 12 * 3600
_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h)\s*$")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600}


def parse_duration(value: Any) -> int:
    """'6h', '90m', '45s' or a number of seconds -> seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like '6h', '90m' or '600s'")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return int(match.group(1)) * _DURATION_UNITS[match.group(2)]
    raise ValueError("expected a duration like '6h', '90m' or '600s'")


def _empty_to_none(value: Any) -> Any:
    return None if value == "" else value


def _check_name(value: str) -> str:
    if not 1 <= len(value) <= NAME_MAX or not NAME_PATTERN.match(value):
        raise ValueError(
            f"not a valid Personalize name: 1-{NAME_MAX} characters matching {NAME_PATTERN.pattern}"
        )
    return value


Seconds = Annotated[int, BeforeValidator(parse_duration)]
OptionalStr = Annotated[str | None, BeforeValidator(_empty_to_none)]
ResourceName = Annotated[str, BeforeValidator(str), Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, populate_by_name=True)


class EnvironmentConfig(_Model):
    name: str
    region: OptionalStr = None
    account: OptionalStr = None
    removal_policy: Literal["destroy", "retain"] = "destroy"
    tags: dict[str, str] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not ENV_NAME_PATTERN.match(value):
            raise ValueError(
                f"{value!r} is not a valid environment name: lowercase letters, digits and '-', "
                "starting with a letter, at most 15 characters"
            )
        return value

    @field_validator("account")
    @classmethod
    def _account(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d{12}", value):
            raise ValueError(f"{value!r} is not an AWS account id: expected 12 digits")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", value):
            raise ValueError(f"{value!r} is not an AWS region name like 'ap-southeast-2'")
        return value


class DatasetGroupConfig(_Model):
    name: str
    kms_key_arn: OptionalStr = None
    #: A domain dataset group (CreateDatasetGroup's `domain`): its schemas follow the domain's rules and
    #: it can hold recommenders (pipeline.domains). None: a custom dataset group.
    domain: Domain | None = None

    _name = field_validator("name")(classmethod(lambda cls, v: _check_name(v)))

    @field_validator("kms_key_arn")
    @classmethod
    def _kms(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/.+", value):
            raise ValueError(f"{value!r} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)")
        return value


class DatasetConfig(_Model):
    schema_path: str = Field(alias="schema")
    source: str
    import_mode: Literal["FULL", "INCREMENTAL"] = "FULL"
    import_timeout: Seconds = Field(default=4 * 3600, description="WaitCondition timeout for the import")
    #: A marker of the source's version (docs/fresh-models.md): a new value imports the source again
    #: with import_mode, then retrains and moves the campaigns. For an s3:// object that changed
    #: outside the repo; hashed into the import's inputs, never sent to Personalize.
    source_version: OptionalStr = Field(default=None, max_length=128)

    @field_validator("import_timeout")
    @classmethod
    def _timeout(cls, value: int) -> int:
        return _check_wait(value)

    @property
    def is_s3(self) -> bool:
        return self.source.startswith("s3://")


DatasetType = Literal["interactions", "items", "users"]


class DatasetsConfig(_Model):
    interactions: DatasetConfig
    items: DatasetConfig | None = None
    users: DatasetConfig | None = None

    def present(self) -> dict[DatasetType, DatasetConfig]:
        """The configured datasets, in import order."""
        found: dict[DatasetType, DatasetConfig] = {"interactions": self.interactions}
        if self.items is not None:
            found["items"] = self.items
        if self.users is not None:
            found["users"] = self.users
        return found


def _check_wait(value: int) -> int:
    if value <= 0 or value > MAX_WAIT_SECONDS:
        raise ValueError(
            f"out of range ({value}s): expected more than 0 and at most 12h ({MAX_WAIT_SECONDS}s), "
            "the longest a WaitCondition waits"
        )
    return value


# ---- fresh data and models: typed keys for training modes, schedules and event weights ----------

#: botocore personalize SchedulingExpression: pattern `rate\(\d+ days?\)`, at most 16 characters;
#: AutoTrainingConfig.schedulingExpression's documentation: "For value, specify a number between 1
#: and 30. For unit, specify day or days."
_SCHEDULE = re.compile(r"rate\((\d+) days?\)")
MIN_SCHEDULE_DAYS, MAX_SCHEDULE_DAYS = 1, 30
#: botocore personalize EventsConfig.eventParametersList: at most 10 entries.
MAX_EVENT_WEIGHTS = 10


def schedule_days(expression: str) -> int:
    """Days between automatic trainings for `rate(N days)`; ValueError naming what is expected."""
    match = _SCHEDULE.fullmatch(expression)
    if match is None or not MIN_SCHEDULE_DAYS <= int(match.group(1)) <= MAX_SCHEDULE_DAYS:
        raise ValueError(
            f"{expression!r} is not a schedule the service takes: expected 'rate(N days)' with N from "
            f"{MIN_SCHEDULE_DAYS} to {MAX_SCHEDULE_DAYS}, e.g. 'rate(7 days)' (AutoTrainingConfig)"
        )
    return int(match.group(1))


class EventWeight(_Model):
    """One entry of `event_weights`: solutionConfig.eventsConfig.eventParametersList (botocore
    personalize EventParameters: eventType at most 256 characters, weight 0..1, eventValueThreshold
    "Only events with a value greater or equal to this threshold will be considered")."""

    event_type: str = Field(min_length=1, max_length=256)
    weight: float = Field(ge=0.0, le=1.0)
    value_threshold: float | None = None

    def api(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"eventType": self.event_type, "weight": self.weight}
        if self.value_threshold is not None:
            entry["eventValueThreshold"] = self.value_threshold
        return entry


class SolutionConfig(_Model):
    name: str
    recipe: str
    auto_training: bool = False
    perform_hpo: bool = False
    training_timeout: Seconds = 6 * 3600
    event_type: OptionalStr = None
    #: Passed to CreateSolution's solutionConfig as-is (camelCase keys, as the API takes them).
    solution_config: dict[str, Any] = Field(default_factory=dict)
    #: How a deploy with new data trains (CreateSolutionVersion trainingMode): FULL, a new model on
    #: all the data, or UPDATE, the last model with the items added since (aws-user-personalization
    #: only; the first version of a solution is always FULL).
    training_mode: Literal["FULL", "UPDATE"] = "FULL"
    #: The service's automatic training every N days, `rate(N days)` with N 1..30
    #: (solutionConfig.autoTrainingConfig.schedulingExpression); needs auto_training = true.
    auto_training_schedule: OptionalStr = None
    #: Event weighting (solutionConfig.eventsConfig.eventParametersList), at most 10 event types.
    event_weights: list[EventWeight] = Field(default_factory=list, max_length=MAX_EVENT_WEIGHTS)

    _name = field_validator("name")(classmethod(lambda cls, v: _check_name(v)))

    @field_validator("training_timeout")
    @classmethod
    def _timeout(cls, value: int) -> int:
        return _check_wait(value)

    @field_validator("auto_training_schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        if value is not None:
            schedule_days(value)
        return value

    @property
    def api_solution_config(self) -> dict[str, Any]:
        """CreateSolution's solutionConfig: the raw dict with the typed keys put in place
        (cross_checks refuses a config that sets one both ways)."""
        config = dict(self.solution_config)
        if self.auto_training_schedule:
            config["autoTrainingConfig"] = {"schedulingExpression": self.auto_training_schedule}
        if self.event_weights:
            config["eventsConfig"] = {"eventParametersList": [w.api() for w in self.event_weights]}
        return config

    @property
    def family(self) -> RecipeFamily:
        return RECIPES[self.recipe].family


class CampaignConfig(_Model):
    name: str
    solution: str
    min_provisioned_tps: int = 1
    create_timeout: Seconds = 2 * 3600
    #: Passed to CreateCampaign's campaignConfig (e.g. {"itemExplorationConfig": {...}}).
    campaign_config: dict[str, Any] = Field(default_factory=dict)
    #: The campaign follows the solution's newest ACTIVE version by itself
    #: (campaignConfig.syncWithLatestSolutionVersion with `<solution ARN>/$LATEST`).
    sync_with_latest: bool = False

    _name = field_validator("name")(classmethod(lambda cls, v: _check_name(v)))

    @property
    def api_campaign_config(self) -> dict[str, Any]:
        """CreateCampaign's campaignConfig: the raw dict with sync_with_latest put in place."""
        config = dict(self.campaign_config)
        if self.sync_with_latest:
            config["syncWithLatestSolutionVersion"] = True
        return config

    @property
    def follows_latest(self) -> bool:
        return self.api_campaign_config.get("syncWithLatestSolutionVersion") is True

    @field_validator("campaign_config")
    @classmethod
    def _campaign_config(cls, value: dict[str, Any]) -> dict[str, Any]:
        # Decides the solutionVersionArn form at synth (`<solution>/$LATEST`), so it must be a real
        # boolean here; the rest of the dict is checked against botocore's CampaignConfig at synth.
        sync = value.get("syncWithLatestSolutionVersion")
        if sync is not None and not isinstance(sync, bool):
            raise ValueError(
                f"campaign_config.syncWithLatestSolutionVersion: expected true or false, got {sync!r}"
            )
        return value

    @field_validator("min_provisioned_tps")
    @classmethod
    def _tps(cls, value: int) -> int:
        if value < 1:
            raise ValueError("min_provisioned_tps must be at least 1 (CreateCampaign's minimum)")
        return value

    @field_validator("create_timeout")
    @classmethod
    def _timeout(cls, value: int) -> int:
        return _check_wait(value)


class FilterConfig(_Model):
    name: str
    expression: str = Field(min_length=1, max_length=2500)

    _name = field_validator("name")(classmethod(lambda cls, v: _check_name(v)))


class EventTrackerConfig(_Model):
    name: str

    _name = field_validator("name")(classmethod(lambda cls, v: _check_name(v)))


#: CloudWatch evaluates at most 7 days of hourly periods (PutMetricAlarm: Period x EvaluationPeriods
#: <= 604800 s), so an hourly idle alarm looks back at most 168 hours.
MAX_IDLE_ALARM_HOURS = 168
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class MonitoringConfig(_Model):
    """`[monitoring]`: the campaigns' CloudWatch dashboard and the idle-campaign alarm (an idle
    campaign still bills its minProvisionedTPS every hour). Optional; these are the defaults."""

    dashboard: bool = True
    #: Alarm when a campaign served no request for this many hours; 0 turns the alarms off.
    idle_alarm_hours: int = 24
    #: Optional email subscribed to the alarm topic (the address must confirm the subscription).
    alarm_email: OptionalStr = None

    @field_validator("idle_alarm_hours")
    @classmethod
    def _idle_hours(cls, value: int) -> int:
        if not 0 <= value <= MAX_IDLE_ALARM_HOURS:
            raise ValueError(
                f"idle_alarm_hours must be 0 (no alarm) or 1..{MAX_IDLE_ALARM_HOURS} (CloudWatch evaluates "
                "at most 7 days of hourly periods)"
            )
        return value

    @field_validator("alarm_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise ValueError("not an email address; expected name@example.com")
        return value


#: Object key prefixes: characters S3 keys take without escaping, '/'-separated, ending in '/'.
_KEY_PREFIX = re.compile(r"^(?:[A-Za-z0-9!_.*'()=-]+/)+$")


def _output_prefix(value: str | None, *, example: str, what: str) -> str | None:
    """An output key prefix in the data bucket, ending in '/'; never under datasets/ (the import data)."""
    if value is None:
        return None
    prefix = value if value.endswith("/") else value + "/"
    if prefix.startswith(("s3://", "/")) or not _KEY_PREFIX.match(prefix):
        raise ValueError(
            f"{value!r}: expected a key prefix in the data bucket such as '{example}' "
            "(letters, digits, !_.*'()=- and '/', no s3:// and no leading '/')"
        )
    if prefix.startswith("datasets/"):
        raise ValueError(f"{value!r}: datasets/ holds the import data; write {what} elsewhere")
    return prefix


class BatchJobConfig(_Model):
    """`[[batch_jobs]]`: a batch inference job scoring JSON lines offline with a solution's trained
    version (no campaign needed). `input` is an s3:// URI or a JSON-lines file in this repo (uploaded
    by the stack); `output` is a key prefix in the data bucket (default `batch-output/<name>/`)."""

    name: str
    solution: str
    input: str = Field(min_length=1)
    output: OptionalStr = None
    num_results: int = Field(default=25, ge=1, le=500)
    #: A configured filter's name (its placeholder values go in each input line's filterValues).
    filter: OptionalStr = None
    timeout: Seconds = 6 * 3600

    _name = field_validator("name")(classmethod(lambda cls, v: _check_name(v)))

    @field_validator("input")
    @classmethod
    def _input(cls, value: str) -> str:
        if value.startswith("s3://") and (len(value) <= len("s3://") or value.endswith("/")):
            raise ValueError(f"{value!r}: expected s3://bucket/key of one JSON-lines file")
        return value

    @field_validator("output")
    @classmethod
    def _output(cls, value: str | None) -> str | None:
        return _output_prefix(value, example="batch-output/scores/", what="batch output")

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: int) -> int:
        return _check_wait(value)

    @property
    def is_s3(self) -> bool:
        return self.input.startswith("s3://")

    @property
    def output_prefix(self) -> str:
        return self.output or default_output_prefix(self.name)


def default_output_prefix(name: str) -> str:
    """Where a batch job without `output` writes: a prefix of its own (cross_checks keeps them apart)."""
    return f"batch-output/{name}/"


# ---- metric attribution ----------------------------------------------------------------------
#: MetricAttributes {max: 10} (botocore's personalize model; the limits page: "Maximum number of
#: metrics for a metric attribution: 10").
MAX_ATTRIBUTION_METRICS = 10
#: MetricName, EventType, MetricExpression {max: 256} (botocore's personalize model).
MAX_METRIC_FIELD = 256
#: "Available functions are SUM() or SAMPLECOUNT(). For SUM() functions, provide the dataset type
#: (either Interactions or Items) and column to sum as a parameter. For example SUM(Items.PRICE)."
#: (botocore, MetricAttribute.expression). The dataset token in any case, as the AWS sample writes it.
METRIC_EXPRESSION = re.compile(
    r"^\s*(?:SUM\(\s*(?P<dataset>Items|Interactions)\.(?P<column>[A-Za-z_][A-Za-z0-9_]*)\s*\)"
    r"|(?P<count>SAMPLECOUNT)\(\s*\))\s*$",
    re.IGNORECASE,
)


class AttributedMetricConfig(_Model):
    """One `[[metric_attribution.metrics]]`: what is reported for events of `event_type`."""

    name: str
    event_type: str
    expression: str

    @field_validator("name", "event_type")
    @classmethod
    def _text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        if len(value) > MAX_METRIC_FIELD:
            raise ValueError(f"{len(value)} characters; at most {MAX_METRIC_FIELD} (botocore's model)")
        return value

    @field_validator("expression")
    @classmethod
    def _expression(cls, value: str) -> str:
        if len(value) > MAX_METRIC_FIELD or not METRIC_EXPRESSION.match(value):
            raise ValueError(
                "expected SUM(Items.<numeric column>), SUM(Interactions.<numeric column>) or SAMPLECOUNT() "
                "(MetricAttribute.expression)"
            )
        return value

    @property
    def summed(self) -> tuple[str, str] | None:
        """(dataset type, column) of a SUM() expression: ("items", "PRICE"); None for SAMPLECOUNT()."""
        match = METRIC_EXPRESSION.match(self.expression)
        if match is None or match.group("count"):
            return None
        return match.group("dataset").lower(), match.group("column")

    def api(self) -> dict[str, str]:
        """The MetricAttribute the API takes."""
        return {"eventType": self.event_type, "metricName": self.name, "expression": self.expression}


class MetricAttributionConfig(_Model):
    """`[metric_attribution]`: metrics Personalize reports per event attribution source (a campaign,
    a page, ...) from the events the event tracker records, to CloudWatch and, with `output`, as
    reports under that prefix of the data bucket. A dataset group holds one metric attribution."""

    metrics: list[AttributedMetricConfig] = Field(min_length=1)
    #: Key prefix in the data bucket for the S3 reports (bulk imports); none: CloudWatch only.
    output: OptionalStr = None

    @field_validator("metrics")
    @classmethod
    def _metrics(cls, value: list[AttributedMetricConfig]) -> list[AttributedMetricConfig]:
        if len(value) > MAX_ATTRIBUTION_METRICS:
            raise ValueError(
                f"{len(value)} metrics; a metric attribution has at most {MAX_ATTRIBUTION_METRICS} "
                "(CreateMetricAttribution's metrics, and the limits page)"
            )
        names = [m.name.upper() for m in value]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(
                f"metric names {repeated} repeat; names must be unique (Personalize stores them upper-cased, "
                "so case does not tell them apart)"
            )
        return value

    @field_validator("output")
    @classmethod
    def _output(cls, value: str | None) -> str | None:
        return _output_prefix(value, example="metrics/", what="the reports")


# ---- domain recommenders ---------------------------------------------------------------------------------
#: A dataset type key of trainingDataConfig.excludedDatasetColumns (the API's `Interactions`, `Items`,
#: `Users`), written lowercase like [datasets.*].
DATASET_KEYS = {"interactions": "Interactions", "items": "Items", "users": "Users"}
#: botocore's ColumnName pattern (personalize TrainingDataConfig) and its list's 50-column limit.
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z\d_]*$")
MAX_EXCLUDED_COLUMNS = 50


class RecommenderConfig(_Model):
    """`[[recommenders]]`: a recommender of a domain use case (CreateRecommender). It bills every hour
    it is ACTIVE, at max(min_recommendation_requests_per_second, actual) averaged over each hour."""

    name: str
    #: The use case (a domain recipe name, e.g. aws-vod-top-picks): pipeline.domains.USE_CASES.
    recipe: str
    min_recommendation_requests_per_second: int = 1
    #: Item exploration (Recommended for you / Top picks for you only): explorationWeight 0..1 (the
    #: service's default 0.3) and explorationItemAgeCutOff in days, at least 1 (default 30).
    exploration_weight: float | None = None
    exploration_item_age_cutoff: int | None = None
    #: trainingDataConfig.excludedDatasetColumns: dataset type -> columns left out of training.
    excluded_columns: dict[str, list[str]] = Field(default_factory=dict)
    #: enableMetadataWithRecommendations (item fields in responses; billed extra).
    enable_metadata: bool = False
    #: WaitCondition timeout for creating (training) the recommender and for each update.
    create_timeout: Seconds = 3 * 3600

    _name = field_validator("name")(classmethod(lambda cls, v: _check_name(v)))

    @field_validator("min_recommendation_requests_per_second")
    @classmethod
    def _rps(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be at least 1 (TransactionsPerSecond's minimum in CreateRecommender)")
        return value

    @field_validator("exploration_weight")
    @classmethod
    def _weight(cls, value: float | None) -> float | None:
        if value is not None and not 0.0 <= value <= 1.0:
            raise ValueError("explorationWeight is a decimal value between 0 and 1 (default 0.3)")
        return value

    @field_validator("exploration_item_age_cutoff")
    @classmethod
    def _cutoff(cls, value: int | None) -> int | None:
        if value is not None and value < 1:
            raise ValueError("explorationItemAgeCutOff is a number of days; the minimum is 1 (default 30)")
        return value

    @field_validator("excluded_columns")
    @classmethod
    def _excluded(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for key, columns in value.items():
            if key not in DATASET_KEYS:
                raise ValueError(
                    f"excluded_columns: {key!r} is not a dataset type; expected {list(DATASET_KEYS)}")
            if not columns or len(columns) > MAX_EXCLUDED_COLUMNS:
                raise ValueError(f"excluded_columns.{key}: expected 1 to {MAX_EXCLUDED_COLUMNS} column names")
            bad = [c for c in columns if not _COLUMN.match(c) or len(c) > 150]
            if bad:
                raise ValueError(f"excluded_columns.{key}: {bad} are not column names "
                                 "(letters, digits and '_', not starting with a digit, at most 150)")
        return value

    @field_validator("create_timeout")
    @classmethod
    def _timeout(cls, value: int) -> int:
        return _check_wait(value)

    @property
    def exploration(self) -> dict[str, str]:
        """itemExplorationConfig as the API takes it (string values)."""
        out: dict[str, str] = {}
        if self.exploration_weight is not None:
            out["explorationWeight"] = str(self.exploration_weight)
        if self.exploration_item_age_cutoff is not None:
            out["explorationItemAgeCutOff"] = str(self.exploration_item_age_cutoff)
        return out

    @property
    def recommender_config(self) -> dict[str, Any]:
        """CreateRecommender's / UpdateRecommender's recommenderConfig for this entry."""
        config: dict[str, Any] = {
            "minRecommendationRequestsPerSecond": self.min_recommendation_requests_per_second,
            "enableMetadataWithRecommendations": self.enable_metadata,
        }
        if self.exploration:
            config["itemExplorationConfig"] = self.exploration
        if self.excluded_columns:
            config["trainingDataConfig"] = {"excludedDatasetColumns": {
                DATASET_KEYS[k]: list(v) for k, v in sorted(self.excluded_columns.items())}}
        return config


class PipelineConfig(_Model):
    environment: EnvironmentConfig
    dataset_group: DatasetGroupConfig
    datasets: DatasetsConfig
    solutions: list[SolutionConfig] = Field(default_factory=list)
    campaigns: list[CampaignConfig] = Field(default_factory=list)
    filters: list[FilterConfig] = Field(default_factory=list)
    event_tracker: EventTrackerConfig | None = None
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    batch_jobs: list[BatchJobConfig] = Field(default_factory=list)
    metric_attribution: MetricAttributionConfig | None = None
    recommenders: list[RecommenderConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _cross_checks(self) -> PipelineConfig:
        # The same checks load_config runs on the raw TOML (where they also run when a field failed).
        errors = cross_checks(self.model_dump(by_alias=True))
        if errors:
            raise ValueError(
                "\n".join(f"{_format_loc(loc)}: {message} (got {value!r})" for loc, value, message in errors)
            )
        return self


#: Per-dataset-group quotas (Personalize `limits` page): more fail with LimitExceededException.
MAX_SOLUTIONS = 10
MAX_CAMPAIGNS = 5
MAX_FILTERS = 10


def cross_checks(raw: Any) -> list[tuple[tuple[int | str, ...], Any, str]]:
    """Checks that span fields (duplicates, references, recipes against datasets, quotas), on the raw
    config dict so they run even when a field elsewhere has the wrong type: every problem at once.
    Returns (location, value, message) triples; tolerant of any shape (field checks report those)."""
    if not isinstance(raw, dict):
        return []
    errors: list[tuple[tuple[int | str, ...], Any, str]] = []

    def entries(kind: str) -> list[tuple[int, dict[str, Any]]]:
        items = raw.get(kind)
        if not isinstance(items, list):
            return []
        return [(i, item) for i, item in enumerate(items) if isinstance(item, dict)]

    def unique(kind: str, index: int, name: Any, seen: set[str]) -> None:
        """Report a name already in `seen` (entries of `kind`), else add it."""
        if isinstance(name, str) and name in seen:
            noun = kind[:-1].replace("_", " ")
            errors.append(((kind, index, "name"), name, f"duplicate {noun} name: names must be unique"))
        if isinstance(name, str):
            seen.add(name)

    for kind, limit in (("solutions", MAX_SOLUTIONS), ("campaigns", MAX_CAMPAIGNS), ("filters", MAX_FILTERS)):
        seen: set[str] = set()
        found = entries(kind)
        for index, item in found:
            unique(kind, index, item.get("name"), seen)
        if len(found) > limit:
            errors.append(
                ((kind,), len(found), f"{len(found)} {kind}; a dataset group allows at most {limit} (quota)")
            )
    datasets = raw.get("datasets")
    has_items = isinstance(datasets, dict) and isinstance(datasets.get("items"), dict)
    solutions: dict[str, str | None] = {}
    for index, item in entries("solutions"):
        recipe = item.get("recipe")
        name = item.get("name")
        if isinstance(name, str):
            solutions[name] = recipe if isinstance(recipe, str) else None
        if isinstance(recipe, str):
            problem = recipe_problem(recipe, _Datasets(has_items), item.get("solution_config") or {})
            if problem:
                errors.append((("solutions", index, "recipe"), recipe, problem))
        errors.extend(freshness_checks(index, item))
    errors.extend(sync_checks(entries("campaigns")))
    filters = {item.get("name") for _, item in entries("filters")}
    outputs: dict[str, int] = {}
    job_names: set[str] = set()
    for index, item in entries("batch_jobs"):
        name = item.get("name")
        unique("batch_jobs", index, name, job_names)
        target = item.get("solution")
        if isinstance(target, str) and target not in solutions:
            errors.append(
                (
                    ("batch_jobs", index, "solution"),
                    target,
                    f"not a configured solution; expected one of {sorted(solutions)}",
                )
            )
        elif isinstance(target, str) and solutions[target] in RECIPES:
            family = RECIPES[str(solutions[target])].family
            if family == RecipeFamily.USER_SEGMENTATION:
                errors.append(
                    (
                        ("batch_jobs", index, "solution"),
                        target,
                        f"solution {target!r} uses {solutions[target]}, a USER_SEGMENTATION recipe: it makes "
                        "batch segment jobs, not batch inference jobs",
                    )
                )
        chosen = item.get("filter")
        if isinstance(chosen, str) and chosen and chosen not in filters:
            errors.append(
                (
                    ("batch_jobs", index, "filter"),
                    chosen,
                    f"not a configured filter; expected one of {sorted(str(f) for f in filters)}",
                )
            )
        output = item.get("output") or (default_output_prefix(name) if isinstance(name, str) else None)
        if isinstance(output, str):
            output = output if output.endswith("/") else output + "/"
            if output in outputs:
                errors.append(
                    (
                        ("batch_jobs", index, "output"),
                        output,
                        f"batch_jobs[{outputs[output]}] writes to the same prefix; give each job its own",
                    )
                )
            outputs.setdefault(output, index)
    for index, item in entries("campaigns"):
        target = item.get("solution")
        if not isinstance(target, str):
            continue
        if target not in solutions:
            errors.append(
                (
                    ("campaigns", index, "solution"),
                    target,
                    f"not a configured solution; expected one of {sorted(solutions)}",
                )
            )
            continue
        recipe = solutions[target]
        if recipe in RECIPES and RECIPES[recipe].family == RecipeFamily.USER_SEGMENTATION:
            errors.append(
                (
                    ("campaigns", index, "solution"),
                    target,
                    f"solution {target!r} uses {recipe}, a USER_SEGMENTATION recipe: it serves batch segment "
                    "jobs only, never a campaign",
                )
            )
    errors.extend(recommender_checks(raw))
    return errors


def recommender_checks(raw: dict[str, Any]) -> list[tuple[tuple[int | str, ...], Any, str]]:
    """The cross checks of [[recommenders]] (pipeline.domains cites the rules): a solution or a
    recommender at all, unique names, the use case of the dataset group's domain, the per-group
    quota, and exploration only where the use case takes it."""
    errors: list[tuple[tuple[int | str, ...], Any, str]] = []
    def section(key: str) -> dict[str, Any]:
        value = raw.get(key)
        return value if isinstance(value, dict) else {}

    def entries(key: str) -> list[Any]:
        value = raw.get(key)
        return value if isinstance(value, list) else []

    domain = section("dataset_group").get("domain")
    domain = domain if domain in DOMAINS else None
    datasets = section("datasets")
    has_items = isinstance(datasets.get("items"), dict)
    recommenders = entries("recommenders")
    solutions = entries("solutions")
    if not solutions and not recommenders:
        errors.append((("solutions",), None, "nothing to train: add at least one [[solutions]] entry, or "
                       "[[recommenders]] in a domain dataset group"))
    seen: set[str] = set()
    for index, item in enumerate(recommenders):
        if not isinstance(item, dict):
            continue
        name = item.get("name")
        if isinstance(name, str):
            if name in seen:
                errors.append((("recommenders", index, "name"), name,
                               "duplicate recommender name: names must be unique"))
            seen.add(name)
        recipe = item.get("recipe")
        if isinstance(recipe, str):
            problem = use_case_problem(recipe, domain, has_items)
            if problem:
                errors.append((("recommenders", index, "recipe"), recipe, problem))
            case = USE_CASES.get(recipe)
            for key in ("exploration_weight", "exploration_item_age_cutoff"):
                if case is not None and not case.exploration and item.get(key) is not None:
                    takes = [n for n, c in USE_CASES.items() if c.exploration]
                    errors.append((("recommenders", index, key), item.get(key),
                                   f"{recipe} takes no item exploration (itemExplorationConfig is for "
                                   f"use cases that recommend items for a user: {takes})"))
        excluded = item.get("excluded_columns")
        if isinstance(excluded, dict):
            for key in excluded:
                if key in DATASET_KEYS and not isinstance(datasets.get(key), dict):
                    errors.append((("recommenders", index, "excluded_columns"), key,
                                   f"the {key} dataset is not configured ([datasets.{key}])"))
    if len(recommenders) > MAX_RECOMMENDERS_PER_DATASET_GROUP:
        errors.append((("recommenders",), len(recommenders),
                       f"{len(recommenders)} recommenders; a dataset group allows at most "
                       f"{MAX_RECOMMENDERS_PER_DATASET_GROUP} (quota)"))
    return errors


def freshness_checks(index: int, item: dict[str, Any]) -> list[tuple[tuple[int | str, ...], Any, str]]:
    """A solution's training mode, schedule and event weights against its recipe and its raw
    solution_config (sources in pipeline.recipes and docs/fresh-models.md)."""
    errors: list[tuple[tuple[int | str, ...], Any, str]] = []
    recipe = item.get("recipe")
    known = isinstance(recipe, str) and recipe in RECIPES
    if item.get("training_mode") == "UPDATE" and known and recipe not in UPDATE_TRAINING_RECIPES:
        errors.append((
            ("solutions", index, "training_mode"),
            "UPDATE",
            f"training_mode UPDATE is supported only by {', '.join(UPDATE_TRAINING_RECIPES)} "
            f"(User-Personalization; CreateSolutionVersion trainingMode), not by {recipe}; use FULL",
        ))
    schedule = item.get("auto_training_schedule")
    if schedule not in (None, "") and item.get("auto_training") is not True:
        errors.append((
            ("solutions", index, "auto_training_schedule"),
            schedule,
            "a schedule for the service's automatic training, which is off (auto_training = false): set "
            "auto_training = true (each automatic training is billed) or remove the schedule",
        ))
    weights = item.get("event_weights")
    if isinstance(weights, list) and weights and known and recipe not in EVENTS_CONFIG_RECIPES:
        errors.append((
            ("solutions", index, "event_weights"),
            recipe,
            f"event weighting (eventsConfig) is supported only by {', '.join(EVENTS_CONFIG_RECIPES)}",
        ))
    raw = item.get("solution_config")
    if isinstance(raw, dict):
        for key, typed, given in (("autoTrainingConfig", "auto_training_schedule", schedule),
                                  ("eventsConfig", "event_weights", weights)):
            if key in raw and given not in (None, "", []):
                errors.append((
                    ("solutions", index, "solution_config"),
                    key,
                    f"set both as solution_config.{key} and as {typed}: keep one "
                    f"({typed} is checked at synth)",
                ))
    return errors


def sync_checks(campaigns: list[tuple[int, dict[str, Any]]]) -> list[tuple[tuple[int | str, ...], Any, str]]:
    """sync_with_latest and campaign_config.syncWithLatestSolutionVersion are one setting: one way only."""
    errors: list[tuple[tuple[int | str, ...], Any, str]] = []
    for index, item in campaigns:
        raw = item.get("campaign_config")
        both = isinstance(raw, dict) and "syncWithLatestSolutionVersion" in raw
        if item.get("sync_with_latest") is True and both:
            errors.append((
                ("campaigns", index, "campaign_config"),
                "syncWithLatestSolutionVersion",
                "set both as campaign_config.syncWithLatestSolutionVersion and as sync_with_latest: keep one",
            ))
    return errors


class _Datasets:
    """What recipe_problem reads of DatasetsConfig, from the raw dict."""

    def __init__(self, has_items: bool):
        self.items = True if has_items else None


def config_path(env: str, config_dir: Path = CONFIG_DIR) -> Path:
    return config_dir / f"{env}.toml"


def _line_of(text: str, loc: tuple[int | str, ...]) -> int | None:
    """Best-effort line number of a key path in the TOML text (tomllib keeps no positions): walks
    the tables (`[a.b]`, the n-th `[[a]]`) and then finds the deepest key inside that region."""
    lines = text.splitlines()
    start, end = 0, len(lines)
    header = re.compile(r"^\s*\[\[?\s*([\w.\-]+)\s*\]\]?")
    found: int | None = None
    path: list[str] = []
    parts = list(loc)
    i = 0
    while i < len(parts):
        part = parts[i]
        if not isinstance(part, str):
            i += 1
            continue
        path.append(part)
        dotted = ".".join(path)
        following_part = parts[i + 1] if i + 1 < len(parts) else None
        index = following_part if isinstance(following_part, int) else None
        hits = [n for n in range(start, end) if (m := header.match(lines[n])) and m.group(1) == dotted]
        if hits:
            pick = hits[index] if index is not None and index < len(hits) else hits[0]
            found = pick + 1
            start = pick + 1
            following = [n for n in range(start, len(lines)) if header.match(lines[n])]
            end = following[0] if following else len(lines)
            i += 1
            continue
        key = re.compile(rf"^\s*{re.escape(part)}\s*=")
        keyed = [n for n in range(start, end) if key.match(lines[n])]
        if keyed:
            found = keyed[0] + 1
            break
        i += 1
    return found


def _format_loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def load_config(env: str = "dev", path: Path | None = None, *, root: Path | None = None) -> PipelineConfig:
    """Read and check config/<env>.toml; raise ProblemReport listing every problem found.

    When the config has problems but its [datasets] section is sound, the report also holds what the
    schema and data files have wrong (pipeline.datafiles.validate_datasets), so one run shows
    everything. `root` is what the datasets' paths are relative to: by default the repository, for
    the repository's own config directory; for a config elsewhere, files are checked only when
    `root` is given."""
    path = path or config_path(env)
    if root is None and path.resolve().parent == CONFIG_DIR:
        root = REPO_ROOT
    shown = display_path(path)
    if not path.is_file():
        available = sorted(p.stem for p in path.parent.glob("*.toml")) if path.parent.is_dir() else []
        raise ProblemReport(
            [Problem(shown, None, None, env, f"no such config file; environments: {available}")]
        )
    text = path.read_text(encoding="utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = re.search(r"at line (\d+)", str(error))
        line = getattr(error, "lineno", None) or (int(found.group(1)) if found else None)
        raise ProblemReport([Problem(shown, line, None, None, f"not valid TOML: {error}")]) from None
    try:
        config = PipelineConfig.model_validate(raw)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            loc = tuple(item["loc"])
            if not loc:
                continue  # the model-level cross checks: reported below from the raw dict, with lines
            field = _format_loc(loc)
            message = str(item["msg"]).removeprefix("Value error, ")
            if item["type"] == "extra_forbidden":
                message = f"unknown key {str(loc[-1])!r}"
            value = item.get("input") if item["type"] != "missing" else None
            value = None if isinstance(value, (dict, list)) else value
            for part in message.split("\n"):
                problems.append(Problem(shown, _line_of(text, loc), field or None, value, part))
        for loc, value, message in cross_checks(raw):
            problems.append(Problem(shown, _line_of(text, loc), _format_loc(loc), value, message))
        raise ProblemReport(problems + _data_problems(raw, shown, root)) from None
    if config.environment.name != env and path.stem == env:
        problem = Problem(
            shown,
            _line_of(text, ("environment", "name")),
            "environment.name",
            config.environment.name,
            f"expected {env!r}: the file's name and its environment.name must agree",
        )
        raise ProblemReport([problem, *_data_problems(raw, shown, root)])
    return config


def _data_problems(raw: dict[str, Any], config_file: str, root: Path | None) -> list[Problem]:
    """The schema and data files' problems, for a config rejected for other reasons: checked when
    the [datasets] section alone is valid (then it is known which files to read)."""
    if root is None:
        return []
    try:
        datasets = DatasetsConfig.model_validate(raw.get("datasets"))
    except ValidationError:
        return []  # reported with the config's problems; which files to check is unknown
    return validate_datasets(datasets, root, config_file).problems
