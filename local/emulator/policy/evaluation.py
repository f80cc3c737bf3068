"""IAM policy evaluation: does a request pass the policies that apply to it?

Written from the IAM User Guide, not from moto (whose `IAMPolicy` turns an unmet condition on an
Allow into a Deny and knows one operator), sections cited where each rule is coded:

- Policy evaluation logic:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html and
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
  "By default, all requests are implicitly denied ... An explicit allow in an identity-based or
  resource-based policy overrides this default ... An explicit deny in any policy overrides any
  allows." Within one account: "If either the identity-based policy or the resource-based policy
  within the same account allows the request and the other doesn't, the request is still allowed."
  Exceptions: "IAM role trust policies and KMS key policies ... must explicitly allow access for
  principals" (a key policy may delegate to the account, then IAM policies decide:
  https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html).
- Action: "The prefix and the action name are case insensitive"; `*` and `?` wildcards
  (reference_policies_elements_action.html); NotAction (reference_policies_elements_notaction.html).
- Resource / NotResource: ARNs with `*` and `?` within each part
  (reference_policies_elements_resource.html, reference_policies_elements_notresource.html).
- Principal / NotPrincipal in resource-based policies (reference_policies_elements_principal.html):
  `"*"`; an account id or `arn:aws:iam::<account>:root` (delegates to the account: the account's
  IAM policies must also allow); a role ARN (matches the role's sessions); an assumed-role session
  ARN; a service principal (`"Service": "personalize.amazonaws.com"`).
- Policy variables `${key}` in Resource and in string/ARN condition values, with `${key, 'default'}`
  and the special `${*}`, `${?}`, `${$}`; only in policies with Version 2012-10-17
  (reference_policies_variables.html). A variable whose key is absent and has no default makes that
  value match nothing.
- Conditions: local.emulator.policy.conditions.

Documents are compiled once per text (a role's policies change only when IAM stores a new text),
so evaluating on every call costs a few dict lookups and regex matches.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from local.emulator.policy.conditions import LITERAL, arn_like, glob, holds, parse_operator


def as_list(value: Any) -> list[Any]:
    """A policy field that may be one value or a list, as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def load_document(document: Any) -> dict[str, Any]:
    """A policy document as a dict, from a dict, JSON text or bytes, or URL-encoded JSON (as IAM
    stores documents it was given encoded)."""
    if isinstance(document, dict):
        return document
    if isinstance(document, bytes):
        document = document.decode()
    text = str(document)
    if text.startswith("%7B") or text.startswith("%7b"):
        text = unquote(text)
    loaded: dict[str, Any] = json.loads(text)
    return loaded


# --------------------------------------------------------------------------------------------------
# who asks
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Principal:
    """The caller: an assumed-role session (`arn`: arn:aws:sts::<account>:assumed-role/<role>/<session>,
    `role_arn` its role), or a service principal (`service`: personalize.amazonaws.com)."""

    arn: str
    account: str
    role_arn: str | None = None
    service: str | None = None

    @classmethod
    def session(cls, role_arn: str, session_name: str) -> Principal:
        partition, account = role_arn.split(":")[1], role_arn.split(":")[4]
        role_name = role_arn.split(":role/", 1)[1].rsplit("/", 1)[-1]
        return cls(f"arn:{partition}:sts::{account}:assumed-role/{role_name}/{session_name}", account,
                   role_arn=role_arn)

    @classmethod
    def of_service(cls, service: str, account: str) -> Principal:
        return cls(service, account, service=service)

    @property
    def label(self) -> str:
        return self.arn


class Match(enum.Enum):
    NONE = "none"
    ACCOUNT = "account"  # the account principal: delegates to the account's IAM policies
    DIRECT = "direct"  # the principal itself, `*`, or its service


def _principal_match(principal_element: Any, who: Principal) -> Match:
    if principal_element == "*":
        return Match.DIRECT
    if not isinstance(principal_element, dict):
        return Match.NONE
    best = Match.NONE
    for value in as_list(principal_element.get("Service")):
        if who.service is not None and value == who.service:
            return Match.DIRECT
    for value in as_list(principal_element.get("AWS")):
        value = str(value)
        if value == "*":
            return Match.DIRECT
        if who.service is not None:
            continue
        if value in (who.arn, who.role_arn):
            return Match.DIRECT
        if value == who.account or value == f"arn:{who.arn.split(':')[1]}:iam::{who.account}:root":
            best = Match.ACCOUNT
    return best


# --------------------------------------------------------------------------------------------------
# compiled documents
# --------------------------------------------------------------------------------------------------
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_SPECIAL = {"*": "*", "?": "?", "$": "$"}


