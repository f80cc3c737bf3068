"""Uploads a dataset's local source file to its own prefix in the data bucket.

A CDK file asset (`cdk deploy` uploads the file itself to the bootstrap bucket, hashed by content)
and one `Custom::PersonalizeDataObject` that copies it server-side to `datasets/<type>/<file>`
(docs/handler-contract.md). Unlike CDK's BucketDeployment it needs no AWS CLI layer (a 22 MB asset
staged on every synth), no zip and no extra Lambda: the Provider's own handler does the copy.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from personalize_constructs.provider import PersonalizeProvider
from personalize_constructs.resources import cfn

#: Every uploaded dataset lives under this prefix (the service role may read only there).
DATA_PREFIX = "datasets/"
DATA_OBJECT_TYPE = "Custom::PersonalizeDataObject"


class DatasetUpload(Construct):
    """One file to `datasets/<type>/<file name>`; exposes `asset`, `resource` (the custom
    resource), `deployment` (its CfnResource: what the import job depends on), `key` (the object
    key) and `data_location` (the s3:// URI for the import job)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket: s3.IBucket,
        source: Path,
        dataset_type: str,
        retain: bool,
        provider: PersonalizeProvider,
    ) -> None:
        super().__init__(scope, id)
        prefix = f"{DATA_PREFIX}{dataset_type}/"
        self.key = prefix + source.name
        self.asset = s3_assets.Asset(self, "Source", path=str(source))
        source_bucket, source_key = self.asset.s3_bucket_name, self.asset.s3_object_key
        self.resource = cdk.CustomResource(
            self,
            "Object",
            service_token=provider.service_token,
            resource_type=DATA_OBJECT_TYPE,
            properties={
                "Bucket": bucket.bucket_name,
                "Key": self.key,
                "SourceBucket": source_bucket,
                "SourceKey": source_key,
                "RetainOnDelete": "true" if retain else "false",  # a retained environment keeps its data
            },
        )
        provider.grant_data_object(
            label=id,
            source_object_arn=self.asset.bucket.arn_for_objects(source_key),
            bucket=bucket,
            prefix=prefix,
        )
        self.deployment = cfn(self.resource)
        self.data_location = cdk.Fn.join("", ["s3://", bucket.bucket_name, "/", self.key])
