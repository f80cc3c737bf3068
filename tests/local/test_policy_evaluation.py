"""The local world's IAM evaluator against the rules and examples of the IAM User Guide.

Each test names the doc rule it holds; every rule is shown both holding and failing, so an
evaluator that allowed (or denied) everything fails here.
Policy evaluation logic: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
Condition operators: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
"""

from __future__ import annotations

from typing import Any

import pytest

from local.emulator.policy.conditions import UnknownOperator, arn_like, holds
from local.emulator.policy.evaluation import Decision, Principal, compile_document, decide

ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/PersonalizeRole"
CALLER = Principal.session(ROLE, "s")
PERSONALIZE = Principal.of_service("personalize.amazonaws.com", ACCOUNT)


def stmt(
    effect: str = "Allow", action: Any = "s3:GetObject", resource: Any = "*", **more: Any
) -> dict[str, Any]:
    return {"Effect": effect, "Action": action, "Resource": resource, **more}


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def identity(
    *statements: dict[str, Any],
    action: str = "s3:GetObject",
    resource: str = "arn:aws:s3:::b/k",
    context: dict[str, Any] | None = None,
    bucket: dict[str, Any] | None = None,
    who: Principal = CALLER,
    mode: str = "same-account",
) -> Decision:
    policies = [compile_document(doc(*statements), "identity")] if statements else []
    res = compile_document(bucket, "resource") if bucket else None
    return decide(
        action, resource, context or {}, principal=who, identity=policies, resource_policy=res, mode=mode
    ).decision


ALLOW, DENY, NONE = Decision.ALLOW, Decision.EXPLICIT_DENY, Decision.IMPLICIT_DENY


def test_default_is_implicit_deny_and_an_allow_overrides_it() -> None:
    # "By default, all requests are implicitly denied ... An explicit allow ... overrides this default."
    assert identity() is NONE
    assert identity(stmt(resource="arn:aws:s3:::b/*")) is ALLOW
    assert identity(stmt(resource="arn:aws:s3:::other/*")) is NONE


def test_explicit_deny_in_any_policy_overrides_any_allow() -> None:
    allow = stmt(resource="*")
    assert identity(allow, stmt("Deny", resource="arn:aws:s3:::b/*")) is DENY
    bucket_deny = doc(dict(stmt("Deny", resource="arn:aws:s3:::b/*"), Principal="*"))
    assert identity(allow, bucket=bucket_deny) is DENY


