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
from personalize_constructs.resources import PersonalizeResource

#: Every uploaded dataset lives under this prefix (the service role may read only there).
DATA_PREFIX = "datasets/"


def data_object(
    scope: Construct,
    id: str,
    *,
    source: Path,
    bucket: s3.IBucket,
    key: str,
    service_token: str,
    retain: bool,
) -> tuple[s3_assets.Asset, PersonalizeResource]:
    """The file asset `Source` of `source` and the `Custom::PersonalizeDataObject` `id` that copies it
    to `bucket`/`key`; the caller grants the copy (provider.data_object_statements)."""
    asset = s3_assets.Asset(scope, "Source", path=str(source))
    resource = PersonalizeResource(
        scope,
        id,
        kind="DataObject",
        service_token=service_token,
        properties={
            "Bucket": bucket.bucket_name,
            "Key": key,
            "SourceBucket": asset.s3_bucket_name,
            "SourceKey": asset.s3_object_key,
            "RetainOnDelete": "true" if retain else "false",  # a retained environment keeps its data
        },
    )
    return asset, resource


class DatasetUpload(Construct):
    """One file to `datasets/<type>/<file name>`; exposes `asset`, `resource` (the custom
    resource: what the import job depends on), `key` (the object key) and `data_location` (the
    s3:// URI for the import job)."""

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
        self.asset, self.resource = data_object(
            self,
            "Object",
            source=source,
            bucket=bucket,
            key=self.key,
            service_token=provider.service_token,
            retain=retain,
        )
        provider.grant_data_object(
            label=id,
            source_object_arn=self.asset.bucket.arn_for_objects(self.asset.s3_object_key),
            bucket=bucket,
            prefix=prefix,
        )
        self.data_location = cdk.Fn.join("", ["s3://", bucket.bucket_name, "/", self.key])
