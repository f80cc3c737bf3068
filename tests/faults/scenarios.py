"""The fault matrix's scenarios: each deploys the real synthesized template on the local runner with the
local Personalize's fault injection (a fresh World, virtual clock), then checks the invariants
(harness.Trial.invariants) plus what the scenario itself promises."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cli.support import region_of
from pipeline.naming import STACK_PREFIX, stack_name
from tests.faults.harness import Assemblies, Check, Trial, trial

SMALL = "small/dev"  # one solution, one campaign, destroy
SMALL_RETAIN = "small/prod"  # the same, bucket retained (prod's policy)
SOLUTION_GLOB = "*-retail-user-personalization*"


@dataclass
class Outcome:
    """What a scenario ended with: the stack statuses in order and every invariant's verdict."""

    key: str
    title: str
    outcome: str
    checks: list[Check]
    real_seconds: float = 0.0
    virtual_seconds: float = 0.0
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and all(c.held is not False for c in self.checks)


@dataclass
class Scenario:
    key: str
    title: str
    run: Callable[[Trial, Assemblies], tuple[str, list[Check]]]
    configs: tuple[str, ...] = (SMALL,)
    slow: bool = False
    #: a known bug in someone else's code this scenario exposes (the test is xfail(strict=True))
    known_bug: str = ""
    tags: list[str] = field(default_factory=list)


def advance(t: Trial, seconds: float) -> None:
    """Move the world's virtual clock (a fresh World always has one)."""
    clock: Any = t.world.clock
    clock.advance(seconds)


def statuses(t: Trial) -> str:
    return " -> ".join(r.status for r in t.results) or "nothing deployed"


def check(name: str, held: bool, detail: str) -> Check:
    return Check(name, held, detail)


def kinds(resources: list[Any]) -> Counter[str]:
    return Counter(r.KIND for r in resources)


def duplicates(resources: list[Any]) -> list[str]:
    """Two live resources of one kind with one name (a duplicate delivery that created twice)."""
    seen = Counter((r.KIND, r.name) for r in resources if r.KIND != "dataset-import-job")
    return [f"{k} {n} x{c}" for (k, n), c in seen.items() if c > 1]


def template_count(t: Trial, env: str, type_name: str) -> int:
    return sum(1 for r in t.templates[env]["Resources"].values() if r["Type"] == type_name)


def expected_kinds(t: Trial, env: str) -> Counter[str]:
    """What one deploy of the template makes, per Personalize kind."""
    table = {
        "dataset-group": "Custom::PersonalizeDatasetGroup",
        "schema": "Custom::PersonalizeSchema",
        "dataset": "Custom::PersonalizeDataset",
        "dataset-import-job": "Custom::PersonalizeDatasetImportJob",
        "solution": "Custom::PersonalizeSolution",
        "solution-version": "Custom::PersonalizeSolutionVersion",
        "campaign": "Custom::PersonalizeCampaign",
        "filter": "Custom::PersonalizeFilter",
        "event-tracker": "Custom::PersonalizeEventTracker",
    }
    return Counter({kind: template_count(t, env, type_name) for kind, type_name in table.items()})


def exact_resources(t: Trial, env: str) -> Check:
    """After a deploy: exactly one of each resource the template declares (no duplicate, no orphan)."""
    got = kinds([r for r in t.personalize(env) if r.status == "ACTIVE"])
    want = expected_kinds(t, env)
    dup = duplicates(t.personalize(env))
    ok = got == want and not dup
    return check(
        "exactly the template's resources",
        ok,
        "one of each" if ok else f"got {dict(got)} want {dict(want)} duplicates {dup}",
    )


def recommend(t: Trial, campaign_arn: str) -> int:
    with t.world.active():
        runtime = t.client("personalize-runtime")
        return len(runtime.get_recommendations(campaignArn=campaign_arn, userId="u0246")["itemList"])


def deploy_destroy(t: Trial, a: Assemblies, key: str = SMALL) -> tuple[Any, Check | None]:
    """Deploy `key`, then destroy it: (the deploy's result, exact_resources after it when it
    succeeded)."""
    art = a.get(key)
    env = art.name.removeprefix(STACK_PREFIX)
    first = t.deploy(art)
    extra = exact_resources(t, env) if first.ok else None
    t.destroy(env)
    return first, extra