def test_within_one_account_identity_or_resource_policy_suffices() -> None:
    # "If either the identity-based policy or the resource-based policy within the same account
    # allows the request and the other doesn't, the request is still allowed."
    by_role = doc(dict(stmt(resource="arn:aws:s3:::b/*"), Principal={"AWS": ROLE}))
    assert identity(bucket=by_role) is ALLOW
    other_role = doc(
        dict(stmt(resource="arn:aws:s3:::b/*"), Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/x"})
    )
    assert identity(bucket=other_role) is NONE
    # a statement for the service principal does not name a role session
    service = doc(dict(stmt(resource="arn:aws:s3:::b/*"), Principal={"Service": "personalize.amazonaws.com"}))
    assert identity(bucket=service) is NONE
    assert identity(bucket=service, who=PERSONALIZE) is ALLOW


def test_account_principal_delegates_to_identity_policies() -> None:
    root = doc(dict(stmt(resource="arn:aws:s3:::b/*"), Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))
    assert identity(bucket=root) is NONE
    assert identity(stmt(resource="arn:aws:s3:::b/*"), bucket=root) is ALLOW


def test_kms_key_policy_must_allow_the_principal_or_delegate() -> None:
    # "IAM role trust policies and KMS key policies are exceptions to this logic, because they must
    # explicitly allow access for principals."
    role_allows = stmt(action="kms:Decrypt", resource="*")
    key = "arn:aws:kms:us-east-1:111122223333:key/k"
    no_mention = doc(
        dict(stmt(action="kms:*", resource="*"), Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/x"})
    )
    assert (
        identity(role_allows, action="kms:Decrypt", resource=key, bucket=no_mention, mode="key-policy")
        is NONE
    )
    default = doc(dict(stmt(action="kms:*", resource="*"), Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))
    assert (
        identity(role_allows, action="kms:Decrypt", resource=key, bucket=default, mode="key-policy") is ALLOW
    )
    assert identity(action="kms:Decrypt", resource=key, bucket=default, mode="key-policy") is NONE
    direct = doc(dict(stmt(action=["kms:Decrypt"], resource="*"), Principal={"AWS": ROLE}))
    assert identity(action="kms:Decrypt", resource=key, bucket=direct, mode="key-policy") is ALLOW


def test_actions_are_case_insensitive_and_take_wildcards() -> None:
    # "The prefix and the action name are case insensitive"; `*` and `?` wildcards.
    assert identity(stmt(action="S3:getobject")) is ALLOW
    assert identity(stmt(action="s3:Get*")) is ALLOW
    assert identity(stmt(action="s3:Put*")) is NONE
    assert identity(stmt(action="personalize:*"), action="personalize:UpdateDataset") is ALLOW
    assert identity(stmt(action="personalize:Create*"), action="personalize:UpdateDataset") is NONE


def test_not_action_matches_every_other_action() -> None:
    everything_but_put = {"Effect": "Allow", "NotAction": "s3:PutObject", "Resource": "*"}
    assert identity(everything_but_put) is ALLOW
    assert identity(everything_but_put, action="s3:PutObject") is NONE


def test_resource_wildcards_stay_within_arn_parts() -> None:
    assert identity(stmt(resource="arn:aws:s3:::b/k?")) is NONE  # `?` is exactly one character
    assert identity(stmt(resource="arn:aws:s3:::b/?")) is ALLOW
    assert identity(stmt(resource="arn:aws:s3:::b/folder/"), resource="arn:aws:s3:::b/folder/x.csv") is NONE
    assert identity(stmt(resource="arn:aws:s3:::b/folder/*"), resource="arn:aws:s3:::b/folder/x.csv") is ALLOW
    assert arn_like(
        "arn:aws:personalize:us-east-1:111122223333:*",
        "arn:aws:personalize:us-east-1:111122223333:dataset-import-job/j",
    )
    assert not arn_like(
        "arn:aws:personalize:us-east-1:111122223333:*",
        "arn:aws:personalize:us-west-2:111122223333:dataset-import-job/j",
    )


def test_not_resource() -> None:
    outside = {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::b/secret/*"}
    assert identity(outside) is ALLOW
    assert identity(outside, resource="arn:aws:s3:::b/secret/k") is NONE


def test_missing_condition_key_is_false_except_negated_ifexists_and_null() -> None:
    # "If the key ... is not present in the request context, the values do not match and the
    # condition is false ... StringNotLike or ArnNotLike ... the condition is true"
    assert holds("StringEquals", None, ["x"]) is False
    assert holds("StringNotLike", None, ["x*"]) is True
    assert holds("StringEqualsIfExists", None, ["x"]) is True
    assert holds("StringEqualsIfExists", "y", ["x"]) is False
    assert holds("Null", None, ["true"]) is True
    assert holds("Null", "v", ["true"]) is False
    allow_with = stmt(Condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}})
    assert identity(allow_with) is NONE  # moto 5.2.5 answers PERMITTED here
    assert identity(allow_with, context={"aws:sourceaccount": ACCOUNT}) is ALLOW


def test_unmet_condition_on_an_allow_is_not_a_deny() -> None:
    # An Allow whose condition fails does not apply; another Allow still grants (moto 5.2.5 denies).
    pass_role = stmt(
        action="iam:PassRole",
        Condition={"StringEquals": {"iam:PassedToService": "personalize.amazonaws.com"}},
    )
    ctx = {"iam:passedtoservice": "ec2.amazonaws.com"}
    assert identity(pass_role, action="iam:PassRole", resource=ROLE, context=ctx) is NONE
    assert (
        identity(pass_role, stmt(action="iam:*"), action="iam:PassRole", resource=ROLE, context=ctx) is ALLOW
    )
    ctx = {"iam:passedtoservice": "personalize.amazonaws.com"}
    assert identity(pass_role, action="iam:PassRole", resource=ROLE, context=ctx) is ALLOW


def test_tls_only_deny_applies_to_plain_http_only() -> None:
    bucket = doc(
        dict(
            stmt("Deny", action="s3:*", resource=["arn:aws:s3:::b", "arn:aws:s3:::b/*"]),
            Principal={"AWS": "*"},
            Condition={"Bool": {"aws:SecureTransport": "false"}},
        )
    )
    allow = stmt(resource="arn:aws:s3:::b/*")
    assert identity(allow, bucket=bucket, context={"aws:securetransport": "true"}) is ALLOW
    assert identity(allow, bucket=bucket, context={"aws:securetransport": "false"}) is DENY


def test_confused_deputy_conditions_on_source_arn_and_account() -> None:
    bucket = doc(
        dict(
            stmt(resource="arn:aws:s3:::b/*"),
            Principal={"Service": "personalize.amazonaws.com"},
            Condition={
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
                "ArnLike": {"aws:SourceArn": f"arn:aws:personalize:us-east-1:{ACCOUNT}:*"},
            },
        )
    )
    good = {
        "aws:sourceaccount": ACCOUNT,
        "aws:sourcearn": f"arn:aws:personalize:us-east-1:{ACCOUNT}:dataset-import-job/j",
    }
    assert identity(bucket=bucket, who=PERSONALIZE, context=good) is ALLOW
    assert (
        identity(bucket=bucket, who=PERSONALIZE, context={**good, "aws:sourceaccount": "999999999999"})
        is NONE
    )
    assert (
        identity(bucket=bucket, who=PERSONALIZE, context={"aws:sourceaccount": ACCOUNT}) is NONE
    )  # no SourceArn


def test_several_values_or_several_keys_and() -> None:
    assert holds("StringEquals", "b", ["a", "b"]) is True
    assert holds("StringNotEquals", "b", ["a", "b"]) is False
    both = stmt(
        Condition={"StringEquals": {"aws:SourceAccount": ACCOUNT, "aws:RequestedRegion": "us-east-1"}}
    )
    assert identity(both, context={"aws:sourceaccount": ACCOUNT, "aws:requestedregion": "us-east-1"}) is ALLOW
    assert identity(both, context={"aws:sourceaccount": ACCOUNT, "aws:requestedregion": "eu-west-1"}) is NONE


def test_set_operators_on_multivalued_keys() -> None:
    assert holds("ForAllValues:StringEquals", ["env", "team"], ["env", "team", "cost"]) is True
    assert holds("ForAllValues:StringEquals", ["env", "owner"], ["env", "team"]) is False
    assert holds("ForAllValues:StringEquals", None, ["env"]) is True
    assert holds("ForAnyValue:StringEquals", ["owner", "env"], ["env"]) is True
    assert holds("ForAnyValue:StringEquals", None, ["env"]) is False


def test_unknown_operator_is_refused() -> None:
    with pytest.raises(UnknownOperator):
        compile_document(doc(stmt(Condition={"StringSorta": {"k": "v"}})))


def test_trust_policy_must_allow_the_service() -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "personalize.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
            }
        ],
    }
    policy = compile_document(trust, "trust")
    ok = decide(
        "sts:AssumeRole",
        ROLE,
        {"aws:sourceaccount": ACCOUNT},
        principal=PERSONALIZE,
        resource_policy=policy,
        mode="trust",
    )
    assert ok.allowed
    other = Principal.of_service("lambda.amazonaws.com", ACCOUNT)
    assert not decide(
        "sts:AssumeRole",
        ROLE,
        {"aws:sourceaccount": ACCOUNT},
        principal=other,
        resource_policy=policy,
        mode="trust",
    ).allowed
    assert not decide(
        "sts:AssumeRole", ROLE, {}, principal=PERSONALIZE, resource_policy=policy, mode="trust"
    ).allowed


def test_documents_are_compiled_once_per_text() -> None:
    first = compile_document(doc(stmt()), "a")
    assert compile_document(doc(stmt()), "a") is first


def test_untag_on_a_batch_job_needs_untag_resource_on_its_arn() -> None:
    """retag calls UntagResource on batch inference job ARNs: TagResource alone does not cover it
    (Service Authorization Reference: personalize:UntagResource)."""
    from local.emulator.policy.requests import personalize_checks

    job = f"arn:aws:personalize:us-east-1:{ACCOUNT}:batch-inference-job/dev-job"
    (check,) = personalize_checks(
        "UntagResource", {"resourceArn": job, "tagKeys": ["env"]}, ACCOUNT, "us-east-1"
    )
    assert (check.action, check.resource) == ("personalize:UntagResource", job)
    tag_only = compile_document(doc(stmt(action="personalize:TagResource", resource=job)), "role")
    both = compile_document(
        doc(
            stmt(
                action=["personalize:TagResource", "personalize:UntagResource"],
                resource=f"arn:aws:personalize:us-east-1:{ACCOUNT}:batch-inference-job/*",
            )
        )
    )
    assert not decide(
        check.action, check.resource, check.context, principal=CALLER, identity=[tag_only]
    ).allowed
    assert decide(check.action, check.resource, check.context, principal=CALLER, identity=[both]).allowed


def test_create_with_a_role_needs_pass_role_to_personalize() -> None:
    from local.emulator.policy.requests import personalize_checks

    checks = personalize_checks(
        "CreateDatasetImportJob",
        {"jobName": "j", "roleArn": ROLE, "tags": [{"tagKey": "env", "tagValue": "dev"}]},
        ACCOUNT,
        "us-east-1",
    )
    assert [c.action for c in checks] == [
        "personalize:CreateDatasetImportJob",
        "personalize:TagResource",
        "iam:PassRole",
    ]
    pass_role = checks[-1]
    to_ec2 = compile_document(
        doc(
            stmt(
                action="iam:PassRole",
                resource=ROLE,
                Condition={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
            )
        )
    )
    assert not decide(
        pass_role.action, pass_role.resource, pass_role.context, principal=CALLER, identity=[to_ec2]
    ).allowed
