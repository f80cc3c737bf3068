"""Secure by default, checked on every synthesized template of every shipped config.

Every policy statement of every resource is inspected (identity policies, trust policies, bucket,
topic and key policies). What cannot be scoped is not skipped: it must be one of the exceptions
listed here with the reason, and an exception that no longer occurs is reported too (the list stays
exact). Sources: IAM Service Authorization Reference for Amazon Personalize (List* actions and
event trackers have no name-scoped resource), AWS Step Functions developer guide "IAM policies for
logging to CloudWatch Logs" / "AWS X-Ray" (log delivery and X-Ray actions take Resource "*"), AWS KMS
developer guide "Default key policy" (in a key policy "*" is the key itself), CDK bootstrap
(`cdk-hnb659fds-assets-<account>-<region>` holds file assets).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import load_config
from pipeline.naming import REPO_ROOT
from tests.security.helpers import SHIPPED, Template, synth_template

POLICY_KEYS = ("PolicyDocument", "AssumeRolePolicyDocument", "KeyPolicy")
CONFUSED_DEPUTY_KEYS = ("aws:SourceAccount", "aws:SourceArn")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _documents(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in POLICY_KEYS and isinstance(value, dict):
                yield key, value
            else:
                yield from _documents(value, key)
    elif isinstance(node, list):
        for value in node:
            yield from _documents(value, where)


@dataclass(frozen=True)
class Statement:
    logical_id: str
    document: str  # PolicyDocument | AssumeRolePolicyDocument | KeyPolicy
    resource_type: str
    body: dict[str, Any]

    @property
    def actions(self) -> list[str]:
        return [str(a) for a in _as_list(self.body.get("Action", []))]

    @property
    def allow(self) -> bool:
        return self.body.get("Effect") == "Allow"


def statements(t: Template) -> list[Statement]:
    found = []
    for logical_id, resource in t.resources.items():
        for kind, document in _documents(resource.get("Properties", {})):
            for body in _as_list(document.get("Statement", [])):
                found.append(Statement(logical_id, kind, resource["Type"], body))
    return found


def _refs(node: Any) -> set[str]:
    """Logical ids a value refers to (Ref, Fn::GetAtt, ${X} in Fn::Sub)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(str(_as_list(value)[0]).split(".")[0])
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text)}
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def base_id(logical_id: str) -> str:
    """The logical id without CDK's 8-hex hash suffix."""
    return re.sub(r"[0-9A-F]{8}$", "", logical_id)


def scoped(resource: Any, t: Template) -> bool:
    """A statement resource belongs to this environment: a resource of this stack (whose name
    carries `Personalize-<env>`), or a Personalize ARN of a name with this environment's prefix."""
    if _refs(resource) & set(t.resources):
        return True
    return f"/{t.env}-" in json.dumps(resource)


@dataclass(frozen=True)
class Exception_:
    """An unscoped resource allowed on purpose: which statement (logical id without hash, document,
    actions), which resource (a regex on its JSON), and why."""

    logical_id: str
    document: str
    actions: frozenset[str]
    resource: str
    why: str

    condition: dict[str, Any] | None = None  # the statement must hold exactly this Condition

    def matches(self, s: Statement, resource: Any) -> bool:
        return (
            base_id(s.logical_id) == self.logical_id
            and s.document == self.document
            and frozenset(s.actions) == self.actions
            and (self.condition is None or s.body.get("Condition") == self.condition)
            and re.fullmatch(self.resource, json.dumps(resource, sort_keys=True)) is not None
        )


PERSONALIZE_LIST = frozenset(
    f"personalize:List{k}"
    for k in (
        "Campaigns",
        "DatasetGroups",
        "DatasetImportJobs",
        "Datasets",
        "EventTrackers",
        "Filters",
        "MetricAttributions",
        "Recommenders",
        "Schemas",
        "SolutionVersions",
        "Solutions",
    )
)
SFN_LOG_DELIVERY = frozenset(
    f"logs:{a}"
    for a in (
        "CreateLogDelivery",
        "DeleteLogDelivery",
        "DescribeLogGroups",
        "DescribeResourcePolicies",
        "GetLogDelivery",
        "ListLogDeliveries",
        "PutResourcePolicy",
        "UpdateLogDelivery",
    )
)
XRAY = frozenset(
    f"xray:{a}" for a in ("GetSamplingRules", "GetSamplingTargets", "PutTelemetryRecords", "PutTraceSegments")
)
BUCKET_DEPLOYMENT_ROLE = (
    "CustomCDKBucketDeployment8693BB64968944B69AAFB0CC9EB8756C1024MiB10240MiBServiceRoleDefaultPolicy"
)


