"""Cost in dollars from the pricing table (review/pricing.toml, overridable) and quantities the
simulation measured: one-off (imports in GB, training hours, batch recommendations of an operation)
and monthly (campaign TPS-hours at minProvisionedTPS, automatic trainings) of a deployed stack.

Every quantity comes from the local world: training hours are the ones the local Personalize
reports for each trained version (its duration model, an estimate: billed hours can exceed them),
GB the bytes each import job read from S3. Prices come with where they came from and whether they
were verified; an unverified price is printed as such.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from review.simulate import Facts

PRICING = Path(__file__).with_name("pricing.toml")
GIB = 1024**3
PRICE_KEYS = (
    "ingest_per_gb", "training_per_hour", "batch_per_1000_recommendations", "campaign_tps_hour_tiers",
)


class PricingError(ValueError):
    """An override file that is not a pricing table."""


@dataclass(frozen=True)
class Prices:
    """The figures for one region, with their provenance."""

    region: str
    table_region: str  # the region whose figures these are (the fallback when `region` has none)
    values: dict[str, Any]
    verified: bool
    source: str
    retrieved: str
    hours_per_month: float
    page: str

    @property
    def label(self) -> str:
        where = self.table_region if self.table_region == self.region else (
            f"{self.table_region} figures (the table has none for {self.region})"
        )
        state = "verified" if self.verified else "UNVERIFIED"
        return f"{where}; {state}: {self.source}, {self.retrieved}"

    def price(self, key: str) -> Any:
        return self.values.get(key)


def load_pricing(region: str, override: Path | None = None) -> Prices:
    table = tomllib.loads(PRICING.read_text(encoding="utf-8"))
    if override is not None:
        try:
            extra = tomllib.loads(override.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise PricingError(f"{override}: {error}") from None
        for name, values in (extra.get("regions") or {}).items():
            unknown = set(values) - {*PRICE_KEYS, "verified", "source", "retrieved"}
            if unknown:
                raise PricingError(f"{override}: [regions.{name}] has unknown keys {sorted(unknown)}; "
                                   f"expected some of {list(PRICE_KEYS)}, verified, source, retrieved")
            merged = dict(table["regions"].get(name, {}))
            merged.update(values)
            if "verified" not in values:
                merged["verified"] = False
            if "source" not in values:
                merged["source"] = f"{override}"
            table["regions"][name] = merged
        for key in ("hours_per_month", "fallback_region"):
            if key in extra:
                table[key] = extra[key]
    regions = table["regions"]
    chosen = region if region in regions else table["fallback_region"]
    values = regions[chosen]
    return Prices(
        region=region,
        table_region=chosen,
        values={k: v for k, v in values.items() if k in PRICE_KEYS},
        verified=bool(values.get("verified", False)),
        source=str(values.get("source", "")),
        retrieved=str(values.get("retrieved", "")),
        hours_per_month=float(table.get("hours_per_month", 730)),
        page=str(table.get("page", "")),
    )


def tiered(quantity: float, tiers: list[list[float]]) -> float:
    """Dollars for `quantity` units over [from, to, price] tiers."""
    total = 0.0
    for low, high, price in tiers:
        if quantity <= low:
            break
        total += (min(quantity, high) - low) * price
    return total


@dataclass
class Line:
    """One cost line: what, how much of it, in which unit, and dollars (None: no price)."""

    what: str
    quantity: float
    unit: str
    dollars: float | None
    note: str = ""


@dataclass
class Cost:
    lines: list[Line] = field(default_factory=list)

    @property
    def dollars(self) -> float:
        return sum(line.dollars or 0.0 for line in self.lines)

    @property
    def unpriced(self) -> list[Line]:
        return [line for line in self.lines if line.dollars is None]


def one_off(service_ops: list[Any], facts: Facts, prices: Prices) -> Cost:
    """What an operation's imports, trainings and batch jobs bill once."""
    cost = Cost()
    for op in sorted(service_ops, key=lambda o: o.start):
        described = facts.get(op.arn) or {}
        if op.kind == "dataset-import-job" and op.status == "ACTIVE":
            location = described.get("dataSource", {}).get("dataLocation", "")
            _rows, size = facts.objects.get(location, (0, 0))
            gb = size / GIB
            rate = prices.price("ingest_per_gb")
            cost.lines.append(Line(f"import {described.get('jobName', op.arn.rsplit('/', 1)[-1])}", gb, "GB",
                                   None if rate is None else gb * rate))
        elif op.kind == "solution-version" and op.status == "ACTIVE":
            hours = float(described.get("trainingHours") or 0.0)
            rate = prices.price("training_per_hour")
            solution = facts.get(described.get("solutionArn")) or {}
            note = "estimate from the duration model; billed hours can exceed elapsed hours"
            if solution.get("performHPO"):
                jobs = (((solution.get("solutionConfig") or {}).get("hpoConfig") or {})
                        .get("hpoResourceConfig") or {}).get("maxNumberOfTrainingJobs")
                if jobs:
                    hours = float(jobs) * hours / 3  # the duration model's HPO run is 3 single runs
                    note = f"HPO upper bound: {jobs} training jobs x one run (no published multiplier)"
                else:
                    note = "HPO: the duration model's 3 runs (no published multiplier; set " \
                           "hpoResourceConfig.maxNumberOfTrainingJobs for an upper bound)"
            name = solution.get("name") or op.arn.rsplit("/", 2)[-2]
            cost.lines.append(Line(f"training {name} ({described.get('trainingMode', 'FULL')})", hours,
                                   "training hours", None if rate is None else hours * rate, note))
        elif op.kind == "batch-inference-job" and op.status == "ACTIVE":
            path = described.get("jobInput", {}).get("s3DataSource", {}).get("path", "")
            lines, _ = facts.objects.get(path, (0, 0))
            count = lines * int(described.get("numResults", 25))
            rate = prices.price("batch_per_1000_recommendations")
            cost.lines.append(Line(f"batch job {described.get('jobName', '')}", count, "recommendations",
                                   None if rate is None else count / 1000 * rate,
                                   "at most: numResults per line"))
    return cost


