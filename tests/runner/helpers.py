"""What the engine tests share (their fixtures live in conftest.py): hand-written cloud assemblies
whose Python handlers (tests/runner/handler_code.py) record every event they get, and a Harness that
deploys and destroys them with one runner over a World."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from local.emulator.world import World
from local.runner import CloudAssembly, Runner, StackArtifact, StackStore

HANDLER = Path(__file__).with_name("handler_code.py")
ASSET_HASH = "a" * 64
REGION = "ap-southeast-2"
ACCOUNT = "123456789012"
#: the state machines' execution role (its policy is evaluated when an execution invokes a function)
SFN_ROLE: dict[str, Any] = {"Fn::GetAtt": ["SfnRole", "Arn"]}


def sfn_role(actions: tuple[str, ...] = ("lambda:InvokeFunction",)) -> dict[str, Any]:
    """A role Step Functions may assume, allowed `actions` on every resource."""
    statement = {"Effect": "Allow", "Action": list(actions), "Resource": "*"}
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"},
                "Action": "sts:AssumeRole"}]},
            "Policies": [{"PolicyName": "invoke", "PolicyDocument": {"Version": "2012-10-17",
                                                                     "Statement": [statement]}}],
        },
    }


def asset_code() -> dict[str, Any]:
    return {
        "S3Bucket": {"Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"},
        "S3Key": f"{ASSET_HASH}.zip",
    }


def fn(handler: str, env: dict[str, Any] | None = None, runtime: str = "python3.12") -> dict[str, Any]:
    props: dict[str, Any] = {
        "Code": asset_code(),
        "Handler": handler,
        "Runtime": runtime,
        "Environment": {"Variables": {"LEDGER": "{ledger}", **(env or {})}},
    }
    return {"Type": "AWS::Lambda::Function", "Properties": props}


def provider(interval: int = 10, attempts: int = 60, backoff: float = 1) -> dict[str, Any]:
    """The shape CDK's custom_resources.Provider synthesizes: user functions, the framework's Node.js
    onEvent (never run) and its waiter state machine, whose Retry encodes queryInterval/totalTimeout."""
    definition = [
        '{"StartAt":"framework-isComplete-task","States":{"framework-isComplete-task":{"End":true,'
        f'"Retry":[{{"ErrorEquals":["States.ALL"],"IntervalSeconds":{interval},"MaxAttempts":{attempts},'
        f'"BackoffRate":{backoff}}}],"Catch":[{{"ErrorEquals":["States.ALL"],"Next":"framework-onTimeout-task"}}],'
        '"Type":"Task","Resource":"',
        {"Fn::GetAtt": ["FrameworkIsComplete", "Arn"]},
        '"},"framework-onTimeout-task":{"End":true,"Type":"Task","Resource":"',
        {"Fn::GetAtt": ["FrameworkOnTimeout", "Arn"]},
        '"}}}',
    ]
    node = {
        "USER_ON_EVENT_FUNCTION_ARN": {"Fn::GetAtt": ["UserOnEvent", "Arn"]},
        "USER_IS_COMPLETE_FUNCTION_ARN": {"Fn::GetAtt": ["UserIsComplete", "Arn"]},
    }
    return {
        "SfnRole": sfn_role(),
        "UserOnEvent": fn("handler_code.on_event"),
        "UserIsComplete": fn("handler_code.is_complete"),
        "FrameworkOnEvent": fn(
            "framework.onEvent",
            {**node, "WAITER_STATE_MACHINE_ARN": {"Ref": "FrameworkWaiter"}},
            runtime="nodejs22.x",
        ),
        "FrameworkIsComplete": fn("framework.isComplete", node, runtime="nodejs22.x"),
        "FrameworkOnTimeout": fn("framework.onTimeout", node, runtime="nodejs22.x"),
        "FrameworkWaiter": {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {"DefinitionString": {"Fn::Join": ["", definition]}, "RoleArn": SFN_ROLE},
        },
    }


def custom(
    type_name: str = "Custom::Thing", depends: list[str] | None = None, **props: Any
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "Type": type_name,
        "Properties": {"ServiceToken": {"Fn::GetAtt": ["FrameworkOnEvent", "Arn"]}, **props},
    }
    if depends:
        spec["DependsOn"] = depends
    return spec


def template(
    resources: dict[str, Any], outputs: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    return {"Resources": resources, "Outputs": outputs or {}, **extra}


def file_asset_hash(key: str, data: bytes) -> str:
    """A content hash, as CDK names assets: new content, new S3 key."""
    return hashlib.sha256(key.encode() + b"/" + data).hexdigest()


class Harness:
    """Writes a cloud assembly for a template and deploys / destroys it with one runner."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.world = World()
        self.ledger = root / "ledger.jsonl"
        self.ledger.touch()
        self.lines: list[str] = []
        self.runner = Runner(self.world, StackStore(root / "state"), out=self.lines.append, region=REGION)
        self.version = 0

    def assembly(
        self, tmpl: dict[str, Any], name: str = "Test-dev", files: dict[str, bytes] | None = None
    ) -> StackArtifact:
        self.version += 1
        out = self.root / f"cdk.out.{self.version}"
        asset = out / f"asset.{ASSET_HASH}"
        asset.mkdir(parents=True)
        shutil.copy(HANDLER, asset / "handler_code.py")
        text = json.dumps(tmpl).replace("{ledger}", str(self.ledger))
        (out / f"{name}.template.json").write_text(text)
        assets: dict[str, Any] = {
            "version": "55.0.0",
            "files": {
                ASSET_HASH: {
                    "source": {"path": asset.name, "packaging": "zip"},
                    "destinations": {
                        "d": {
                            "bucketName": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}",
                            "objectKey": f"{ASSET_HASH}.zip",
                        }
                    },
                }
            },
        }
        for key, data in sorted((files or {}).items()):
            digest = file_asset_hash(key, data)
            folder = out / f"asset.{digest}"
            target = folder / key
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            assets["files"][digest] = {
                "source": {"path": folder.name, "packaging": "zip"},
                "destinations": {"d": {"bucketName": "x", "objectKey": f"{digest}.zip"}},
            }
        (out / f"{name}.assets.json").write_text(json.dumps(assets))
        manifest = {
            "version": "55.0.0",
            "artifacts": {
                f"{name}.assets": {
                    "type": "cdk:asset-manifest",
                    "properties": {"file": f"{name}.assets.json"},
                },
                name: {
                    "type": "aws:cloudformation:stack",
                    "environment": f"aws://unknown-account/{REGION}",
                    "properties": {"templateFile": f"{name}.template.json"},
                    "dependencies": [f"{name}.assets"],
                    "displayName": name,
                },
            },
        }
        (out / "manifest.json").write_text(json.dumps(manifest))
        return CloudAssembly.load(out).stack(name)

    def deploy(self, tmpl: dict[str, Any], **kwargs: Any) -> Any:
        return self.runner.deploy(self.assembly(tmpl, **kwargs))

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.ledger.read_text().splitlines()]

    def calls(self, fn: str = "on_event") -> list[tuple[str, str]]:
        return [(e["type"], e["id"]) for e in self.events() if e["fn"] == fn]
