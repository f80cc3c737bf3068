"""The data bucket Personalize imports from, its access-log bucket, and their policies."""

from __future__ import annotations

from typing import Literal

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

PERSONALIZE = "personalize.amazonaws.com"


def _tls_only(bucket: s3.IBucket, principals: list[iam.IPrincipal]) -> iam.PolicyStatement:
    """Deny non-TLS requests for every principal that can reach the bucket at all: this account's
    principals (via IAM) and the named service principals (via this policy). Public access is blocked
    and no other account is granted anything, so nobody else can reach it. The project forbids a "*"
    principal in any statement, so the deny names them instead of using "*"."""
    return iam.PolicyStatement(
        sid="DenyInsecureTransport",
        effect=iam.Effect.DENY,
        principals=principals,
        actions=["s3:*"],
        resources=[bucket.bucket_arn, bucket.arn_for_objects("*")],
        conditions={"Bool": {"aws:SecureTransport": "false"}},
    )


class DataBucket(Construct):
    """Private, encrypted, TLS-only bucket with server access logs in a separate bucket.

    Exposes `bucket`, `log_bucket`, `key` (the imported KMS key or None) and `removal_policy`.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        removal: Literal["destroy", "retain"],
        kms_key_arn: str | None,
    ) -> None:
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        destroy = removal == "destroy"
        self.removal_policy = cdk.RemovalPolicy.DESTROY if destroy else cdk.RemovalPolicy.RETAIN
        self.key: kms.IKey | None = kms.Key.from_key_arn(self, "Key", kms_key_arn) if kms_key_arn else None

        # Server access logs only support SSE-S3 on the target bucket.
        self.log_bucket = s3.Bucket(
            self,
            "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=not destroy,
            removal_policy=self.removal_policy,
            auto_delete_objects=destroy,
            lifecycle_rules=[s3.LifecycleRule(id="ExpireAccessLogs", expiration=cdk.Duration.days(365))],
        )
        self.bucket = s3.Bucket(
            self,
            "Data",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.KMS if self.key else s3.BucketEncryption.S3_MANAGED,
            encryption_key=self.key,
            bucket_key_enabled=bool(self.key),
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=not destroy,
            removal_policy=self.removal_policy,
            auto_delete_objects=destroy,
            server_access_logs_bucket=self.log_bucket,
            server_access_logs_prefix="data-bucket/",
        )
        account_root = iam.AccountRootPrincipal()
        self.bucket.add_to_resource_policy(
            _tls_only(self.bucket, [account_root, iam.ServicePrincipal(PERSONALIZE)])
        )
        self.log_bucket.add_to_resource_policy(
            _tls_only(self.log_bucket, [account_root, iam.ServicePrincipal("logging.s3.amazonaws.com")])
        )
        # No DependsOn from the data bucket to the log bucket's policy: that policy's logging
        # statement names the data bucket (aws:SourceArn), so the order is fixed by CloudFormation
        # and a DependsOn would be a cycle.
        # Personalize reads the data: GetObject on the objects, ListBucket on the bucket, and only on
        # behalf of this account (confused-deputy protection).
        source = {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {
                "aws:SourceArn": f"arn:{stack.partition}:personalize:{stack.region}:{stack.account}:*"
            },
        }
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="PersonalizeReadObjects",
                principals=[iam.ServicePrincipal(PERSONALIZE)],
                actions=["s3:GetObject"],
                resources=[self.bucket.arn_for_objects("*")],
                conditions=source,
            )
        )
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="PersonalizeListBucket",
                principals=[iam.ServicePrincipal(PERSONALIZE)],
                actions=["s3:ListBucket"],
                resources=[self.bucket.bucket_arn],
                conditions=source,
            )
        )
