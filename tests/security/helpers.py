"""What the security tests share (their fixtures live in conftest.py): the shipped configs and the
template `cdk synth` writes for one (the repo's own data), synthesized in-process through
stacks.build_app."""

from __future__ import annotations

import ast
import fnmatch
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import botocore.session

from pipeline.config import PipelineConfig, load_config
from pipeline.naming import REPO_ROOT, stack_name

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ["PATH"] = f"{REPO_ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}"

SHIPPED = sorted(p.stem for p in (REPO_ROOT / "config").glob("*.toml"))


@dataclass
class Template:
    env: str
    config: PipelineConfig
    template: dict[str, Any]

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template["Resources"]

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.resources.items() if r["Type"] == kind}


def synth_template(env: str, outdir: Path, config: PipelineConfig | None = None) -> Template:
    from stacks import build_app

    config = config or load_config(env)
    build_app(
        env, str(outdir), config=config, root=REPO_ROOT, asset_dir=REPO_ROOT / "lambda", nag=False
    ).synth()
    return Template(env, config, json.loads((outdir / f"{stack_name(env)}.template.json").read_text()))


# The API operations the custom-resource handlers can call, read from their source (AST), so the
# least-privilege tests derive what each function's role needs from the code, not from a list.
#
# An operation name counts where a handler names it for a client: a string that is a positional
# argument of a call (`ctx.pz("list_solutions", ...)`, `self.call(ctx, "UpdateDataset", ...)`,
# `list_all(ctx, "list_datasets", ...)`, `s3("copy_object", ...)`) or an f-string made of a fixed
# part and the kind's label (`f"describe_{self.snake(self.label)}"`, `f"Create{self.label}"`), which
# is expanded with each kind's label. A name counts only when it is an operation of botocore's model
# of a service the handlers use. This over-approximates (a name in an error message counts too),
# which can only make the check demand more, never less.
#
# Which function makes a call: the Provider's OnEvent/IsComplete run every kind module and base;
# the waiter's Poll/Signal run the functions of waiter.py that entry.poll/entry.signal reach; the
# kinds' modules reach waiter.py only through what they name as `waiter.<function>`.

PACKAGE = REPO_ROOT / "lambda" / "personalize_handlers"
#: Services the handlers call, in the order an ambiguous name is resolved (ListTagsForResource is
#: both Personalize's and Step Functions'; the handlers only tag Personalize resources).
SERVICES = ("personalize", "s3", "stepfunctions")
#: Declarations, not callers: the contract names the operations its properties feed.
NOT_CALLERS = frozenset({"contract.py"})


@cache
def _operations(service: str) -> dict[str, str]:
    """snake_case and PascalCase spellings -> the operation name."""
    model = botocore.session.get_session().get_service_model(service)
    out = {}
    for name in model.operation_names:
        out[name] = name
        out[re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()] = name
    return out


def operation(text: str) -> tuple[str, str] | None:
    """(service, Operation) for a name a handler gives a client, or None."""
    for service in SERVICES:
        found = _operations(service).get(text)
        if found:
            return service, found
    return None


def snake(label: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", label).lower()


@dataclass(frozen=True)
class Named:
    """An operation name in a module: literal, or a template around the kind's label."""

    function: str  # top-level function or Class.method it appears in
    text: str  # the literal, or the template with `{}` where the label goes
    templated: bool

    def expand(self, labels: Iterable[str]) -> set[tuple[str, str]]:
        if not self.templated:
            found = operation(self.text)
            return {found} if found else set()
        out = set()
        for label in labels:
            filled = self.text.replace("{}", snake(label) if "_" in self.text or self.text[:1].islower()
                                       else label)
            found = operation(filled)
            if found:
                out.add(found)
        return out


def _template(node: ast.JoinedStr) -> str | None:
    parts = []
    for value in node.values:
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            if not re.fullmatch(r"[A-Za-z_]*", value.value):
                return None
            parts.append(value.value)
        else:
            parts.append("{}")
    text = "".join(parts)
    return text if "{}" in text and text != "{}" else None


class _Scan(ast.NodeVisitor):
    def __init__(self) -> None:
        self.scope: list[str] = []
        self.named: list[Named] = []
        #: top-level function -> top-level names it calls
        self.calls: dict[str, set[str]] = {}
        #: function -> names referenced as waiter.<name>
        self.waiter_refs: dict[str, set[str]] = {}

    @property
    def where(self) -> str:
        return ".".join(self.scope) or "<module>"

    def _scoped(self, node: ast.AST, name: str) -> None:
        self.scope.append(name)
        self.generic_visit(node)
        self.scope.pop()

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._scoped(node, node.name)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._scoped(node, node.name)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Call(self, node: ast.Call) -> None:
        for arg in node.args:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                self.named.append(Named(self.where, arg.value, templated=False))
        if isinstance(node.func, ast.Name):
            self.calls.setdefault(self.where, set()).add(node.func.id)
        self.generic_visit(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        text = _template(node)
        if text is not None:
            self.named.append(Named(self.where, text, templated=True))
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.value, ast.Name) and node.value.id == "waiter":
            self.waiter_refs.setdefault(self.where, set()).add(node.attr)
        self.generic_visit(node)


@cache
def scan(path: Path) -> _Scan:
    found = _Scan()
    found.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return found


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.glob("*.py") if p.name not in NOT_CALLERS)


