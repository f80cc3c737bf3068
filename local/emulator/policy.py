"""IAM policy evaluation for the local world: does a set of policy documents allow a request?

One evaluator serves both places the local world decides access: S3 bucket policies (moto's own
check is replaced by this one, see local.emulator.moto_internals) and the local Personalize's
reads and writes with a service role (local.emulator.personalize.access).

A subset of IAM's policy evaluation logic (documented in docs/local-personalize.md): Allow and
Deny statements, Action/NotAction, Resource/NotResource with `*` and `?`, Principal (Service, AWS),
NotPrincipal (never matches), conditions StringEquals/StringLike/ArnEquals/ArnLike and their
negations, StringEqualsIgnoreCase and Bool, each optionally IfExists. A condition operator outside
that list makes its statement not apply (an Allow then grants nothing: fail closed). An explicit
Deny wins over any Allow.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote


@dataclass(frozen=True)
class Request:
    """One permission a caller needs: an action on a resource ARN."""

    action: str
    resource: str


def as_list(value: Any) -> list[Any]:
    """A policy field that may be one value or a list, as a list."""
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
            values = [str(v) for v in as_list(expected)]
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
        for value in as_list(principal.get(kind)):
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
    actions = as_list(stmt.get("Action"))
    if "NotAction" in stmt:
        if any(_glob(a, request.action, case=False) for a in as_list(stmt["NotAction"])):
            return False
    elif not any(_glob(a, request.action, case=False) for a in actions):
        return False
    if "NotResource" in stmt:
        if any(_glob(r, request.resource) for r in as_list(stmt["NotResource"])):
            return False
    elif not any(_glob(r, request.resource) for r in as_list(stmt.get("Resource"))):
        return False
    return _conditions_hold(stmt.get("Condition"), context)


def evaluate(documents: list[dict[str, Any]], request: Request, context: dict[str, str],
             principals: set[str] | None = None) -> str:
    """'deny' (explicit), 'allow', or 'none' (implicit deny) for `request` under `documents`.

    `principals`: who is asking, for resource policies (bucket, trust); None for identity policies,
    whose statements have no Principal."""
    allowed = False
    for document in documents:
        for stmt in as_list(document.get("Statement")):
            if not _statement_matches(stmt, request, context, principals):
                continue
            if stmt.get("Effect") == "Deny":
                return "deny"
            if stmt.get("Effect") == "Allow":
                allowed = True
    return "allow" if allowed else "none"


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
