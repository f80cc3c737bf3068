"""Shared pieces: the error type, property coercion, event parsing, names and hashes.

CloudFormation hands every property to the handler as a string (numbers and booleans too), so
every read goes through one of the coercions below, which fail early naming the property, the
value and what was expected.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: CloudFormation's whole response must stay under 4096 bytes; the reason gets at most this many.
MAX_REASON_BYTES = 2048
NAME_MAX = 63
#: Keys that are framework plumbing, never configuration.
IGNORED_PROPERTIES = frozenset({"ServiceToken"})
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
    suffix = "-" + digest(token, length=8)
    return base[: NAME_MAX - len(suffix)].rstrip("-_") + suffix


# ---- coercion -------------------------------------------------------------------------------

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no", ""}


def _bad(prop: str, value: Any, expected: str) -> HandlerError:
    return HandlerError(f"property {prop}: expected {expected}, got {value!r}")


def to_bool(value: Any, prop: str, default: bool = False) -> bool:
    """'true'/'false' (any case), '1'/'0', real booleans; None or missing -> default."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _bad(prop, value, "a boolean ('true' or 'false')")


def to_int(value: Any, prop: str, default: int | None = None, minimum: int | None = None) -> int | None:
    """'5' or 5 -> 5; None or '' -> default; checks the minimum."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise _bad(prop, value, "an integer")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise _bad(prop, value, "an integer") from None
    if minimum is not None and number < minimum:
        raise _bad(prop, value, f"an integer >= {minimum}")
    return number


def to_json_object(value: Any, prop: str) -> dict[str, Any] | None:
    """A JSON object given as a mapping or a JSON string; None or '' -> None. Nested scalar
    values stay as CloudFormation sent them (Personalize takes strings inside these configs)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise _bad(prop, value, f"a JSON object ({exc.msg} at character {exc.pos})") from None
    if not isinstance(value, Mapping):
        raise _bad(prop, value, "a JSON object")
    return dict(value)


def to_tags(value: Any, prop: str = "Tags") -> list[dict[str, str]]:
    """`[{"tagKey","tagValue"}]` (also accepted: a JSON string of it, or a {key: value} map)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise _bad(prop, value, 'a list of {"tagKey": ..., "tagValue": ...}') from None
    if isinstance(value, Mapping):
        return [{"tagKey": str(k), "tagValue": str(v)} for k, v in sorted(value.items())]
    if not isinstance(value, list):
        raise _bad(prop, value, 'a list of {"tagKey": ..., "tagValue": ...}')
    tags = []
    for item in value:
        if not isinstance(item, Mapping) or "tagKey" not in item:
            raise _bad(prop, item, 'a {"tagKey": ..., "tagValue": ...} object')
        tags.append({"tagKey": str(item["tagKey"]), "tagValue": str(item.get("tagValue", ""))})
    return tags


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


def require(props: Mapping[str, Any], key: str, label: str, name: str) -> str:
    """A required, non-empty string property."""
    value = props.get(key)
    if value is None or value == "":
        raise HandlerError(f"{label} {name}: property {key} is required")
    if not isinstance(value, str):
        raise HandlerError(f"{label} {name}: property {key}: expected a string, got {value!r}")
    return value


def is_personalize_arn(value: str | None, kind: str) -> bool:
    """`arn:aws:personalize:<region>:<account>:<kind>/...` (any partition)."""
    if not value or not value.startswith("arn:"):
        return False
    parts = value.split(":", 5)
    return len(parts) == 6 and parts[2] == "personalize" and parts[5].startswith(kind + "/")
