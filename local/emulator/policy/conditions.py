"""IAM condition operators, as the IAM User Guide defines them.

Sources (IAM User Guide):
- Condition operators:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
  String, Numeric, Date, Bool, BinaryEquals, IpAddress/NotIpAddress, Arn (each of the six
  colon-separated ARN parts compared on its own, `*` and `?` within a part), `...IfExists`
  ("if the key is not present, evaluate the condition as true") and `Null`.
  "If the key that you specify in a policy condition is not present in the request context, the
  values do not match and the condition is false. If the policy condition requires that the key is
  not matched, such as StringNotLike or ArnNotLike, and the right key is not present, the condition
  is true."
- Multivalued context keys and the set operators:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
  `ForAllValues:` is true when every value in the request matches at least one policy value, and
  also when the key is missing or its set is empty; `ForAnyValue:` is true when at least one request
  value matches, false when the key is missing or empty.
- Several values for one key are OR-ed; several keys and several operators are AND-ed
  (reference_policies_multi-value-conditions / "Creating a condition with multiple keys or values").
  A negated operator with several values ("StringNotEquals": {"k": ["a", "b"]}) holds when the
  request value matches none of them.
- Condition key names are case-insensitive; values are compared as each operator says.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

#: A compiled comparison: request value, policy value -> match (None: the policy value cannot be
#: compared, e.g. a malformed number, which never matches).
Compare = Callable[[str, str], bool]


#: Marks the next character of a pattern as literal (a policy variable's `${*}` or `${?}`).
LITERAL = "\x00"


@lru_cache(maxsize=4096)
def glob_regex(pattern: str, case: bool = True) -> re.Pattern[str]:
    """IAM's `*` (any run of characters) and `?` (one character); nothing else is special."""
    parts: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == LITERAL:
            parts.append(re.escape(next(chars, "")))
        elif char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts) + r"\Z", re.DOTALL | (0 if case else re.IGNORECASE))


def glob(pattern: str, value: str, case: bool = True) -> bool:
    return glob_regex(pattern, case).match(value) is not None


def arn_parts(arn: str) -> list[str] | None:
    """The six parts of an ARN (the resource part may hold more colons), None if not an ARN."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return parts


def arn_like(pattern: str, value: str) -> bool:
    """ArnLike / Resource matching: part by part, wildcards within each part."""
    if pattern == "*":
        return True
    want, got = arn_parts(pattern), arn_parts(value)
    if want is None or got is None:
        return glob(pattern, value)
    return all(glob(w, g) for w, g in zip(want, got, strict=True))


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _date(text: str) -> float | None:
    """Dates are ISO 8601 (W3C profile) or epoch seconds (the operator page's examples)."""
    number = _number(text)
    if number is not None:
        return number
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def _numeric(op: Callable[[float, float], bool]) -> Compare:
    def compare(actual: str, expected: str) -> bool:
        a, e = _number(actual), _number(expected)
        return a is not None and e is not None and op(a, e)

    return compare


def _dated(op: Callable[[float, float], bool]) -> Compare:
    def compare(actual: str, expected: str) -> bool:
        a, e = _date(actual), _date(expected)
        return a is not None and e is not None and op(a, e)

    return compare


def _ip(actual: str, expected: str) -> bool:
    try:
        return ipaddress.ip_address(actual) in ipaddress.ip_network(expected, strict=False)
    except ValueError:
        return False


def _binary(actual: str, expected: str) -> bool:
    try:
        return base64.b64decode(actual) == base64.b64decode(expected)
    except ValueError:
        return False


#: operator name (without IfExists and set prefixes) -> (comparison, negated)
OPERATORS: dict[str, tuple[Compare, bool]] = {
    "StringEquals": (lambda a, e: a == e, False),
    "StringNotEquals": (lambda a, e: a == e, True),
    "StringEqualsIgnoreCase": (lambda a, e: a.lower() == e.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda a, e: a.lower() == e.lower(), True),
    "StringLike": (lambda a, e: glob(e, a), False),
    "StringNotLike": (lambda a, e: glob(e, a), True),
    "NumericEquals": (_numeric(lambda a, e: a == e), False),
    "NumericNotEquals": (_numeric(lambda a, e: a == e), True),
    "NumericLessThan": (_numeric(lambda a, e: a < e), False),
    "NumericLessThanEquals": (_numeric(lambda a, e: a <= e), False),
    "NumericGreaterThan": (_numeric(lambda a, e: a > e), False),
    "NumericGreaterThanEquals": (_numeric(lambda a, e: a >= e), False),
    "DateEquals": (_dated(lambda a, e: a == e), False),
    "DateNotEquals": (_dated(lambda a, e: a == e), True),
    "DateLessThan": (_dated(lambda a, e: a < e), False),
    "DateLessThanEquals": (_dated(lambda a, e: a <= e), False),
    "DateGreaterThan": (_dated(lambda a, e: a > e), False),
    "DateGreaterThanEquals": (_dated(lambda a, e: a >= e), False),
    "Bool": (lambda a, e: a.lower() == e.lower(), False),
    "BinaryEquals": (_binary, False),
    "IpAddress": (_ip, False),
    "NotIpAddress": (_ip, True),
    "ArnEquals": (lambda a, e: a == e, False),
    "ArnNotEquals": (lambda a, e: a == e, True),
    "ArnLike": (lambda a, e: arn_like(e, a), False),
    "ArnNotLike": (lambda a, e: arn_like(e, a), True),
}


class UnknownOperator(ValueError):
    """A condition operator IAM does not define (IAM refuses such a policy at PutRolePolicy)."""


def parse_operator(name: str) -> tuple[str | None, str, bool]:
    """(set prefix or None, base operator, IfExists) of a condition operator name."""
    prefix = None
    for candidate in ("ForAnyValue:", "ForAllValues:"):
        if name.startswith(candidate):
            prefix, name = candidate[:-1], name[len(candidate):]
    if_exists = name.endswith("IfExists") and name != "Null"
    base = name.removesuffix("IfExists") if if_exists else name
    if base != "Null" and base not in OPERATORS:
        raise UnknownOperator(name)
    return prefix, base, if_exists


def _as_values(value: Any) -> list[str] | None:
    """A request context value as a list of strings (None: the key is absent)."""
    if value is None:
        return None
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_text(v) for v in value]
    return [_text(value)]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def holds(operator: str, context_value: Any, policy_values: list[str]) -> bool:
    """Does one condition (one operator, one key) hold for this request value?"""
    prefix, base, if_exists = parse_operator(operator)
    actual = _as_values(context_value)
    if base == "Null":
        # "true": the key must be absent (or its value empty); "false": present.
        absent = actual is None or actual == []
        return any((p.lower() == "true") == absent for p in policy_values)
    compare, negated = OPERATORS[base]

    def one(value: str) -> bool:
        matched = any(compare(value, expected) for expected in policy_values)
        return not matched if negated else matched

    if prefix == "ForAllValues":
        return actual is None or all(one(v) for v in actual)
    if prefix == "ForAnyValue":
        return bool(actual) and any(one(v) for v in actual or [])
    if actual is None or actual == []:
        # missing key: false, except for the negated operators and IfExists
        return if_exists or negated
    return any(one(v) for v in actual)
