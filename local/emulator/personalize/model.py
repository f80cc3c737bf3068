"""What botocore's service models say of every Personalize request and response, enforced.

The local Personalize must not hold its own idea of the API's shapes: this module walks the shapes
of botocore's models (`personalize`, `personalize-runtime`, `personalize-events`, as installed) and
reports every value that does not fit them.

- Requests: botocore's client-side validator checks only required members, unknown members, Python
  types and `min` (`botocore.validate.VALIDATED_METADATA_ATTRS`); the service also checks `max`,
  `pattern` and `enum`, and clients other than botocore send whatever they send. `check_request`
  answers what the service answers: a value of the wrong JSON type is a `SerializationException`
  (the awsJson error for a body that does not deserialize into the shape); a value that breaks a
  constraint is an `InvalidInputException` in the service's validation wording, all of them at
  once: "2 validation errors detected: Value 'x' at 'name' failed to satisfy constraint: Member
  must satisfy regular expression pattern: ...; Value ...". Patterns must match the whole value
  (as Java's `Pattern.matches`, which the service's validation uses: a Service Catalog name
  'My Test Sandbox1' is refused by `[a-zA-Z0-9][a-zA-Z0-9._-]*` although a prefix matches), and
  `\\p{...}` classes need the `regex` module. Lengths count UTF-16 code units, as Java's
  String.length() does. Unknown members are ignored, as JSON services do (forward compatibility).
- Responses: `check_response` holds every answer of the local Personalize to the operation's output
  shape: types (timestamps are epoch numbers in this protocol), required members, enums, patterns,
  lengths and ranges, and no member the model does not have. An error answer must be one the
  operation models or a common error. A mismatch is a bug of the local world: `ResponseShapeError`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NoReturn

import regex
from botocore.model import OperationModel, ServiceModel, Shape

#: The errors every AWS API may answer besides an operation's own (Personalize API reference,
#: "Common Errors": https://docs.aws.amazon.com/personalize/latest/dg/CommonErrors.html), plus the
#: awsJson protocol's own for a body or a target it cannot read.
COMMON_ERRORS = frozenset({
    "AccessDeniedException", "IncompleteSignature", "InternalFailure", "InvalidAction",
    "InvalidClientTokenId", "NotAuthorized", "OptInRequired", "RequestExpired", "ServiceUnavailable",
    "ThrottlingException", "ValidationError", "SerializationException", "UnknownOperationException",
})
#: members serialized outside the JSON body (none in Personalize's models today)
_NOT_IN_BODY = frozenset({"header", "headers", "querystring", "uri", "statusCode"})
_SHOWN = 120
#: Output members whose modelled shape contradicts the member's documented meaning, so its pattern
#: is not checked: every `roleArn` typed `Arn` (pattern `arn:...:personalize:...`) is documented as
#: "the ARN of the IAM role ..." (e.g. API_DatasetImportJob), i.e. an `arn:aws:iam::` ARN.
PATTERN_ERRATA = frozenset({("roleArn", "Arn")})


class ResponseShapeError(AssertionError):
    """The local Personalize answered something botocore's model does not describe."""


#: every ResponseShapeError raised in this process, in order: a test harness reads it after each
#: test, since the code under test (a handler's broad `except`) may swallow the exception itself
FOUND: list[str] = []


def _refuse(message: str) -> NoReturn:
    FOUND.append(message)
    raise ResponseShapeError(message)


@dataclass(frozen=True)
class Violation:
    """One value that does not fit its shape: where, what, and the constraint it breaks."""

    path: str
    value: Any
    constraint: str
    #: "type" (wrong JSON type), "unknown" (no such member), or a constraint: "required",
    #: "length", "range", "pattern", "enum"
    kind: str

    def __str__(self) -> str:
        if self.kind == "type":
            return f"Value {_show(self.value)} at '{self.path}' {self.constraint}"
        if self.kind == "unknown":
            return f"'{self.path}' is not a member of the shape"
        return f"Value {_show(self.value)} at '{self.path}' failed to satisfy constraint: {self.constraint}"


def _show(value: Any) -> str:
    if value is None:
        return "null"
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    if len(text) > _SHOWN:
        text = text[:_SHOWN] + "..."
    return f"'{text}'"


@lru_cache(maxsize=8)
def service_model(service: str) -> ServiceModel:
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


def operation_model(service: str, operation: str) -> OperationModel | None:
    model = service_model(service)
    return model.operation_model(operation) if operation in model.operation_names else None


@lru_cache(maxsize=256)
def _pattern(text: str) -> Any:
    return regex.compile(text)


def _length(value: str) -> int:
    """Java's String.length(): UTF-16 code units."""
    return len(value.encode("utf-16-le")) // 2


def violations(value: Any, shape: Shape, path: str = "", *, unknown: bool = True) -> list[Violation]:
    """Every way `value` (parsed JSON) does not fit `shape`; `unknown`: report unknown members."""
    found: list[Violation] = []
    _walk(value, shape, path, found, unknown)
    return found


