"""Can the Personalize service read (or write) this S3 location with this role? Evaluated on moto's
IAM and S3 with local.emulator.policy.

Enough of IAM to tell a working setup from a broken one (documented in docs/local-personalize.md):
- the role must exist and its trust policy must allow `personalize.amazonaws.com` to
  `sts:AssumeRole`, with its conditions (StringEquals/StringLike/ArnEquals/ArnLike and their
  negations on aws:SourceAccount and aws:SourceArn) true for this account and this job;
- the role's identity policies (inline and attached managed) must allow `s3:GetObject` on each
  object and `s3:ListBucket` on the bucket (`s3:PutObject` on each output object for a batch job),
  and the bucket policy must allow the service principal (or the role) the same, as the
  Personalize guide asks for both; an explicit Deny in either wins.
  Requests are made over TLS (aws:SecureTransport is true), so a TLS-only deny does not bite.
Condition keys not listed above make the statement not apply (an Allow then does not grant).
"""

from __future__ import annotations

from local.emulator import moto_internals
from local.emulator.policy import Request, as_list, evaluate

SERVICE_PRINCIPAL = "personalize.amazonaws.com"


def _context(account: str, role_arn: str, source_arn: str) -> dict[str, str]:
    return {"aws:SourceAccount": account, "aws:SourceArn": source_arn, "aws:SecureTransport": "true",
            "aws:PrincipalArn": role_arn}


def check_import_access(account: str, region: str, role_arn: str | None, bucket: str, keys: list[str],
                        source_arn: str) -> str | None:
    """Why Personalize could not read `keys` of `bucket` with `role_arn`, or None when it can.

    The message names the role or bucket and the policy to fix, as the person deploying needs."""
    if not role_arn:
        return "Insufficient privileges for accessing data in Amazon S3: no roleArn was given"
    role = moto_internals.role_policies(account, role_arn)
    if role is None:
        return f"Insufficient privileges for accessing data in Amazon S3: role {role_arn} does not exist"
    context = _context(account, role_arn, source_arn)
    trust = role.trust
    if evaluate([trust], Request("sts:AssumeRole", "*"), context, {SERVICE_PRINCIPAL}) != "allow":
        # trust policies have no Resource: treat a missing Resource as matching
        trust_fixed = {"Statement": [dict(s, Resource=s.get("Resource", "*"))
                                     for s in as_list(trust.get("Statement"))]}
        if evaluate([trust_fixed], Request("sts:AssumeRole", "*"), context, {SERVICE_PRINCIPAL}) != "allow":
            return (f"Insufficient privileges for accessing data in Amazon S3: role {role_arn} cannot be "
                    f"assumed by {SERVICE_PRINCIPAL} (fix the role's trust policy: allow sts:AssumeRole for "
                    f"the service, with aws:SourceAccount {account} and aws:SourceArn matching {source_arn})")
    try:
        policy = moto_internals.bucket_policy(account, bucket)
    except LookupError:
        return f"Insufficient privileges for accessing data in Amazon S3: bucket {bucket} does not exist"
    bucket_documents = [policy] if policy else []
    requests = [Request("s3:ListBucket", f"arn:aws:s3:::{bucket}")]
    requests += [Request("s3:GetObject", f"arn:aws:s3:::{bucket}/{key}") for key in keys]
    principals = {SERVICE_PRINCIPAL, role_arn, f"arn:aws:iam::{account}:root", account}
    for request in requests:
        by_role = evaluate(role.identity, request, context)
        by_bucket = evaluate(bucket_documents, request, context, principals)
        if by_role == "deny" or by_bucket == "deny":
            which = "role policy" if by_role == "deny" else "bucket policy"
            return (f"Insufficient privileges for accessing data in Amazon S3: AccessDenied: an explicit "
                    f"Deny in the {which} blocks {request.action} on {request.resource} for role {role_arn}")
        if by_role != "allow":
            return (f"Insufficient privileges for accessing data in Amazon S3: AccessDenied: role {role_arn} "
                    f"has no identity policy allowing {request.action} on {request.resource} "
                    f"(fix the service role's policy)")
        if by_bucket != "allow":
            return (f"Insufficient privileges for accessing data in Amazon S3: AccessDenied: the bucket "
                    f"policy of {bucket} does not allow {SERVICE_PRINCIPAL} (or role {role_arn}) "
                    f"{request.action} on "
                    f"{request.resource} (fix the bucket policy)")
    return None


def check_write_access(account: str, role_arn: str, bucket: str, key: str, source_arn: str) -> str | None:
    """Why Personalize could not write `key` into `bucket` with `role_arn` (a batch job's output),
    or None when it can: the role policy and the bucket policy must both allow s3:PutObject."""
    role = moto_internals.role_policies(account, role_arn)
    if role is None:
        return f"Insufficient privileges for accessing data in Amazon S3: role {role_arn} does not exist"
    policy = moto_internals.bucket_policy(account, bucket)
    context = _context(account, role_arn, source_arn)
    request = Request("s3:PutObject", f"arn:aws:s3:::{bucket}/{key}")
    by_role = evaluate(role.identity, request, context)
    by_bucket = evaluate([policy] if policy else [], request, context,
                         {SERVICE_PRINCIPAL, role_arn, f"arn:aws:iam::{account}:root", account})
    if by_role != "allow" or by_bucket != "allow":
        which = "role policy" if by_role != "allow" else "bucket policy"
        return (f"Insufficient privileges for writing the output to Amazon S3: the {which} does not allow "
                f"s3:PutObject on {request.resource} for role {role_arn}")
    return None