def _substitute(text: str, context: dict[str, Any], escape: bool) -> str | None:
    """Replace policy variables; None when one has no value and no default. With `escape`, the
    special `${*}` / `${?}` give literal characters (a glob that then matches them only)."""
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        inner = match.group(1).strip()
        if inner in _SPECIAL:
            return LITERAL + inner if escape else inner
        key, _, default = inner.partition(",")
        found = context.get(key.strip().lower())
        if found is None or isinstance(found, list):
            default = default.strip()
            if default.startswith("'") and default.endswith("'") and len(default) >= 2:
                return default[1:-1]
            missing = True
            return ""
        return str(found)

    result = _VARIABLE.sub(value, text)
    return None if missing else result


@dataclass(frozen=True)
class Statement:
    sid: str
    effect: str
    actions: tuple[str, ...]
    not_actions: bool
    resources: tuple[str, ...] | None  # None: the statement has neither Resource nor NotResource
    not_resources: bool
    principal: Any
    not_principal: Any
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...]
    variables: bool

    def action_matches(self, action: str) -> bool:
        hit = any(glob(a, action, case=False) for a in self.actions)
        return not hit if self.not_actions else hit

    def resource_matches(self, resource: str, context: dict[str, Any]) -> bool:
        if self.resources is None:
            return True  # trust policies: no Resource element
        hit = False
        for pattern in self.resources:
            if self.variables and "${" in pattern:
                resolved = _substitute(pattern, context, escape=True)
                if resolved is None:
                    continue
                pattern = resolved
            if arn_like(pattern, resource):
                hit = True
                break
        return not hit if self.not_resources else hit

    def conditions_hold(self, context: dict[str, Any]) -> bool:
        for operator, key, values in self.conditions:
            expected = list(values)
            if self.variables and any("${" in v for v in values):
                resolved = (_substitute(v, context, escape=False) for v in values)
                expected = [r for r in resolved if r is not None]
            if not holds(operator, context.get(key), expected):
                return False
        return True

    def principal_match(self, who: Principal | None) -> Match:
        """How the statement's Principal / NotPrincipal names the caller (identity policies: DIRECT)."""
        if who is None or (self.principal is None and self.not_principal is None):
            return Match.DIRECT
        if self.not_principal is not None:
            return Match.NONE if _principal_match(self.not_principal, who) != Match.NONE else Match.DIRECT
        return _principal_match(self.principal, who)


@dataclass(frozen=True)
class Policy:
    """A compiled policy document (`name` says where it comes from, for messages)."""

    name: str
    statements: tuple[Statement, ...]


def _compile_statement(raw: dict[str, Any], index: int, variables: bool) -> Statement:
    conditions = []
    for operator, block in (raw.get("Condition") or {}).items():
        parse_operator(operator)  # unknown operators are an error, as IAM refuses them
        for key, values in block.items():
            conditions.append((operator, key.lower(), tuple(str(v).lower() if isinstance(v, bool) else str(v)
                                                             for v in as_list(values))))
    if "Resource" in raw or "NotResource" in raw:
        listed = as_list(raw.get("Resource", raw.get("NotResource")))
        resources: tuple[str, ...] | None = tuple(str(r) for r in listed)
    else:
        resources = None
    return Statement(
        sid=str(raw.get("Sid") or f"#{index}"),
        effect=str(raw.get("Effect")),
        actions=tuple(str(a) for a in as_list(raw.get("Action", raw.get("NotAction")))),
        not_actions="NotAction" in raw,
        resources=resources,
        not_resources="NotResource" in raw,
        principal=raw.get("Principal"),
        not_principal=raw.get("NotPrincipal"),
        conditions=tuple(conditions),
        variables=variables,
    )


def compile_document(document: Any, name: str = "policy") -> Policy:
    """Compile a policy (dict, JSON text, URL-encoded JSON); cached per text."""
    if isinstance(document, (str, bytes)):
        text = document.decode() if isinstance(document, bytes) else document
        return _compile_text(text, name)
    return _compile_text(json.dumps(document, sort_keys=True), name)


@lru_cache(maxsize=2048)
def _compile_text(text: str, name: str) -> Policy:
    doc = load_document(text)
    variables = doc.get("Version") == "2012-10-17"
    raw = as_list(doc.get("Statement"))
    statements = tuple(_compile_statement(s, i, variables) for i, s in enumerate(raw))
    return Policy(name, statements)


# --------------------------------------------------------------------------------------------------
# decisions
# --------------------------------------------------------------------------------------------------
class Decision(enum.Enum):
    ALLOW = "allow"
    EXPLICIT_DENY = "explicit deny"
    IMPLICIT_DENY = "implicit deny"


@dataclass(frozen=True)
class Verdict:
    """The outcome, and what decided it (for the message the caller gets)."""

    decision: Decision
    #: "identity-based" / "resource-based" / "" : the policy type of an explicit deny, or the one
    #: that is missing an allow
    policy_type: str = ""
    policy: str = ""
    sid: str = ""

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOW


@dataclass
class _Scan:
    deny: tuple[str, str] | None = None
    allow: Match = Match.NONE
    allow_at: tuple[str, str] = ("", "")
    seen: list[str] = field(default_factory=list)