def exceptions(t: Template) -> list[Exception_]:
    """The exact list of unscoped statement resources this template may have."""
    region = re.escape(t.config.environment.region or "")
    tracker = (
        r'\{"Fn::Join": \["", \["arn:aws:personalize:' + region + r':", \{"Ref": "AWS::AccountId"\}, '
        r'":event-tracker/\*"\]\]\}'
    )
    attribution = (
        []
        if t.config.metric_attribution is None
        else [
            Exception_(
                "ProviderHandlerRole",
                "PolicyDocument",
                frozenset({"personalize:ListMetricAttributionMetrics"}),
                r'"\*"',
                "ListMetricAttributionMetrics authorizes on no resource type "
                "(Service Authorization Reference)",
            ),
            Exception_(
                "ServiceRole",
                "PolicyDocument",
                frozenset({"cloudwatch:PutMetricData"}),
                r'"\*"',
                "PutMetricData has no resource-level permissions (Service Authorization Reference, Amazon "
                "CloudWatch); held to the namespace the metric attribution publishes in",
                condition={"StringEquals": {"cloudwatch:namespace": "AWS/Personalize"}},
            ),
        ]
    )
    always = [
        Exception_(
            "ProviderHandlerRole",
            "PolicyDocument",
            PERSONALIZE_LIST,
            r'"\*"',
            "Personalize List* actions take no resource (Service Authorization Reference); "
            "the handlers list by name to adopt after a lost response",
        ),
        Exception_(
            "ProviderHandlerRole",
            "PolicyDocument",
            frozenset(
                {
                    "personalize:CreateEventTracker",
                    "personalize:DeleteEventTracker",
                    "personalize:DescribeEventTracker",
                }
            ),
            tracker,
            "event tracker ARNs end in a service-made id, not our name: scoped to the account "
            "and region only",
        ),
        Exception_(
            "ProviderHandlerRole",
            "PolicyDocument",
            frozenset(
                {"personalize:ListTagsForResource", "personalize:TagResource", "personalize:UntagResource"}
            ),
            tracker,
            "tags on our event tracker: the same id-based ARN (the other kinds' tag grants are name-scoped)",
        ),
        Exception_(
            "ProviderWaiterStateMachineRoleDefaultPolicy",
            "PolicyDocument",
            SFN_LOG_DELIVERY | XRAY,
            r'"\*"',
            "Step Functions log delivery and X-Ray take Resource '*' (Step Functions guide)",
        ),
        Exception_(
            "ProviderwaiterstatemachineRoleDefaultPolicy",
            "PolicyDocument",
            SFN_LOG_DELIVERY | {"logs:CreateLogStream", "logs:PutLogEvents"},
            r'"\*"',
            "the CDK Provider framework's own waiter state machine logs (aws-cdk-lib, same reason)",
        ),
        Exception_(
            BUCKET_DEPLOYMENT_ROLE,
            "PolicyDocument",
            frozenset({"s3:GetBucket*", "s3:GetObject*", "s3:List*"}),
            r'\{"Fn::Join": \["", \["arn:aws:s3:::", \{"Fn::Sub": "cdk-hnb659fds-assets-\$\{AWS::AccountId\}-'
            + region
            + r'"\}(, "/\*")?\]\]\}',
            "BucketDeployment reads the data asset from the CDK bootstrap bucket (read only)",
        ),
        Exception_(
            "ProviderHandlerRole",
            "PolicyDocument",
            frozenset({"s3:GetObject"}),
            r'\{"Fn::Join": \["", \["arn:aws:s3:::", \{"Fn::Sub": "cdk-hnb659fds-assets-\$\{AWS::AccountId\}-'
            + region
            + r'"\}, "/[0-9a-f]{64}\.csv"\]\]\}',
            "Custom::PersonalizeDataObject copies one dataset file from where `cdk deploy` published it "
            "(the CDK bootstrap bucket, not this stack's): read of that one object, by its content hash",
        ),
        Exception_(
            "MonitoringAlarmTopicKey",
            "KeyPolicy",
            frozenset({"kms:*"}),
            r'"\*"',
            "the default key policy: the account administers the key; '*' is the key itself",
        ),
        Exception_(
            "MonitoringAlarmTopicKey",
            "KeyPolicy",
            frozenset({"kms:Decrypt", "kms:GenerateDataKey*"}),
            r'"\*"',
            "CloudWatch encrypts alarm notifications to the topic (with confused-deputy "
            "conditions); '*' is the key itself",
        ),
    ]
    return [*attribution, *always]