# ------------------------------------------------------------------------------------------------
# 1. throttling on 30% of Personalize calls, for a whole deploy and destroy
# ------------------------------------------------------------------------------------------------
def throttling(t: Trial, a: Assemblies) -> tuple[str, list[Check]]:
    t.world.faults.throttle(0.15, seed=11, error_code="ThrottlingException")
    t.world.faults.throttle(0.18, seed=12, error_code="LimitExceededException")  # ~30% together
    first, exact = deploy_destroy(t, a)
    calls = t.world.stats.total("personalize")
    injected = sum(n for k, n in t.world.faults.injected.items() if k.startswith("throttle"))
    share = injected / max(1, calls)
    extra = [
        check(
            "deployed despite throttling",
            first.status == "CREATE_COMPLETE",
            first.reason[:200] or f"{injected} of {calls} Personalize calls throttled ({share:.0%})",
        ),
        check("~30% of calls throttled", 0.2 <= share <= 0.4, f"{injected}/{calls} = {share:.0%}"),
    ]
    if exact:
        extra.append(exact)
    return statuses(t), t.invariants("dev") + extra


# ------------------------------------------------------------------------------------------------
# 2. every Lambda event delivered twice
# ------------------------------------------------------------------------------------------------
def duplicate_delivery(t: Trial, a: Assemblies) -> tuple[str, list[Check]]:
    t.runner.duplicate_deliveries = True
    first, exact = deploy_destroy(t, a)
    extra = [
        check(
            "deployed with every event twice",
            first.status == "CREATE_COMPLETE",
            first.reason[:300] or f"{first.lambda_invocations} Lambda invocations",
        )
    ]
    if exact:
        extra.append(exact)
    return statuses(t), t.invariants("dev") + extra


# ------------------------------------------------------------------------------------------------
# 3. a crash after the create call was sent, before it answered; then the retry
# ------------------------------------------------------------------------------------------------
CREATES = (
    "CreateDatasetGroup",
    "CreateSchema",
    "CreateDataset",
    "CreateDatasetImportJob",
    "CreateSolution",
    "CreateSolutionVersion",
    "CreateCampaign",
    "CreateFilter",
    "CreateEventTracker",
)


def lost_response(t: Trial, a: Assemblies) -> tuple[str, list[Check]]:
    """Every create's response is lost once after it took effect: the retry meets the resource and
    adopts it (no duplicate, nothing orphaned)."""
    for op in CREATES:
        t.world.faults.fail_call(op, after_effect=True, times=1)
    first, exact = deploy_destroy(t, a)
    lost = sum(n for k, n in t.world.faults.injected.items() if k.startswith("call:"))
    extra = [
        check(
            "deployed after lost create responses",
            first.status == "CREATE_COMPLETE",
            first.reason[:300] or f"{lost} create responses lost",
        )
    ]
    if exact:
        extra.append(exact)
    return statuses(t), t.invariants("dev") + extra


def crash_then_retry(
    t: Trial, a: Assemblies, arm: Callable[[Trial], Callable[[], int]]
) -> tuple[str, list[Check]]:
    """Deploy with a crash armed (CreateSolution took effect, the handler never answered): the stack
    must roll back completely (the solution the call created included); then the retry deploy
    succeeds and a destroy leaves nothing."""
    crashes = arm(t)
    failed = t.deploy(a.get(SMALL))
    after_crash = t.invariants("dev", ("SolutionUserPersonalization",))
    t.world.faults.clear()
    retry = t.deploy(a.get(SMALL))
    exact = (
        exact_resources(t, "dev")
        if retry.ok
        else check("exactly the template's resources", False, "retry did not deploy")
    )
    t.destroy("dev")
    rename = [Check(f"after crash: {c.name}", c.held, c.detail) for c in after_crash]
    extra = [
        check("the crash happened", crashes() >= 1, f"{crashes()} crashed invocations / lost responses"),
        check("crash rolled back", failed.status == "ROLLBACK_COMPLETE", failed.status),
        check("retry deployed", retry.status == "CREATE_COMPLETE", retry.reason[:300] or retry.status),
        exact,
    ]
    return statuses(t), rename + t.invariants("dev") + extra


