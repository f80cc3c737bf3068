"""Can the Personalize service read this S3 location with this role? Evaluated on moto's IAM and S3.

Simplified IAM evaluation, enough to tell a working setup from a broken one (documented in
docs/local-personalize.md):
- the role must exist and its trust policy must allow `personalize.amazonaws.com` to
  `sts:AssumeRole`, with its conditions (StringEquals/StringLike/ArnEquals/ArnLike and their
  negations on aws:SourceAccount and aws:SourceArn) true for this account and this import job;
- the role's identity policies (inline and attached managed) must allow `s3:GetObject` on each
  object and `s3:ListBucket` on the bucket, and the bucket policy must allow the service principal
  (or the role) the same, as the Personalize guide asks for both; an explicit Deny in either wins.
  Requests are made over TLS (aws:SecureTransport is true), so a TLS-only deny does not bite.
Condition keys not listed above make the statement not apply (an Allow then does not grant).
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from typing import Any

SERVICE_PRINCIPAL = "personalize.amazonaws.com"


@dataclass(frozen=True)
class Request:
    """One S3 permission the import needs."""

    action: str
    resource: str


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _glob(pattern: str, value: str, case: bool = True) -> bool:
    if not case:
        pattern, value = pattern.lower(), value.lower()
    # IAM wildcards: * and ?; fnmatch's [..] classes do not exist in IAM, escape them.
    pattern = pattern.replace("[", "[[]")
    return fnmatch.fnmatchcase(value, pattern)


def _conditions_hold(conditions: dict[str, Any] | None, context: dict[str, str]) -> bool:
    """All condition blocks hold (unknown operators or keys: the statement does not apply)."""
    for operator, block in (conditions or {}).items():
        op = operator.removesuffix("IfExists")
        for key, expected in block.items():
            actual = context.get(key) if key in context else context.get(key.lower())
            values = [str(v) for v in _as_list(expected)]
            if actual is None:
                if operator.endswith("IfExists"):
                    continue
                return False
            if op in ("StringEquals", "ArnEquals"):
                ok = actual in values
            elif op == "StringEqualsIgnoreCase":
                ok = actual.lower() in (v.lower() for v in values)
            elif op in ("StringLike", "ArnLike"):
                ok = any(_glob(v, actual) for v in values)
            elif op in ("StringNotEquals", "ArnNotEquals"):
                ok = actual not in values
            elif op in ("StringNotLike", "ArnNotLike"):
                ok = not any(_glob(v, actual) for v in values)
            elif op == "Bool":
                ok = actual.lower() in (v.lower() for v in values)
            else:
                return False
            if not ok:
                return False
    return True


def _principal_matches(principal: Any, principals: set[str]) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    for kind in ("Service", "AWS"):
        for value in _as_list(principal.get(kind)):
            if value == "*" or value in principals:
                return True
    return False


def _statement_matches(stmt: dict[str, Any], request: Request, context: dict[str, str],
                       principals: set[str] | None) -> bool:
    if principals is not None:
        if "Principal" in stmt and not _principal_matches(stmt["Principal"], principals):
            return False
        if "NotPrincipal" in stmt:
            return False
    actions = _as_list(stmt.get("Action"))
    if "NotAction" in stmt:
        if any(_glob(a, request.action, case=False) for a in _as_list(stmt["NotAction"])):
            return False
    elif not any(_glob(a, request.action, case=False) for a in actions):
        return False
    if "NotResource" in stmt:
        if any(_glob(r, request.resource) for r in _as_list(stmt["NotResource"])):
            return False
    elif not any(_glob(r, request.resource) for r in _as_list(stmt.get("Resource"))):
        return False
    return _conditions_hold(stmt.get("Condition"), context)


def evaluate(documents: list[dict[str, Any]], request: Request, context: dict[str, str],
             principals: set[str] | None = None) -> str:
    """'deny' (explicit), 'allow', or 'none' (implicit deny) for `request` under `documents`."""
    allowed = False
    for document in documents:
        for stmt in _as_list(document.get("Statement")):
            if not _statement_matches(stmt, request, context, principals):
                continue
            if stmt.get("Effect") == "Deny":
                return "deny"
            if stmt.get("Effect") == "Allow":
                allowed = True
    return "allow" if allowed else "none"


def _load(document: Any) -> dict[str, Any]:
    if isinstance(document, dict):
        return document
    if isinstance(document, bytes):
        document = document.decode()
    from urllib.parse import unquote

    text = str(document)
    if text.startswith("%7B") or text.startswith("%7b"):
        text = unquote(text)
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def role_documents(role: Any) -> list[dict[str, Any]]:
    """The identity policies of a moto IAM role: inline and attached managed (default version)."""
    documents = [_load(doc) for doc in role.policies.values()]
    for policy in role.managed_policies.values():
        document = getattr(policy, "document", None)
        if document is None:
            version = next((v for v in policy.versions if v.is_default), None)
            document = version.document if version else None
        if document is not None:
            documents.append(_load(document))
    return documents


def check_import_access(account: str, region: str, role_arn: str | None, bucket: str, keys: list[str],
                        source_arn: str) -> str | None:
    """Why Personalize could not read `keys` of `bucket` with `role_arn`, or None when it can.

    The message names the role or bucket and the policy to fix, as the person deploying needs."""
    from moto.iam.models import iam_backends
    from moto.s3.models import s3_backends

    if not role_arn:
        return "Insufficient privileges for accessing data in Amazon S3: no roleArn was given"
    iam = iam_backends[account]["global"]
    role = next((r for r in iam.get_roles() if r.arn == role_arn), None)
    if role is None:
        return f"Insufficient privileges for accessing data in Amazon S3: role {role_arn} does not exist"
    context = {"aws:SourceAccount": account, "aws:SourceArn": source_arn, "aws:SecureTransport": "true",
               "aws:PrincipalArn": role_arn}
    trust = _load(role.assume_role_policy_document)
    if evaluate([trust], Request("sts:AssumeRole", "*"), context, {SERVICE_PRINCIPAL}) != "allow":
        # trust policies have no Resource: treat a missing Resource as matching
        trust_fixed = {"Statement": [dict(s, Resource=s.get("Resource", "*"))
                                     for s in _as_list(trust.get("Statement"))]}
        if evaluate([trust_fixed], Request("sts:AssumeRole", "*"), context, {SERVICE_PRINCIPAL}) != "allow":
            return (f"Insufficient privileges for accessing data in Amazon S3: role {role_arn} cannot be "
                    f"assumed by {SERVICE_PRINCIPAL} (fix the role's trust policy: allow sts:AssumeRole for "
                    f"the service, with aws:SourceAccount {account} and aws:SourceArn matching {source_arn})")
    s3 = s3_backends[account]["aws"]
    try:
        found = s3.get_bucket(bucket)
    except Exception:
        return f"Insufficient privileges for accessing data in Amazon S3: bucket {bucket} does not exist"
    bucket_documents = [_load(found.policy)] if found.policy else []
    identity = role_documents(role)
    requests = [Request("s3:ListBucket", f"arn:aws:s3:::{bucket}")]
    requests += [Request("s3:GetObject", f"arn:aws:s3:::{bucket}/{key}") for key in keys]
    principals = {SERVICE_PRINCIPAL, role_arn, f"arn:aws:iam::{account}:root", account}
    for request in requests:
        by_role = evaluate(identity, request, context)
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