#: S3 action wildcards aws-cdk-lib itself writes (grantReadWrite for BucketDeployment, autoDeleteObjects),
#: all on our own bucket; `s3:*` and any `personalize:` wildcard are never allowed.
PARTIAL_S3_WILDCARDS = {
    (BUCKET_DEPLOYMENT_ROLE, "s3:Abort*"),
    (BUCKET_DEPLOYMENT_ROLE, "s3:DeleteObject*"),
    (BUCKET_DEPLOYMENT_ROLE, "s3:GetBucket*"),
    (BUCKET_DEPLOYMENT_ROLE, "s3:GetObject*"),
    (BUCKET_DEPLOYMENT_ROLE, "s3:List*"),
    ("DataPolicy", "s3:DeleteObject*"),
    ("DataPolicy", "s3:GetBucket*"),
    ("DataPolicy", "s3:List*"),
    ("DataAccessLogsPolicy", "s3:DeleteObject*"),
    ("DataAccessLogsPolicy", "s3:GetBucket*"),
    ("DataAccessLogsPolicy", "s3:List*"),
}


# ------------------------------------------------------------------------------------------------
def test_every_shipped_config_is_checked() -> None:
    assert {"dev", "prod"} <= set(SHIPPED), SHIPPED


def test_no_star_principal(shipped: Template) -> None:
    for s in statements(shipped):
        for key in ("Principal", "NotPrincipal"):
            if key not in s.body:
                continue
            principal = s.body[key]
            assert principal != "*", (s.logical_id, principal)
            values = (
                [v for vs in principal.values() for v in _as_list(vs)] if isinstance(principal, dict) else []
            )
            assert "*" not in values, (s.logical_id, principal)
    for logical_id, permission in shipped.of_type("AWS::Lambda::Permission").items():
        assert permission["Properties"].get("Principal") != "*", logical_id


def test_no_wildcard_personalize_or_s3_action(shipped: Template) -> None:
    partial = set()
    for s in statements(shipped):
        for action in s.actions:
            if action == "*" or action.lower() in ("personalize:*", "s3:*"):
                # only the TLS-only deny may name every S3 action
                assert not s.allow and action == "s3:*", (s.logical_id, action)
                assert s.body.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}, s.logical_id
            elif action.startswith("personalize:"):
                assert "*" not in action and "?" not in action, (s.logical_id, action)
            elif action.startswith("s3:") and "*" in action:
                assert s.allow, (s.logical_id, action)
                partial.add((base_id(s.logical_id), action))
    assert partial <= PARTIAL_S3_WILDCARDS, partial - PARTIAL_S3_WILDCARDS
    assert not any(a == "s3:PutObject*" for _, a in partial)


def unscoped(t: Template) -> tuple[list[tuple[str, list[str], str]], list[str]]:
    """(Allow resources neither scoped nor a listed exception, listed exceptions that no longer occur)."""
    rules = exceptions(t)
    used: set[int] = set()
    unexplained = []
    for s in statements(t):
        if not s.allow or s.document == "AssumeRolePolicyDocument":
            continue
        if "NotResource" in s.body or "NotAction" in s.body:
            unexplained.append((s.logical_id, sorted(s.actions), "NotResource/NotAction"))
            continue
        for resource in _as_list(s.body.get("Resource")):
            if scoped(resource, t):
                continue
            hits = [i for i, rule in enumerate(rules) if rule.matches(s, resource)]
            if hits:
                used.update(hits)
            else:
                unexplained.append((s.logical_id, sorted(s.actions), json.dumps(resource)))
    present = {base_id(lid) for lid in t.resources}
    stale = [
        r.logical_id + ": " + r.why for i, r in enumerate(rules) if i not in used and r.logical_id in present
    ]
    return unexplained, stale


