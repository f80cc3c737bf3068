"""Recommendations asked for while an update runs, as the stack's clients would ask them.

A `Clients` object is one of the runner's watchers (local/runner/observe.py): after every stack
event, and every `LOOK_EVERY` virtual seconds while the update waits (an import, a training, a
campaign moving to a new version), it asks every campaign a client knows for recommendations
(GetRecommendations by user or by item, or GetPersonalizedRanking, as its recipe is asked) through
the local runtime. A client knows the campaign ARNs the stack had before the update, and a campaign
the update creates once it is ACTIVE (it reads the new ARN from the stack's outputs and switches).

What the service allows (the expectation each row is held to, `Watched.verdict`):
- a campaign updated in place, or untouched, answers at every look: "You can still get
  recommendations from a campaign while an update is in progress. The campaign will use the
  previous solution version and campaign configuration to generate recommendations until the
  latest campaign update status is Active."
  (https://docs.aws.amazon.com/personalize/latest/dg/API_UpdateCampaign.html);
- a campaign the update deletes or replaces answers until the stack starts deleting it (for a
  replacement, in the cleanup phase, after its successor exists) and not after: "A deleted campaign
  can no longer be specified in a GetRecommendations request"
  (https://docs.aws.amazon.com/personalize/latest/dg/API_DeleteCampaign.html); its clients must
  switch to the new ARN, which answers from the moment it is ACTIVE
  (https://docs.aws.amazon.com/personalize/latest/dg/API_CreateCampaign.html: wait until the
  status is ACTIVE before asking the campaign for recommendations), and before the old one goes;
- a campaign the update creates answers at every look once it has first answered.
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass, field
from typing import Any

from local.runner.observe import Moment
from local.runner.state import StackState
from tests.updates.changes import REPO

#: how often (virtual seconds) clients ask while the update waits, besides at every stack event
LOOK_EVERY = 120.0
CAMPAIGN = "Custom::PersonalizeCampaign"


def campaigns_of(state: StackState | None) -> dict[str, str]:
    """The stack's campaigns: logical id -> ARN (its physical id)."""
    if state is None:
        return {}
    return {
        lid: res.physical_id
        for lid, res in state.resources.items()
        if res.type == CAMPAIGN and res.physical_id and res.physical_id.startswith("arn:")
    }


@dataclass
class Watched:
    """One campaign ARN as its clients saw it during the update."""

    arn: str
    logical_id: str = ""
    known_before: bool = False
    #: (virtual time, "ok" or what the client got instead)
    looks: list[tuple[float, str]] = field(default_factory=list)
    #: when the stack began deleting it (DELETE_IN_PROGRESS), if it did
    deleting_at: float | None = None

    @property
    def misses(self) -> list[tuple[float, str]]:
        return [(t, got) for t, got in self.looks if got != "ok"]

    @property
    def stopped(self) -> bool:
        """It stopped answering and did not answer again."""
        return bool(self.looks) and self.looks[-1][1] != "ok"

    @property
    def first_answer(self) -> float | None:
        return next((t for t, got in self.looks if got == "ok"), None)

    def outage(self) -> float:
        """The longest time (virtual seconds) from a look without an answer to the next look with
        one (or, when none came, to the last look)."""
        longest, since = 0.0, None
        for t, got in self.looks:
            if got != "ok" and since is None:
                since = t
            elif got == "ok" and since is not None:
                longest, since = max(longest, t - since), None
        if since is not None:
            longest = max(longest, self.looks[-1][0] - since)
        return longest

    def verdict(self, expected: str, successor: Watched | None = None) -> str:
        """`ok`, or what the service allows that this campaign's clients did not get. `expected` is
        the row's outcome for its logical id (untouched, updated, created, replaced, deleted)."""
        if expected in ("deleted", "replaced"):
            cut = self.deleting_at
            early = [(t, got) for t, got in self.misses if cut is None or t < cut]
            if early:
                return f"no answer before the stack deleted it: {_first(early)}"
            if successor is not None:
                first = successor.first_answer
                if first is None:
                    return f"its successor {successor.logical_id} never answered"
                if cut is not None and first > cut:
                    late = first - cut
                    return f"its successor {successor.logical_id} answered only {late:.0f} s after it went"
            return "ok"
        if not self.looks:
            return "never asked" if self.known_before else "never ACTIVE during the update"
        if self.misses:
            return f"outage {self.outage():.0f} s: {_first(self.misses)}"
        return "ok"


def _first(misses: list[tuple[float, str]]) -> str:
    t, got = misses[0]
    return f"{len(misses)} look(s) unanswered, first at {t:.0f} s: {got[:160]}"


