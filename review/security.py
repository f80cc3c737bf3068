"""What the change does to security: IAM statements (identity policies, trust policies, resource
policies) added and removed, one line per effect, principal or owner, action, resource and
condition; cdk-nag findings (the synth's validation report, acknowledged ones with their reason)
and checkov findings new in the head.

Owners are named by their CDK construct path (the template's `aws:cdk:path`), which stays the same
when a logical id's hash changes; intrinsic functions are written the way cdk-nag flattens them
(`<Data178AD3D0.Arn>`), so a statement reads like the finding ids reviewers already know.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.naming import REPO_ROOT

CHECKOV_CONFIG = REPO_ROOT / ".checkov.yaml"
#: The pinned checkov lives in its own virtualenv (it pins a boto3 the project cannot use).
CHECKOV = REPO_ROOT / ".venv-checkov" / "bin" / "checkov"


@dataclass(frozen=True, order=True)
class Statement:
    """One atomic grant or denial: who (owner and kind), effect, action, resource, condition."""

    owner: str
    policy: str  # identity | trust | resource
    effect: str
    action: str
    resource: str
    principal: str = ""
    condition: str = ""

    def text(self) -> str:
        who = f" to {self.principal}" if self.principal else ""
        when = f" when {self.condition}" if self.condition else ""
        return f"{self.effect} {self.action} on {self.resource}{who}{when}"


def flatten(node: Any) -> str:
    """An intrinsic as cdk-nag writes it: `${X}` -> `<X>`, Ref X -> `<X>`, GetAtt -> `<X.Attr>`."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, list):
        return ",".join(flatten(n) for n in node)
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return str(delimiter).join(flatten(i) for i in items)
        if "Fn::Sub" in node:
            value = node["Fn::Sub"]
            return flatten(value[0] if isinstance(value, list) else value)
        if "Fn::GetAtt" in node:
            target = node["Fn::GetAtt"]
            target = target.split(".", 1) if isinstance(target, str) else target
            return f"<{target[0]}.{target[1]}>"
        if "Ref" in node:
            return f"<{node['Ref']}>"
        if "Fn::ImportValue" in node:
            return flatten(node["Fn::ImportValue"])
        return json.dumps(node, sort_keys=True, separators=(",", ":"))
    return str(node)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _path(template: dict[str, Any], lid: str) -> str:
    spec = template.get("Resources", {}).get(lid, {})
    path = spec.get("Metadata", {}).get("aws:cdk:path", lid)
    return str(path).split("/", 1)[-1].removesuffix("/Resource").removesuffix("/DefaultPolicy")


def _owner_ref(template: dict[str, Any], ref: Any) -> str:
    """A Ref/GetAtt to a resource of the template, named by its construct path."""
    flat = flatten(ref)
    lid = flat.strip("<>").split(".", 1)[0]
    return _path(template, lid) if lid in template.get("Resources", {}) else flat


def _principals(principal: Any) -> list[str]:
    if principal is None:
        return [""]
    if isinstance(principal, str):
        return [principal]
    out = []
    for kind, values in sorted(principal.items()):
        out += [f"{kind}:{flatten(v)}" for v in _list(values)]
    return out


def _statements(owner: str, policy: str, document: Any) -> list[Statement]:
    out = []
    for st in (document or {}).get("Statement", []):
        raw = st.get("Condition")
        condition = json.dumps(_flat_condition(raw), sort_keys=True) if raw else ""
        actions = _list(st.get("Action") or [f"NOT {a}" for a in _list(st.get("NotAction", []))])
        resources = _list(st.get("Resource", "*" if policy == "trust" else ""))
        for principal in _principals(st.get("Principal")):
            for action in actions:
                for resource in resources:
                    out.append(Statement(owner, policy, st.get("Effect", "Allow"), str(action),
                                         flatten(resource) or "(the resource itself)", principal, condition))
    return out


def _flat_condition(condition: Any) -> Any:
    if isinstance(condition, dict):
        if any(k.startswith("Fn::") or k == "Ref" for k in condition):
            return flatten(condition)
        return {k: _flat_condition(v) for k, v in condition.items()}
    if isinstance(condition, list):
        return [_flat_condition(v) for v in condition]
    return condition


def statements(template: dict[str, Any]) -> set[Statement]:
    """Every atomic statement of the template's IAM roles and policies, bucket, topic and key
    policies and Lambda permissions."""
    found: list[Statement] = []
    for lid, spec in template.get("Resources", {}).items():
        props = spec.get("Properties", {})
        kind = spec.get("Type")
        path = _path(template, lid)
        if kind == "AWS::IAM::Role":
            found += _statements(path, "trust", props.get("AssumeRolePolicyDocument"))
            for inline in props.get("Policies", []):
                found += _statements(path, "identity", inline.get("PolicyDocument"))
            for arn in props.get("ManagedPolicyArns", []):
                found.append(Statement(path, "identity", "Attach", "managed policy", flatten(arn)))
        elif kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            owners = [_owner_ref(template, r) for r in props.get("Roles", [])] or [path]
            for owner in owners:
                found += _statements(owner, "identity", props.get("PolicyDocument"))
        elif kind == "AWS::S3::BucketPolicy":
            found += _statements(f"bucket {_owner_ref(template, props.get('Bucket'))}", "resource",
                                 props.get("PolicyDocument"))
        elif kind == "AWS::SNS::TopicPolicy":
            for topic in props.get("Topics", []):
                found += _statements(f"topic {_owner_ref(template, topic)}", "resource",
                                     props.get("PolicyDocument"))
        elif kind == "AWS::KMS::Key":
            found += _statements(f"key {path}", "resource", props.get("KeyPolicy"))
        elif kind == "AWS::Lambda::Permission":
            found.append(Statement(f"function {_owner_ref(template, props.get('FunctionName'))}", "resource",
                                   "Allow", str(props.get("Action")), "(the function)",
                                   flatten(props.get("Principal")), flatten(props.get("SourceArn"))))
    return set(found)


