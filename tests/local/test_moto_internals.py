"""The moto and botocore internals the local world patches or reads (local/emulator/moto_internals.py):
the versions they were written for are the ones pinned and installed, every entry's target is still
there in the shape the code expects, and a change under them fails naming the entry."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from pz_helpers import ACCOUNT, REPO

from local.emulator import moto_internals
from local.emulator.moto_internals import INTERNALS, MotoDrift
from local.emulator.world import World


def _pinned(requirements: str, package: str) -> str | None:
    for line in (REPO / requirements).read_text().splitlines():
        match = re.match(rf"^{re.escape(package)}(\[[^\]]*\])?==(\S+)", line.strip())
        if match:
            return match.group(2)
    return None


def test_moto_is_pinned_and_installed_at_the_version_the_internals_were_written_for() -> None:
    pinned = _pinned("requirements-dev.txt", "moto")
    assert pinned == moto_internals.MOTO_VERSION, (
        f"requirements-dev.txt pins moto {pinned}, local/emulator/moto_internals.py was written for "
        f"moto {moto_internals.MOTO_VERSION}: re-check every entry of INTERNALS against moto {pinned}, "
        "then update MOTO_VERSION")
    assert moto_internals.version_problems() == []


@pytest.mark.parametrize("entry", INTERNALS, ids=[entry.name for entry in INTERNALS])
def test_each_internal_is_still_there_in_the_expected_shape(entry: moto_internals.Internal) -> None:
    entry.check()  # raises MotoDrift naming the entry


def test_every_internal_says_what_it_does_and_why() -> None:
    assert len({entry.name for entry in INTERNALS}) == len(INTERNALS)
    for entry in INTERNALS:
        assert entry.use in ("wraps", "replaces", "reads", "registers"), entry.name
        assert len(entry.what) > 40 and len(entry.why) > 40, entry.name
    assert moto_internals.drift() == []


# --- the checks fail when moto changes under them ----------------------------------------------------
def test_a_stubber_without_process_request_fails_naming_the_patch(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.core.botocore_stubber import BotocoreStubber

    monkeypatch.delattr(BotocoreStubber, "process_request")
    name = r"^moto\.core\.models\.botocore_stubber\.process_request: "
    with pytest.raises(MotoDrift, match=name) as caught:
        moto_internals.STUBBER.check()
    assert caught.value.name == "moto.core.models.botocore_stubber.process_request"
    assert [d.name for d in moto_internals.drift()] == ["moto.core.models.botocore_stubber.process_request"]


def test_a_patch_refuses_to_apply_when_its_target_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.core import models
    from moto.core.botocore_stubber import BotocoreStubber

    def process_request(self: Any, request: Any, context: Any = None) -> Any:  # a new parameter
        raise AssertionError("never called")

    # whatever happens, the process's stubber is as it was afterwards
    monkeypatch.setattr(models.botocore_stubber, "process_request", models.botocore_stubber.process_request)
    monkeypatch.setattr(BotocoreStubber, "process_request", process_request)
    monkeypatch.setattr(moto_internals, "_routed", False)
    monkeypatch.setattr(moto_internals, "_verified", set())
    expected = r"process_request takes \(self, request, context\), expected \(self, request\)"
    with pytest.raises(MotoDrift, match=expected):
        moto_internals.route_requests(lambda request, moto: moto(request))


def test_a_changed_bucket_permission_check_fails_naming_the_patch(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.s3.models import FakeBucket

    monkeypatch.setattr(FakeBucket, "get_permission", lambda self, request: None)
    name = r"^moto\.s3\.models\.FakeBucket\.get_permission: "
    with pytest.raises(MotoDrift, match=name + r".*takes \(self, request\)"):
        moto_internals.BUCKET_PERMISSION.check()


def test_botocore_retrying_without_time_sleep_fails_naming_the_patch(monkeypatch: pytest.MonkeyPatch) -> None:
    import botocore.endpoint

    monkeypatch.delattr(botocore.endpoint, "time")
    with pytest.raises(MotoDrift, match=r"^botocore\.endpoint\.time: botocore\.endpoint no longer imports"):
        moto_internals.RETRY_TIME.check()


def test_a_backend_dict_with_new_state_fails_naming_the_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.core.base_backend import BackendDict

    original = BackendDict.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self._regions_cache = {}  # a new attribute World would take for state

    monkeypatch.setattr(BackendDict, "__init__", init)
    name = r"^moto\.core\.base_backend\.BackendDict\._instances: "
    with pytest.raises(MotoDrift, match=name + r".*_regions_cache"):
        moto_internals.BACKEND_DICTS.check()


def test_an_upgraded_moto_or_botocore_is_named() -> None:
    problems = moto_internals.version_problems({"moto": "5.3.0", "botocore": moto_internals.BOTOCORE_VERSION})
    assert len(problems) == 1 and problems[0].startswith("moto 5.3.0 is installed")
    problems = moto_internals.version_problems({"moto": moto_internals.MOTO_VERSION, "botocore": "1.45.0"})
    assert len(problems) == 1 and problems[0].startswith("botocore 1.45.0 is installed")


# --- what the local Personalize reads, read live -------------------------------------------------------
def test_the_reads_return_what_the_clients_wrote() -> None:
    import boto3

    world = World()
    with world.active():
        s3 = boto3.client("s3", region_name="us-east-1")
        iam = boto3.client("iam", region_name="us-east-1")
        s3.create_bucket(Bucket="probe")
        s3.put_object(Bucket="probe", Key="in/a.csv", Body=b"USER_ID\nu1\n")
        bucket_policy = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "personalize.amazonaws.com"},
             "Action": "s3:GetObject", "Resource": "arn:aws:s3:::probe/*"}]}
        s3.put_bucket_policy(Bucket="probe", Policy=json.dumps(bucket_policy))
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "personalize.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}
        inline = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket",
                                                          "Resource": "arn:aws:s3:::probe"}]}
        managed = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                           "Resource": "arn:aws:s3:::probe/*"}]}
        role = iam.create_role(RoleName="probe", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
        iam.put_role_policy(RoleName="probe", PolicyName="inline", PolicyDocument=json.dumps(inline))
        arn = iam.create_policy(PolicyName="managed", PolicyDocument=json.dumps(managed))["Policy"]["Arn"]
        iam.attach_role_policy(RoleName="probe", PolicyArn=arn)

        assert moto_internals.bucket_keys(ACCOUNT, "probe") == ["in/a.csv"]
        with pytest.raises(LookupError):
            moto_internals.bucket_keys(ACCOUNT, "no-such-bucket")
        assert moto_internals.bucket_policy(ACCOUNT, "probe") == bucket_policy
        assert moto_internals.read_object(ACCOUNT, "probe", "in/a.csv") == b"USER_ID\nu1\n"
        moto_internals.write_object(ACCOUNT, "probe", "out/a.csv.out", b"{}\n")
        assert s3.get_object(Bucket="probe", Key="out/a.csv.out")["Body"].read() == b"{}\n"
        found = moto_internals.role_policies(ACCOUNT, role["Arn"])
        assert found is not None and found.trust == trust
        assert sorted(found.identity, key=json.dumps) == sorted([inline, managed], key=json.dumps)
        assert moto_internals.role_policies(ACCOUNT, role["Arn"] + "-gone") is None
    world.close()