def test_every_allow_is_scoped_to_this_environment_or_a_listed_exception(shipped: Template) -> None:
    unexplained, stale = unscoped(shipped)
    assert not unexplained, unexplained
    assert not stale, f"exceptions that no longer occur (remove them): {stale}"


def test_the_scope_check_catches_a_broad_grant(shipped: Template) -> None:
    """The check can fail: a copy of the template with one broad grant added is caught, naming it."""
    import copy

    broken = copy.deepcopy(shipped)
    role = next(r for lid, r in broken.resources.items() if lid.startswith("ServiceRole"))
    role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].append(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::someone-elses-bucket/*"}
    )
    unexplained, _ = unscoped(broken)
    assert [u[0] for u in unexplained] == [next(k for k in shipped.resources if k.startswith("ServiceRole"))]


def test_personalize_names_in_policies_carry_this_environment(shipped: Template) -> None:
    """A name-scoped Personalize ARN names only this environment's prefix (never another env's)."""
    others = [e for e in SHIPPED if e != shipped.env]
    for s in statements(shipped):
        if not any(a.startswith("personalize:") for a in s.actions):
            continue
        text = json.dumps(s.body.get("Resource"))
        for other in others:
            assert f"/{other}-" not in text, (s.logical_id, other)


def _trusts(t: Template) -> list[Statement]:
    return [s for s in statements(t) if s.document == "AssumeRolePolicyDocument"]


def _conditions(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for block in body.get("Condition", {}).values() for k, v in block.items()}


def test_service_role_trust_has_confused_deputy_conditions(shipped: Template) -> None:
    trusts = [
        s for s in _trusts(shipped) if s.body.get("Principal") == {"Service": "personalize.amazonaws.com"}
    ]
    assert len(trusts) == 1, trusts
    conditions = _conditions(trusts[0].body)
    assert conditions["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    source_arn = json.dumps(conditions["aws:SourceArn"])
    assert f"arn:aws:personalize:{shipped.config.environment.region}:" in source_arn


def test_every_non_lambda_service_trust_has_confused_deputy_conditions(shipped: Template) -> None:
    """Service principals other than Lambda's execution role trust (where AWS adds no source) carry
    aws:SourceAccount and aws:SourceArn, except the CDK Provider framework's own waiter role."""
    missing = []
    for s in _trusts(shipped):
        services = _as_list((s.body.get("Principal") or {}).get("Service", []))
        if services == ["lambda.amazonaws.com"]:
            continue
        if not set(CONFUSED_DEPUTY_KEYS) <= set(_conditions(s.body)):
            missing.append(base_id(s.logical_id))
    assert missing == ["ProviderwaiterstatemachineRole"], missing


def test_resource_policies_to_services_have_confused_deputy_conditions(shipped: Template) -> None:
    """Bucket, topic and key policies that allow a service principal name the account and source."""
    checked = 0
    for s in statements(shipped):
        if s.document == "AssumeRolePolicyDocument" or not s.allow:
            continue
        principal = s.body.get("Principal")
        if not isinstance(principal, dict) or "Service" not in principal:
            continue
        checked += 1
        conditions = _conditions(s.body)
        assert set(CONFUSED_DEPUTY_KEYS) <= set(conditions), (s.logical_id, s.body)
        assert conditions["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}, s.logical_id
    assert checked >= 2  # at least the data bucket's Personalize read and list


def _bucket_policy(t: Template, bucket_id: str) -> list[dict[str, Any]]:
    policies = [
        p
        for p in t.of_type("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    assert len(policies) == 1, bucket_id
    return [s for s in _as_list(policies[0]["Properties"]["PolicyDocument"]["Statement"])]


def test_every_bucket_is_tls_only_encrypted_and_private(shipped: Template) -> None:
    buckets = shipped.of_type("AWS::S3::Bucket")
    assert buckets
    for bucket_id, bucket in buckets.items():
        props = bucket["Properties"]
        rules = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rules and rules[0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
        assert all(props["PublicAccessBlockConfiguration"].values())
        denies = [s for s in _bucket_policy(shipped, bucket_id) if s["Effect"] == "Deny"]
        tls = [
            s
            for s in denies
            if s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}} and s["Action"] == "s3:*"
        ]
        assert len(tls) == 1, bucket_id
        covered = json.dumps(tls[0]["Resource"])
        assert bucket_id in covered and "/*" in covered  # the bucket and every object


def test_other_stores_are_encrypted(shipped: Template) -> None:
    for logical_id, topic in shipped.of_type("AWS::SNS::Topic").items():
        assert topic["Properties"].get("KmsMasterKeyId"), logical_id
    for logical_id, queue in shipped.of_type("AWS::SQS::Queue").items():
        props = queue["Properties"]
        assert props.get("KmsMasterKeyId") or props.get("SqsManagedSseEnabled"), logical_id
    group = shipped.resources["DatasetGroup"]["Properties"]
    if shipped.config.dataset_group.kms_key_arn:
        assert group["KmsKeyArn"] == shipped.config.dataset_group.kms_key_arn
    else:
        assert "KmsKeyArn" not in group  # Personalize encrypts with its own key


SECRET_KEY = re.compile(r"(password|passwd|secret|token|api_?key|access_?key|private_?key)", re.IGNORECASE)
SECRET_VALUE = re.compile(
    r"(?<![A-Z0-9])(AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])|aws_secret_access_key|-----BEGIN"
)


def _literal_secrets(node: Any, path: str = "") -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}/{key}"
            if SECRET_KEY.search(key) and isinstance(value, str | int) and str(value).strip():
                yield f"{here} = {value!r}"
            yield from _literal_secrets(value, here)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _literal_secrets(value, f"{path}[{i}]")


def test_no_secrets(shipped: Template) -> None:
    text = json.dumps(shipped.template)
    assert not SECRET_VALUE.search(text), SECRET_VALUE.search(text)
    assert list(_literal_secrets(shipped.template)) == []


REGION = re.compile(
    r"\b(?:us|eu|ap|sa|ca|me|af|il|mx|cn)-(?:gov-)?(?:north|south|east|west|central|"
    r"northeast|southeast|northwest|southwest)-\d\b"
)
#: A 12-digit account id; hex neighbours excluded so a content hash (asset keys such as
#: `e4124a...5e361959033981c1...zip`) is never read as an account.
ACCOUNT = re.compile(r"(?<![0-9A-Za-z])[0-9]{12}(?![0-9A-Za-z])")


def test_account_and_region_only_from_config(shipped: Template) -> None:
    text = json.dumps(shipped.template)
    configured = shipped.config.environment
    assert set(ACCOUNT.findall(text)) <= ({configured.account} if configured.account else set())
    assert set(REGION.findall(text)) <= ({configured.region} if configured.region else set())


def test_account_and_region_from_the_cdk_cli_when_config_has_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With account and region blank in config, they come from CDK_DEFAULT_* (what the CDK CLI
    sets): the template then names no other region and no literal account but the CLI's."""
    text = (REPO_ROOT / "config" / "dev.toml").read_text()
    text = re.sub(r'(?m)^region = "[^"]*"', 'region = ""', text)
    text = re.sub(r'(?m)^account = "[^"]*"', 'account = ""', text)
    (tmp_path / "dev.toml").write_text(text)
    config = load_config("dev", path=tmp_path / "dev.toml")
    assert not config.environment.region and not config.environment.account
    monkeypatch.setenv("CDK_DEFAULT_REGION", "eu-central-1")
    monkeypatch.setenv("CDK_DEFAULT_ACCOUNT", "210987654321")
    t = synth_template("dev", tmp_path / "out", config)
    dumped = json.dumps(t.template)
    assert set(REGION.findall(dumped)) == {"eu-central-1"}
    assert set(ACCOUNT.findall(dumped)) <= {"210987654321"}
