"""A deployed environment as its stack outputs say it is: which campaigns exist under which ARN,
which call each one serves, and the dataset group its filters live in.

Everything is read from the outputs a person sees after `cdk deploy` (the stack writes them for
this purpose, stacks/personalize_stack.py `_outputs`): `CampaignNames` maps config campaign names
to Personalize names, `CampaignArn<Label>` holds the ARNs, `Command<Label>` the ready-made AWS CLI
query (which API, sample ids), `SolutionVersionArn<Label>` the trained versions. On AWS they come
from CloudFormation DescribeStacks; locally from the runner's state file (recs/local_target.py).
This module imports nothing of local/ and no moto."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from typing import Any, Literal

from pipeline.naming import stack_name
from recs.errors import ServiceError, StackNotDeployed
from recs.service import translate

#: Stack statuses without usable outputs: never created, rolled back, being or already deleted.
NOT_SERVING = {
    "REVIEW_IN_PROGRESS": "is being created",
    "CREATE_IN_PROGRESS": "is still being created",
    "CREATE_FAILED": "failed to create",
    "ROLLBACK_IN_PROGRESS": "failed to create and is rolling back",
    "ROLLBACK_FAILED": "failed to create and its rollback failed",
    "ROLLBACK_COMPLETE": "failed to create and was rolled back",
    "DELETE_IN_PROGRESS": "is being deleted",
    "DELETE_COMPLETE": "was deleted",
    "DELETE_FAILED": "is partly deleted (its delete failed)",
}

Kind = Literal["user", "related-items", "ranking"]


@dataclass(frozen=True)
class Campaign:
    """One deployed campaign: its config name, ARN, and the call it serves (with sample ids)."""

    name: str
    arn: str
    #: `get-recommendations` or `get-personalized-ranking` (the AWS CLI command of the output)
    call: str = "get-recommendations"
    sample_user: str | None = None
    sample_item: str | None = None
    sample_items: tuple[str, ...] = ()

    @property
    def kind(self) -> Kind:
        """user (GetRecommendations by userId), related-items (by itemId) or ranking."""
        if self.call == "get-personalized-ranking":
            return "ranking"
        return "related-items" if self.sample_item and not self.sample_user else "user"

    @property
    def usage(self) -> str:
        """How to call it, in the CLI's words (error messages use this)."""
        if self.kind == "ranking":
            sample = ",".join(self.sample_items) or "ITEM,ITEM"
            return f"--user-id {self.sample_user or 'USER'} --rank {sample}"
        if self.kind == "related-items":
            return f"--item-id {self.sample_item or 'ITEM'}"
        return f"--user-id {self.sample_user or 'USER'}"


@dataclass(frozen=True)
class DeployedStack:
    """A stack's name, region, status and outputs (all values strings, as CloudFormation has them)."""

    env: str
    name: str
    region: str
    status: str
    outputs: dict[str, str] = field(default_factory=dict)
    #: where it was found, for messages: "AWS" or "the local runner"
    where: str = "AWS"

    def check_serving(self, deploy_hint: str) -> None:
        """Raise StackNotDeployed unless the stack has outputs and is not failed or deleted."""
        problem = NOT_SERVING.get(self.status)
        if problem is None and self.outputs:
            return
        problem = problem or f"has no outputs (status {self.status})"
        fix = deploy_hint
        if self.status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED") and self.where == "AWS":
            fix = f"delete it (`npx cdk destroy -c env={self.env}`), then {deploy_hint}"
        raise StackNotDeployed(
            f"stack {self.name} in {self.region} ({self.where}) {problem} [{self.status}]: {fix}"
        )

    @property
    def dataset_group_arn(self) -> str | None:
        return self.outputs.get("DatasetGroupArn")

    def recommenders(self) -> dict[str, str]:
        """Config recommender name -> ARN (outputs `RecommenderNames` and `RecommenderArn<Label>`)."""
        try:
            names = json.loads(self.outputs.get("RecommenderNames") or "{}")
        except ValueError:
            names = {}
        found: dict[str, str] = {}
        for config_name, personalize_name in names.items():
            arn = next((str(v) for k, v in self.outputs.items() if k.startswith("RecommenderArn")
                        and str(v).endswith(f":recommender/{personalize_name}")), None)
            if arn is not None:
                found[config_name] = arn
        return found

    def campaigns(self) -> dict[str, Campaign]:
        """Config campaign name -> Campaign, for every campaign with an ARN output."""
        try:
            names = json.loads(self.outputs.get("CampaignNames") or "{}")
        except ValueError:
            names = {}
        found: dict[str, Campaign] = {}
        for config_name, personalize_name in names.items():
            arn = next(
                (
                    str(v)
                    for k, v in self.outputs.items()
                    if k.startswith("CampaignArn") and str(v).endswith(f":campaign/{personalize_name}")
                ),
                None,
            )
            if arn is None:
                continue
            command = next(
                (str(v) for k, v in self.outputs.items() if k.startswith("Command") and arn in str(v)), ""
            )
            found[config_name] = parse_command(config_name, arn, command)
        return found

    def solution_versions(self) -> dict[str, str]:
        """Output label (e.g. UserPersonalization) -> trained solution version ARN."""
        prefix = "SolutionVersionArn"
        return {k[len(prefix) :]: str(v) for k, v in sorted(self.outputs.items()) if k.startswith(prefix)}


def parse_command(name: str, arn: str, command: str) -> Campaign:
    """A Campaign from its `aws personalize-runtime <call> ... --user-id u --item-id i
    --input-list a b` output (missing pieces keep their defaults)."""
    words = shlex.split(command) if command else []
    call = words[2] if len(words) > 2 else "get-recommendations"
    user = item = None
    items: list[str] = []
    for i, word in enumerate(words):
        following = words[i + 1] if i + 1 < len(words) else None
        if word == "--user-id" and following:
            user = following
        elif word == "--item-id" and following:
            item = following
        elif word == "--input-list":
            for rest in words[i + 1 :]:
                if rest.startswith("--"):
                    break
                items.append(rest)
    return Campaign(name, arn, call, user, item, tuple(items))


def from_cloudformation(env: str, session: Any, region: str) -> DeployedStack:
    """The stack as CloudFormation DescribeStacks reports it (what `cdk deploy` left there)."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, PartialCredentialsError

    name = stack_name(env)
    try:
        answer = session.client("cloudformation", region_name=region).describe_stacks(StackName=name)
    except (NoCredentialsError, PartialCredentialsError) as error:
        raise translate(error, f"DescribeStacks {name}") from None
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", str(error))
        if code == "ValidationError" and "does not exist" in message:
            raise StackNotDeployed(
                f"no stack {name} in {region}: deploy it with `npx cdk deploy -c env={env}` "
                "(or pass the region it is in with --region)"
            ) from None
        raise translate(error, f"DescribeStacks {name}") from None
    except BotoCoreError as error:
        raise ServiceError(f"CloudFormation DescribeStacks {name} in {region} failed: {error}") from None
    stack = answer["Stacks"][0]
    outputs = {o["OutputKey"]: str(o.get("OutputValue", "")) for o in stack.get("Outputs", [])}
    return DeployedStack(env, name, region, stack["StackStatus"], outputs, "AWS")
