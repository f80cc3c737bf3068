"""`pz recommend` (cli/commands/recommend.py) against the session's local deploy of dev: every option,
every error."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.recs.helpers import PARAM_FILTER, REGION, REPO, Deployed, categories, pz_recommend

pytestmark = pytest.mark.slow


def run(
    deployed: Deployed, capsys: pytest.CaptureFixture[str], *args: str, env: str = "dev"
) -> tuple[int, str, str]:
    code = pz_recommend(["-c", f"env={env}", "--state-dir", str(deployed.state_dir), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def rows(out: str) -> list[list[str]]:
    """The table's data rows (after the title line and the header), split on whitespace."""
    lines = [line for line in out.splitlines() if not line.startswith("note:")]
    return [line.split() for line in lines[2:]]


def direct(deployed: Deployed, call: str, **params: Any) -> list[dict[str, Any]]:
    """The same query made straight to the runtime API of the deployed world."""
    from local.emulator.world import World

    world = World.load(deployed.state_dir / "world.pkl")
    try:
        with world.active():
            runtime = boto3.client("personalize-runtime", region_name=REGION)
            answer = getattr(runtime, call)(**params)
    finally:
        world.close()
    return list(answer.get("itemList") or answer.get("personalizedRanking") or [])


def test_user_recommendations_table(
    deployed: Deployed, capsys: pytest.CaptureFixture[str], items_csv: dict[str, dict[str, str]]
) -> None:
    code, out, err = run(deployed, capsys, "--campaign", "user-recs", "--user-id", "u0246", "--num", "5")
    assert code == 0 and err == ""
    title, header = out.splitlines()[:2]
    arn = deployed.outputs["CampaignArnUserRecs"]
    assert title == f"user-recs ({arn}): recommendations for user u0246"
    assert header.split() == ["#", "item", "score", "category_l1", "style", "brand"]
    expected = direct(deployed, "get_recommendations", campaignArn=arn, userId="u0246", numResults=5)
    table = rows(out)
    assert [r[1] for r in table] == [e["itemId"] for e in expected] and len(table) == 5
    assert [float(r[2]) for r in table] == [round(e["score"], 4) for e in expected]
    for row in table:
        item = items_csv[row[1]]
        assert row[3:6] == [item["CATEGORY_L1"][:14], item["STYLE"][:14], item["BRAND"][:14]]