def reachable(module: Path, roots: Iterable[str]) -> set[str]:
    """Top-level functions of `module` reachable from `roots` through direct calls."""
    graph = scan(module).calls
    seen: set[str] = set()
    todo = [r for r in roots]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(graph.get(name, ()))
    return seen


@dataclass(frozen=True)
class Needed:
    """An operation a function's role needs, and for which resource types (None: any present)."""

    service: str
    operation: str
    module: str
    kinds: frozenset[str] | None  # resource types (Custom::Personalize*) whose handler calls it


def calls_by_function(kind_modules: dict[str, set[str]], labels: Iterable[str]) -> dict[str, list[Needed]]:
    """Entry function (on_event, is_complete, poll, signal) -> what it can call.

    `kind_modules`: module file name -> the resource types whose kind it defines (a module with no
    kind is shared by all); `labels`: the kinds' labels the templates hold (f-strings expand to
    these)."""
    labels = list(labels)
    waiter = PACKAGE / "waiter.py"
    entry = scan(PACKAGE / "entry.py").waiter_refs
    handler: list[Needed] = []
    waiter_roots_handler: set[str] = set()
    for module in modules():
        if module.name == "waiter.py":
            continue
        scanned = scan(module)
        kinds = kind_modules.get(module.name)
        for named in scanned.named:
            for service, op in named.expand(labels):
                handler.append(Needed(service, op, module.name, frozenset(kinds) if kinds else None))
        if module.name != "entry.py":
            for refs in scanned.waiter_refs.values():
                waiter_roots_handler |= refs

    def from_waiter(roots: set[str]) -> list[Needed]:
        functions = reachable(waiter, roots)
        return [
            Needed(service, op, "waiter.py", None)
            for named in scan(waiter).named
            if named.function.split(".")[0] in functions
            for service, op in named.expand(labels)
        ]

    handler += from_waiter(waiter_roots_handler)
    poller = from_waiter(entry.get("poll", set()) | entry.get("signal", set()))
    return {"on_event": handler, "is_complete": handler, "poll": poller, "signal": poller}


# A synthesized template's IAM read the way IAM reads it, for the least-privilege tests.
#
# - Each role's identity policies: its inline `Policies` and every `AWS::IAM::Policy` that names it.
# - Values resolved to example strings: pseudo parameters to the stack's account, region and
#   partition; a resource's Ref / Fn::GetAtt Arn to an ARN of its type named after its logical id;
#   Fn::Join and Fn::Sub.
# - Statement matching as the IAM reference describes it: actions case-insensitive with `*`/`?`
#   wildcards; resource ARNs with `*` (any characters, `/` included) and `?` (one character); the
#   condition operators the templates use (String*, Arn*, Bool, with IfExists), a key absent from the
#   request context making the condition false; an explicit Deny wins
#   (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html,
#   .../reference_policies_elements_condition_operators.html, .../reference_policies_evaluation-logic.html).
# - Which resource types an action authorizes: the Service Authorization Reference, as cfn-lint ships
#   its policy data (`cfnlint/data/AdditionalSpecs/Policies.json`; the page for Personalize:
#   https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonpersonalize.html).
#
# Not this project's code: an independent reading, so a template and this check cannot share one
# misreading.

