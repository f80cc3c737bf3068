"""The during-the-update check can fail: a broken update that takes a campaign away from its clients
is caught as an outage, where the check after the update sees nothing wrong; and the verdicts hold
a campaign to what the service allows (tests/updates/availability.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from local.runner import CloudAssembly, StackArtifact
from tests.updates.availability import Clients, Watched, judge
from tests.updates.changes import Change
from tests.updates.harness import local_update, served


@pytest.mark.slow
def test_a_campaign_deleted_under_the_stack_is_an_outage_the_after_check_misses(
    base: tuple[StackArtifact, Path], tmp_path: Path
) -> None:
    """A broken update: the head moves the user-recs campaign to another logical id and keeps its
    name (a construct id changed in a refactoring). CloudFormation creates the "new" resource, which
    adopts the campaign of that name, then deletes the old logical id in the cleanup phase: that
    deletes the very campaign both point at. The stack ends UPDATE_COMPLETE with every ACTIVE campaign
    answering, but the campaign's clients lost it from the cleanup on."""
    artifact, state = base
    broken = tmp_path / "broken.out"
    shutil.copytree(artifact.directory, broken)
    template = broken / artifact.template_path.name
    text = template.read_text()
    assert '"CampaignUserRecs"' in text
    template.write_text(text.replace('"CampaignUserRecs"', '"CampaignUserRecsMoved"'))
    head = CloudAssembly.load(broken).stack(artifact.name)
    assert "CampaignUserRecsMoved" in head.template["Resources"]

    update = local_update(Change("moved", lambda _ws: None, {}), state, head, tmp_path / "state")
    assert update.exit == 0, update.out  # CloudFormation reports success
    assert update.outcomes.get("CampaignUserRecs") == "deleted", update.outcomes
    after = served(tmp_path / "state")
    assert after and all(v == "ok" for v in after.values()), after  # the after check sees no problem
    assert "dev-retail-user-recs" not in after  # ... because the campaign is simply not there

    lost = update.seen["CampaignUserRecs"]
    assert lost.known_before and lost.stopped and lost.misses
    assert lost.deleting_at is not None and lost.misses[0][0] >= lost.deleting_at
    verdicts = judge(update.seen, {}, {})  # nothing was meant to change
    assert verdicts["CampaignUserRecs"].startswith("outage "), verdicts
    assert "ResourceNotFoundException" in verdicts["CampaignUserRecs"]
    assert {k: v for k, v in verdicts.items() if k != "CampaignUserRecs"} == {
        "CampaignSimilarItems": "ok",
        "CampaignRanking": "ok",
    }


def watched(
    looks: list[tuple[float, str]], logical_id: str = "", known_before: bool = False,
    deleting_at: float | None = None,
) -> Watched:
    arn = "arn:aws:personalize:ap-southeast-2:123456789012:campaign/x"
    return Watched(arn, logical_id, known_before, list(looks), deleting_at)


def test_outage_is_the_longest_time_without_an_answer() -> None:
    w = watched([(0, "ok"), (10, "no"), (40, "no"), (70, "ok"), (80, "no"), (90, "ok")], known_before=True)
    assert w.outage() == 60 and not w.stopped
    assert w.verdict("updated").startswith("outage 60 s: 3 look(s) unanswered, first at 10 s")
    assert watched([(0, "ok"), (5, "ok")], known_before=True).verdict("untouched") == "ok"
    gone = watched([(0, "ok"), (30, "no"), (90, "no")], known_before=True)
    assert gone.stopped and gone.outage() == 60


def test_a_deleted_campaign_may_stop_only_once_the_stack_deletes_it_and_after_its_successor() -> None:
    early = watched([(0, "ok"), (30, "no"), (60, "no")], known_before=True, deleting_at=50)
    assert early.verdict("deleted").startswith("no answer before the stack deleted it")
    on_time = watched([(0, "ok"), (30, "ok"), (60, "no")], known_before=True, deleting_at=50)
    assert on_time.verdict("deleted") == "ok"
    late_successor = watched([(70, "ok")], logical_id="CampaignNew")
    assert on_time.verdict("deleted", late_successor) == (
        "its successor CampaignNew answered only 20 s after it went"
    )
    assert on_time.verdict("deleted", watched([(20, "ok"), (60, "ok")])) == "ok"
    seen = {"CampaignOld": on_time, "CampaignNew": late_successor}
    moves = {"CampaignOld": "CampaignNew"}
    assert judge(seen, {"CampaignOld": "deleted", "CampaignNew": "created"}, moves) == {
        "CampaignOld": "its successor CampaignNew answered only 20 s after it went",
        "CampaignNew": "ok",
    }


def test_report_keeps_a_replaced_campaigns_old_arn_apart() -> None:
    old, new = "arn:old", "arn:new"
    clients = Clients("dev", "ap-southeast-2", {"CampaignX": old})
    clients.watched[new] = Watched(new)  # found ACTIVE during the update
    report = clients.report({"CampaignX": new})
    assert report["CampaignX (old)"].arn == old and report["CampaignX"].arn == new
    assert json.dumps(sorted(report)) == '["CampaignX", "CampaignX (old)"]'
