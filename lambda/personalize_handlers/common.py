"""Shared pieces: the error type, reading a property by the contract, event parsing, names and hashes.

CloudFormation hands every property to the handler as a string (numbers and booleans too), so
every read goes through `read`, which coerces by the contract's type (contract.py) and fails early
naming the property, the value and what was expected.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .contract import NAME_MAX, REQUEST_SUFFIX_HEX, SERVICE_TOKEN, Invalid, Missing, Prop

#: CloudFormation's whole response must stay under 4096 bytes; the reason gets at most this many.
MAX_REASON_BYTES = 2048
#: Keys that are framework plumbing, never configuration.
IGNORED_PROPERTIES = frozenset({SERVICE_TOKEN})
#: The marker the CDK Provider framework uses as physical id when onEvent failed on Create.
CREATE_FAILED_MARKER = "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED"


class HandlerError(Exception):
    """An error meant for the person running `cdk deploy`: the message is the stack event reason."""

    def __init__(self, message: str) -> None:
        super().__init__(truncate(message))


def truncate(text: str, limit: int = MAX_REASON_BYTES) -> str:
    """Cut `text` to `limit` UTF-8 bytes (never splitting a character), marking the cut."""
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    marker = " ...[truncated]"
    return raw[: limit - len(marker)].decode("utf-8", errors="ignore") + marker


def failure(label: str, name: str, operation: str, message: str) -> HandlerError:
    """`<Type> <name>: <operation> failed: <message>`, the contract's error format."""
    return HandlerError(f"{label} {name}: {operation} failed: {message}")


def digest(*inputs: Any, length: int = 8) -> str:
    """A short stable hash of JSON-serialisable inputs (same recipe as pipeline.naming.digest)."""
    text = json.dumps(inputs, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def unique_name(base: str, token: str) -> str:
    """`<base>-<hash of token>` within Personalize's 63 characters: the same token (a duplicated
    event's RequestId) gives the same name, so the duplicate finds and adopts the first one."""
    suffix = "-" + digest(token, length=REQUEST_SUFFIX_HEX)
    return base[: NAME_MAX - len(suffix)].rstrip("-_") + suffix


# ---- properties ------------------------------------------------------------------------------

def read(prop: Prop, props: Mapping[str, Any], label: str, name: str) -> Any:
    """A property's value as the contract declares it (required, coerced, defaulted); a missing or
    bad one is a HandlerError naming the resource, the property, the value and what was expected."""
    try:
        return prop.read(props)
    except Missing:
        raise HandlerError(f"{label} {name}: property {prop.name} is required") from None
    except Invalid as exc:
        raise HandlerError(f"{label} {name}: {exc.describe(prop.name)}") from None


def is_subset(wanted: Any, actual: Any) -> bool:
    """True when every key/value asked for is present in what the service reports (the service
    adds defaults to configs, so equality would never hold). Scalars compare as strings, since
    CloudFormation stringifies what the service returns typed."""
    if isinstance(wanted, Mapping):
        return isinstance(actual, Mapping) and all(is_subset(v, actual.get(k)) for k, v in wanted.items())
    if isinstance(wanted, list):
        return isinstance(actual, list) and len(wanted) == len(actual) and all(
            is_subset(w, a) for w, a in zip(wanted, actual, strict=True))
    if wanted is None:
        return actual is None
    if isinstance(wanted, bool) or isinstance(actual, bool):
        return str(wanted).lower() == str(actual).lower()
    return str(wanted) == str(actual)


# ---- events ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Event:
    """The parts of a Provider-framework event the handlers use."""

    request_type: str
    resource_type: str
    logical_id: str
    request_id: str
    properties: dict[str, Any]
    old_properties: dict[str, Any] = field(default_factory=dict)
    physical_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Event:
        if not isinstance(raw, Mapping):
            raise HandlerError(f"event: expected a JSON object, got {type(raw).__name__}")
        missing = [k for k in ("RequestType", "ResourceType") if not raw.get(k)]
        if missing:
            raise HandlerError(f"event: missing {', '.join(missing)}")
        request_type = str(raw["RequestType"])
        if request_type not in ("Create", "Update", "Delete"):
            raise HandlerError(f"event: RequestType {request_type!r} is not Create, Update or Delete")
        props = raw.get("ResourceProperties") or {}
        old = raw.get("OldResourceProperties") or {}
        if not isinstance(props, Mapping) or not isinstance(old, Mapping):
            raise HandlerError("event: ResourceProperties must be an object")
        return cls(
            request_type=request_type,
            resource_type=str(raw["ResourceType"]),
            logical_id=str(raw.get("LogicalResourceId", "")),
            request_id=str(raw.get("RequestId", "")),
            properties={k: v for k, v in props.items() if k not in IGNORED_PROPERTIES},
            old_properties={k: v for k, v in old.items() if k not in IGNORED_PROPERTIES},
            physical_id=raw.get("PhysicalResourceId") or None,
            data=dict(raw.get("Data") or {}),
        )

    def changed(self) -> set[str]:
        """Property names whose value differs between the old and the new properties."""
        keys = set(self.properties) | set(self.old_properties)
        return {k for k in keys if self.properties.get(k) != self.old_properties.get(k)}


def is_personalize_arn(value: str | None, kind: str) -> bool:
    """`arn:aws:personalize:<region>:<account>:<kind>/...` (any partition)."""
    if not value or not value.startswith("arn:"):
        return False
    parts = value.split(":", 5)
    return len(parts) == 6 and parts[2] == "personalize" and parts[5].startswith(kind + "/")