@dataclass
class Finding:
    tool: str  # cdk-nag | checkov
    rule: str
    resource: str
    text: str
    acknowledged: str = ""  # cdk-nag: the acknowledgment's reason

    def key(self) -> tuple[str, str, str]:
        return (self.tool, self.rule, self.resource)


def nag_findings(assembly: Path) -> list[Finding] | None:
    """cdk-nag's findings from the synth's validation report (None: no report, nag did not run)."""
    report = assembly / "validation-report.json"
    if not report.is_file():
        return None
    found = []
    for plugin in json.loads(report.read_text()).get("pluginReports", []):
        for group, acknowledged in (("violations", False), ("suppressedViolations", True)):
            for violation in plugin.get(group, []):
                for construct in violation.get("violatingConstructs", []):
                    found.append(Finding(
                        "cdk-nag", violation.get("ruleName", ""),
                        str(construct.get("constructPath", "")).split("/", 1)[-1],
                        violation.get("description", ""),
                        violation.get("reason", "") if acknowledged else "",
                    ))
    return found


class Checkov:
    """checkov over both templates, in the background (it takes seconds): `start`, then `result`."""

    def __init__(self, binary: Path | None = None) -> None:
        self.binary = binary or Path(os.environ.get("PZ_CHECKOV", CHECKOV))
        self.process: subprocess.Popen[str] | None = None
        self.error = ""
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.files: dict[str, Path] = {}

    @property
    def available(self) -> bool:
        return self.binary.is_file() or shutil.which(str(self.binary)) is not None

    def start(self, templates: dict[str, dict[str, Any]]) -> None:
        if not self.available:
            self.error = f"checkov not run: {self.binary} is missing (`make checkov` installs it)"
            return
        self._tmp = tempfile.TemporaryDirectory(prefix="pz-review-checkov-")
        cmd = [str(self.binary), "--framework", "cloudformation", "--quiet", "--compact",
               "--skip-download", "-o", "json"]
        if CHECKOV_CONFIG.is_file():
            cmd += ["--config-file", str(CHECKOV_CONFIG)]
        for side, template in templates.items():
            path = Path(self._tmp.name) / side / "template.json"
            path.parent.mkdir()
            path.write_text(json.dumps(template))
            self.files[side] = path
            cmd += ["-f", str(path)]
        env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
        self.process = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )

    def result(self, templates: dict[str, dict[str, Any]]) -> dict[str, list[Finding]] | None:
        """Failed checks per side, or None when checkov could not run (`error` says why)."""
        if self.process is None:
            return None
        out, err = self.process.communicate()
        try:
            if not out.strip():
                raise ValueError(err.strip().splitlines()[-1] if err.strip() else "no output")
            reports = json.loads(out)
            reports = reports if isinstance(reports, list) else [reports]
        except ValueError as error:
            self.error = f"checkov failed: {error}"
            return None
        finally:
            if self._tmp is not None:
                self._tmp.cleanup()
        found: dict[str, list[Finding]] = {side: [] for side in self.files}
        for report in reports:
            for check in (report.get("results") or {}).get("failed_checks", []):
                side = next((s for s, p in self.files.items() if check.get("file_path", "").endswith(
                    f"/{s}/template.json")), None)
                if side is None:
                    continue
                lid = str(check.get("resource", "")).split(".", 1)[-1]
                found[side].append(Finding("checkov", check.get("check_id", ""), _path(templates[side], lid),
                                           check.get("check_name", "")))
        return found


@dataclass
class Security:
    added: list[Statement] = field(default_factory=list)
    removed: list[Statement] = field(default_factory=list)
    new_findings: list[Finding] = field(default_factory=list)
    gone_findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def compare(
    base: dict[str, Any],
    head: dict[str, Any],
    nag: tuple[list[Finding] | None, list[Finding] | None],
    checkov: dict[str, list[Finding]] | None,
    checkov_note: str = "",
) -> Security:
    before, after = statements(base), statements(head)
    result = Security(added=sorted(after - before), removed=sorted(before - after))
    found_before: list[Finding] = []
    found_after: list[Finding] = []
    if nag[0] is None or nag[1] is None:
        result.notes.append("cdk-nag: no validation report on both sides (synthesized without cdk-nag)")
    else:
        found_before += nag[0]
        found_after += nag[1]
    if checkov is None:
        result.notes.append(checkov_note or "checkov not run")
    else:
        found_before += checkov.get("base", [])
        found_after += checkov.get("head", [])
    keys_before = {f.key() for f in found_before}
    keys_after = {f.key() for f in found_after}
    seen: set[tuple[str, str, str]] = set()
    for finding in found_after:
        if finding.key() not in keys_before and finding.key() not in seen:
            seen.add(finding.key())
            result.new_findings.append(finding)
    for finding in found_before:
        if finding.key() not in keys_after and finding.key() not in seen:
            seen.add(finding.key())
            result.gone_findings.append(finding)
    return result
