"""The review's pricing table and cost arithmetic (review/cost.py, review/pricing.toml), and the
categories docs/review.md lists for --fail-on."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from pipeline.naming import REPO_ROOT
from review.cost import PricingError, load_pricing, monthly, one_off, tiered
from review.kinds import categories
from review.simulate import Facts, Observed

TIERS = [[0, 20000, 0.20], [20000, 200000, 0.10], [200000, float("inf"), 0.05]]


def test_tiers_price_each_band_at_its_own_rate() -> None:
    assert tiered(730, TIERS) == pytest.approx(146.0)
    assert tiered(30000, TIERS) == pytest.approx(20000 * 0.20 + 10000 * 0.10)
    assert tiered(250000, TIERS) == pytest.approx(4000 + 18000 + 50000 * 0.05)
    assert tiered(0, TIERS) == 0


def test_the_shipped_table_is_marked_unverified_with_its_source_and_date() -> None:
    prices = load_pricing("us-east-1")
    assert prices.verified is False and "UNVERIFIED" in prices.label
    assert prices.page == "https://aws.amazon.com/personalize/pricing/"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", prices.retrieved)
    assert prices.price("training_per_hour") == 0.24
    other = load_pricing("ap-southeast-2")
    assert other.table_region == "us-east-1" and "the table has none for ap-southeast-2" in other.label


def test_an_override_file_sets_one_region(tmp_path: Path) -> None:
    override = tmp_path / "prices.toml"
    override.write_text(
        '[regions.ap-southeast-2]\nverified = true\nsource = "contract"\ntraining_per_hour = 0.30\n'
    )
    prices = load_pricing("ap-southeast-2", override)
    assert (prices.table_region, prices.verified, prices.source) == ("ap-southeast-2", True, "contract")
    assert prices.price("training_per_hour") == 0.30
    assert prices.price("campaign_tps_hour_tiers") is None  # not in the file, not guessed
    assert load_pricing("us-east-1", override).price("training_per_hour") == 0.24


def test_an_override_with_an_unknown_key_is_refused(tmp_path: Path) -> None:
    override = tmp_path / "prices.toml"
    override.write_text("[regions.us-east-1]\ntraining_per_hr = 0.3\n")
    with pytest.raises(PricingError, match=r"unknown keys \['training_per_hr'\]"):
        load_pricing("us-east-1", override)


def test_monthly_bills_campaigns_at_their_floor_and_auto_training() -> None:
    prices = load_pricing("us-east-1")
    version = "arn:aws:personalize:us-east-1:1:solution/s/abcd1234"
    facts = Facts(
        resources={
            "c": Observed("c", "campaign", {"name": "c", "status": "ACTIVE", "minProvisionedTPS": 2}),
            "gone": Observed("gone", "campaign", None),
            "s": Observed(
                "s",
                "solution",
                {
                    "name": "s",
                    "performAutoTraining": True,
                    "solutionConfig": {"autoTrainingConfig": {"schedulingExpression": "rate(10 days)"}},
                    "latestSolutionVersion": {"solutionVersionArn": version},
                },
            ),
            version: Observed(version, "solution-version", {"trainingHours": 1.5}),
        }
    )
    cost = monthly(facts, prices)
    campaign, training = cost.lines
    assert campaign.quantity == 2 * 730 and campaign.dollars == pytest.approx(2 * 730 * 0.20)
    assert training.quantity == pytest.approx(730 / 24 / 10 * 1.5)
    assert cost.dollars == pytest.approx(2 * 730 * 0.20 + 730 / 24 / 10 * 1.5 * 0.24)


def test_one_off_prices_what_the_update_ran() -> None:
    prices = load_pricing("us-east-1")
    job, version = "arn:job", "arn:aws:personalize:r:1:solution/s/abcd1234"
    facts = Facts(
        resources={
            job: Observed(
                job, "dataset-import-job", {"jobName": "j", "dataSource": {"dataLocation": "s3://b/k"}}
            ),
            version: Observed(version, "solution-version", {"trainingHours": 2.0, "solutionArn": "arn:s"}),
            "arn:s": Observed("arn:s", "solution", {"name": "s", "performHPO": False}),
        },
        objects={"s3://b/k": (1000, 2 * 1024**3)},
    )
    ops = [
        SimpleNamespace(kind="dataset-import-job", status="ACTIVE", arn=job, start=0.0),
        SimpleNamespace(kind="solution-version", status="ACTIVE", arn=version, start=1.0),
        SimpleNamespace(kind="solution-version", status="CREATE FAILED", arn="x", start=2.0),
    ]
    cost = one_off(ops, facts, prices)
    assert [line.dollars for line in cost.lines] == [pytest.approx(0.10), pytest.approx(0.48)]


def test_docs_list_every_review_category() -> None:
    text = (REPO_ROOT / "docs" / "review.md").read_text()
    block = text.split("<!-- review-categories:start -->")[1].split("<!-- review-categories:end -->")[0]
    listed = dict(re.findall(r"^\| `([\w-]+)` \| (.+) \|$", block, flags=re.M))
    assert listed == categories()
