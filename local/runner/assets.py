"""What `cdk deploy` does with the cloud assembly's assets, and where function code is kept.

`cdk deploy` publishes each asset to the bootstrap bucket before the stack operation, and the
objects stay there. Locally, `file` assets (a file used as is, e.g. a dataset's CSV that
Custom::PersonalizeDataObject copies) are put into that bucket in moto; directory (`zip`) assets
(function code, BucketDeployment sources) are read from cdk.out and copied into the store
(`published/<hash>`) the first time a deploy uses them, so a rollback or a later delete that needs
an asset the current cdk.out no longer has still finds it.
"""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from local.runner.assembly import StackArtifact
from local.runner.resources import ResourceFailed
from local.runner.state import StackStore


class Assets:
    """The assets of one stack operation: `artifact` is None when there is no cloud assembly
    (destroy), and then only what earlier deploys published is found."""

    def __init__(self, store: StackStore, artifact: StackArtifact | None) -> None:
        self.store = store
        self.artifact = artifact

    def published(self, key: str) -> Path:
        """A directory with the asset's files for an S3 key of the bootstrap bucket."""
        asset_hash = key.split(".", 1)[0]
        if self.artifact is not None and key in self.artifact.assets:
            source = self.artifact.asset_dir(key, self.store.root / "unzipped")
            return self.store.keep_code(source, asset_hash, folder="published")
        kept = self.store.root / "published" / asset_hash
        if kept.is_dir():
            return kept
        raise ResourceFailed(
            f"asset {key} is neither in the cloud assembly nor published by an earlier deploy"
        )

    def function_code(self, logical_id: str, code: dict[str, Any], runtime: str) -> Path | None:
        """Where a function's code lives (a copy kept in the store, as Lambda keeps it)."""
        if "ImageUri" in code:
            raise ResourceFailed(f"{logical_id}: container image functions are not emulated")
        if "ZipFile" in code:
            key = hashlib.sha256(str(code["ZipFile"]).encode()).hexdigest()[:32]
            target = self.store.root / "lambda-code" / key
            target.mkdir(parents=True, exist_ok=True)
            (target / "index.py").write_text(str(code["ZipFile"]))
            return target
        if "S3Key" not in code:
            raise ResourceFailed(f"{logical_id}: Code needs S3Bucket/S3Key or ZipFile")
        if not runtime.startswith("python"):
            return None  # recorded only: never run
        return self.published(str(code["S3Key"]))


def publish_file_assets(artifact: StackArtifact, s3: Any, account: str, region: str, partition: str) -> None:
    """Upload each `file` asset to the bootstrap bucket its manifest names (created here the first
    time: the bootstrap stack is not emulated), skipping objects already there."""
    made: set[str] = set()
    for asset in artifact.assets.values():
        if asset.packaging != "file" or not asset.bucket_name:
            continue
        bucket = (
            asset.bucket_name.replace("${AWS::AccountId}", account)
            .replace("${AWS::Region}", region)
            .replace("${AWS::Partition}", partition)
        )
        if bucket not in made:
            with contextlib.suppress(ClientError):  # BucketAlreadyOwnedByYou: bootstrapped before
                if region == "us-east-1":
                    s3.create_bucket(Bucket=bucket)
                else:
                    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
            made.add(bucket)
        try:
            s3.head_object(Bucket=bucket, Key=asset.object_key)
            continue  # content-addressed: same key, same bytes
        except ClientError:
            pass
        s3.put_object(Bucket=bucket, Key=asset.object_key, Body=asset.path.read_bytes())
