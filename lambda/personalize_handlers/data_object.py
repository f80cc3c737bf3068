"""Custom::PersonalizeDataObject (properties: contract.DATA_OBJECT): copies one dataset source file
from where `cdk deploy` published it (a file asset in the bootstrap bucket) to its key in the data
bucket.

Replaces CDK's BucketDeployment for our one-file-per-dataset case: no AWS CLI layer, no zip, one
server-side s3:CopyObject (objects up to 5 GB, CopyObject's limit; a repo data file is far
smaller, bigger data belongs in S3 and is named by its s3:// URI in the config). S3 is strongly
read-after-write consistent, so the object is there when `on_event` returns and `is_complete`
answers at once.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .base import Ctx, Kind
from .clients import Api, error_code, error_message
from .common import failure
from .contract import DATA_OBJECT

_GONE = frozenset({"NoSuchBucket", "NoSuchKey", "404"})


def _uri(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"


class DataObject(Kind):
    spec = DATA_OBJECT
    arn_kind = "data-object"  # never a Personalize ARN: the physical id is the s3:// URI
    arn_key = ""
    result_key = ""
    name_prop = "Key"

    def _target(self, ctx: Ctx) -> tuple[str, str]:
        return self.prop(ctx, "Bucket"), self.prop(ctx, "Key")

    def _s3(self, ctx: Ctx) -> Api:
        return Api("s3", self.label, ctx.name)

    def on_event(self, ctx: Ctx) -> dict[str, Any]:
        event = ctx.event
        if event.request_type == "Delete":
            self._delete(ctx)
            return {"PhysicalResourceId": event.physical_id or event.logical_id}
        bucket, key = self._target(ctx)
        source_bucket = self.prop(ctx, "SourceBucket")
        source_key = self.prop(ctx, "SourceKey")
        self.prop(ctx, "RetainOnDelete")  # a bad value fails now, not at delete
        s3 = self._s3(ctx)
        try:
            # Server side; the copy takes the data bucket's default encryption (SSE-S3 or SSE-KMS).
            copied = s3("copy_object", CopySource={"Bucket": source_bucket, "Key": source_key},
                        Bucket=bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise failure(self.label, ctx.name, "CopyObject",
                          f"{_uri(source_bucket, source_key)} -> {_uri(bucket, key)}: "
                          f"{error_message(exc)}") from exc
        # A new bucket or key is a new physical id: CloudFormation then deletes the old object.
        return {
            "PhysicalResourceId": _uri(bucket, key),
            "Data": {
                "Bucket": bucket,
                "Key": key,
                "Uri": _uri(bucket, key),
                "ETag": str(copied.get("CopyObjectResult", {}).get("ETag", "")).strip('"'),
            },
        }

    def is_complete(self, ctx: Ctx) -> dict[str, Any]:
        """The copy (or delete) finished inside on_event: S3 is read-after-write consistent."""
        return {"IsComplete": True}

    def _delete(self, ctx: Ctx) -> None:
        if self.prop(ctx, "RetainOnDelete"):
            return
        bucket, key = ctx.props.get("Bucket"), ctx.props.get("Key")
        if not bucket or not key:
            return  # never created (a Create that failed its own property checks)
        try:
            self._s3(ctx)("delete_object", Bucket=str(bucket), Key=str(key))
        except ClientError as exc:
            if error_code(exc) in _GONE:
                return
            raise failure(self.label, ctx.name, "DeleteObject",
                          f"{_uri(str(bucket), str(key))}: {error_message(exc)}") from exc