def arm_lambda_crash(t: Trial) -> Callable[[], int]:
    """The OnEvent function dies (times out) right after its CreateSolution call took effect:
    the Lambda service reports a function error, the handler's answer is lost."""
    from local.runner.lambdas import LambdaError

    real = t.runner.lambdas.invoke
    crashed: list[str] = []

    def invoke(name_or_arn: str, event: Any) -> Any:
        result = real(name_or_arn, event)
        if (
            not crashed
            and isinstance(event, dict)
            and event.get("RequestType") == "Create"
            and event.get("LogicalResourceId") == "SolutionUserPersonalization"
        ):
            crashed.append(name_or_arn)
            raise LambdaError("Sandbox.Timedout", "Task timed out after 900.00 seconds")
        return result

    t.runner.lambdas.invoke = invoke  # type: ignore[method-assign]
    return lambda: len(crashed)


def arm_lost_responses(t: Trial) -> Callable[[], int]:
    """CreateSolution takes effect, and its response and every retry's are lost: after the
    client's 10 attempts the handler sees a connection error."""
    t.world.faults.fail_call("CreateSolution", after_effect=True, times=30)
    return lambda: t.world.faults.injected.get("call:CreateSolution", 0)


def handler_crash(t: Trial, a: Assemblies) -> tuple[str, list[Check]]:
    return crash_then_retry(t, a, arm_lambda_crash)


def all_responses_lost(t: Trial, a: Assemblies) -> tuple[str, list[Check]]:
    """CreateSolution took effect and every attempt's response was lost: the handler looks the
    solution up by name and adopts it in the same invocation, so the deploy completes (nothing to
    roll back, no orphan, no duplicate) and a destroy leaves nothing."""
    lost = arm_lost_responses(t)
    first, exact = deploy_destroy(t, a)
    extra = [
        check("every response was lost", lost() >= 2, f"{lost()} CreateSolution responses lost"),
        check("deployed by adopting", first.status == "CREATE_COMPLETE", first.reason[:300] or first.status),
        exact or check("exactly the template's resources", False, "did not deploy"),
    ]
    return statuses(t), t.invariants("dev") + extra


# ------------------------------------------------------------------------------------------------
# 4. an import job failing (bad file in S3), and a training failing
# ------------------------------------------------------------------------------------------------
BAD_CSV = b"USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\nu0001,i0001,not-a-time,view\n"


def bad_file(t: Trial, a: Assemblies) -> tuple[str, list[Check]]:
    """The interactions file in S3 is replaced by a bad one after the upload, before the import."""
    done: list[str] = []

    def corrupt(line: str) -> None:
        if "CREATE_COMPLETE" in line and "UploadInteractions" in line and not done:
            with t.world.active():
                s3 = t.client("s3")
                for bucket in t.stack_buckets_active(s3):
                    for obj in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
                        if obj["Key"].endswith("interactions.csv"):
                            s3.put_object(Bucket=bucket, Key=obj["Key"], Body=BAD_CSV)
                            done.append(f"s3://{bucket}/{obj['Key']}")

    t.hooks.append(corrupt)
    t.deploy(a.get(SMALL))
    extra = [check("the bad file was in place", bool(done), ", ".join(done) or "upload never completed")]
    return statuses(t), t.invariants("dev", ("ImportInteractions", "TIMESTAMP")) + extra


def training_fails(t: Trial, a: Assemblies) -> tuple[str, list[Check]]:
    t.world.faults.fail_training(SOLUTION_GLOB, "Insufficient data: the model did not converge")
    t.deploy(a.get(SMALL_RETAIN))
    return statuses(t), t.invariants("prod", ("TrainUserPersonalization", "did not converge"))