_RATE = re.compile(r"rate\((\d+)\s+days?\)")


def monthly(facts: Facts, prices: Prices) -> Cost:
    """What the deployed Personalize resources bill every month: active campaigns at their
    minProvisionedTPS (the floor: more traffic bills more), automatic trainings."""
    cost = Cost()
    hours = prices.hours_per_month
    tps_hours = 0.0
    campaigns = []
    for observed in facts.resources.values():
        described = observed.described or {}
        if observed.kind == "campaign" and described.get("status") == "ACTIVE":
            tps = int(described.get("minProvisionedTPS", 1))
            campaigns.append((described.get("name", ""), tps))
            tps_hours += tps * hours
        if observed.kind == "recommender" and described.get("status") == "ACTIVE":
            # Billed every hour it is ACTIVE at max(minRecommendationRequestsPerSecond, actual): no
            # verified recommender price table exists (pricing.toml), so the line has no dollars.
            rps = int((described.get("recommenderConfig") or {}).get("minRecommendationRequestsPerSecond", 1))
            name = described.get("name", "")
            cost.lines.append(Line(f"recommender {name} at {rps} requests/s", rps * hours,
                                   "request-per-second hours", None,
                                   "the floor, billed every ACTIVE hour; stop it to pause billing"))
        if observed.kind == "solution" and described.get("performAutoTraining"):
            expression = ((described.get("solutionConfig") or {}).get("autoTrainingConfig") or {}).get(
                "schedulingExpression", "rate(7 days)")
            match = _RATE.match(expression)
            days = int(match.group(1)) if match else 7
            runs = hours / 24 / days
            latest_arn = (described.get("latestSolutionVersion") or {}).get("solutionVersionArn")
            trained = float((facts.get(latest_arn) or {}).get("trainingHours") or 0.0)
            if not trained:  # still training (an automatic run just started): the duration model's
                trained = facts.training_seconds.get(latest_arn or "", 0.0) / 3600
            rate = prices.price("training_per_hour")
            cost.lines.append(Line(
                f"automatic training of {described.get('name')} ({expression})", runs * trained,
                "training hours", None if rate is None else runs * trained * rate,
                f"{runs:.1f} runs a month x {trained:.2f} h (the last training's hours)",
            ))
    tiers = prices.price("campaign_tps_hour_tiers")
    for name, tps in sorted(campaigns):
        share = tps * hours / tps_hours if tps_hours else 0.0
        dollars = None if tiers is None else tiered(tps_hours, tiers) * share
        cost.lines.insert(0, Line(f"campaign {name} at {tps} TPS", tps * hours, "TPS-hours", dollars,
                                  "the floor: traffic above minProvisionedTPS bills more"))
    return cost


def money(value: float | None) -> str:
    if value is None:
        return "not in the pricing table"
    if math.isinf(value):
        return "unbounded"
    return f"${value:,.2f}"
