"""Uploads a dataset's local source file to its own prefix in the data bucket."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

#: Every uploaded dataset lives under this prefix (the service role may read only there).
DATA_PREFIX = "datasets/"


class DatasetUpload(Construct):
    """A BucketDeployment of exactly one file to `datasets/<type>/`; exposes `deployment`, `key`
    (the object key) and `data_location` (the s3:// URI for the import job)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket: s3.IBucket,
        source: Path,
        dataset_type: str,
        retain: bool,
        log_group: logs.ILogGroup,
    ) -> None:
        super().__init__(scope, id)
        prefix = f"{DATA_PREFIX}{dataset_type}/"
        self.key = prefix + source.name
        # The asset is the source's directory with everything but the one file excluded, so the
        # zip (and its hash) holds only that file.
        self.deployment = s3deploy.BucketDeployment(
            self,
            "Deploy",
            destination_bucket=bucket,
            destination_key_prefix=prefix,
            sources=[s3deploy.Source.asset(str(source.parent), exclude=["*", f"!{source.name}"])],
            prune=True,
            retain_on_delete=retain,  # a retained environment keeps its data
            memory_limit=1024,
            ephemeral_storage_size=cdk.Size.gibibytes(10),
            log_group=log_group,
        )
        self.data_location = cdk.Fn.join("", ["s3://", bucket.bucket_name, "/", self.key])