# ------------------------------------------------------------------------------------------------
# 5. a WaitCondition timing out on a training that never finishes
# ------------------------------------------------------------------------------------------------
def training_hangs(t: Trial, a: Assemblies) -> tuple[str, list[Check]]:
    t.world.faults.hang_training(SOLUTION_GLOB)
    result = t.deploy(a.get(SMALL))
    stopped = t.world.stats.calls.get("personalize:StopSolutionVersionCreation", 0)
    extra = [
        check("the training was stopped", stopped >= 1, f"StopSolutionVersionCreation x{stopped}"),
        check(
            "timed out at the configured 2h",
            7200 <= result.virtual_seconds < 4 * 3600,
            f"rolled back after {result.virtual_seconds / 3600:.1f} h virtual",
        ),
    ]
    return statuses(t), t.invariants("dev", ("TrainUserPersonalizationWait", "timed out")) + extra


# ------------------------------------------------------------------------------------------------
# 6. a campaign creation failing
# ------------------------------------------------------------------------------------------------
def campaign_fails(t: Trial, a: Assemblies) -> tuple[str, list[Check]]:
    t.world.faults.fail_campaign("*-retail-user-recs*", "Model artifacts could not be loaded")
    t.deploy(a.get(SMALL_RETAIN))
    return statuses(t), t.invariants("prod", ("CampaignUserRecs", "could not be loaded"))


# ------------------------------------------------------------------------------------------------
# 7. destroy while a training is still running
# ------------------------------------------------------------------------------------------------
def destroy_mid_training(t: Trial, a: Assemblies) -> tuple[str, list[Check]]:
    """`cdk destroy` during CREATE_IN_PROGRESS: CloudFormation cancels the create (it rolls back)
    and then deletes the stack. Training takes 5 h; the destroy comes 90 min in."""
    t.world.personalize.durations.override("training", 5 * 3600)
    in_training: list[str] = []

    def watch(line: str) -> None:
        if "TrainUserPersonalization " in line and "CREATE_COMPLETE" in line:
            in_training.append(line)

    t.hooks.append(watch)
    first = t.deploy(a.get(SMALL_RETAIN), cancel_after=90 * 60)
    t.destroy("prod")
    stopped = t.world.stats.calls.get("personalize:StopSolutionVersionCreation", 0)
    extra = [
        check(
            "cancelled mid-training",
            first.status == "ROLLBACK_COMPLETE" and bool(in_training),
            f"{first.status}; training started: {bool(in_training)}",
        ),
        check("the training was stopped", stopped >= 1, f"StopSolutionVersionCreation x{stopped}"),
    ]
    return statuses(t), t.invariants("prod") + extra


def destroy_mid_retraining(t: Trial, a: Assemblies) -> tuple[str, list[Check]]:
    """A deployed stack gets new data; 90 min into the 5 h retraining the user destroys: the update
    is cancelled (UPDATE_ROLLBACK, the running version stopped), then the stack is deleted."""
    first = t.deploy(a.get(SMALL_RETAIN))
    if not first.ok:
        return statuses(t), [check("first deploy", False, first.reason[:300])]
    t.world.personalize.durations.override("training", 5 * 3600)
    update = t.deploy(a.changed_data(SMALL_RETAIN), cancel_after=90 * 60)
    t.destroy("prod")
    stopped = t.world.stats.calls.get("personalize:StopSolutionVersionCreation", 0)
    extra = [
        check("update cancelled and rolled back", update.status == "UPDATE_ROLLBACK_COMPLETE", update.status),
        check("the retraining was stopped", stopped >= 1, f"StopSolutionVersionCreation x{stopped}"),
    ]
    return statuses(t), t.invariants("prod") + extra


# ------------------------------------------------------------------------------------------------
# 8. destroy after a failed, rolled-back deploy
# ------------------------------------------------------------------------------------------------
def destroy_after_rollback(t: Trial, a: Assemblies) -> tuple[str, list[Check]]:
    t.world.faults.fail_import("*-retail-items*", "Input CSV has malformed rows")
    t.deploy(a.get(SMALL_RETAIN))
    gone = t.destroy("prod")
    extra = [
        check(
            "destroy of a rolled-back stack succeeds",
            gone is not None and gone.ok,
            gone.status if gone else "nothing to destroy",
        )
    ]
    return statuses(t), t.invariants("prod", ("ImportItems", "malformed rows")) + extra


