"""Least privilege derived from what the handlers call, checked on the synthesized templates (dev,
prod, a KMS key, batch jobs, the VIDEO_ON_DEMAND example with recommenders).

Both directions, from sources that are not the stack's own lists:
- every API call a handler module can make (read from its source: tests/security/helpers.py) is allowed to
  the role of the function that runs it, on every resource of this environment the call names
  (example ARNs built from the template's own resource names, of each resource type the Service
  Authorization Reference says the action authorizes);
- every Personalize grant of those roles is a call some handler makes, on a resource type the
  action authorizes (a Create only on its own kind and the parents it names).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import botocore.session
import pytest
from personalize_handlers.common import unique_name
from personalize_handlers.contract import TYPES
from personalize_handlers.entry import KINDS

from tests.security.helpers import (
    Needed,
    Resolver,
    Role,
    Template,
    arn_segment,
    calls_by_function,
    function_roles,
    resource_types,
    roles,
)
from tests.stack.helpers import FIXTURES, JOBS, USERS, config_with, synth

HANDLER_PREFIX = "personalize_handlers.entry."
KMS_KEY = "arn:aws:kms:ap-southeast-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
#: A service-made id where the ARN carries one (event trackers, solution versions).
GENERATED = "0a1b2c3d"
#: What a handler appends to a per-request name (a RequestId's hash).
REQUEST = "00000000-0000-0000-0000-000000000000"


@dataclass
class Variant:
    name: str
    template: dict[str, Any]
    region: str

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template["Resources"]

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.resources.items() if r["Type"] == kind}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _shipped(t: Template) -> Variant:
    return Variant(t.env, t.template, t.config.environment.region or "ap-southeast-2")


@pytest.fixture(scope="module")
def kms(tmp_path_factory: pytest.TempPathFactory) -> Variant:
    tmp = tmp_path_factory.mktemp("lp-kms")
    config = config_with("dev", tmp, lambda t: t.replace('kms_key_arn = ""', f'kms_key_arn = "{KMS_KEY}"'))
    return Variant("kms", synth("dev", tmp / "out", config=config).template, "ap-southeast-2")


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Variant:
    tmp = tmp_path_factory.mktemp("lp-batch")
    root = tmp / "root"
    shutil.copytree(FIXTURES, root)
    (root / "data" / "batch").mkdir(parents=True, exist_ok=True)
    (root / "data" / "batch" / "users.jsonl").write_text(USERS)
    config = config_with("dev", tmp, lambda text: text + JOBS)
    return Variant("batch", synth("dev", tmp / "out", config=config, root=root).template, "ap-southeast-2")


@pytest.fixture(scope="module", params=["dev", "prod", "kms", "batch", "vod"])
def variant(request: pytest.FixtureRequest, shipped_templates: Any) -> Variant:
    if request.param in ("dev", "prod", "vod"):
        return _shipped(shipped_templates(request.param))
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


# ---- what the template holds ------------------------------------------------------------------


def present_types(v: Variant) -> set[str]:
    return {r["Type"] for r in v.resources.values() if r["Type"] in TYPES}


def needed(v: Variant, present: set[str] | None = None) -> dict[str, list[Needed]]:
    """Entry function -> what it can call, for the kinds this template holds (or `present`)."""
    kind_modules: dict[str, set[str]] = {}
    for resource_type, kind in KINDS.items():
        kind_modules.setdefault(type(kind).__module__.rsplit(".", 1)[-1] + ".py", set()).add(resource_type)
    present = present_types(v) if present is None else present
    labels = [TYPES[t].kind for t in present if TYPES[t].service == "personalize"]
    out = {}
    for function, calls in calls_by_function(kind_modules, labels).items():
        out[function] = [n for n in calls if n.kinds is None or n.kinds & present]
    return out


def examples(v: Variant, resolve: Resolver) -> dict[str, list[str]]:
    """ARN resource segment (`dataset-group`) -> ARNs of this environment's resources of that type,
    built from the template's names the way the service names them."""
    base = f"arn:{resolve.partition}:personalize:{v.region}:{resolve.account}:"
    out: dict[str, list[str]] = {}

    def add(segment: str, resource: str) -> None:
        out.setdefault(segment, []).append(f"{base}{segment}/{resource}")

    def props(kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical_id, resource in v.of_type(f"Custom::Personalize{kind}").items():
            yield logical_id, resolve(resource["Properties"])

    names = {lid: p.get("Name") for kind in ("DatasetGroup", "Solution") for lid, p in props(kind)}
    groups = [p["Name"] for _, p in props("DatasetGroup")]
    for _, p in props("DatasetGroup"):
        add("dataset-group", p["Name"])
    for _, p in props("Dataset"):
        group = names[p["DatasetGroupArn"].split(".")[0]]
        add("dataset", f"{group}/{p['DatasetType'].upper()}")
    for kind, segment in (("Schema", "schema"), ("Solution", "solution"), ("Campaign", "campaign"),
                          ("Filter", "filter"), ("Recommender", "recommender")):
        for _, p in props(kind):
            add(segment, p["Name"])
    for _, p in props("SolutionVersion"):
        add("solution", f"{names[p['SolutionArn'].split('.')[0]]}/{GENERATED}")
    for _, p in props("DatasetImportJob"):
        add("dataset-import-job", unique_name(p["JobName"], REQUEST))
    for _, p in props("BatchInferenceJob"):
        add("batch-inference-job", unique_name(p["JobName"], REQUEST))
    if v.of_type("Custom::PersonalizeEventTracker"):
        add("event-tracker", GENERATED)
    assert groups, "no dataset group in the template"
    return out


@dataclass(frozen=True)
class Requirement:
    role: str
    action: str
    resource: str
    context: tuple[tuple[str, str], ...]
    why: str


def requirements(v: Variant) -> Iterator[Requirement]:
    """Every (role, action, resource) the handlers' calls need in this template."""
    resolve = Resolver(v.template, v.region)
    by_handler = function_roles(v.template)
    arns = examples(v, resolve)
    model = botocore.session.get_session().get_service_model("personalize")
    functions = {h.removeprefix(HANDLER_PREFIX): role for h, role in by_handler.items()
                 if h.startswith(HANDLER_PREFIX)}
    assert set(functions) == {"on_event", "is_complete", "poll", "signal"}, functions
    on_event = next(r for lid, r in v.resources.items() if r["Type"] == "AWS::Lambda::Function"
                    and r["Properties"]["Handler"] == HANDLER_PREFIX + "on_event")
    for function, calls in needed(v).items():
        role = functions[function]
        for call in calls:
            why = f"{function}: {call.module} calls {call.service}:{call.operation}"
            if call.service == "personalize":
                types = resource_types("personalize", call.operation)
                if not types:
                    yield Requirement(role, f"personalize:{call.operation}", "*", (), why)
                for resource_type in types:
                    for arn in arns.get(arn_segment("personalize", resource_type), []):
                        yield Requirement(role, f"personalize:{call.operation}", arn, (), why)
                if "roleArn" in model.operation_model(call.operation).input_shape.members:
                    for spec in (TYPES[t] for t in present_types(v)):
                        if spec.operation != call.operation:
                            continue
                        for resource in v.of_type(spec.type).values():
                            if "RoleArn" in resource["Properties"]:
                                yield Requirement(
                                    role, "iam:PassRole", resolve(resource["Properties"]["RoleArn"]),
                                    (("iam:PassedToService", "personalize.amazonaws.com"),),
                                    f"{why} with a roleArn")
            elif call.service == "stepfunctions" and call.operation == "StartExecution":
                variables = on_event["Properties"]["Environment"]["Variables"]
                machine = resolve(variables["WAITER_STATE_MACHINE_ARN"])
                yield Requirement(role, "states:StartExecution", machine, (), why)
            elif call.service == "s3":
                # S3 API reference, CopyObject: s3:GetObject on the source, s3:PutObject on the target.
                for resource in v.of_type("Custom::PersonalizeDataObject").values():
                    p = resolve(resource["Properties"])
                    target = f"arn:{resolve.partition}:s3:::{p['Bucket']}/{p['Key']}"
                    if call.operation == "CopyObject":
                        source = f"arn:{resolve.partition}:s3:::{p['SourceBucket']}/{p['SourceKey']}"
                        yield Requirement(role, "s3:GetObject", source, (), why)
                        yield Requirement(role, "s3:PutObject", target, (), why)
                    elif call.operation == "DeleteObject":
                        yield Requirement(role, "s3:DeleteObject", target, (), why)
                    else:
                        raise AssertionError(f"no IAM action known for s3:{call.operation}")
            else:
                raise AssertionError(f"no IAM action known for {call.service}:{call.operation}")


def _roles(v: Variant) -> dict[str, Role]:
    return roles(v.template, Resolver(v.template, v.region))


def missing_grants(v: Variant) -> list[str]:
    found = _roles(v)
    out = set()
    for need in requirements(v):
        if not found[need.role].allows(need.action, need.resource, dict(need.context)):
            out.add(f"{need.role}: {need.action} on {need.resource} ({need.why})")
    return sorted(out)


def test_every_call_a_handler_can_make_is_granted_on_its_resources(variant: Variant) -> None:
    missing = missing_grants(variant)
    assert not missing, "\n".join(missing)


def test_the_call_check_fails_when_a_grant_is_dropped(shipped_templates: Any) -> None:
    """The check can fail: UpdateCampaign taken out of the handler role's policy is reported."""
    v = _shipped(shipped_templates("dev"))
    broken = json.loads(json.dumps(v.template))
    for resource in broken["Resources"].values():
        for policy in resource.get("Properties", {}).get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = [a for a in as_list(statement["Action"]) if a != "personalize:UpdateCampaign"]
                statement["Action"] = actions or ["sts:GetCallerIdentity"]
    missing = set(missing_grants(Variant("broken", broken, v.region))) - set(missing_grants(v))
    assert missing and all("personalize:UpdateCampaign on " in m for m in missing), missing
    assert any(":campaign/dev-retail-user-recs " in m for m in missing), missing


# ---- the other direction: nothing granted that no handler calls, or on another kind -------------


def excess_grants(v: Variant) -> list[str]:
    resolve = Resolver(v.template, v.region)
    found = roles(v.template, resolve)
    by_role: dict[str, set[str]] = {}
    functions = {h.removeprefix(HANDLER_PREFIX): r for h, r in function_roles(v.template).items()
                 if h.startswith(HANDLER_PREFIX)}
    # The provider grants the calls of every custom-resource kind whatever the config holds (an update
    # that drops the last campaign deletes it under the new policy): a grant is excess when no
    # handler of any kind calls it.
    for function, calls in needed(v, set(TYPES)).items():
        by_role.setdefault(functions[function], set()).update(
            c.operation for c in calls if c.service == "personalize")
    out = []
    for role_id, called in by_role.items():
        for statement, action, resource in found[role_id].grants():
            if not action.startswith("personalize:"):
                continue
            op = action.split(":", 1)[1]
            if op not in called:
                out.append(f"{statement.where}: {action} is granted but no handler of this role calls it")
                continue
            types = resource_types("personalize", op)
            if not types:
                if resource != "*":
                    out.append(f"{statement.where}: {action} takes no resource, granted on {resource}")
                continue
            segment = resource.split(":", 5)[5].split("/", 1)[0] if resource.count(":") >= 5 else resource
            allowed = {arn_segment("personalize", t) for t in types}
            if segment not in allowed:
                out.append(f"{statement.where}: {action} on {resource}: the action authorizes only "
                           f"{sorted(allowed)}")
    return sorted(set(out))


def test_every_personalize_grant_is_a_call_on_a_resource_type_it_authorizes(variant: Variant) -> None:
    excess = excess_grants(variant)
    assert not excess, "\n".join(excess)


def test_the_grant_check_fails_on_a_create_granted_on_another_kind(shipped_templates: Any) -> None:
    v = _shipped(shipped_templates("dev"))
    broken = json.loads(json.dumps(v.template))
    role = next(r for lid, r in broken["Resources"].items() if lid.startswith("ProviderHandlerRole"))
    role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].append(
        {"Effect": "Allow", "Action": "personalize:CreateCampaign",
         "Resource": "arn:aws:personalize:ap-southeast-2:123456789012:schema/dev-retail-*"})
    excess = excess_grants(Variant("broken", broken, v.region))
    assert any("personalize:CreateCampaign on " in e and ":schema/" in e for e in excess), excess
