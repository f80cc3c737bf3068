"""What Personalize itself does with the role a caller passed it: read (or write) S3, use a KMS key.
Evaluated with local.emulator.policy (the IAM User Guide's evaluation logic) on moto's IAM, S3 and
KMS, with the request context Personalize sends.

- Personalize assumes the role: the role's trust policy must allow `personalize.amazonaws.com`
  sts:AssumeRole with aws:SourceAccount (this account) and aws:SourceArn (the job or dataset group
  ARN) in the context (https://docs.aws.amazon.com/personalize/latest/dg/cross-service-confused-deputy-prevention.html).
- Reads: s3:ListBucket on the bucket with s3:prefix (a folder source is listed first), then
  s3:GetObject on each object (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html);
  batch outputs: s3:PutObject on each output object. Each is a request of the role session:
  allowed by the role's identity policy or a bucket-policy statement naming the role, denied by an
  explicit Deny in either (same account).
- The bucket policy must also allow the service principal (the Personalize guide asks for both a
  role policy and a bucket policy: https://docs.aws.amazon.com/personalize/latest/dg/granting-personalize-s3-access.html;
  which principal makes which request is not documented, so both are checked:
  `SERVICE_NEEDS_BUCKET_POLICY`), with aws:SourceAccount / aws:SourceArn in the context, so the
  bucket policy's confused-deputy conditions and its TLS-only Deny are evaluated.
- An SSE-KMS object (the bucket's default key, or the key it was written with): reading it needs
  kms:Decrypt on its key, writing one kms:GenerateDataKey, for the role session, allowed by the role's
  policy and the key policy (S3's SSE-KMS guide; local.emulator.policy.sse_kms). Checked for the
  role only: which principal S3 asks KMS for is the requester's, and Personalize reads as the role.
- A dataset group's KMS key (https://docs.aws.amazon.com/personalize/latest/dg/granting-personalize-key-access.html):
  the role needs kms:Decrypt, GenerateDataKey, DescribeKey and ListGrants, each allowed by the key
  policy (directly, or by delegating to the account and then the role's policy), and kms:CreateGrant
  for the role (the same way) or for the service principal in the key policy.
"""

from __future__ import annotations

from local.emulator import moto_internals
from local.emulator.policy import sse_kms
from local.emulator.policy.authority import Denied, assume, authorize, require
from local.emulator.policy.evaluation import Principal
from local.emulator.policy.requests import Check

SERVICE_PRINCIPAL = "personalize.amazonaws.com"
#: the bucket policy must allow the service principal too (documented choice, see the docstring)
SERVICE_NEEDS_BUCKET_POLICY = True
#: what the role must be allowed on a dataset group's key, and what the key policy alone must grant
KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:ListGrants")
KEY_POLICY_ONLY = ("kms:CreateGrant",)
S3_PREFIX = "Insufficient privileges for accessing data in Amazon S3"


def _context(account: str, source_arn: str) -> dict[str, str]:
    return {"aws:sourceaccount": account, "aws:sourcearn": source_arn}


def _session(account: str, role_arn: str | None, source_arn: str) -> Principal:
    """Personalize assumes the role (trust policy with the confused-deputy keys); Denied if not."""
    if not role_arn:
        raise Denied("no roleArn was given")
    context = {"aws:SourceAccount": account, "aws:SourceArn": source_arn}
    return assume(role_arn, SERVICE_PRINCIPAL, context, "Personalize")


def _s3_checks(session: Principal, account: str, region: str, bucket: str, checks: list[Check],
               source_arn: str) -> str | None:
    try:
        for check in checks:
            require(session, check, region)
            if SERVICE_NEEDS_BUCKET_POLICY:
                service = Principal.of_service(SERVICE_PRINCIPAL, account)
                context = {**check.context, **_context(account, source_arn)}
                as_service = Check(check.action, check.resource, context, check.resource_policy)
                if not authorize(service, as_service, region, identity=[]).allowed:
                    return (f"AccessDenied: the bucket policy of {bucket} does not allow {SERVICE_PRINCIPAL} "
                            f"(acting with role {session.role_arn}) {check.action} on {check.resource} "
                            f"with aws:SourceArn {source_arn} (fix the bucket policy)")
    except Denied as denied:
        verdict = denied.verdict
        where = "the bucket policy" if verdict and verdict.policy_type == "resource-based" else \
            "the service role's policy"
        return f"AccessDenied: {denied.message} (fix {where})"
    return _key_checks(session, account, region, checks)