ACCOUNT = "123456789012"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@cache
def service_authorization() -> dict[str, Any]:
    """The Service Authorization Reference's actions and resource types, per service prefix."""
    text = (resources.files("cfnlint.data.AdditionalSpecs") / "Policies.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def resource_types(service: str, action: str) -> list[str]:
    """The resource types `service:action` authorizes on ([] : only Resource "*")."""
    actions = service_authorization()[service]["Actions"]
    entry = actions.get(action.lower())
    assert entry is not None, f"{service}:{action} is not in the Service Authorization Reference"
    return [str(t).lower() for t in entry.get("Resources", [])]


def arn_segment(service: str, resource_type: str) -> str:
    """The resource part an ARN of this type starts with (`dataset-group` for datasetGroup)."""
    formats = service_authorization()[service]["Resources"][resource_type.lower()]["ARNFormats"]
    resource = formats[0].split(":", 5)[5]
    return re.split(r"[/:]", resource, maxsplit=1)[0]


# ---- resolving the template's values ------------------------------------------------------------


@dataclass
class Resolver:
    """Template values as example strings: every Ref and Fn::GetAtt resolves to the same string
    wherever it appears, so a policy's resource and the value a handler is given compare equal."""

    template: dict[str, Any]
    region: str
    partition: str = "aws"
    account: str = ACCOUNT

    def pseudo(self, name: str) -> str:
        return {
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com",
            "AWS::StackName": "stack",
            "AWS::StackId": f"arn:{self.partition}:cloudformation:{self.region}:{self.account}:stack/s/1",
            "AWS::NoValue": "",
        }[name]

    def ref(self, logical_id: str) -> str:
        if logical_id.startswith("AWS::"):
            return self.pseudo(logical_id)
        kind = self.template["Resources"][logical_id]["Type"]
        if kind == "AWS::S3::Bucket":
            return logical_id.lower()
        if kind == "AWS::StepFunctions::StateMachine":
            return self.arn("states", f"stateMachine:{logical_id}")
        if kind == "AWS::SNS::Topic":
            return self.arn("sns", logical_id)
        return logical_id

    def get_att(self, logical_id: str, attribute: str) -> str:
        kind = self.template["Resources"][logical_id]["Type"]
        if attribute != "Arn":
            return f"{logical_id}.{attribute}"
        if kind == "AWS::S3::Bucket":
            return f"arn:{self.partition}:s3:::{logical_id.lower()}"
        if kind == "AWS::IAM::Role":
            return f"arn:{self.partition}:iam::{self.account}:role/{logical_id}"
        if kind == "AWS::Lambda::Function":
            return self.arn("lambda", f"function:{logical_id}")
        if kind == "AWS::Logs::LogGroup":
            return self.arn("logs", f"log-group:{logical_id}:*")
        if kind == "AWS::KMS::Key":
            return self.arn("kms", f"key/{logical_id}")
        if kind == "AWS::StepFunctions::StateMachine":
            return self.arn("states", f"stateMachine:{logical_id}")
        return f"{logical_id}.{attribute}"  # a custom resource's Data: its logical id says which

    def arn(self, service: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{self.account}:{resource}"

    def __call__(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self(v) for v in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, value), = node.items()
            if key == "Ref":
                return self.ref(value)
            if key == "Fn::GetAtt":
                target = value if isinstance(value, list) else str(value).split(".", 1)
                return self.get_att(target[0], target[1])
            if key == "Fn::Join":
                delimiter, items = value
                return str(delimiter).join(str(self(i)) for i in items)
            if key == "Fn::Sub":
                text, extra = (value, {}) if isinstance(value, str) else (value[0], value[1])

                def sub(match: re.Match[str]) -> str:
                    name = match.group(1)
                    if name in extra:
                        return str(self(extra[name]))
                    if "." in name:
                        return self.get_att(*name.split(".", 1))
                    return self.ref(name)

                return re.sub(r"\$\{([^}!]+)\}", sub, text)
            if key == "Fn::Select":
                index, items = value
                return self(items)[int(index)]
            if key == "Fn::Split":
                delimiter, text = value
                return str(self(text)).split(delimiter)
        return {k: self(v) for k, v in node.items()}


# ---- policies and evaluation ----------------------------------------------------------------------


def _glob(pattern: str, value: str, *, case: bool = True) -> bool:
    if not case:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def _condition_holds(operator: str, key: str, expected: Any, context: Mapping[str, str]) -> bool:
    base = operator.removesuffix("IfExists")
    actual = next((v for k, v in context.items() if k.lower() == key.lower()), None)
    if actual is None:
        return operator.endswith("IfExists") or base.startswith(("StringNot", "ArnNot"))
    values = [str(v) for v in _as_list(expected)]
    negate = base.startswith(("StringNot", "ArnNot"))
    base = base.replace("Not", "", 1) if negate else base
    if base in ("StringEquals", "ArnEquals"):
        hit = actual in values
    elif base == "StringEqualsIgnoreCase":
        hit = actual.lower() in (v.lower() for v in values)
    elif base in ("StringLike", "ArnLike"):
        hit = any(_glob(v, actual) for v in values)
    elif base == "Bool":
        hit = actual.lower() in (v.lower() for v in values)
    else:
        raise AssertionError(f"condition operator {operator} is not understood by this check")
    return hit != negate


@dataclass(frozen=True)
class Statement:
    """One identity-policy statement with its values resolved."""

    where: str  # the policy's logical id (and name)
    body: Mapping[str, Any]

    @property
    def allow(self) -> bool:
        return self.body.get("Effect") == "Allow"

    @property
    def actions(self) -> list[str]:
        return [str(a) for a in _as_list(self.body.get("Action"))]

    @property
    def resources(self) -> list[str]:
        return [str(r) for r in _as_list(self.body.get("Resource"))]

    def applies(self, action: str, resource: str, context: Mapping[str, str]) -> bool:
        if "NotAction" in self.body or "NotResource" in self.body:
            raise AssertionError(f"{self.where}: NotAction/NotResource is not understood by this check")
        if not any(_glob(a, action, case=False) for a in self.actions):
            return False
        if not any(_glob(r, resource) for r in self.resources):
            return False
        return all(
            _condition_holds(operator, key, expected, context)
            for operator, block in (self.body.get("Condition") or {}).items()
            for key, expected in block.items()
        )


@dataclass
class Role:
    logical_id: str
    statements: list[Statement] = field(default_factory=list)

    def allows(self, action: str, resource: str, context: Mapping[str, str] | None = None) -> bool:
        context = context or {}
        applicable = [s for s in self.statements if s.applies(action, resource, context)]
        return any(s.allow for s in applicable) and not any(not s.allow for s in applicable)

    def grants(self) -> Iterator[tuple[Statement, str, str]]:
        """(statement, action, resource) of every Allow."""
        for statement in self.statements:
            if statement.allow:
                for action in statement.actions:
                    for resource in statement.resources:
                        yield statement, action, resource


def roles(template: dict[str, Any], resolve: Resolver) -> dict[str, Role]:
    """Every role of the template with its identity policies (inline and attached by Ref)."""
    found: dict[str, Role] = {}
    res = template["Resources"]
    for logical_id, resource in res.items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        role = found.setdefault(logical_id, Role(logical_id))
        for policy in resource.get("Properties", {}).get("Policies", []):
            document = resolve(policy["PolicyDocument"])
            where = f"{logical_id}/{policy.get('PolicyName')}"
            role.statements += [Statement(where, s) for s in _as_list(document.get("Statement"))]
    for logical_id, resource in res.items():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        props = resource["Properties"]
        document = resolve(props["PolicyDocument"])
        for attached in props.get("Roles", []):
            target = attached.get("Ref") if isinstance(attached, dict) else None
            if target in found:
                found[target].statements += [
                    Statement(logical_id, s) for s in _as_list(document.get("Statement"))
                ]
    return found


def function_roles(template: dict[str, Any]) -> dict[str, str]:
    """Lambda handler string -> the logical id of the function's role."""
    out = {}
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        props = resource["Properties"]
        role = props.get("Role", {})
        if isinstance(role, dict) and "Fn::GetAtt" in role:
            out[str(props.get("Handler"))] = role["Fn::GetAtt"][0]
    return out
