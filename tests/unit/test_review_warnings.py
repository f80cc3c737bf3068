"""The warnings a reviewer sees first (review.core), from the outcomes and the two templates: a
production campaign replaced or deleted, retained data deleted or no longer retained, in order of
severity. The outcomes themselves come from real simulations in tests/updates."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from review.core import Request, _warnings, is_production
from review.outcomes import ResourceChange

BUCKET = {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}


def sim(base: dict[str, Any], head: dict[str, Any], ok: bool = True) -> Any:
    update = SimpleNamespace(
        ok=ok,
        status="UPDATE_COMPLETE" if ok else "UPDATE_ROLLBACK_COMPLETE",
        reason="" if ok else "X: failed",
    )
    return SimpleNamespace(
        update=update,
        base=SimpleNamespace(template={"Resources": base}),
        head=SimpleNamespace(template={"Resources": head}),
    )


def warnings(
    changes: list[ResourceChange],
    base: dict[str, Any],
    head: dict[str, Any],
    production: bool = True,
    ok: bool = True,
) -> list[tuple[str, str]]:
    found = _warnings(
        Request("prod", base=Path("base.out"), head=Path("head.out")),
        sim(base, head, ok),
        changes,
        production,
    )
    return [(w.category, w.message) for w in found]


def campaign(outcome: str) -> ResourceChange:
    return ResourceChange(
        "CampaignUserRecs", "Custom::PersonalizeCampaign", outcome, before={"Name": "prod-retail-user-recs"}
    )


def test_a_production_campaign_replaced_or_deleted_breaks_clients() -> None:
    spec = {"CampaignUserRecs": {"Type": "Custom::PersonalizeCampaign"}}
    assert warnings([campaign("replaced")], spec, spec) == [
        (
            "production-campaign-replaced",
            "production campaign prod-retail-user-recs gets a new ARN: every client calling it breaks",
        )
    ]
    assert warnings([campaign("deleted")], spec, {})[0][1].endswith(
        "is deleted: every client calling it breaks"
    )
    assert warnings([campaign("updated")], spec, spec) == []
    assert warnings([campaign("replaced")], spec, spec, production=False) == []


def test_retained_data_deleted_or_no_longer_retained() -> None:
    gone = ResourceChange("DataBucket", "AWS::S3::Bucket", "deleted")
    assert warnings([gone], {"DataBucket": BUCKET}, {})[0][0] == "retained-data-deleted"
    kept = ResourceChange("DataBucket", "AWS::S3::Bucket", "replaced")
    assert warnings([kept], {"DataBucket": BUCKET}, {"DataBucket": BUCKET}) == []  # UpdateReplacePolicy
    loosened = ResourceChange("DataBucket", "AWS::S3::Bucket", "updated")
    found = warnings([loosened], {"DataBucket": BUCKET}, {"DataBucket": {"Type": "AWS::S3::Bucket"}})
    assert found == [
        (
            "retained-data-deleted",
            "DataBucket (AWS::S3::Bucket) is no longer retained "
            "(DeletionPolicy Retain -> Delete): a destroy would delete it with its data",
        )
    ]


def test_a_failed_update_comes_first() -> None:
    spec = {"CampaignUserRecs": {"Type": "Custom::PersonalizeCampaign"}}
    found = warnings([campaign("replaced")], spec, spec, ok=False)
    assert [c for c, _ in found] == ["update-failed", "production-campaign-replaced"]


def test_production_is_named_or_retains_its_data() -> None:
    retains = SimpleNamespace(template={"Resources": {"B": BUCKET}})
    plain = SimpleNamespace(template={"Resources": {"B": {"Type": "AWS::S3::Bucket"}}})
    assert is_production("prod", plain, None) and is_production("staging", retains, None)  # type: ignore[arg-type]
    assert not is_production("dev", plain, None)  # type: ignore[arg-type]
    assert not is_production("prod", plain, False)  # type: ignore[arg-type]
