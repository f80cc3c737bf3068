"""The custom-resource contract, written once: every `Custom::Personalize*` type, its properties
(required or optional, their types and defaults, the API member each one becomes), what an Update
does with each, and the Data keys the handler returns.

Who reads it:
- the handler kinds (`base.Kind`): a required property missing, a value of the wrong type and what
  an Update may change in place are all decided here;
- the constructs (`personalize_constructs/resources.py`): they emit only these properties and read
  only these Data keys, checked at synth;
- the stack tests: every custom resource of the synthesized templates holds to it;
- docs/handler-contract.md: its table is `table()`, and a test fails when the two disagree.

Standard library only (and botocore, which ships with boto3 in the Lambda runtime, for the
API's input shapes), nothing imported from this package: it ships in the Lambda asset as it is,
and the CDK app loads this one file by path (`lambda` is a Python keyword, so lambda/ is no package
the app can import; see personalize_constructs/contract.py).

Types: CloudFormation hands a custom resource every scalar as a string, nested ones included
(numbers and booleans too), so a type says what the handler accepts and what it turns it into.
`Struct` and `ListOf` hold nested types: a property whose API member is a structure can declare
its fields (botocore's input shape says what the API wants), and each nested string is then turned
back into the API's type. A Struct with a `shape` and no declared fields is walked along botocore's
model of that shape (`to_shape`): booleans, integers and doubles come back typed, strings stay
strings (numeric-looking ones too: the model says which is which), and a value the shape cannot
take is refused naming its key and the type expected.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from typing import Any, ClassVar

# ---- property types ---------------------------------------------------------------------------


class Invalid(ValueError):
    """A value its type refuses: what was expected, the value, and where inside the property."""

    def __init__(self, expected: str, value: Any, where: tuple[str, ...] = ()) -> None:
        super().__init__(f"expected {expected}, got {value!r}")
        self.expected = expected
        self.value = value
        self.where = where

    def inside(self, key: str) -> Invalid:
        """The same refusal, one level further out (`key` holds the refused value)."""
        return Invalid(self.expected, self.value, (key, *self.where))

    def describe(self, prop: str) -> str:
        """`property X[.key...]: expected ..., got ...`, as the handlers' errors say it."""
        where = "".join(key if key.startswith("[") else f".{key}" for key in self.where)
        return f"property {prop}{where}: expected {self.expected}, got {self.value!r}"


class Missing(ValueError):
    """A required property that is absent or empty."""


class PropType:
    """What a property's value may be and what the handler makes of it."""

    #: botocore shape types an API member of this type has (checked against the service model).
    api_types: ClassVar[frozenset[str]] = frozenset()
    #: True for types whose value is a string: a required one must be a non-empty string.
    textual: ClassVar[bool] = False

    def coerce(self, value: Any) -> Any:
        """The value as the handler uses it; raises Invalid. Never given None or ''."""
        raise NotImplementedError

    def describe(self) -> str:
        """How docs/handler-contract.md shows the type (empty: nothing worth saying)."""
        return ""


@dataclass(frozen=True)
class Text(PropType):
    """A string, passed on as sent. `form` shows people its shape (`s3://bucket/key`)."""

    form: str = ""
    api_types: ClassVar[frozenset[str]] = frozenset({"string"})
    textual: ClassVar[bool] = True

    def coerce(self, value: Any) -> Any:
        return value

    def describe(self) -> str:
        return f"`{self.form}`" if self.form else ""


@dataclass(frozen=True)
class Choice(PropType):
    """One of `values` in any case, turned into its spelling here."""

    values: tuple[str, ...]
    api_types: ClassVar[frozenset[str]] = frozenset({"string"})
    textual: ClassVar[bool] = True

    def coerce(self, value: Any) -> str:
        wanted = str(value).lower()
        for choice in self.values:
            if choice.lower() == wanted:
                return choice
        raise Invalid(f"one of {self.values}", value)

    def describe(self) -> str:
        return "/".join(f"`{v}`" for v in self.values)


_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no", ""})


