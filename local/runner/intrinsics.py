"""CloudFormation intrinsic functions, condition functions and pseudo parameters.

Only what CloudFormation itself documents is resolved; anything else (Fn::ImportValue, Fn::Cidr,
the LanguageExtensions transform's functions, ...) raises `TemplateError` naming it, so a template
the runner cannot deploy faithfully fails loudly instead of deploying something else.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


class TemplateError(Exception):
    """The template asks for something the runner does not know or the values do not fit."""


class _NoValue:
    """`Ref: AWS::NoValue`: the property (or list element) disappears."""

    _instance: _NoValue | None = None

    def __new__(cls) -> _NoValue:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()

PSEUDO_PARAMETERS = (
    "AWS::AccountId",
    "AWS::Region",
    "AWS::Partition",
    "AWS::URLSuffix",
    "AWS::StackName",
    "AWS::StackId",
    "AWS::NoValue",
    "AWS::NotificationARNs",
)
INTRINSICS = (
    "Ref",
    "Fn::GetAtt",
    "Fn::Join",
    "Fn::Sub",
    "Fn::Select",
    "Fn::Split",
    "Fn::If",
    "Fn::Equals",
    "Fn::Not",
    "Fn::And",
    "Fn::Or",
    "Fn::GetAZs",
    "Fn::Base64",
    "Fn::FindInMap",
    "Condition",
)
#: Functions CloudFormation has but the runner does not emulate: an error naming them.
KNOWN_UNSUPPORTED = (
    "Fn::ImportValue",
    "Fn::Cidr",
    "Fn::Length",
    "Fn::ToJsonString",
    "Fn::ForEach",
    "Fn::Transform",
    "Fn::GetStackOutput",
    "Fn::Contains",
    "Fn::EachMemberEquals",
    "Fn::EachMemberIn",
    "Fn::RefAll",
    "Fn::ValueOf",
    "Fn::ValueOfAll",
    "Fn::Base64Decode",
)
_SUB_VAR = re.compile(r"\$\{([^}]*)\}")


def is_intrinsic(value: Any) -> str | None:
    """The function name if `value` is a one-key dict naming an intrinsic (known or not)."""
    if isinstance(value, dict) and len(value) == 1:
        (key,) = value
        if key in INTRINSICS or key in KNOWN_UNSUPPORTED or key.startswith("Fn::"):
            return str(key)
    return None


@dataclass
class Context:
    """What intrinsics read: parameters, conditions, mappings and the live resources."""

    account: str
    region: str
    stack_name: str
    stack_id: str
    partition: str = "aws"
    url_suffix: str = "amazonaws.com"
    parameters: dict[str, Any] = field(default_factory=dict)
    mappings: dict[str, Any] = field(default_factory=dict)
    condition_defs: dict[str, Any] = field(default_factory=dict)
    #: Ref of a resource -> its Ref value (raises KeyError if not available yet)
    ref: Callable[[str], Any] = lambda name: (_ for _ in ()).throw(KeyError(name))
    #: Fn::GetAtt -> value
    getatt: Callable[[str, str], Any] = lambda name, attr: (_ for _ in ()).throw(KeyError(name))
    _condition_cache: dict[str, bool] = field(default_factory=dict)

    def pseudo(self, name: str) -> Any:
        values: dict[str, Any] = {
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": self.url_suffix,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": self.stack_id,
            "AWS::NoValue": NO_VALUE,
            "AWS::NotificationARNs": [],
        }
        return values[name]

    def condition(self, name: str) -> bool:
        if name not in self._condition_cache:
            if name not in self.condition_defs:
                raise TemplateError(f"condition {name!r} is not defined in Conditions")
            self._condition_cache[name] = bool(Resolver(self).resolve(self.condition_defs[name]))
        return self._condition_cache[name]


class Resolver:
    """Resolves a template fragment to plain JSON values."""

    def __init__(self, context: Context) -> None:
        self.ctx = context

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if isinstance(value, dict):
            name = is_intrinsic(value)
            if name is not None:
                return self._call(name, value[name])
            out = {}
            for key, item in value.items():
                resolved = self.resolve(item)
                if resolved is not NO_VALUE:
                    out[key] = resolved
            return out
        return value

    # --- the functions ----------------------------------------------------------------------
    def _call(self, name: str, arg: Any) -> Any:
        method = {
            "Ref": self._ref,
            "Fn::GetAtt": self._getatt,
            "Fn::Join": self._join,
            "Fn::Sub": self._sub,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::If": self._if,
            "Fn::Equals": self._equals,
            "Fn::Not": self._not,
            "Fn::And": self._and,
            "Fn::Or": self._or,
            "Fn::GetAZs": self._getazs,
            "Fn::Base64": self._base64,
            "Fn::FindInMap": self._findinmap,
            "Condition": self._condition,
        }.get(name)
        if method is None:
            raise TemplateError(f"intrinsic function {name} is not supported by the local runner")
        return method(arg)

    def _ref(self, arg: Any) -> Any:
        if not isinstance(arg, str):
            raise TemplateError(f"Ref expects a name, got {arg!r}")
        if arg.startswith("AWS::"):
            if arg not in PSEUDO_PARAMETERS:
                raise TemplateError(f"unknown pseudo parameter {arg}")
            return self.ctx.pseudo(arg)
        if arg in self.ctx.parameters:
            return self.ctx.parameters[arg]
        return self.ctx.ref(arg)

    def _getatt(self, arg: Any) -> Any:
        if isinstance(arg, str):
            logical, _, attr = arg.partition(".")
        elif isinstance(arg, list) and len(arg) == 2:
            logical, attr = arg[0], self.resolve(arg[1])
        else:
            raise TemplateError(f"Fn::GetAtt expects [LogicalId, Attribute], got {arg!r}")
        return self.ctx.getatt(str(logical), str(attr))

    def _join(self, arg: Any) -> str:
        if not (isinstance(arg, list) and len(arg) == 2):
            raise TemplateError(f"Fn::Join expects [delimiter, [values]], got {arg!r}")
        delimiter = self.resolve(arg[0])
        values = self.resolve(arg[1])
        if not isinstance(values, list):
            raise TemplateError(f"Fn::Join expects a list of values, got {values!r}")
        return str(delimiter).join(_scalar_str(v, "Fn::Join") for v in values)

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, str):
            template, variables = arg, {}
        elif isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], dict):
            template, variables = arg[0], {k: self.resolve(v) for k, v in arg[1].items()}
        else:
            raise TemplateError(f"Fn::Sub expects a string or [string, {{vars}}], got {arg!r}")
        if not isinstance(template, str):
            raise TemplateError(f"Fn::Sub expects a string template, got {template!r}")

        def replace(match: re.Match[str]) -> str:
            body = match.group(1)
            if body.startswith("!"):
                return "${" + body[1:] + "}"
            if body in variables:
                return _scalar_str(variables[body], "Fn::Sub")
            if "." in body and not body.startswith("AWS::"):
                logical, attr = body.split(".", 1)
                return _scalar_str(self.ctx.getatt(logical, attr), "Fn::Sub")
            return _scalar_str(self._ref(body), "Fn::Sub")

        return _SUB_VAR.sub(replace, template)

    def _select(self, arg: Any) -> Any:
        if not (isinstance(arg, list) and len(arg) == 2):
            raise TemplateError(f"Fn::Select expects [index, list], got {arg!r}")
        index = int(self.resolve(arg[0]))
        values = self.resolve(arg[1])
        if not isinstance(values, list) or not 0 <= index < len(values):
            raise TemplateError(f"Fn::Select index {index} out of range for {values!r}")
        return values[index]

    def _split(self, arg: Any) -> list[str]:
        if not (isinstance(arg, list) and len(arg) == 2):
            raise TemplateError(f"Fn::Split expects [delimiter, string], got {arg!r}")
        delimiter, source = self.resolve(arg[0]), self.resolve(arg[1])
        if not isinstance(source, str):
            raise TemplateError(f"Fn::Split expects a string, got {source!r}")
        return source.split(str(delimiter))

    def _if(self, arg: Any) -> Any:
        if not (isinstance(arg, list) and len(arg) == 3 and isinstance(arg[0], str)):
            raise TemplateError(f"Fn::If expects [condition, then, else], got {arg!r}")
        return self.resolve(arg[1] if self.ctx.condition(arg[0]) else arg[2])

    def _equals(self, arg: Any) -> bool:
        if not (isinstance(arg, list) and len(arg) == 2):
            raise TemplateError(f"Fn::Equals expects two values, got {arg!r}")
        left, right = self.resolve(arg[0]), self.resolve(arg[1])
        return _cfn_str(left) == _cfn_str(right)

    def _not(self, arg: Any) -> bool:
        if not (isinstance(arg, list) and len(arg) == 1):
            raise TemplateError(f"Fn::Not expects one condition, got {arg!r}")
        return not self._bool(arg[0])

    def _and(self, arg: Any) -> bool:
        if not (isinstance(arg, list) and 2 <= len(arg) <= 10):
            raise TemplateError(f"Fn::And expects 2-10 conditions, got {arg!r}")
        return all(self._bool(a) for a in arg)

    def _or(self, arg: Any) -> bool:
        if not (isinstance(arg, list) and 2 <= len(arg) <= 10):
            raise TemplateError(f"Fn::Or expects 2-10 conditions, got {arg!r}")
        return any(self._bool(a) for a in arg)

    def _condition(self, arg: Any) -> bool:
        return self.ctx.condition(str(arg))

    def _bool(self, arg: Any) -> bool:
        value = self.resolve(arg)
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        raise TemplateError(f"expected a condition (boolean), got {value!r}")

    def _getazs(self, arg: Any) -> list[str]:
        region = self.resolve(arg) or self.ctx.region
        return [f"{region}{suffix}" for suffix in "abc"]

    def _base64(self, arg: Any) -> str:
        value = self.resolve(arg)
        return base64.b64encode(_scalar_str(value, "Fn::Base64").encode()).decode()

    def _findinmap(self, arg: Any) -> Any:
        if not (isinstance(arg, list) and len(arg) in (3, 4)):
            raise TemplateError(f"Fn::FindInMap expects [map, top key, second key], got {arg!r}")
        name, top, second = (self.resolve(a) for a in arg[:3])
        try:
            return self.ctx.mappings[name][top][second]
        except KeyError:
            if len(arg) == 4 and isinstance(arg[3], dict) and "DefaultValue" in arg[3]:
                return self.resolve(arg[3]["DefaultValue"])
            raise TemplateError(f"Fn::FindInMap: no {name}.{top}.{second} in Mappings") from None


def _scalar_str(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise TemplateError(f"{where}: expected a string, got {json.dumps(value)[:200]}")


def _cfn_str(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def references(value: Any) -> Iterator[str]:
    """Logical ids (resources or parameters) that a fragment refers to via Ref, GetAtt or Sub."""
    if isinstance(value, list):
        for item in value:
            yield from references(item)
    elif isinstance(value, dict):
        name = is_intrinsic(value)
        if name == "Ref" and isinstance(value[name], str):
            if not value[name].startswith("AWS::"):
                yield value[name]
            return
        if name == "Fn::GetAtt":
            arg = value[name]
            if isinstance(arg, list) and arg:
                yield str(arg[0])
            elif isinstance(arg, str):
                yield arg.split(".", 1)[0]
            return
        if name == "Fn::Sub":
            arg = value[name]
            template, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            yield from references(variables)
            if isinstance(template, str):
                for body in _SUB_VAR.findall(template):
                    if body.startswith("!") or body in variables or body.startswith("AWS::"):
                        continue
                    yield body.split(".", 1)[0]
            return
        for item in value.values():
            yield from references(item)


def stringify(value: Any) -> Any:
    """Custom resource properties as CloudFormation hands them to the Lambda: every scalar a string."""
    if isinstance(value, dict):
        return {k: stringify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [stringify(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return value
    if isinstance(value, (int, float)):
        return str(value)
    return value


def attribute_references(value: Any) -> Iterator[tuple[str, str]]:
    """(logical id, attribute) of every Fn::GetAtt and `${X.Attr}` in Fn::Sub whose attribute is
    written literally (a computed attribute name is only known at deploy time)."""
    if isinstance(value, list):
        for item in value:
            yield from attribute_references(item)
    elif isinstance(value, dict):
        name = is_intrinsic(value)
        if name == "Fn::GetAtt":
            arg = value[name]
            if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], str):
                yield str(arg[0]), arg[1]
            elif isinstance(arg, str) and "." in arg:
                logical, attr = arg.split(".", 1)
                yield logical, attr
            return
        if name == "Fn::Sub":
            arg = value[name]
            template, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            yield from attribute_references(variables)
            if isinstance(template, str):
                for body in _SUB_VAR.findall(template):
                    if body.startswith(("!", "AWS::")) or body in variables or "." not in body:
                        continue
                    logical, attr = body.split(".", 1)
                    yield logical, attr
            return
        for item in value.values():
            yield from attribute_references(item)