def test_related_items(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(deployed, capsys, "--campaign", "similar-items", "--item-id", "i0103", "--num", "4")
    assert code == 0
    assert out.splitlines()[0].endswith("items related to i0103")
    arn = deployed.outputs["CampaignArnSimilarItems"]
    expected = direct(deployed, "get_recommendations", campaignArn=arn, itemId="i0103", numResults=4)
    assert [r[1] for r in rows(out)] == [e["itemId"] for e in expected] and len(expected) == 4
    assert "i0103" not in [r[1] for r in rows(out)]


def test_rank(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        deployed, capsys, "--campaign", "ranking", "--user-id", "u0246", "--rank", "i0103,i0010,i0067"
    )
    assert code == 0
    assert out.splitlines()[0].endswith("ranking of 3 items for user u0246")
    table = rows(out)
    arn = deployed.outputs["CampaignArnRanking"]
    expected = direct(
        deployed,
        "get_personalized_ranking",
        campaignArn=arn,
        userId="u0246",
        inputList=["i0103", "i0010", "i0067"],
    )
    assert [r[1] for r in table] == [e["itemId"] for e in expected]
    assert sorted(r[1] for r in table) == ["i0010", "i0067", "i0103"]
    scores = [float(r[2]) for r in table]
    assert scores == sorted(scores, reverse=True) and sum(scores) == pytest.approx(1, abs=0.001)


def test_rank_with_an_unknown_item_ranks_it_last_with_a_note(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        deployed, capsys, "--campaign", "ranking", "--user-id", "u0246", "--rank", "zz-new,i0010,i0067"
    )
    assert code == 0
    assert "note: items not in the items dataset: ['zz-new']" in out
    table = rows(out)
    assert table[-1][:3] == ["3", "zz-new", "0.0000"] and len(table) == 3


@pytest.mark.parametrize(
    ("rank", "message"),
    [
        ("i0010,i0067,i0010", "each item can be ranked once; repeated: ['i0010']"),
        ("", "item ids to rank must not be empty"),
        ("i0010,,i0067", "item ids to rank must not be empty: positions [2]"),
        (",".join(f"i{n:04d}" for n in range(501)), "at most 500 items can be ranked, got 501"),
    ],
)
def test_rank_refuses_bad_lists(
    deployed: Deployed, capsys: pytest.CaptureFixture[str], rank: str, message: str
) -> None:
    code, out, err = run(deployed, capsys, "--campaign", "ranking", "--user-id", "u0246", "--rank", rank)
    assert (code, out) == (2, "") and message in err and err.startswith("pz recommend: ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--campaign", "ranking", "--rank", "i0010"],
            "ranking needs a user id (--user-id u0246 --rank i0103,",
        ),
        (
            ["--campaign", "ranking", "--user-id", "u0246", "--rank", "i0010", "--num", "3"],
            "--num does not apply",
        ),
        (["--campaign", "ranking", "--user-id", "u0246"], "campaign 'ranking' ranks a list of items"),
        (["--campaign", "user-recs", "--user-id", "u0246", "--rank", "i0010"], "does not rank lists"),
        (["--campaign", "user-recs", "--item-id", "i0103"], "campaign 'user-recs' recommends for a user"),
        (
            ["--campaign", "similar-items", "--user-id", "u0246"],
            "recommends items related to an item: give an item",
        ),
        (
            ["--campaign", "user-recs"],
            "give a user id or an item id; campaign 'user-recs' takes --user-id u0246",
        ),
        (["--campaign", "user-recs", "--user-id", ""], "user id must be a non-empty string"),
    ],
)
def test_requests_that_do_not_fit_the_campaign(
    deployed: Deployed, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run(deployed, capsys, *args)
    assert (code, out) == (2, "") and message in err


def test_filter_excludes_purchases(
    deployed: Deployed, capsys: pytest.CaptureFixture[str], purchases: dict[str, set[str]]
) -> None:
    user = "u0246"
    code, out, _ = run(deployed, capsys, "--campaign", "user-recs", "--user-id", user, "--num", "100")
    assert code == 0
    unfiltered = {r[1] for r in rows(out)}
    assert unfiltered & purchases[user], "the test needs a user whose unfiltered list has purchases"
    code, out, _ = run(
        deployed,
        capsys,
        "--campaign",
        "user-recs",
        "--user-id",
        user,
        "--num",
        "100",
        "--filter",
        "exclude-purchased",
    )
    assert code == 0 and out.splitlines()[0].endswith(", filter exclude-purchased")
    filtered = {r[1] for r in rows(out)}
    assert len(filtered) == 100 and not filtered & purchases[user]


def test_filter_with_values(
    deployed: Deployed, capsys: pytest.CaptureFixture[str], items_csv: dict[str, dict[str, str]]
) -> None:
    base = ["--campaign", "user-recs", "--user-id", "u0246", "--num", "30", "--json"]
    code, out, _ = run(deployed, capsys, *base)
    unfiltered = [i["itemId"] for i in json.loads(out)["items"]]
    assert any("books" not in categories(items_csv[i]) for i in unfiltered)

    code, out, _ = run(deployed, capsys, *base, "--filter", PARAM_FILTER, "--filter-value", "CATEGORY=books")
    assert code == 0
    answer = json.loads(out)
    assert answer["filter"] == PARAM_FILTER and answer["filterValues"] == {"CATEGORY": '"books"'}
    books = [i["itemId"] for i in answer["items"]]
    assert books and all("books" in categories(items_csv[i]) for i in books)

    code, out, _ = run(
        deployed, capsys, *base, "--filter", PARAM_FILTER, "--filter-value", "CATEGORY=books,garden"
    )
    answer = json.loads(out)
    assert code == 0 and answer["filterValues"] == {"CATEGORY": '"books","garden"'}
    found = [categories(items_csv[i["itemId"]]) for i in answer["items"]]
    assert all(c & {"books", "garden"} for c in found)
    assert any("garden" in c and "books" not in c for c in found) and len(found) == 30

    code, out, _ = run(
        deployed,
        capsys,
        "--campaign",
        "user-recs",
        "--user-id",
        "u0246",
        "--filter",
        PARAM_FILTER,
        "--filter-value",
        "CATEGORY=garden",
    )
    assert code == 0 and out.splitlines()[0].endswith(f', filter {PARAM_FILTER} CATEGORY="garden"')


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--filter", PARAM_FILTER], "filter 'in-category' needs a value for ['CATEGORY']"),
        (
            ["--filter", PARAM_FILTER, "--filter-value", "CATEGORY=books", "--filter-value", "COLOR=red"],
            "filter 'in-category' has no parameter ['COLOR']",
        ),
        (
            ["--filter", "exclude-purchased", "--filter-value", "CATEGORY=books"],
            "has no parameter ['CATEGORY']",
        ),
        (["--filter", PARAM_FILTER, "--filter-value", "CATEGORY"], "--filter-value expects PARAM=VALUE"),
        (["--filter", PARAM_FILTER, "--filter-value", "CATEGORY=a,,b"], "--filter-value expects PARAM=VALUE"),
        (["--filter-value", "CATEGORY=books"], "filter values ['CATEGORY'] given without a filter"),
        (["--filter", "nope"], "filter 'nope' is not in the deployed dataset group"),
    ],
)
def test_filter_errors(
    deployed: Deployed, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run(deployed, capsys, "--campaign", "user-recs", "--user-id", "u0246", *args)
    assert (code, out) == (2, "") and message in err


def test_unknown_filter_lists_the_deployed_ones(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, err = run(deployed, capsys, "--campaign", "user-recs", "--user-id", "u0246", "--filter", "nope")
    assert "filters: ['exclude-purchased', 'in-category']; add it as [[filters]] in config/dev.toml" in err


@pytest.mark.parametrize(("num", "code"), [("0", 2), ("501", 2), ("-3", 2), ("1", 0), ("500", 0)])
def test_num_bounds(deployed: Deployed, capsys: pytest.CaptureFixture[str], num: str, code: int) -> None:
    got, out, err = run(
        deployed, capsys, "--campaign", "user-recs", "--user-id", "u0246", "--num", num, "--json"
    )
    assert got == code
    if code:
        assert f"num must be an integer from 1 to 500, got {num}" in err
    else:
        listed = json.loads(out)["items"]
        # 500: more than the default and than 100 (the 400-item catalogue bounds it)
        assert (len(listed) == 1) if num == "1" else (len(listed) > 100)


def test_num_defaults_to_ten(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(deployed, capsys, "--campaign", "user-recs", "--user-id", "u0246")
    assert code == 0 and len(rows(out)) == 10


def test_json_shape(
    deployed: Deployed, capsys: pytest.CaptureFixture[str], items_csv: dict[str, dict[str, str]]
) -> None:
    code, out, err = run(
        deployed, capsys, "--campaign", "user-recs", "--user-id", "u0246", "--num", "3", "--json"
    )
    assert code == 0 and err == ""
    answer = json.loads(out)
    assert set(answer) == {
        "campaign",
        "campaignArn",
        "kind",
        "userId",
        "itemId",
        "filter",
        "filterValues",
        "recommendationId",
        "coldStart",
        "unknownItems",
        "notes",
        "items",
    }
    assert (
        answer["campaign"] == "user-recs" and answer["campaignArn"] == deployed.outputs["CampaignArnUserRecs"]
    )
    assert answer["kind"] == "user" and answer["userId"] == "u0246" and answer["itemId"] is None
    assert (
        answer["coldStart"] is False
        and answer["notes"] == []
        and answer["recommendationId"].startswith("RID-")
    )
    assert len(answer["items"]) == 3
    for item in answer["items"]:
        assert set(item) == {"itemId", "score", "fields"} and isinstance(item["score"], float)
        expected = {k: v for k, v in items_csv[item["itemId"]].items() if k != "ITEM_ID"}
        assert item["fields"] == expected


def test_cold_start_user_gets_a_note(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(deployed, capsys, "--campaign", "user-recs", "--user-id", "stranger", "--num", "3")
    assert code == 0
    assert out.splitlines()[0] == (
        "note: user 'stranger' has no interactions in the imported data (cold start): Personalize answers "
        "with popular items, not personal ones"
    )
    assert len(rows(out)) == 3
    code, out, err = run(deployed, capsys, "--campaign", "user-recs", "--user-id", "stranger", "--json")
    assert json.loads(out)["coldStart"] is True and err.startswith("note: user 'stranger'")
    code, out, _ = run(deployed, capsys, "--campaign", "user-recs", "--user-id", "u0001", "--num", "3")
    assert "note:" not in out


def test_unknown_campaign(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(deployed, capsys, "--campaign", "nope", "--user-id", "u1")
    assert (code, out) == (2, "")
    assert (
        "campaign 'nope' is not in the deployed stack Personalize-dev; "
        "campaigns: ['ranking', 'similar-items', 'user-recs']" in err
    )


def test_campaign_in_config_but_not_deployed(
    deployed: Deployed, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    outputs = dict(deployed.outputs)
    outputs["CampaignNames"] = json.dumps({"user-recs": "dev-retail-user-recs"})
    state = deployed.copy_state(tmp_path, outputs=outputs)
    code = pz_recommend(
        [
            "-c",
            "env=dev",
            "--state-dir",
            str(state),
            "--campaign",
            "ranking",
            "--user-id",
            "u1",
            "--rank",
            "i1",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "campaign 'ranking' is in config/dev.toml but not in the deployed stack Personalize-dev" in err
    assert "deployed: ['user-recs']. Deploy the current config again" in err


def test_unknown_environment(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(deployed, capsys, "--campaign", "user-recs", "--user-id", "u1", env="nope")
    assert (code, out) == (2, "")
    assert "no environment 'nope'" in err and "environments: ['dev', 'prod', 'vod'] (-c env=NAME)" in err


def test_stack_not_deployed(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    args = ["-c", "env=dev", "--state-dir", str(tmp_path), "--campaign", "user-recs", "--user-id", "u1"]
    code = pz_recommend(args)
    err = capsys.readouterr().err
    assert code == 2
    assert f"stack Personalize-dev is not deployed locally (nothing in {tmp_path})" in err
    assert "pz deploy -c env=dev" in err and "--target aws" in err


def test_destroyed_stack(deployed: Deployed, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    state = deployed.copy_state(tmp_path, status="DELETE_COMPLETE", outputs={})
    args = ["-c", "env=dev", "--state-dir", str(state), "--campaign", "user-recs", "--user-id", "u1"]
    code = pz_recommend(args)
    err = capsys.readouterr().err
    assert code == 2
    assert "stack Personalize-dev in ap-southeast-2 (the local runner) was deleted [DELETE_COMPLETE]" in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert pz_recommend(["-c", "env=dev", "--user-id", "u1"]) == 2
    assert "--campaign" in capsys.readouterr().err
    assert pz_recommend(["-c", "dev", "--campaign", "user-recs", "--user-id", "u1"]) == 2
    assert "-c expects KEY=VALUE, got 'dev'" in capsys.readouterr().err


def test_recommend_alias_answers_as_pz_recommend(
    deployed: Deployed, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`./recommend ARGS` and `pz recommend ARGS` are one command: the same JSON, the same exit 2."""
    args = ["-c", "env=dev", "--state-dir", str(deployed.state_dir), "--campaign", "user-recs",
            "--user-id", "u0246", "--num", "4", "--json"]
    assert pz_recommend(args) == 0
    in_process = json.loads(capsys.readouterr().out)
    done = subprocess.run(
        [str(REPO / "recommend"), *args], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == in_process and len(in_process["items"]) == 4


def test_recommend_script(deployed: Deployed, tmp_path: Path) -> None:
    """The ./recommend shim from another directory, as a person runs it."""
    args = [
        "-c",
        "env=dev",
        "--state-dir",
        str(deployed.state_dir),
        "--campaign",
        "user-recs",
        "--user-id",
        "u0246",
    ]
    done = subprocess.run(
        [str(REPO / "recommend"), *args, "--num", "3"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(
        "user-recs (arn:aws:personalize:ap-southeast-2:123456789012:campaign/dev-retail-user-recs)"
    )
    assert len(lines) == 2 + 3
    failed = subprocess.run(
        [str(REPO / "recommend"), *args[:-4], "--campaign", "nope", "--user-id", "u1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert failed.returncode == 2 and "campaign 'nope' is not in the deployed stack" in failed.stderr
    helped = subprocess.run(
        [str(REPO / "recommend"), "--help"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert helped.returncode == 0 and helped.stdout.startswith("usage: pz recommend ")
    assert "examples:" in helped.stdout and "exit status: 0 done" in helped.stdout