# ------------------------------------------------------------------------------------------------
# 9. an update that fails halfway: the campaign stays ACTIVE on its old version and keeps answering
# ------------------------------------------------------------------------------------------------
def update_rollback(
    t: Trial, a: Assemblies, changed: Callable[[Assemblies], Any] | None = None
) -> tuple[str, list[Check]]:
    """Deploy, then an update that re-imports (new data; or `changed`: a new solution config),
    retrains and moves the campaign with UpdateCampaign, which fails: UPDATE_ROLLBACK."""
    first = t.deploy(a.get(SMALL))
    if not first.ok:
        return statuses(t), [check("first deploy", False, first.reason[:300])]
    campaign = first.outputs["CampaignArnUserRecs"]
    old_version = first.outputs["SolutionVersionArnUserPersonalization"]
    answers: list[int] = []
    errors: list[str] = []

    def ask(_line: str) -> None:
        try:
            answers.append(recommend(t, campaign))
        except Exception as error:
            errors.append(str(error)[:200])

    t.world.faults.fail_campaign("*-retail-user-recs*", "UpdateCampaign: model could not be deployed")
    t.hooks.append(ask)
    second = t.deploy(changed(a) if changed else a.changed_data(SMALL))
    t.hooks.clear()
    with t.world.active():
        described = t.client("personalize").describe_campaign(campaignArn=campaign)["campaign"]
    retrained = t.world.stats.calls.get("personalize:CreateSolutionVersion", 0) >= 2
    extra = [
        check("update rolled back", second.status == "UPDATE_ROLLBACK_COMPLETE", second.status),
        check(
            "it failed halfway (after retraining)",
            retrained,
            f"CreateSolutionVersion x{t.world.stats.calls.get('personalize:CreateSolutionVersion', 0)}",
        ),
        check(
            "campaign ACTIVE on the old version",
            described["status"] == "ACTIVE" and described["solutionVersionArn"] == old_version,
            f"{described['status']} on {described['solutionVersionArn'].rsplit('/', 1)[-1]}",
        ),
        check(
            "campaign answered throughout",
            bool(answers) and all(n > 0 for n in answers) and not errors,
            f"{len(answers)} answers, {len(errors)} errors {errors[:1]}",
        ),
        check("answers after the rollback", recommend(t, campaign) > 0, "get_recommendations"),
    ]
    checks = t.invariants("dev", ("CampaignUserRecs", "could not be deployed"))
    t.destroy("dev")
    after = [Check(f"after destroy: {c.name}", c.held, c.detail) for c in t.invariants("dev")[:3]]
    return statuses(t), checks + extra + after


def update_rollback_config(t: Trial, a: Assemblies) -> tuple[str, list[Check]]:
    return update_rollback(t, a, lambda a: a.get("small-update/dev"))


# ------------------------------------------------------------------------------------------------
# 10. a quota hit: sixth import in progress in the region; sixth campaign in a dataset group
# ------------------------------------------------------------------------------------------------
OTHER_SCHEMA = (
    '{"type":"record","name":"Interactions","namespace":"com.amazonaws.personalize.schema",'
    '"fields":[{"name":"USER_ID","type":"string"},{"name":"ITEM_ID","type":"string"},'
    '{"name":"TIMESTAMP","type":"long"}],"version":"1.0"}'
)


