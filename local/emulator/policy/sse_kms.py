"""What S3 asks KMS on the caller's behalf for an SSE-KMS object: reading one needs kms:Decrypt on
its key, writing one (PutObject, the target of CopyObject) kms:GenerateDataKey on the key the object
gets (the request's `x-amz-server-side-encryption-aws-kms-key-id`, else the bucket's default).

Sources:
- S3 User Guide, "Using server-side encryption with AWS KMS keys (SSE-KMS)",
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html: "To upload an object
  encrypted with an AWS KMS key to Amazon S3, you need kms:GenerateDataKey permissions on the key. To
  download an object encrypted with an AWS KMS key, you need kms:Decrypt permissions."
- The encryption context S3 sends is the object's ARN, or the bucket's with an S3 Bucket Key
  (same guide, "Encryption context"); KMS's `kms:ViaService` is `s3.<region>.amazonaws.com`
  (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service).
- The key policy decides with the caller's IAM policies: it must allow the caller, or delegate to the
  account whose IAM policies then allow it (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html,
  https://docs.aws.amazon.com/kms/latest/developerguide/control-access.html).

Not checked: an object under the AWS managed key `aws/s3` (no key id: its key policy lets every
principal of the account use it through S3), multipart uploads' extra kms:Decrypt, DSSE-KMS beyond
the same two actions.
"""

from __future__ import annotations

from local.emulator import moto_internals
from local.emulator.policy.requests import Check

READS = ("s3:GetObject", "s3:GetObjectVersion")
WRITES = ("s3:PutObject",)
KEY_ID_HEADER = "x-amz-server-side-encryption-aws-kms-key-id"
ALGORITHM_HEADER = "x-amz-server-side-encryption"


def _object(resource: str) -> tuple[str, str] | None:
    """(bucket, key) of an object ARN `arn:<partition>:s3:::bucket/key`."""
    path = resource.split(":::", 1)[-1]
    bucket, _, key = path.partition("/")
    return (bucket, key) if bucket and key else None


def decrypt(account: str, region: str, bucket: str, key: str) -> Check | None:
    """kms:Decrypt on the key of an SSE-KMS object, as S3 asks it when the object is read; None
    when the object is not under a customer key (or does not exist: S3 answers that itself)."""
    found = moto_internals.object_encryption(account, bucket, key)
    if found is None or not found.kms or not found.key_id:
        return None
    return _check("kms:Decrypt", found.key_id, account, region, bucket, key, found.bucket_key)


def generate_data_key(account: str, region: str, bucket: str, key: str,
                      headers: dict[str, str] | None = None) -> Check | None:
    """kms:GenerateDataKey on the key a new object of `bucket` is encrypted with; None when it is
    not a customer key."""
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    algorithm, key_id = headers.get(ALGORITHM_HEADER), headers.get(KEY_ID_HEADER)
    default = moto_internals.bucket_encryption(account, bucket)
    if not algorithm and default is not None:
        algorithm, key_id = default.algorithm, key_id or default.key_id
    if not algorithm or not algorithm.startswith("aws:kms") or not key_id:
        return None
    return _check("kms:GenerateDataKey", key_id, account, region, bucket, key,
                  bool(default and default.bucket_key))


def _check(action: str, key_id: str, account: str, region: str, bucket: str, key: str,
           bucket_key: bool) -> Check:
    found = moto_internals.kms_key(account, region, key_id)
    arn = found.arn if found else key_id
    context = {
        "kms:viaservice": f"s3.{region}.amazonaws.com",
        "kms:calleraccount": account,
        "kms:encryptioncontext:aws:s3:arn": f"arn:aws:s3:::{bucket}" + ("" if bucket_key else f"/{key}"),
    }
    return Check(action, arn, context, ("kms", key_id))


def checks_for(s3_checks: list[Check], account: str, region: str, headers: dict[str, str]) -> list[Check]:
    """The KMS checks S3 makes for a request that needs `s3_checks` (reads and writes of objects)."""
    found: list[Check] = []
    for check in s3_checks:
        target = _object(check.resource)
        if target is None:
            continue
        extra = None
        if check.action in READS:
            extra = decrypt(account, region, *target)
        elif check.action in WRITES:
            extra = generate_data_key(account, region, *target, headers=headers)
        if extra is not None:
            found.append(extra)
    return found