def _scan(policies: list[Policy], action: str, resource: str, context: dict[str, Any],
          who: Principal | None) -> _Scan:
    scan = _Scan()
    for policy in policies:
        for stmt in policy.statements:
            if not stmt.action_matches(action) or not stmt.resource_matches(resource, context):
                continue
            match = stmt.principal_match(who)
            if match is Match.NONE or not stmt.conditions_hold(context):
                continue
            if stmt.effect == "Deny":
                scan.deny = (policy.name, stmt.sid)
                return scan
            if stmt.effect == "Allow" and (scan.allow is Match.NONE or match is Match.DIRECT):
                scan.allow = match
                scan.allow_at = (policy.name, stmt.sid)
    return scan


def decide(action: str, resource: str, context: dict[str, Any], *, principal: Principal,
           identity: list[Policy] = (),  # type: ignore[assignment]
           resource_policy: Policy | None = None, mode: str = "same-account") -> Verdict:
    """The decision for one action on one resource.

    `context` keys are lower-case. `mode`:
    - "same-account": an Allow in the identity policies, or in the resource policy naming the
      caller (not merely its account), allows; any applicable Deny denies.
    - "key-policy": KMS; the key policy must allow the caller, or allow the account and then an
      identity policy must allow too.
    - "trust": a role's trust policy; only the resource policy counts.
    """
    named = resource_policy.name if resource_policy else ""
    ids = _scan(list(identity), action, resource, context, None)
    res = _scan([resource_policy], action, resource, context, principal) if resource_policy else _Scan()
    if ids.deny:
        return Verdict(Decision.EXPLICIT_DENY, "identity-based", *ids.deny)
    if res.deny:
        return Verdict(Decision.EXPLICIT_DENY, "resource-based", *res.deny)
    if mode == "trust":
        if res.allow is Match.DIRECT:
            return Verdict(Decision.ALLOW, "resource-based", *res.allow_at)
        return Verdict(Decision.IMPLICIT_DENY, "resource-based", named)
    if mode == "key-policy":
        if res.allow is Match.DIRECT:
            return Verdict(Decision.ALLOW, "resource-based", *res.allow_at)
        if res.allow is Match.ACCOUNT and ids.allow is not Match.NONE:
            return Verdict(Decision.ALLOW, "identity-based", *ids.allow_at)
        if res.allow is Match.ACCOUNT:
            return Verdict(Decision.IMPLICIT_DENY, "identity-based")
        return Verdict(Decision.IMPLICIT_DENY, "resource-based", named)
    if ids.allow is not Match.NONE:
        return Verdict(Decision.ALLOW, "identity-based", *ids.allow_at)
    if res.allow is Match.DIRECT:
        return Verdict(Decision.ALLOW, "resource-based", *res.allow_at)
    return Verdict(Decision.IMPLICIT_DENY, "identity-based")


def denial_message(principal: Principal, action: str, resource: str, verdict: Verdict) -> str:
    """The wording AWS uses for an access-denied error (IAM User Guide, "Access denied error message
    examples": https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html)."""
    head = f"User: {principal.label} is not authorized to perform: {action} on resource: {resource}"
    if verdict.decision is Decision.EXPLICIT_DENY:
        where = f" ({verdict.policy}, statement {verdict.sid})" if verdict.policy else ""
        return f"{head} with an explicit deny in a {verdict.policy_type} policy{where}"
    return f"{head} because no {verdict.policy_type or 'identity-based'} policy allows the {action} action"


# --------------------------------------------------------------------------------------------------
# the small API the bucket-policy fix and older callers use
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    """One permission a caller needs: an action on a resource ARN."""

    action: str
    resource: str


def evaluate(documents: list[dict[str, Any]], request: Request, context: dict[str, str],
             principals: set[str] | None = None) -> str:
    """'deny' (an applicable explicit Deny), 'allow', or 'none' over `documents` alone.

    `principals`: the caller's names for resource policies (account id, role ARN, service
    principal); None for identity policies."""
    lowered = {k.lower(): v for k, v in context.items()}
    allowed = False
    for document in documents:
        for stmt in compile_document(document).statements:
            if not stmt.action_matches(request.action):
                continue
            if not stmt.resource_matches(request.resource, lowered):
                continue
            if principals is not None and not _any_principal(stmt, principals):
                continue
            if not stmt.conditions_hold(lowered):
                continue
            if stmt.effect == "Deny":
                return "deny"
            allowed = allowed or stmt.effect == "Allow"
    return "allow" if allowed else "none"


def _any_principal(stmt: Statement, principals: set[str]) -> bool:
    if stmt.principal is None and stmt.not_principal is None:
        return True
    if stmt.not_principal is not None:
        return False
    element = stmt.principal
    if element == "*":
        return True
    if not isinstance(element, dict):
        return False
    names = {str(v) for kind in ("Service", "AWS") for v in as_list(element.get(kind))}
    return "*" in names or bool(names & principals)