def _key_checks(session: Principal, account: str, region: str, checks: list[Check]) -> str | None:
    """S3's use of each SSE-KMS object's key for the role session (kms:Decrypt to read one,
    kms:GenerateDataKey to write one), decided by the role's policy and the key policy."""
    for check in sse_kms.checks_for(checks, account, region, {}):
        try:
            require(session, check, region)
        except LookupError:
            return f"AccessDenied: the KMS key {check.resource} of the object does not exist"
        except Denied as denied:
            verdict = denied.verdict
            where = "the key policy" if verdict and verdict.policy_type == "resource-based" else \
                "the service role's policy"
            return f"AccessDenied: {denied.message} (the object is SSE-KMS encrypted; fix {where})"
    return None


def check_import_access(account: str, region: str, role_arn: str | None, bucket: str, keys: list[str],
                        source_arn: str, prefix: str | None = None) -> str | None:
    """Why Personalize could not list `prefix` and read `keys` of `bucket` with `role_arn`, or None."""
    try:
        session = _session(account, role_arn, source_arn)
    except Denied as denied:
        return f"{S3_PREFIX}: {denied.message}"
    try:
        moto_internals.bucket_policy(account, bucket)
    except LookupError:
        return f"{S3_PREFIX}: bucket {bucket} does not exist"
    policy = ("s3", bucket)
    listing = {"s3:prefix": prefix} if prefix is not None else {}
    checks = [Check("s3:ListBucket", f"arn:aws:s3:::{bucket}", listing, policy)]
    checks += [Check("s3:GetObject", f"arn:aws:s3:::{bucket}/{key}", {}, policy) for key in keys]
    problem = _s3_checks(session, account, region, bucket, checks, source_arn)
    return f"{S3_PREFIX}: {problem}" if problem else None


def check_write_access(account: str, role_arn: str, bucket: str, key: str, source_arn: str,
                       region: str = "us-east-1") -> str | None:
    """Why Personalize could not write `key` into `bucket` with `role_arn` (a batch job's output)."""
    try:
        session = _session(account, role_arn, source_arn)
    except Denied as denied:
        return f"Insufficient privileges for writing the output to Amazon S3: {denied.message}"
    check = Check("s3:PutObject", f"arn:aws:s3:::{bucket}/{key}", {}, ("s3", bucket))
    problem = _s3_checks(session, account, region, bucket, [check], source_arn)
    return f"Insufficient privileges for writing the output to Amazon S3: {problem}" if problem else None


def check_key_access(account: str, region: str, role_arn: str | None, key_arn: str,
                     source_arn: str) -> str | None:
    """Why Personalize could not use a dataset group's KMS key with `role_arn`, or None."""
    key = moto_internals.kms_key(account, region, key_arn)
    if key is None:
        return f"KMS key {key_arn} does not exist"
    if not key.enabled:
        return f"KMS key {key_arn} is disabled"
    try:
        session = _session(account, role_arn, source_arn)
        for action in KEY_ACTIONS:
            require(session, Check(action, key.arn, {}, ("kms", key.arn)), region)
    except Denied as denied:
        return f"Insufficient privileges to use the KMS key: {denied.message}"
    service = Principal.of_service(SERVICE_PRINCIPAL, account)
    for action in KEY_POLICY_ONLY:
        check = Check(action, key.arn, _context(account, source_arn), ("kms", key.arn))
        by_role = authorize(session, check, region)
        by_service = authorize(service, check, region, identity=[])
        if not (by_role.allowed or by_service.allowed):
            return (f"Insufficient privileges to use the KMS key: the key policy of {key.arn} grants "
                    f"{action} to neither {role_arn} nor {SERVICE_PRINCIPAL} (fix the key policy)")
    return None