class Clients:
    """The runner watcher: asks every known campaign at each `Moment` (call inside the world)."""

    def __init__(self, env: str, region: str, before: dict[str, str]) -> None:
        self.env, self.region = env, region
        self.t0: float | None = None
        self.watched: dict[str, Watched] = {
            arn: Watched(arn, lid, known_before=True) for lid, arn in before.items()
        }
        self._recipes: dict[str, str] = {}
        self._clients: tuple[Any, Any] | None = None
        #: how many moments the clients looked at, and the real seconds it took them
        self.moments, self.seconds = 0, 0.0
        rows = list(csv.DictReader(io.StringIO((REPO / "data" / "interactions.csv").read_text())))
        self.user, self.item = rows[0]["USER_ID"], rows[0]["ITEM_ID"]
        self.items = sorted({r["ITEM_ID"] for r in rows})[:10]

    def _boto(self) -> tuple[Any, Any]:
        if self._clients is None:
            import boto3
            from botocore.config import Config

            once = Config(retries={"mode": "standard", "max_attempts": 1})  # a retry would move the clock
            self._clients = (
                boto3.client("personalize", region_name=self.region, config=once),
                boto3.client("personalize-runtime", region_name=self.region, config=once),
            )
        return self._clients

    def __call__(self, moment: Moment) -> None:
        started = time.perf_counter()
        self._look(moment)
        self.moments += 1
        self.seconds += time.perf_counter() - started

    def _look(self, moment: Moment) -> None:
        if self.t0 is None:
            self.t0 = moment.at
        at = moment.at - self.t0
        event = moment.event
        if event is not None and event.status == "DELETE_IN_PROGRESS":
            lid = event.logical_id.removesuffix(" (old)")
            for watched in self.watched.values():
                if watched.logical_id == lid and watched.known_before and watched.deleting_at is None:
                    watched.deleting_at = at
        for arn in self.active().values():
            self.watched.setdefault(arn, Watched(arn))
        for watched in self.watched.values():
            watched.looks.append((at, self.ask(watched.arn)))

    def active(self) -> dict[str, str]:
        """The environment's ACTIVE campaigns: name -> ARN (a client reads it from the outputs)."""
        control, _runtime = self._boto()
        return {
            c["name"]: c["campaignArn"]
            for c in control.list_campaigns()["campaigns"]
            if c["status"] == "ACTIVE" and c["name"].startswith(f"{self.env}-")
        }

    def ask(self, arn: str) -> str:
        """One client's request: "ok", or the error (an empty answer is one too)."""
        from botocore.exceptions import ClientError

        control, runtime = self._boto()
        try:
            recipe = self._recipes.get(arn) or self._recipe(control, arn)
            if "ranking" in recipe:
                got = runtime.get_personalized_ranking(
                    campaignArn=arn, userId=self.user, inputList=self.items
                )
                answer = got["personalizedRanking"]
            elif "sims" in recipe or "similar" in recipe:
                answer = runtime.get_recommendations(campaignArn=arn, itemId=self.item)["itemList"]
            else:
                answer = runtime.get_recommendations(campaignArn=arn, userId=self.user)["itemList"]
        except ClientError as error:
            return str(error)
        return "ok" if answer else "empty answer"

    def _recipe(self, control: Any, arn: str) -> str:
        """The recipe a campaign serves, read once per ARN (a client knows what it calls)."""
        campaign = control.describe_campaign(campaignArn=arn)["campaign"]
        version_arn = campaign["solutionVersionArn"]
        if version_arn.endswith("/$LATEST"):
            solution_arn = version_arn.rsplit("/", 1)[0]
        else:
            version = control.describe_solution_version(solutionVersionArn=version_arn)
            solution_arn = version["solutionVersion"]["solutionArn"]
        solution = control.describe_solution(solutionArn=solution_arn)
        self._recipes[arn] = solution["solution"]["recipeArn"].rsplit("/", 1)[-1]
        return self._recipes[arn]

    def report(self, after: dict[str, str]) -> dict[str, Watched]:
        """logical id (or the ARN of a campaign the stack does not hold) -> what its clients saw;
        `after` names the campaigns the update created (logical id -> ARN, as for `campaigns_of`)."""
        for lid, arn in after.items():
            if arn in self.watched and not self.watched[arn].logical_id:
                self.watched[arn].logical_id = lid
        out: dict[str, Watched] = {}
        for watched in self.watched.values():
            key = watched.logical_id or watched.arn
            if watched.known_before and key in out:  # replaced: the old ARN under "<id> (old)"
                key += " (old)"
            elif key in out:
                out[key + " (old)"] = out.pop(key)
            out[key] = watched
        return out


def judge(seen: dict[str, Watched], expected: dict[str, str], moves: dict[str, str]) -> dict[str, str]:
    """Each watched campaign's verdict (`Watched.verdict`): the row's expected outcome for the
    campaigns clients had before the update; `created` for those it made. `moves`: a campaign
    deleted with a successor its clients switch to (old logical id -> new)."""
    out: dict[str, str] = {}
    for key, watched in seen.items():
        lid = key.removesuffix(" (old)")
        if not watched.known_before:
            out[key] = watched.verdict("created")
            continue
        outcome = expected.get(lid, "untouched")
        successor = seen.get(moves.get(lid, lid)) if outcome in ("deleted", "replaced") else None
        out[key] = watched.verdict(outcome, successor if successor is not watched else None)
    return out
