"""What the stack tests share (their fixtures live in conftest.py): in-process synthesis through
stacks.build_app, the template's dependency graph, and readers of a synthesized template (string
values with intrinsics, the handlers' contract, cdk-nag's report and acknowledgments).

Data and schemas come from tests/stack/fixtures (small, fixed), so the template, its hashes and the
snapshot do not move when data/ is regenerated; the shipped configs are used as they are."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from personalize_constructs.contract import contract
from pipeline.config import PipelineConfig, load_config
from pipeline.naming import REPO_ROOT, stack_name

FIXTURES = Path(__file__).parent / "fixtures"
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ["PATH"] = f"{REPO_ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}"


@dataclass
class Synth:
    env: str
    outdir: Path
    template: dict[str, Any]

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template["Resources"]

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.resources.items() if r["Type"] == kind}

    @property
    def template_path(self) -> Path:
        return self.outdir / f"{stack_name(self.env)}.template.json"


def synth(env: str, outdir: Path, *, config: PipelineConfig | None = None, root: Path = FIXTURES) -> Synth:
    from stacks import build_app

    app = build_app(
        env, str(outdir), config=config or load_config(env), root=root, asset_dir=REPO_ROOT / "lambda"
    )
    app.synth()
    template = json.loads((outdir / f"{stack_name(env)}.template.json").read_text())
    return Synth(env, outdir, template)


def config_with(env: str, tmp_path: Path, edit: Callable[[str], str]) -> PipelineConfig:
    """The shipped config for `env` with its text edited."""
    text = edit((REPO_ROOT / "config" / f"{env}.toml").read_text())
    path = tmp_path / f"{env}-edited.toml"
    path.write_text(text)
    return load_config(env, path)


# The template's dependency graph: DependsOn, Ref and Fn::GetAtt edges.


def references(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        if "Ref" in node and isinstance(node["Ref"], str):
            found.add(node["Ref"])
        if "Fn::GetAtt" in node:
            target = node["Fn::GetAtt"]
            found.add(target[0] if isinstance(target, list) else str(target).split(".")[0])
        for value in node.values():
            found |= references(value)
    elif isinstance(node, list):
        for value in node:
            found |= references(value)
    return found


def edges(template: dict[str, Any]) -> dict[str, set[str]]:
    """logical id -> the resources it directly depends on."""
    resources = template["Resources"]
    out: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        depends = resource.get("DependsOn", [])
        deps = set([depends] if isinstance(depends, str) else depends)
        deps |= references(resource.get("Properties", {}))
        out[logical_id] = {d for d in deps if d in resources}
    return out


def ancestors(template: dict[str, Any], logical_id: str) -> set[str]:
    graph = edges(template)
    seen: set[str] = set()
    stack = [logical_id]
    while stack:
        for dep in graph[stack.pop()]:
            if dep not in seen:
                seen.add(dep)
                stack.append(dep)
    return seen


def before(template: dict[str, Any], first: str, then: str) -> bool:
    """True when `then` cannot be created before `first` exists."""
    return first in ancestors(template, then)


def render(node: Any) -> str:
    """A CloudFormation string value with its intrinsics shown as `<Logical.Attr>` / `<Ref>`."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, parts = node["Fn::Join"]
            return str(delimiter).join(render(p) for p in parts)
        if "Fn::GetAtt" in node:
            return "<{}.{}>".format(*node["Fn::GetAtt"])
        if "Ref" in node:
            return f"<{node['Ref']}>"
        if "Fn::Sub" in node and isinstance(node["Fn::Sub"], str):
            return node["Fn::Sub"].replace("${", "<").replace("}", ">")
    raise AssertionError(f"unexpected intrinsic {node!r}")


CUSTOM = "Custom::Personalize"


def is_intrinsic(value: Any) -> bool:
    """A value CloudFormation resolves at deploy time: `{"Ref": ...}` or `{"Fn::...": ...}`."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    (key,) = value
    return key == "Ref" or key.startswith("Fn::")


def _get_atts(node: Any) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        if "Fn::GetAtt" in node and isinstance(node["Fn::GetAtt"], list):
            logical_id, attribute = node["Fn::GetAtt"]
            yield logical_id, attribute
        for value in node.values():
            yield from _get_atts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _get_atts(value)


def contract_problems(
    template: dict[str, Any], types: Mapping[str, Any] | None = None
) -> list[str]:
    """Where a template's custom resources break the contract (`types`: the contract's by default)."""
    types = contract.TYPES if types is None else types
    resources = template["Resources"]
    out = []
    for logical_id, resource in resources.items():
        kind = resource["Type"]
        if not kind.startswith(CUSTOM):
            continue
        spec = types.get(kind)
        if spec is None:
            out.append(f"{logical_id}: {kind} is not a type of the contract")
            continue
        props = resource.get("Properties", {})
        out += [f"{logical_id}: {problem}" for problem in spec.problems(props, deferred=is_intrinsic)]
    for logical_id, attribute in _get_atts(template):
        kind = resources.get(logical_id, {}).get("Type", "")
        if kind in types and attribute not in types[kind].data:
            out.append(f"Fn::GetAtt {logical_id}.{attribute}: {kind} returns no such Data")
    return out


def nag_violations(outdir: Path) -> list[str]:
    report = outdir / "validation-report.json"
    if not report.exists():
        return []
    data = json.loads(report.read_text())
    return [
        f"{v['ruleName']} {c['constructPath']}"
        for plugin in data.get("pluginReports", [])
        for v in plugin.get("violations", [])
        for c in v.get("violatingConstructs", [])
    ]


def acknowledgments(synth: Synth) -> list[tuple[str, str, str]]:
    """(construct path, rule id, reason) from the stack's cloud-assembly metadata."""
    metadata = json.loads((synth.outdir / f"{stack_name(synth.env)}.metadata.json").read_text())
    found = []
    for path, entries in metadata.items():
        for entry in entries:
            if entry.get("type") == "aws:cdk:acknowledged-rules":
                for rule, reason in entry["data"].items():
                    found.append((path, rule, reason))
    return found


#: Two batch jobs (a repo input, an s3:// input with an output prefix) for the stack and security suites.
JOBS = """
[[batch_jobs]]
name = "nightly-users"
solution = "user-personalization"
input = "data/batch/users.jsonl"
num_results = 10
filter = "in-category"

[[batch_jobs]]
name = "similar-offline"
solution = "similar-items"
input = "s3://partner-drop/in/items.jsonl"
output = "scores/similar"
"""

USERS = "".join(
    json.dumps(line) + "\n"
    for line in (
        {"userId": "u1", "filterValues": {"CATEGORY": '"shoes"'}},
        {"userId": "u2", "filterValues": {"CATEGORY": '"hats","bags"'}},
    )
)