@dataclass(frozen=True)
class Boolean(PropType):
    """'true'/'false' (any case), '1'/'0', 'yes'/'no', or a real boolean."""

    api_types: ClassVar[frozenset[str]] = frozenset({"boolean"})

    def coerce(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise Invalid("a boolean ('true' or 'false')", value)


@dataclass(frozen=True)
class Integer(PropType):
    """'5' or 5, within `minimum`..`maximum` when given."""

    minimum: int | None = None
    maximum: int | None = None
    api_types: ClassVar[frozenset[str]] = frozenset({"integer", "long"})

    def coerce(self, value: Any) -> int:
        if isinstance(value, bool):
            raise Invalid("an integer", value)
        try:
            number = int(str(value).strip())
        except ValueError:
            raise Invalid("an integer", value) from None
        if self.minimum is not None and number < self.minimum:
            raise Invalid(f"an integer >= {self.minimum}", value)
        if self.maximum is not None and number > self.maximum:
            raise Invalid(f"{self.minimum}..{self.maximum}", number)
        return number

    def describe(self) -> str:
        if self.maximum is not None:
            return f"{self.minimum}..{self.maximum}"
        return f">= {self.minimum}" if self.minimum is not None else ""


@cache
def _service_model(service: str) -> Any:
    import botocore.session  # in the Lambda runtime with boto3; loaded only when a shape is walked

    return botocore.session.get_session().get_service_model(service)


def _scalar(value: Any, shape: Any) -> Any:
    """One leaf as botocore's shape types it (CloudFormation sends every one of them as a string)."""
    kind = shape.type_name
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise Invalid("a boolean (true or false)", value)
    if kind in ("integer", "long"):
        if isinstance(value, bool):
            raise Invalid("an integer", value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        try:
            return int(str(value).strip())
        except ValueError:
            raise Invalid("an integer", value) from None
    if kind in ("double", "float"):
        if isinstance(value, bool):
            raise Invalid("a number", value)
        try:
            number = float(value) if isinstance(value, int | float) else float(str(value).strip())
        except ValueError:
            raise Invalid("a number", value) from None
        if not math.isfinite(number):
            raise Invalid("a finite number", value)
        return number
    if kind == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)  # the model types it as a string (e.g. hpoResourceConfig's counts)
        raise Invalid("a string", value)
    return value


def to_shape(value: Any, shape: Any) -> Any:
    """`value` turned into what botocore's input `shape` takes, walking structures, lists and maps;
    raises Invalid naming where inside the value a member is unknown or a leaf has the wrong type."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, Mapping):
            raise Invalid(f"a JSON object ({shape.name})", value)
        out = {}
        for key, item in value.items():
            member = shape.members.get(key)
            if member is None:
                raise Invalid(f"a member of {shape.name} (one of {sorted(shape.members)})", key, (key,))
            if item is None:
                continue
            try:
                out[key] = to_shape(item, member)
            except Invalid as exc:
                raise exc.inside(key) from None
        return out
    if kind == "list":
        if not isinstance(value, list):
            raise Invalid("a list", value)
        items = []
        for index, item in enumerate(value):
            try:
                items.append(to_shape(item, shape.member))
            except Invalid as exc:
                raise exc.inside(f"[{index}]") from None
        return items
    if kind == "map":
        if not isinstance(value, Mapping):
            raise Invalid("a JSON object (map)", value)
        mapped = {}
        for key, item in value.items():
            try:
                mapped[key] = to_shape(item, shape.value)
            except Invalid as exc:
                raise exc.inside(str(key)) from None
        return mapped
    return _scalar(value, shape)


@dataclass(frozen=True)
class Struct(PropType):
    """A JSON object, given as an object or as a JSON string. `fields` (when declared) are coerced
    by their own types; other keys pass on as sent. Without `fields`, a `shape` (botocore's input
    shape of the API member, in `service`'s model) is walked with `to_shape`; with neither, every
    key passes on as sent."""

    fields: Mapping[str, PropType] | None = field(default=None, hash=False)
    shape: str | None = None
    service: str = "personalize"
    api_types: ClassVar[frozenset[str]] = frozenset({"structure"})

    def coerce(self, value: Any) -> dict[str, Any]:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise Invalid(f"a JSON object ({exc.msg} at character {exc.pos})", value) from None
        if not isinstance(value, Mapping):
            raise Invalid("a JSON object", value)
        if self.fields is None and self.shape is not None:
            typed: dict[str, Any] = to_shape(value, _service_model(self.service).shape_for(self.shape))
            return typed
        out = dict(value)
        for key, kind in (self.fields or {}).items():
            if out.get(key) is None or out.get(key) == "":
                continue
            try:
                out[key] = kind.coerce(out[key])
            except Invalid as exc:
                raise exc.inside(key) from None
        return out

    def describe(self) -> str:
        return "JSON object"


@dataclass(frozen=True)
class ListOf(PropType):
    """A list of `item`s (inside a Struct; CloudFormation keeps lists as lists)."""

    item: PropType
    api_types: ClassVar[frozenset[str]] = frozenset({"list"})

    def coerce(self, value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise Invalid("a list", value)
        out = []
        for index, item in enumerate(value):
            try:
                out.append(self.item.coerce(item))
            except Invalid as exc:
                raise exc.inside(f"[{index}]") from None
        return out


@dataclass(frozen=True)
class Tags(PropType):
    """`[{"tagKey", "tagValue"}]` (also accepted: a JSON string of it, or a {key: value} map)."""

    api_types: ClassVar[frozenset[str]] = frozenset({"list"})

    def coerce(self, value: Any) -> list[dict[str, str]]:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                raise Invalid('a list of {"tagKey": ..., "tagValue": ...}', value) from None
        if isinstance(value, Mapping):
            return [{"tagKey": str(k), "tagValue": str(v)} for k, v in sorted(value.items())]
        if not isinstance(value, list):
            raise Invalid('a list of {"tagKey": ..., "tagValue": ...}', value)
        tags = []
        for item in value:
            if not isinstance(item, Mapping) or "tagKey" not in item:
                raise Invalid('a {"tagKey": ..., "tagValue": ...} object', item)
            tags.append({"tagKey": str(item["tagKey"]), "tagValue": str(item.get("tagValue", ""))})
        return tags


# ---- properties and resource types ------------------------------------------------------------


class Update(Enum):
    """What an Update that changes a property does."""

    #: The resource stays (same physical id); `Prop.via` names the call that applies the change.
    IN_PLACE = "in place"
    #: A new resource with a new physical id; CloudFormation then deletes the old one.
    REPLACE = "replace"
    #: A trigger, never sent to the service: its change makes CloudFormation send an Update, which
    #: starts new work (a new import, training or batch job; SolutionMetrics reads again).
    NEW_WORK = "new work"


@dataclass(frozen=True)
class Prop:
    """One property of a type."""

    name: str
    type: PropType = field(default_factory=Text)
    required: bool = False
    #: What the handler uses when an optional property is absent or empty.
    default: Any = None
    update: Update = Update.REPLACE
    #: The call that applies an in-place change (None: nothing to call).
    via: str | None = None
    #: The API request member it becomes (a dotted path into the operation's input), None: not sent.
    member: str | None = None
    #: The member of `via`'s input that carries the in-place part, when it is not `member`
    #: (UpdateSolution takes solutionConfig's updatable part as solutionUpdateConfig).
    via_member: str | None = None
    #: A few words for the documentation's table.
    doc: str = ""

    def read(self, props: Mapping[str, Any]) -> Any:
        """The value the handler uses, from a resource's properties: the default when absent or
        empty; raises Missing (required and absent) or Invalid."""
        value = props.get(self.name)
        if value is None or value == "":
            if self.required:
                raise Missing(self.name)
            return self.default
        if self.required and self.type.textual and not isinstance(value, str):
            raise Invalid("a string", value)
        return self.type.coerce(value)


@dataclass(frozen=True)
class ResourceType:
    """One `Custom::Personalize<kind>`."""

    kind: str
    props: tuple[Prop, ...]
    #: The Data keys a Create or Update returns (what Fn::GetAtt may read).
    data: tuple[str, ...]
    #: The API call the properties' members belong to (its input shape is botocore's).
    operation: str
    service: str = "personalize"
    physical_id: str = "ARN"
    #: Data keys beyond `data` that depend on the resource (SolutionMetrics: one per metric).
    more_data: str = ""

    @property
    def type(self) -> str:
        return f"Custom::Personalize{self.kind}"

    def prop(self, name: str) -> Prop:
        for prop in self.props:
            if prop.name == name:
                return prop
        raise KeyError(f"{self.type} has no property {name!r}; it has {[p.name for p in self.props]}")

    @property
    def names(self) -> frozenset[str]:
        return frozenset(p.name for p in self.props)

    @property
    def required(self) -> frozenset[str]:
        return frozenset(p.name for p in self.props if p.required)

    @property
    def in_place(self) -> frozenset[str]:
        """What an Update may change while the resource stays."""
        return frozenset(p.name for p in self.props if p.update is Update.IN_PLACE)

    @property
    def taggable(self) -> bool:
        return "Tags" in self.names

    def problems(
        self, props: Mapping[str, Any], deferred: Callable[[Any], bool] = lambda value: False
    ) -> list[str]:
        """How a resource's properties (as a stack emits them) break this contract: a property it does
        not have, a required one missing, a value its type refuses. `deferred(value)` is True for a
        value known only at deploy time (a CDK token, an intrinsic function), which is not checked."""
        out = []
        unknown = sorted(set(props) - self.names - {SERVICE_TOKEN})
        if unknown:
            out.append(f"properties {unknown} are not in its contract (it has {sorted(self.names)})")
        for prop in self.props:
            try:
                prop.read(props)
            except Missing:
                out.append(f"property {prop.name} is required")
            except Invalid as exc:
                if not deferred(props.get(prop.name)):
                    out.append(exc.describe(prop.name))
        return out


#: Framework plumbing every custom resource carries, never configuration.
SERVICE_TOKEN = "ServiceToken"

#: Personalize's longest name, jobs' included (botocore's `Name` shape: max 63).
NAME_MAX = 63
#: Per-request kinds (jobs, solution versions) are created as `<JobName>-<8 hex of the RequestId>`
#: (common.unique_name), so a duplicated event adopts the first one.
REQUEST_SUFFIX_HEX = 8
REQUEST_SUFFIX_LENGTH = 1 + REQUEST_SUFFIX_HEX
#: The longest JobName a stack may give: the suffix still fits and nothing is cut.
JOB_NAME_MAX = NAME_MAX - REQUEST_SUFFIX_LENGTH

#: Set at create; changed with TagResource/UntagResource.
_TAGS = Prop("Tags", Tags(), update=Update.IN_PLACE, via="TagResource/UntagResource", member="tags")
#: The Ref of a WaitConditionHandle, signalled by the Step Functions waiter when the long operation
#: ends; a new handle alone starts a new waiter on the same resource.
_WAIT = Prop("WaitHandle", update=Update.IN_PLACE)
#: The resource's own name (pipeline.naming makes it at synth).
_NAME = Prop("Name", required=True, member="name")


DATASET_GROUP = ResourceType(
    "DatasetGroup",
    (
        _NAME,
        Prop("KmsKeyArn", member="kmsKeyArn"),
        Prop("RoleArn", member="roleArn", doc="needed with KmsKeyArn"),
        Prop("Domain", Choice(("ECOMMERCE", "VIDEO_ON_DEMAND")), member="domain",
             doc="a domain dataset group"),
        _TAGS,
    ),
    data=("Arn", "Name"),
    operation="CreateDatasetGroup",
)
SCHEMA = ResourceType(
    "Schema",
    (
        _NAME,
        Prop("Schema", required=True, member="schema", doc="JSON string"),
        Prop("Domain", member="domain"),
    ),
    data=("Arn", "Name"),
    operation="CreateSchema",
)
DATASET = ResourceType(
    "Dataset",
    (
        _NAME,
        Prop("DatasetGroupArn", required=True, member="datasetGroupArn"),
        Prop("DatasetType", Choice(("Interactions", "Items", "Users", "Actions", "Action_Interactions")),
             required=True, member="datasetType"),
        Prop("SchemaArn", required=True, member="schemaArn", update=Update.IN_PLACE, via="UpdateDataset"),
        _TAGS,
    ),
    data=("Arn", "Name"),
    operation="CreateDataset",
)
DATASET_IMPORT_JOB = ResourceType(
    "DatasetImportJob",
    (
        Prop("JobName", required=True, member="jobName"),
        Prop("DatasetArn", required=True, member="datasetArn"),
        Prop("DataLocation", Text(form="s3://bucket/key"), required=True, member="dataSource.dataLocation"),
        Prop("RoleArn", required=True, member="roleArn"),
        Prop("ImportMode", Choice(("FULL", "INCREMENTAL")), default="FULL", member="importMode"),
        Prop("SourceHash", required=True, update=Update.NEW_WORK, doc="hash of the data file"),
        # A job's own setting: a change applies to the next job (the next data), nothing to call.
        Prop("PublishAttributionMetricsToS3", Boolean(), default=False, update=Update.IN_PLACE,
             member="publishAttributionMetricsToS3", doc="metric attribution reports of this import"),
        _WAIT,
        _TAGS,
    ),
    data=("Arn", "Name"),
    operation="CreateDatasetImportJob",
)
SOLUTION = ResourceType(
    "Solution",
    (
        _NAME,
        Prop("DatasetGroupArn", required=True, member="datasetGroupArn"),
        Prop("RecipeArn", required=True, member="recipeArn"),
        Prop("PerformHPO", Boolean(), default=False, member="performHPO"),
        # UpdateSolution changes automatic training and solutionConfig's autoTrainingConfig and
        # eventsConfig in place (botocore SolutionUpdateConfig); the rest of SolutionConfig is in
        # the stack's Name, so a change of it arrives as a replacement.
        Prop("PerformAutoTraining", Boolean(), default=False, member="performAutoTraining",
             update=Update.IN_PLACE, via="UpdateSolution"),
        Prop("SolutionConfig", Struct(shape="SolutionConfig"), member="solutionConfig",
             update=Update.IN_PLACE, via="UpdateSolution", via_member="solutionUpdateConfig",
             doc="only autoTrainingConfig and eventsConfig change in place"),
        Prop("EventType", member="eventType"),
        _TAGS,
    ),
    data=("Arn", "Name"),
    operation="CreateSolution",
)
SOLUTION_VERSION = ResourceType(
    "SolutionVersion",
    (
        Prop("SolutionArn", required=True, member="solutionArn"),
        Prop("TrainingMode", Choice(("FULL", "UPDATE", "AUTOTRAIN")), default="FULL", member="trainingMode"),
        Prop("Trigger", required=True, update=Update.NEW_WORK, doc="hash of the data and solution inputs"),
        Prop("Name", member="name"),
        _WAIT,
        _TAGS,
    ),
    data=("Arn", "Name"),
    operation="CreateSolutionVersion",
)
CAMPAIGN = ResourceType(
    "Campaign",
    (
        _NAME,
        Prop("SolutionVersionArn", required=True, member="solutionVersionArn", update=Update.IN_PLACE,
             via="UpdateCampaign"),
        Prop("MinProvisionedTPS", Integer(minimum=1), default=1, update=Update.IN_PLACE, via="UpdateCampaign",
             member="minProvisionedTPS"),
        Prop("CampaignConfig", Struct(shape="CampaignConfig"), update=Update.IN_PLACE, via="UpdateCampaign",
             member="campaignConfig"),
        _WAIT,
        _TAGS,
    ),
    data=("Arn", "Name"),
    operation="CreateCampaign",
)
EVENT_TRACKER = ResourceType(
    "EventTracker",
    (_NAME, Prop("DatasetGroupArn", required=True, member="datasetGroupArn"), _TAGS),
    data=("Arn", "Name", "TrackingId"),
    operation="CreateEventTracker",
    physical_id="ARN; after a rename in its dataset group `pending-event-tracker/<Name>`",
)
FILTER = ResourceType(
    "Filter",
    (
        _NAME,
        Prop("DatasetGroupArn", required=True, member="datasetGroupArn"),
        Prop("FilterExpression", required=True, member="filterExpression"),
        _TAGS,
    ),
    data=("Arn", "Name"),
    operation="CreateFilter",
)
SOLUTION_METRICS = ResourceType(
    "SolutionMetrics",
    (
        Prop("SolutionVersionArn", required=True, member="solutionVersionArn"),
        Prop("Trigger", update=Update.NEW_WORK),
    ),
    data=("SolutionVersionArn", "Json"),
    operation="GetSolutionMetrics",
    physical_id="`solution-metrics-<hash of the version ARN>`",
    more_data="one key per metric",
)
BATCH_INFERENCE_JOB = ResourceType(
    "BatchInferenceJob",
    (
        Prop("JobName", required=True, member="jobName"),
        Prop("SolutionVersionArn", required=True, member="solutionVersionArn"),
        Prop("InputPath", Text(form="s3://bucket/key"), required=True, member="jobInput.s3DataSource.path"),
        Prop("OutputPath", Text(form="s3://bucket/prefix/"), required=True,
             member="jobOutput.s3DataDestination.path"),
        Prop("RoleArn", required=True, member="roleArn"),
        Prop("NumResults", Integer(minimum=1, maximum=500), member="numResults"),
        Prop("FilterArn", member="filterArn"),
        Prop("BatchInferenceJobConfig", Struct(shape="BatchInferenceJobConfig"),
             member="batchInferenceJobConfig"),
        Prop("Trigger", update=Update.NEW_WORK, doc="hash of the job's inputs"),
        _WAIT,
        _TAGS,
    ),
    data=("Arn", "Name", "OutputPath"),
    operation="CreateBatchInferenceJob",
)
DATA_OBJECT = ResourceType(
    "DataObject",
    (
        Prop("Bucket", required=True, member="Bucket"),
        Prop("Key", required=True, member="Key"),
        Prop("SourceBucket", required=True, update=Update.IN_PLACE, via="CopyObject", member="CopySource"),
        Prop("SourceKey", required=True, update=Update.IN_PLACE, via="CopyObject", member="CopySource"),
        Prop("RetainOnDelete", Boolean(), default=False, update=Update.IN_PLACE),
    ),
    data=("Bucket", "Key", "Uri", "ETag"),
    operation="CopyObject",
    service="s3",
    physical_id="`s3://<Bucket>/<Key>`",
)

METRIC_ATTRIBUTION = ResourceType(
    "MetricAttribution",
    (
        _NAME,
        Prop("DatasetGroupArn", required=True, member="datasetGroupArn"),
        # In place: UpdateMetricAttribution takes the difference (addMetrics, removeMetrics by name).
        Prop("Metrics", ListOf(Struct(shape="MetricAttribute")), required=True, member="metrics",
             update=Update.IN_PLACE, doc="UpdateMetricAttribution addMetrics/removeMetrics"),
        Prop("RoleArn", required=True, member="metricsOutputConfig.roleArn", update=Update.IN_PLACE,
             via="UpdateMetricAttribution"),
        Prop("OutputPath", Text(form="s3://bucket/prefix/"),
             member="metricsOutputConfig.s3DataDestination.path", update=Update.IN_PLACE,
             via="UpdateMetricAttribution"),
    ),
    data=("Arn", "Name"),
    operation="CreateMetricAttribution",
)

RECOMMENDER = ResourceType(
    "Recommender",
    (
        _NAME,
        Prop("DatasetGroupArn", required=True, member="datasetGroupArn"),
        Prop("RecipeArn", required=True, member="recipeArn", doc="a domain use case"),
        Prop("RecommenderConfig", Struct(shape="RecommenderConfig"), update=Update.IN_PLACE,
             via="UpdateRecommender", member="recommenderConfig"),
        _WAIT,
        _TAGS,
    ),
    data=("Arn", "Name"),
    operation="CreateRecommender",
)

#: Every type, in the order of the documentation's table.
TYPES: dict[str, ResourceType] = {
    spec.type: spec
    for spec in (DATASET_GROUP, SCHEMA, DATASET, DATASET_IMPORT_JOB, SOLUTION, SOLUTION_VERSION, CAMPAIGN,
                 EVENT_TRACKER, FILTER, SOLUTION_METRICS, BATCH_INFERENCE_JOB, DATA_OBJECT,
                 METRIC_ATTRIBUTION, RECOMMENDER)
}


# ---- the documentation's table ----------------------------------------------------------------


def _prop_cell(prop: Prop) -> str:
    name = prop.name if prop.required else f"*{prop.name}*"
    notes = [note for note in (prop.type.describe(),) if note]
    if prop.default is not None:
        shown = str(prop.default).lower() if isinstance(prop.default, bool) else str(prop.default)
        notes.append(f"default {shown}")
    if prop.update is Update.NEW_WORK:
        notes.append("trigger" + (f": {prop.doc}" if prop.doc else ""))
    elif prop.doc:
        notes.append(prop.doc)
    return f"{name} ({', '.join(notes)})" if notes else name


def _in_place_cell(spec: ResourceType) -> str:
    cells = [f"{p.name} ({p.via})" if p.via else p.name for p in spec.props if p.update is Update.IN_PLACE]
    return ", ".join(cells) or "nothing"


def table(types: Mapping[str, ResourceType] | None = None) -> str:
    """docs/handler-contract.md's table of the types, from this contract."""
    rows = [
        "| type | properties (required, *optional*) | in place (the rest replace) | physical id | Data |",
        "|---|---|---|---|---|",
    ]
    for spec in (types or TYPES).values():
        data = ", ".join(spec.data) + (f", {spec.more_data}" if spec.more_data else "")
        rows.append(
            f"| `{spec.type}` | {', '.join(_prop_cell(p) for p in spec.props)} | {_in_place_cell(spec)} "
            f"| {spec.physical_id} | {data} |"
        )
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(table(), end="")
