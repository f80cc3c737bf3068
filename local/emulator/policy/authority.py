"""The local world's IAM: who makes a request, which policies apply, and the decision.

- The caller is told from the request's credentials, as AWS does: a Lambda the runner invokes holds
  its execution role's session credentials (STS AssumeRole in moto), and the access key id leads to
  that session. Requests signed with any other key (the person deploying, CloudFormation itself,
  tests, the AWS CLI against `serve`) are the account's administrator and are not evaluated.
- A role's identity policies are read from moto's IAM as the template created them (inline and
  attached managed), compiled once per text; resource policies are the bucket policy (S3) and the
  key policy (KMS); trust policies decide AssumeRole.
- The service's own calls (Personalize reading S3 with its service role, using a KMS key) go
  through `assume()` and `authorize()` with the request context the service sends
  (aws:SourceAccount, aws:SourceArn).

Every denial names the action, the resource and the caller (its role), in AWS's wording.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from local.emulator import moto_internals
from local.emulator.policy.evaluation import (
    Decision,
    Policy,
    Principal,
    Verdict,
    compile_document,
    decide,
    denial_message,
)
from local.emulator.policy.requests import Check

SERVICE = "personalize.amazonaws.com"


class Denied(Exception):
    """A request IAM refuses: `message` is what the service answers."""

    def __init__(self, message: str, check: Check | None = None, principal: Principal | None = None,
                 verdict: Verdict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.check = check
        self.principal = principal
        self.verdict = verdict


def identity_policies(account: str, role_arn: str) -> list[Policy] | None:
    """A role's identity policies, compiled (None: no such role)."""
    found = moto_internals.role_documents(account, role_arn)
    if found is None:
        return None
    return [compile_document(text, name) for name, text in found.identity]


def trust_policy(account: str, role_arn: str) -> Policy | None:
    found = moto_internals.role_documents(account, role_arn)
    return None if found is None else compile_document(found.trust, f"trust policy of {role_arn}")


def global_context(principal: Principal, region: str, now: float | None = None) -> dict[str, Any]:
    """The global condition keys of a request (IAM User Guide, "AWS global condition context keys":
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
    Every request is TLS (boto3 uses HTTPS). Keys are lower-case."""
    moment = time.time() if now is None else now
    context: dict[str, Any] = {
        "aws:securetransport": "true",
        "aws:principalaccount": principal.account,
        "aws:requestedregion": region,
        "aws:currenttime": datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:epochtime": str(int(moment)),
    }
    if principal.service:
        context["aws:principalservicename"] = principal.service
        context["aws:principalisawsservice"] = "true"
    else:
        context["aws:principalarn"] = principal.role_arn or principal.arn
        context["aws:principaltype"] = "AssumedRole"
        context["aws:principalisawsservice"] = "false"
    return context


def _resource_policy(account: str, region: str, check: Check) -> tuple[Policy | None, str, str]:
    """(policy, resource ARN, mode) of the resource policy a check names."""
    if check.resource_policy is None:
        return None, check.resource, "same-account"
    kind, name = check.resource_policy
    if kind == "s3":
        try:
            document = moto_internals.bucket_policy(account, name)
        except LookupError:
            return None, check.resource, "same-account"
        policy = compile_document(document, f"bucket policy of {name}") if document else None
        return policy, check.resource, "same-account"
    if kind == "kms":
        key = moto_internals.kms_key(account, region, name)
        if key is None:
            raise LookupError(name)
        return compile_document(key.policy, f"key policy of {key.arn}"), key.arn, "key-policy"
    raise ValueError(f"unknown resource policy kind {kind}")


def authorize(principal: Principal, check: Check, region: str, now: float | None = None,
              identity: list[Policy] | None = None) -> Verdict:
    """The decision for one check (identity policies read from the principal's role unless given)."""
    account = principal.account
    if identity is None:
        identity = identity_policies(account, principal.role_arn) if principal.role_arn else []
    context = {**global_context(principal, region, now), **check.context}
    policy, resource, mode = _resource_policy(account, region, check)
    return decide(check.action, resource, context, principal=principal, identity=identity or [],
                  resource_policy=policy, mode=mode)


def require(principal: Principal, check: Check, region: str, now: float | None = None,
            identity: list[Policy] | None = None) -> None:
    """Raise Denied (AWS's message) unless the check passes."""
    verdict = authorize(principal, check, region, now, identity)
    if not verdict.allowed:
        resource = check.resource
        if check.resource_policy and check.resource_policy[0] == "kms":
            key = moto_internals.kms_key(principal.account, region, check.resource_policy[1])
            resource = key.arn if key else resource
        raise Denied(denial_message(principal, check.action, resource, verdict), check, principal, verdict)


def assume(role_arn: str, service: str, context: dict[str, Any], session_name: str,
           now: float | None = None) -> Principal:
    """A service assumes `role_arn`: its trust policy must allow `service` sts:AssumeRole with this
    request context (IAM: "role trust policies ... must explicitly allow access for principals").
    Returns the session principal; raises Denied naming the role."""
    account = role_arn.split(":")[4]
    trust = trust_policy(account, role_arn)
    if trust is None:
        raise Denied(f"role {role_arn} does not exist")
    caller = Principal.of_service(service, account)
    full = {**global_context(caller, "", now), **{k.lower(): v for k, v in context.items()}}
    verdict = decide("sts:AssumeRole", role_arn, full, principal=caller, resource_policy=trust, mode="trust")
    if not verdict.allowed:
        raise Denied(f"{service} is not authorized to perform: sts:AssumeRole on resource: {role_arn} "
                     f"(the role's trust policy does not allow it"
                     + (f" with aws:SourceAccount {context.get('aws:SourceAccount')} and aws:SourceArn "
                        f"{context.get('aws:SourceArn')}" if context.get("aws:SourceArn") else "")
                     + ")", verdict=verdict)
    return Principal.session(role_arn, session_name)


# --------------------------------------------------------------------------------------------------
# the World's part: callers by access key, enforcement, statistics
# --------------------------------------------------------------------------------------------------
@dataclass
class Iam:
    """Held by the World: whether requests are evaluated, the callers seen, and the decisions."""

    enforced: bool = True
    decisions: Counter[str] = field(default_factory=Counter)
    _callers: dict[str, Principal | None] = field(default_factory=dict)

    def caller(self, access_key_id: str | None) -> Principal | None:
        """The role session that holds this access key id; None for any other caller."""
        if not access_key_id:
            return None
        if access_key_id not in self._callers:
            session = moto_internals.assumed_role(access_key_id)
            self._callers[access_key_id] = (
                Principal.session(session.role_arn, session.session_name) if session else None)
        return self._callers[access_key_id]

    def check(self, principal: Principal, checks: list[Check], region: str, now: float | None = None) -> None:
        """Every check must pass; raise Denied for the first that does not."""
        identity = identity_policies(principal.account, principal.role_arn) if principal.role_arn else []
        for check in checks:
            try:
                require(principal, check, region, now, identity)
            except LookupError:
                continue  # a key that does not exist: the service answers NotFound itself
            except Denied:
                self.decisions[f"deny {check.action}"] += 1
                raise
            self.decisions[f"allow {check.action}"] += 1

    def __getstate__(self) -> dict[str, Any]:
        return {"enforced": self.enforced, "decisions": self.decisions}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.enforced = state["enforced"]
        self.decisions = state["decisions"]
        self._callers = {}


def is_denied(verdict: Verdict) -> bool:
    return verdict.decision is not Decision.ALLOW
