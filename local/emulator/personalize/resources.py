"""The local Personalize's resources: what DescribeX shows, plus what the backend keeps internally.

Every kind the local Personalize holds is here, so that a saved world names one module for its
resources and every part of the backend reads the same data model; data deletion jobs, which no
other part reads, keep their kind beside their operations (deletion.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

IN_PROGRESS = ("CREATE PENDING", "CREATE IN_PROGRESS", "CREATE STOPPING")
DELETING = ("DELETE PENDING", "DELETE IN_PROGRESS")
BUSY = IN_PROGRESS + DELETING


def clean(values: dict[str, Any]) -> dict[str, Any]:
    """Drop unset fields, as the service omits them."""
    return {k: v for k, v in values.items() if v is not None}


@dataclass
class Resource:
    KIND: ClassVar[str] = ""
    #: the ARN key in describe output
    ARN_KEY: ClassVar[str] = ""
    #: the name key in describe output (jobs: jobName)
    NAME_KEY: ClassVar[str] = "name"
    #: the field naming the resource this one goes with when that one is gone (kinds without a
    #: delete operation: import jobs go with their dataset, solution versions with their solution,
    #: batch jobs with their solution version); None: deleted on its own
    OWNER_FIELD: ClassVar[str | None] = None
    arn: str
    name: str
    account: str
    region: str
    created: float
    updated: float
    status: str = "CREATE PENDING"
    failure_reason: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    #: bumped when a pending transition must be ignored (stop, delete)
    gen: int = 0

    @property
    def busy(self) -> bool:
        return self.status in BUSY

    def base(self) -> dict[str, Any]:
        return {self.NAME_KEY: self.name, self.ARN_KEY: self.arn, "status": self.status,
                "creationDateTime": self.created, "lastUpdatedDateTime": self.updated}


@dataclass
class DatasetGroup(Resource):
    KIND: ClassVar[str] = "dataset-group"
    ARN_KEY: ClassVar[str] = "datasetGroupArn"
    role_arn: str | None = None
    kms_key_arn: str | None = None
    domain: str | None = None

    def describe(self) -> dict[str, Any]:
        return clean({**self.base(), "roleArn": self.role_arn, "kmsKeyArn": self.kms_key_arn,
                      "failureReason": self.failure_reason, "domain": self.domain})

    def summary(self) -> dict[str, Any]:
        return clean({**self.base(), "failureReason": self.failure_reason, "domain": self.domain})


@dataclass
class Schema(Resource):
    KIND: ClassVar[str] = "schema"
    ARN_KEY: ClassVar[str] = "schemaArn"
    schema: str = ""
    domain: str | None = None
    parsed: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return clean({"name": self.name, "schemaArn": self.arn, "schema": self.schema,
                      "creationDateTime": self.created, "lastUpdatedDateTime": self.updated,
                      "domain": self.domain})

    def summary(self) -> dict[str, Any]:
        return clean({"name": self.name, "schemaArn": self.arn, "creationDateTime": self.created,
                      "lastUpdatedDateTime": self.updated, "domain": self.domain})


class Progress:
    """The tail an in-place update's summary shares (latestDatasetUpdate, latestCampaignUpdate):
    its status and times. A mixin, not a dataclass base, so the updates keep their fields'
    positional order (what they change first)."""

    status: str
    created: float
    updated: float
    failure_reason: str | None

    def progress(self) -> dict[str, Any]:
        return {"status": self.status, "failureReason": self.failure_reason,
                "creationDateTime": self.created, "lastUpdatedDateTime": self.updated}


@dataclass
class DatasetUpdate(Progress):
    """An UpdateDataset (schema replacement) and its progress: latestDatasetUpdate."""

    schema_arn: str
    status: str
    created: float
    updated: float
    failure_reason: str | None = None

    def summary(self) -> dict[str, Any]:
        return clean({"schemaArn": self.schema_arn, **self.progress()})


@dataclass
class Dataset(Resource):
    KIND: ClassVar[str] = "dataset"
    ARN_KEY: ClassVar[str] = "datasetArn"
    dataset_group_arn: str = ""
    dataset_type: str = ""
    schema_arn: str = ""
    #: the imported rows: a container from local.emulator.personalize.data (Interactions, Items, Users)
    data: Any = None
    latest_update: DatasetUpdate | None = None

    def describe(self) -> dict[str, Any]:
        return clean({**self.base(), "datasetGroupArn": self.dataset_group_arn,
                      "datasetType": self.dataset_type, "schemaArn": self.schema_arn,
                      "latestDatasetUpdate": self.latest_update.summary() if self.latest_update else None})

    @property
    def updating(self) -> bool:
        return self.latest_update is not None and self.latest_update.status in IN_PROGRESS

    def summary(self) -> dict[str, Any]:
        return clean({**self.base(), "datasetType": self.dataset_type})


@dataclass
class DatasetImportJob(Resource):
    KIND: ClassVar[str] = "dataset-import-job"
    ARN_KEY: ClassVar[str] = "datasetImportJobArn"
    NAME_KEY: ClassVar[str] = "jobName"
    OWNER_FIELD: ClassVar[str | None] = "dataset_arn"
    dataset_arn: str = ""
    data_location: str = ""
    role_arn: str | None = None
    import_mode: str = "FULL"
    publish_metrics: bool = False
    #: parsed rows waiting for the job to finish (applied to the dataset at ACTIVE)
    pending_data: Any = None
    rows: int = 0

    def describe(self) -> dict[str, Any]:
        return clean({**self.base(), "datasetArn": self.dataset_arn,
                      "dataSource": {"dataLocation": self.data_location}, "roleArn": self.role_arn,
                      "failureReason": self.failure_reason, "importMode": self.import_mode,
                      "publishAttributionMetricsToS3": self.publish_metrics})

    def summary(self) -> dict[str, Any]:
        return clean({**self.base(), "failureReason": self.failure_reason, "importMode": self.import_mode})


@dataclass
class SolutionUpdate(Progress):
    """An UpdateSolution and its progress: latestSolutionUpdate (botocore SolutionUpdateSummary)."""

    perform_auto_training: bool
    config: dict[str, Any]
    status: str
    created: float
    updated: float
    failure_reason: str | None = None

    def summary(self) -> dict[str, Any]:
        return clean({"solutionUpdateConfig": self.config, "performAutoTraining": self.perform_auto_training,
                      **self.progress()})


@dataclass
class Solution(Resource):
    KIND: ClassVar[str] = "solution"
    ARN_KEY: ClassVar[str] = "solutionArn"
    dataset_group_arn: str = ""
    recipe_arn: str = ""
    perform_hpo: bool = False
    perform_auto_ml: bool = False
    perform_auto_training: bool = True
    event_type: str | None = None
    solution_config: dict[str, Any] | None = None
    latest_version_arn: str | None = None
    #: the interactions the last training started on, and how many rows they had: automatic
    #: training runs only when interaction data arrived since
    trained_on: tuple[Any, int] | None = None
    auto_runs: int = 0
    latest_update: SolutionUpdate | None = None
    #: which automatic-training schedule is current: an update that resets it voids the old runs
    auto_schedule: int = 0
    #: when the current schedule started (a manual version after it skips the first run)
    auto_since: float = 0.0

    @property
    def updating(self) -> bool:
        return self.latest_update is not None and self.latest_update.status in IN_PROGRESS

    def describe(self, latest: SolutionVersion | None = None) -> dict[str, Any]:
        return clean({**self.base(), "performHPO": self.perform_hpo, "performAutoML": self.perform_auto_ml,
                      "performAutoTraining": self.perform_auto_training, "recipeArn": self.recipe_arn,
                      "datasetGroupArn": self.dataset_group_arn, "eventType": self.event_type,
                      "solutionConfig": self.solution_config,
                      "latestSolutionVersion": latest.summary() if latest else None,
                      "latestSolutionUpdate": self.latest_update.summary() if self.latest_update else None})

    def summary(self) -> dict[str, Any]:
        return clean({**self.base(), "recipeArn": self.recipe_arn})


@dataclass
class SolutionVersion(Resource):
    KIND: ClassVar[str] = "solution-version"
    ARN_KEY: ClassVar[str] = "solutionVersionArn"
    OWNER_FIELD: ClassVar[str | None] = "solution_arn"
    solution_arn: str = ""
    solution_name: str = ""
    version_name: str | None = None
    training_mode: str = "FULL"
    training_type: str = "MANUAL"
    training_seconds: float = 0.0
    model: Any = None
    tuned: dict[str, str] | None = None
    #: the interactions this version trained on (an UPDATE starts from them)
    trained_data: Any = None

    def describe(self, solution: Solution) -> dict[str, Any]:
        return clean({"name": self.version_name, "solutionVersionArn": self.arn,
                      "solutionArn": self.solution_arn, "performHPO": solution.perform_hpo,
                      "performAutoML": solution.perform_auto_ml, "recipeArn": solution.recipe_arn,
                      "eventType": solution.event_type, "datasetGroupArn": solution.dataset_group_arn,
                      "solutionConfig": solution.solution_config,
                      "trainingHours": round(self.training_seconds / 3600, 3) if self.status == "ACTIVE"
                      else None,
                      "trainingMode": self.training_mode,
                      "tunedHPOParams": {"algorithmHyperParameters": self.tuned} if self.tuned else None,
                      "status": self.status, "failureReason": self.failure_reason,
                      "creationDateTime": self.created, "lastUpdatedDateTime": self.updated,
                      "trainingType": self.training_type})

    def summary(self) -> dict[str, Any]:
        return clean({"solutionVersionArn": self.arn, "status": self.status,
                      "trainingMode": self.training_mode, "trainingType": self.training_type,
                      "creationDateTime": self.created, "lastUpdatedDateTime": self.updated,
                      "failureReason": self.failure_reason})


@dataclass
class CampaignUpdate(Progress):
    """An UpdateCampaign and its progress: latestCampaignUpdate."""

    solution_version_arn: str
    min_tps: int
    config: dict[str, Any] | None
    status: str
    created: float
    updated: float
    failure_reason: str | None = None

    def summary(self) -> dict[str, Any]:
        return clean({"solutionVersionArn": self.solution_version_arn, "minProvisionedTPS": self.min_tps,
                      "campaignConfig": self.config, **self.progress()})


@dataclass
class Campaign(Resource):
    KIND: ClassVar[str] = "campaign"
    ARN_KEY: ClassVar[str] = "campaignArn"
    solution_version_arn: str = ""
    min_tps: int = 1
    config: dict[str, Any] | None = None
    latest_update: CampaignUpdate | None = None
    #: the solution version actually serving (the old one until an update is ACTIVE)
    serving_arn: str | None = None

    def describe(self) -> dict[str, Any]:
        return clean({**self.base(), "solutionVersionArn": self.solution_version_arn,
                      "minProvisionedTPS": self.min_tps, "campaignConfig": self.config,
                      "failureReason": self.failure_reason,
                      "latestCampaignUpdate": self.latest_update.summary() if self.latest_update else None})

    def summary(self) -> dict[str, Any]:
        return clean({**self.base(), "failureReason": self.failure_reason})

    @property
    def updating(self) -> bool:
        return self.latest_update is not None and self.latest_update.status in IN_PROGRESS


@dataclass
class EventTracker(Resource):
    KIND: ClassVar[str] = "event-tracker"
    ARN_KEY: ClassVar[str] = "eventTrackerArn"
    dataset_group_arn: str = ""
    tracking_id: str = ""

    def describe(self) -> dict[str, Any]:
        return clean({**self.base(), "accountId": self.account, "trackingId": self.tracking_id,
                      "datasetGroupArn": self.dataset_group_arn})

    def summary(self) -> dict[str, Any]:
        return clean(self.base())


@dataclass
class Filter(Resource):
    KIND: ClassVar[str] = "filter"
    ARN_KEY: ClassVar[str] = "filterArn"
    dataset_group_arn: str = ""
    expression: str = ""
    compiled: Any = None

    def describe(self) -> dict[str, Any]:
        return clean({**self.base(), "datasetGroupArn": self.dataset_group_arn,
                      "failureReason": self.failure_reason, "filterExpression": self.expression})

    def summary(self) -> dict[str, Any]:
        return clean({**self.base(), "datasetGroupArn": self.dataset_group_arn,
                      "failureReason": self.failure_reason})


@dataclass
class BatchInferenceJob(Resource):
    KIND: ClassVar[str] = "batch-inference-job"
    ARN_KEY: ClassVar[str] = "batchInferenceJobArn"
    OWNER_FIELD: ClassVar[str | None] = "solution_version_arn"
    solution_version_arn: str = ""
    filter_arn: str | None = None
    num_results: int = 25
    input_path: str = ""
    output_path: str = ""
    role_arn: str = ""
    config: dict[str, Any] | None = None
    #: the output objects (key -> bytes), written when the job turns ACTIVE
    pending_output: dict[str, bytes] | None = None

    def describe(self) -> dict[str, Any]:
        return clean({
            "jobName": self.name, "batchInferenceJobArn": self.arn, "filterArn": self.filter_arn,
            "failureReason": self.failure_reason, "solutionVersionArn": self.solution_version_arn,
            "numResults": self.num_results, "jobInput": {"s3DataSource": {"path": self.input_path}},
            "jobOutput": {"s3DataDestination": {"path": self.output_path}},
            "batchInferenceJobConfig": self.config, "roleArn": self.role_arn,
            "batchInferenceJobMode": "BATCH_INFERENCE", "status": self.status,
            "creationDateTime": self.created, "lastUpdatedDateTime": self.updated,
        })

    def summary(self) -> dict[str, Any]:
        return clean({
            "batchInferenceJobArn": self.arn, "jobName": self.name, "status": self.status,
            "creationDateTime": self.created, "lastUpdatedDateTime": self.updated,
            "failureReason": self.failure_reason, "solutionVersionArn": self.solution_version_arn,
            "batchInferenceJobMode": "BATCH_INFERENCE",
        })


@dataclass
class MetricAttribution(Resource):
    KIND: ClassVar[str] = "metric-attribution"
    ARN_KEY: ClassVar[str] = "metricAttributionArn"
    dataset_group_arn: str = ""
    #: MetricAttribute dicts, names and event types upper-cased as the service stores them
    metrics: list[dict[str, str]] = field(default_factory=list)
    output: dict[str, Any] = field(default_factory=dict)
    #: an update waiting to apply: (metrics after it, output after it)
    pending: tuple[list[dict[str, str]], dict[str, Any]] | None = None
    #: event attribution sources reported so far (at most MAX_SOURCES)
    sources: set[str] = field(default_factory=set)
    #: publications refused (the role may not PutMetricData): what the service would log
    refused: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        return clean({**self.base(), "datasetGroupArn": self.dataset_group_arn,
                      "metricsOutputConfig": self.output, "failureReason": self.failure_reason})

    def summary(self) -> dict[str, Any]:
        return clean({**self.base(), "failureReason": self.failure_reason})
