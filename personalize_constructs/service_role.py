"""The IAM role Personalize assumes to read the data bucket (and use the KMS key when one is set)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from pipeline.deletion import DELETION_PREFIX

#: "Giving Amazon Personalize permission to use your AWS KMS key"
#: (https://docs.aws.amazon.com/personalize/latest/dg/granting-personalize-key-access.html): the
#: service role's IAM policy needs these four; the key policy needs them and kms:CreateGrant, for
#: both the role and personalize.amazonaws.com.
ROLE_KEY_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:ListGrants"]
KEY_POLICY_ACTIONS = [*ROLE_KEY_ACTIONS[:3], "kms:CreateGrant", "kms:ListGrants"]


def key_policy_statement(role_arn: str) -> dict[str, Any]:
    """The statement the configured KMS key's policy must hold (the KMS page's example, verbatim
    but for the role): the key is the user's, so the stack can only show it (output
    KmsKeyPolicyStatement, README) and cannot add it."""
    return {
        "Sid": "Allow use of the key",
        "Effect": "Allow",
        "Principal": {"AWS": role_arn, "Service": "personalize.amazonaws.com"},
        "Action": KEY_POLICY_ACTIONS,
        "Resource": "*",
    }


def source_statements(partition: str, uri: str, label: str) -> list[iam.PolicyStatement]:
    """Read access to one s3:// import source. A file: s3:GetObject on that object. A folder
    (`s3://bucket/folder/`, the form CreateDatasetImportJob's DataSource documents for "multiple
    files"): the import lists the prefix (ListObjectsV2 needs s3:ListBucket on the *bucket*, the
    s3:prefix condition key narrows it) and reads each object under it (s3:GetObject on
    `folder/*`; `bucket/folder/` itself names only the zero-byte folder marker)."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    bucket_arn = f"arn:{partition}:s3:::{bucket}"
    folder = key == "" or key.endswith("/")
    listing = iam.PolicyStatement(sid=f"List{label}", actions=["s3:ListBucket"], resources=[bucket_arn])
    if folder and key:
        listing.add_condition("StringLike", {"s3:prefix": [key, f"{key}*"]})
    read = iam.PolicyStatement(
        sid=f"Read{label}",
        actions=["s3:GetObject"],
        resources=[f"{bucket_arn}/{key}*" if folder else f"{bucket_arn}/{key}"],
    )
    return [read, listing]


def deletion_statements(bucket: s3.IBucket) -> list[iam.PolicyStatement]:
    """What a data deletion job needs to read the list of users `pz delete-users` uploads under
    DELETION_PREFIX: "This role needs GetObject and ListBucket permissions for the bucket and its
    content. These permissions are the same as importing data." (API reference,
    CreateDataDeletionJob). ListBucket on the bucket is the import's statement already; the bucket
    policy's Personalize statements (GetObject on every object, ListBucket, both with the
    confused-deputy conditions) already cover the prefix."""
    return [
        iam.PolicyStatement(
            sid="ReadDeletionLists",
            actions=["s3:GetObject"],
            resources=[bucket.arn_for_objects(f"{DELETION_PREFIX}*")],
        )
    ]


#: The namespace Personalize publishes attributed metrics in (the AWS sample "Measuring impact of
#: recommendations"; docs/metric-attribution.md).
METRICS_NAMESPACE = "AWS/Personalize"


def metric_attribution_statements(bucket: s3.IBucket, output_prefix: str | None) -> list[iam.PolicyStatement]:
    """The metric attribution's service role: "permission to use the PutMetricData Action" (Personalize
    guide, metric-attribution-requirements: "Amazon Personalize ... adds metrics to Amazon CloudWatch");
    PutMetricData has no resource-level permissions, so it is held to the one namespace with the
    `cloudwatch:namespace` condition key (Service Authorization Reference, Amazon CloudWatch). With an S3
    output, s3:PutObject under that prefix only (the same page: "permission to add data to your output
    Amazon S3 bucket"; the bucket policy grants Personalize the same)."""
    statements = [
        iam.PolicyStatement(
            sid="PublishAttributedMetrics",
            actions=["cloudwatch:PutMetricData"],
            resources=["*"],
            conditions={"StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}},
        )
    ]
    if output_prefix:
        statements.append(
            iam.PolicyStatement(
                sid="WriteAttributionReports",
                actions=["s3:PutObject"],
                resources=[bucket.arn_for_objects(f"{output_prefix}*")],
            )
        )
    return statements


class PersonalizeServiceRole(Construct):
    """Trusts personalize.amazonaws.com only for this account's Personalize resources; read-only on
    the data bucket. Exposes `role`."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket: s3.IBucket,
        key: kms.IKey | None,
        data_prefix: str = "datasets/",
        external_sources: tuple[str, ...] = (),
    ) -> None:
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        principal = iam.ServicePrincipal("personalize.amazonaws.com").with_conditions(
            {
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {
                    "aws:SourceArn": f"arn:{stack.partition}:personalize:{stack.region}:{stack.account}:*"
                },
            }
        )
        statements = [
            iam.PolicyStatement(
                sid="ReadDataObjects",
                actions=["s3:GetObject"],
                resources=[bucket.arn_for_objects(f"{data_prefix}*")],
            ),
            iam.PolicyStatement(
                sid="ListDataBucket", actions=["s3:ListBucket"], resources=[bucket.bucket_arn]
            ),
        ]
        statements.extend(deletion_statements(bucket))
        # s3:// sources: exactly those objects (a folder source `s3://bucket/folder/`: the objects
        # under it) and the listing of their buckets (their bucket policies must also let
        # Personalize in; see README).
        for index, uri in enumerate(sorted(set(external_sources))):
            statements.extend(source_statements(stack.partition, uri, f"ExternalSource{index}"))
        if key is not None:
            statements.append(
                iam.PolicyStatement(sid="UseDataKey", actions=ROLE_KEY_ACTIONS, resources=[key.key_arn])
            )
        # Inline, so the permissions exist as soon as the role does: an import job that only
        # depends on the role (through its ARN) can never start before its S3 access is in place.
        self.document = iam.PolicyDocument(statements=statements)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=principal,
            description="Amazon Personalize reads the pipeline's data bucket (import and data deletion jobs)",
            inline_policies={"ReadData": self.document},
        )

    def grant_metric_attribution(self, *, bucket: s3.IBucket, output_prefix: str | None) -> None:
        """What a metric attribution's role needs (metric_attribution_statements), inline: it exists
        as soon as the role does."""
        self.document.add_statements(*metric_attribution_statements(bucket, output_prefix))