def other_team_imports(t: Trial, count: int = 5, hours: float = 10) -> None:
    """Another team's dataset group in the same account and region with `count` imports of real
    data (their own bucket and role) in progress for `hours`."""
    import json

    rows = "USER_ID,ITEM_ID,TIMESTAMP\n" + "".join(
        f"o{i % 40},x{i % 30},{1700000000 + i}\n" for i in range(1200)
    )
    with t.world.active():
        s3, iam, pz = t.client("s3"), t.client("iam"), t.client("personalize")
        s3.create_bucket(Bucket="other-team-data", CreateBucketConfiguration={"LocationConstraint": t.region})
        s3.put_object(Bucket="other-team-data", Key="interactions.csv", Body=rows.encode())
        allow = {
            "Effect": "Allow",
            "Principal": {"Service": "personalize.amazonaws.com"},
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": ["arn:aws:s3:::other-team-data", "arn:aws:s3:::other-team-data/*"],
        }
        s3.put_bucket_policy(
            Bucket="other-team-data", Policy=json.dumps({"Version": "2012-10-17", "Statement": [allow]})
        )
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"Service": "personalize.amazonaws.com"},
                }
            ],
        }
        role = iam.create_role(RoleName="other-team", AssumeRolePolicyDocument=json.dumps(trust))["Role"][
            "Arn"
        ]
        identity = {k: v for k, v in allow.items() if k != "Principal"}
        iam.put_role_policy(
            RoleName="other-team",
            PolicyName="read",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [identity]}),
        )
        group = pz.create_dataset_group(name="other-team")["datasetGroupArn"]
        schema = pz.create_schema(name="other-team-interactions", schema=OTHER_SCHEMA)["schemaArn"]
        advance(t, 120)
        dataset = pz.create_dataset(
            name="other-team-interactions",
            datasetGroupArn=group,
            datasetType="Interactions",
            schemaArn=schema,
        )["datasetArn"]
        advance(t, 120)
        t.world.personalize.durations.override("import", hours * 3600)
        for i in range(count):
            pz.create_dataset_import_job(
                jobName=f"other-team-import-{i}",
                datasetArn=dataset,
                dataSource={"dataLocation": "s3://other-team-data/interactions.csv"},
                roleArn=role,
            )
        advance(t, 30)  # they start (their duration is fixed when they start)
        t.world.personalize.durations.override("import", None)
        running = [
            j
            for j in pz.list_dataset_import_jobs(datasetArn=dataset)["datasetImportJobs"]
            if j["status"] in ("CREATE PENDING", "CREATE IN_PROGRESS")
        ]
    if len(running) != count:
        raise RuntimeError(
            f"setup: {len(running)} of the other team's {count} imports are running: {running}"
        )


def import_quota(t: Trial, a: Assemblies) -> tuple[str, list[Check]]:
    """Another team has five imports in progress in the region (the default quota); ours is the
    sixth: LimitExceededException after the client's retries, a clear error, a clean rollback."""
    other_team_imports(t)
    t.deploy(a.get(SMALL_RETAIN))
    retries = t.world.stats.errors.get("personalize:CreateDatasetImportJob:LimitExceededException", 0)
    others = [r for r in t.world.personalize.resources.values() if r.name.startswith("other-team")]
    extra = [
        check("the client retried the quota error", retries >= 2, f"LimitExceededException x{retries}"),
        check(
            "the other team's resources untouched",
            len(others) == 8 and all(r.status in ("ACTIVE", "CREATE IN_PROGRESS") for r in others),
            f"{len(others)} resources",
        ),
    ]
    return statuses(t), t.invariants("prod", ("Import", "PENDING or IN_PROGRESS")) + extra


def campaign_quota(t: Trial, a: Assemblies) -> tuple[str, list[Check]]:
    """Six campaigns in one dataset group (quota five): refused when the app is built, before
    anything is deployed, naming the file, the field and the quota."""
    from pipeline.problems import ProblemReport

    try:
        a.get("quota/dev")
    except ProblemReport as report:
        text = str(report)
        ok = "quota/dev.toml" in text and "campaigns" in text and "quota" in text
        return "refused at synth (nothing deployed)", [
            Check("not stuck", True, "nothing deployed"),
            Check("nothing left", not t.personalize("dev"), "no Personalize call was made"),
            Check("retained data", None, "nothing deployed"),
            Check("error is clear", ok, text.strip().splitlines()[-1][:300]),
        ]
    return "synthesized (quota not enforced)", [Check("error is clear", False, "six campaigns were accepted")]


# ------------------------------------------------------------------------------------------------
# 11. the service role's S3 access missing
# ------------------------------------------------------------------------------------------------
def role_without_s3(t: Trial, a: Assemblies) -> tuple[str, list[Check]]:
    """The service role's S3 policy is removed right after the role is created (drift, or a
    mistaken edit): the import fails with access denied and says which policy to fix."""
    removed: list[str] = []

    def strip(line: str) -> None:
        if "CREATE_COMPLETE" in line and " ServiceRole" in line and not removed:
            with t.world.active():
                iam = t.client("iam")
                ours = stack_name("dev") + "-"
                for role in iam.list_roles()["Roles"]:
                    if "ServiceRole" in role["RoleName"] and role["RoleName"].startswith(ours):
                        for policy in iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]:
                            iam.delete_role_policy(RoleName=role["RoleName"], PolicyName=policy)
                            removed.append(f"{role['RoleName']}/{policy}")

    t.hooks.append(strip)
    t.deploy(a.get(SMALL))
    extra = [
        check("the role's S3 policy was removed", bool(removed), ", ".join(removed) or "role never created")
    ]
    return statuses(t), t.invariants(
        "dev", ("Import", "AccessDenied", "fix the service role's policy")
    ) + extra


# ------------------------------------------------------------------------------------------------
# 13. (beyond the twelve) a failure while a long import runs, then destroy once it is over
# ------------------------------------------------------------------------------------------------
def failure_during_long_import(t: Trial, a: Assemblies) -> tuple[str, list[Check]]:
    """Imports of a large file take 3 h; the event tracker's create is refused at minute 1. The
    rollback must delete the datasets, which Personalize refuses while their import runs
    (DeleteDataset: ResourceInUseException), and imports cannot be stopped: the service's limit,
    so the expected outcome is ROLLBACK_FAILED at once, with a reason naming the running import and
    the later destroy; that destroy, once the imports are over, leaves nothing."""
    t.world.personalize.durations.override("import", 3 * 3600)
    t.world.faults.fail_call("CreateEventTracker", "InvalidInputException", "tracker refused (injected)")
    failed = t.deploy(a.get(SMALL))
    deleting = [e for e in failed.events if e.status == "DELETE_FAILED"]
    datasets = [e for e in deleting if e.logical_id.startswith("Dataset")]
    others = sorted({e.logical_id for e in deleting} - {e.logical_id for e in datasets})
    extra = [
        check(
            "rollback stopped by the running imports only",
            failed.status == "ROLLBACK_FAILED" and bool(datasets) and not others,
            f"{failed.status} after {failed.virtual_seconds / 60:.0f} min virtual; DELETE_FAILED: "
            f"{sorted(e.logical_id for e in deleting)}",
        ),
        check(
            "a failed delete names the import and the later destroy",
            bool(datasets)
            and all(
                all(part in e.reason for part in ("import job", "cdk destroy", "pz destroy"))
                for e in datasets
            ),
            "; ".join(f"{e.logical_id}: {e.reason[:160]}" for e in datasets[:2])
            or "no dataset delete failed",
        ),
    ]
    advance(t, 3 * 3600)  # the imports are over: a second destroy can finish the job
    again = t.destroy("dev")
    extra.append(
        check(
            "a later destroy cleans up",
            again is not None and again.ok,
            again.status if again else "nothing to destroy",
        )
    )
    # the four invariants after that destroy; the error is the deploy's (names the tracker and cause)
    return statuses(t), t.invariants("dev", ("EventTracker", "tracker refused")) + extra


# ------------------------------------------------------------------------------------------------
# 12. dev and prod side by side, dev destroyed: prod untouched
# ------------------------------------------------------------------------------------------------
def side_by_side(t: Trial, a: Assemblies) -> tuple[str, list[Check]]:
    prod = t.deploy(a.get("prod"))
    dev = t.deploy(a.get("dev"))
    if not (prod.ok and dev.ok):
        return statuses(t), [
            check("both deployed", False, f"prod {prod.reason[:200]} dev {dev.reason[:200]}")
        ]

    def snapshot() -> dict[str, tuple[str, float]]:
        return {r.arn: (r.status, getattr(r, "updated", 0.0)) for r in t.personalize("prod")}

    before = snapshot()
    t.destroy("dev")
    after = snapshot()
    answers = recommend(t, prod.outputs["CampaignArnUserRecs"])
    extra = [
        check(
            "prod untouched",
            before == after and len(after) > 0,
            f"{len(after)} prod resources unchanged"
            if before == after
            else f"changed: {set(before) ^ set(after)}",
        ),
        check("prod still answers", answers > 0, f"{answers} recommendations"),
    ]
    dev_checks = [Check(f"dev: {c.name}", c.held, c.detail) for c in t.invariants("dev")]
    prod_checks = [Check(f"prod: {c.name}", c.held, c.detail) for c in t.invariants("prod")]
    return statuses(t), dev_checks + prod_checks + extra


SCENARIOS: list[Scenario] = [
    Scenario(
        "throttling",
        "1. 30% of Personalize calls throttled (ThrottlingException, LimitExceededException), "
        "deploy + destroy",
        throttling,
    ),
    Scenario("duplicates", "2. every Lambda event delivered twice, deploy + destroy", duplicate_delivery),
    Scenario(
        "lost-response",
        "3a. every create's response lost once after it took effect, deploy + destroy",
        lost_response,
    ),
    Scenario(
        "handler-crash",
        "3b. OnEvent dies (timeout) after CreateSolution took effect; then the retry deploy",
        handler_crash,
    ),
    Scenario(
        "responses-lost",
        "3c. CreateSolution's response and all 10 retries' lost: adopted by name, deploy + destroy",
        all_responses_lost,
    ),
    Scenario("bad-import", "4a. import of a bad file in S3", bad_file),
    Scenario("training-fails", "4b. training fails (retained bucket)", training_fails, (SMALL_RETAIN,)),
    Scenario("training-hangs", "5. training never finishes: the WaitCondition times out", training_hangs),
    Scenario(
        "campaign-fails", "6. campaign creation fails (retained bucket)", campaign_fails, (SMALL_RETAIN,)
    ),
    Scenario(
        "destroy-mid-training",
        "7a. destroy while a training runs (retained bucket)",
        destroy_mid_training,
        (SMALL_RETAIN,),
    ),
    Scenario(
        "destroy-mid-retraining",
        "7b. destroy while an update retrains (retained bucket)",
        destroy_mid_retraining,
        (SMALL_RETAIN,),
    ),
    Scenario(
        "destroy-after-rollback",
        "8. destroy after a failed, rolled-back deploy (retained bucket)",
        destroy_after_rollback,
        (SMALL_RETAIN,),
    ),
    Scenario(
        "update-rollback",
        "9a. data update fails halfway (UpdateCampaign fails): UPDATE_ROLLBACK",
        update_rollback,
    ),
    Scenario(
        "update-rollback-config",
        "9b. solution change fails halfway (UpdateCampaign fails): UPDATE_ROLLBACK",
        update_rollback_config,
    ),
    Scenario(
        "import-quota", "10a. sixth import in progress in the region (quota)", import_quota, (SMALL_RETAIN,)
    ),
    Scenario("campaign-quota", "10b. sixth campaign in a dataset group (quota)", campaign_quota, ()),
    Scenario("role-no-s3", "11. service role without S3 access", role_without_s3),
    Scenario(
        "side-by-side",
        "12. dev and prod (shipped configs) side by side, dev destroyed",
        side_by_side,
        ("dev", "prod"),
        slow=True,
    ),
    Scenario(
        "long-import",
        "13. a create fails while a 3 h import runs: ROLLBACK_FAILED (service limit); destroy after it ends",
        failure_during_long_import,
    ),
]
BY_KEY = {s.key: s for s in SCENARIOS}


def run_scenario(scenario: Scenario, assemblies: Assemblies) -> Outcome:
    """Synthesize what it needs (cached), run it in a fresh world, never raise."""
    started = time.perf_counter()
    region = "ap-southeast-2"
    if scenario.configs:
        try:
            region = region_of(assemblies.get(scenario.configs[0]))
        except Exception as synth_error:  # a synth problem is this scenario's outcome, not a crash
            message = f"{type(synth_error).__name__}: {synth_error}"
            return Outcome(scenario.key, scenario.title, "synth failed", [], error=message)
    with trial(region, assemblies.workdir) as t:
        try:
            outcome, checks = scenario.run(t, assemblies)
            error = ""
        except Exception as exc:
            import traceback

            outcome, checks = statuses(t), []
            error = "".join(traceback.format_exception(exc)[-3:])[-800:]
        virtual = sum(r.virtual_seconds for r in t.results)
    return Outcome(
        scenario.key, scenario.title, outcome, checks, time.perf_counter() - started, virtual, error
    )
