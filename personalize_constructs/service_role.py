"""The IAM role Personalize assumes to read the data bucket (and use the KMS key when one is set)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct


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
        # s3:// sources: exactly those objects and their buckets (their bucket policies must also
        # let Personalize in; see README).
        for index, uri in enumerate(sorted(set(external_sources))):
            source_bucket, _, source_key = uri.removeprefix("s3://").partition("/")
            statements.append(
                iam.PolicyStatement(
                    sid=f"ReadExternalSource{index}",
                    actions=["s3:GetObject", "s3:ListBucket"],
                    resources=[
                        f"arn:{stack.partition}:s3:::{source_bucket}",
                        f"arn:{stack.partition}:s3:::{source_bucket}/{source_key}",
                    ],
                )
            )
        if key is not None:
            statements.append(
                iam.PolicyStatement(
                    sid="UseDataKey",
                    actions=["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                    resources=[key.key_arn],
                )
            )
        # Inline, so the permissions exist as soon as the role does: an import job that only
        # depends on the role (through its ARN) can never start before its S3 access is in place.
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=principal,
            description="Amazon Personalize reads the pipeline's data bucket (import jobs)",
            inline_policies={"ReadData": iam.PolicyDocument(statements=statements)},
        )