def _walk(value: Any, shape: Shape, path: str, out: list[Violation], unknown: bool) -> None:
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        if not isinstance(value, dict):
            out.append(Violation(path, value, "is not a JSON object", "type"))
            return
        members = shape.members
        for name in shape.required_members:
            if value.get(name) is None:
                out.append(Violation(_join(path, name), None, "Member must not be null", "required"))
        for name, item in value.items():
            member = members.get(name)
            if member is None:
                if unknown:
                    out.append(Violation(_join(path, name), item, "", "unknown"))
                continue
            if item is None or member.serialization.get("location") in _NOT_IN_BODY:
                continue
            _walk(item, member, _join(path, name), out, unknown)
        return
    if kind == "list":
        if not isinstance(value, list):
            out.append(Violation(path, value, "is not a JSON array", "type"))
            return
        _size(value, len(value), meta, path, out)
        for index, item in enumerate(value, 1):
            if item is not None:
                _walk(item, shape.member, f"{path}.{index}.member", out, unknown)
        return
    if kind == "map":
        if not isinstance(value, dict):
            out.append(Violation(path, value, "is not a JSON object", "type"))
            return
        _size(value, len(value), meta, path, out)
        for key, item in value.items():
            _walk(key, shape.key, f"{path}.{key}(key)", out, unknown)
            if item is not None:
                _walk(item, shape.value, f"{path}.{key}", out, unknown)
        return
    if kind == "string":
        if not isinstance(value, str):
            out.append(Violation(path, value, "is not a string", "type"))
            return
        _size(value, _length(value), meta, path, out)
        pattern = meta.get("pattern")
        if (pattern and (path.rpartition(".")[2], shape.name) not in PATTERN_ERRATA
                and _pattern(pattern).fullmatch(value) is None):
            out.append(Violation(path, value, f"Member must satisfy regular expression pattern: {pattern}",
                                 "pattern"))
        enum = getattr(shape, "enum", None)
        if enum and value not in enum:
            out.append(Violation(path, value, f"Member must satisfy enum value set: [{', '.join(enum)}]",
                                 "enum"))
        return
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            out.append(Violation(path, value, f"cannot be converted to an {kind}", "type"))
            return
        _range(value, meta, path, out)
        return
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            out.append(Violation(path, value, f"cannot be converted to a {kind}", "type"))
            return
        _range(value, meta, path, out)
        return
    if kind == "boolean":
        if not isinstance(value, bool):
            out.append(Violation(path, value, "cannot be converted to a boolean", "type"))
        return
    if kind == "timestamp":
        # awsJson and restJson send timestamps as epoch seconds (botocore's JSON serializer and
        # parser: TIMESTAMP_FORMAT "unixtimestamp")
        if isinstance(value, bool) or not isinstance(value, int | float):
            out.append(Violation(path, value, "cannot be converted to a timestamp (epoch seconds)", "type"))
        return
    if kind == "blob" and not isinstance(value, str):
        out.append(Violation(path, value, "is not a base64 string", "type"))


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _size(value: Any, size: int, meta: dict[str, Any], path: str, out: list[Violation]) -> None:
    if "min" in meta and size < meta["min"]:
        out.append(Violation(path, value, f"Member must have length greater than or equal to {meta['min']}",
                             "length"))
    if "max" in meta and size > meta["max"]:
        out.append(Violation(path, value, f"Member must have length less than or equal to {meta['max']}",
                             "length"))


def _range(value: float, meta: dict[str, Any], path: str, out: list[Violation]) -> None:
    if "min" in meta and value < meta["min"]:
        out.append(Violation(path, value, f"Member must have value greater than or equal to {meta['min']}",
                             "range"))
    if "max" in meta and value > meta["max"]:
        out.append(Violation(path, value, f"Member must have value less than or equal to {meta['max']}",
                             "range"))


# --------------------------------------------------------------------------------------------------
def request_error(service: str, operation: str, params: dict[str, Any]) -> tuple[str, str] | None:
    """(error code, message) the service answers for a request that does not fit the operation's
    input shape, or None (also for an operation the model does not know: the caller decides)."""
    op = operation_model(service, operation)
    if op is None or op.input_shape is None:
        return None
    found = violations(params, op.input_shape, unknown=False)
    if not found:
        return None
    typed = [v for v in found if v.kind == "type"]
    if typed:
        return "SerializationException", "; ".join(str(v) for v in typed)
    count = len(found)
    noun = "validation error" if count == 1 else "validation errors"
    return "InvalidInputException", f"{count} {noun} detected: " + "; ".join(str(v) for v in found)


def check_response(service: str, operation: str, status: int, payload: dict[str, Any]) -> None:
    """Raise ResponseShapeError unless `payload` (a parsed response body) is what the model says
    `operation` answers: its output shape for a success, a modelled or common error otherwise."""
    op = operation_model(service, operation)
    if op is None:
        if status < 300:
            _refuse(f"{service} {operation}: the model has no such operation")
        return
    if status >= 300:
        code = payload.get("__type")
        allowed = {shape.name for shape in op.error_shapes} | COMMON_ERRORS
        if set(payload) - {"__type", "message"} or code not in allowed:
            _refuse(f"{service} {operation}: error {payload} is not one the operation "
                    f"models ({sorted(allowed)})")
        return
    if op.output_shape is None:
        if payload:
            _refuse(f"{service} {operation}: the operation has no output, got {payload}")
        return
    found = violations(payload, op.output_shape)
    if found:
        shown = "\n  ".join(str(v) for v in found[:20])
        _refuse(f"{service} {operation}: the response does not match "
                f"{op.output_shape.name}:\n  {shown}")
