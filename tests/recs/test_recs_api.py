"""The Python API (recs.Recommender) against the session's local deploy, and its pure helpers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from pipeline.filters import filter_parameters
from pipeline.naming import stack_name
from recs import (
    AccessDenied,
    BadRequest,
    CampaignNotDeployed,
    CredentialsMissing,
    MissingFilterValues,
    NoSuchEnvironment,
    Recommendation,
    Recommender,
    RecsError,
    Result,
    ServiceError,
    StackNotDeployed,
    UnknownCampaign,
    UnknownFilter,
)
from recs.api import format_filter_value
from recs.service import translate
from recs.stack import parse_command
from tests.recs.helpers import PARAM_FILTER, Deployed, categories


@pytest.fixture(scope="module")
def rec(deployed: Deployed) -> Iterator[Recommender]:
    with Recommender.for_environment("dev", target="local", state_dir=deployed.state_dir) as opened:
        yield opened


@pytest.mark.slow
def test_recommend_returns_typed_results(rec: Recommender, items_csv: dict[str, dict[str, str]]) -> None:
    result = rec.recommend("user-recs", user_id="u0246", num=5)
    assert isinstance(result, Result) and result.kind == "user" and result.cold_start is False
    assert len(result.items) == 5 and all(isinstance(i, Recommendation) for i in result.items)
    scores = [i.score for i in result.items]
    assert all(isinstance(s, float) for s in scores) and scores == sorted(scores, reverse=True)  # type: ignore[type-var]
    for item in result.items:
        assert item.fields["CATEGORY_L1"] == items_csv[item.item_id]["CATEGORY_L1"]
    assert result.item_ids == [i.item_id for i in result.items]
    assert result.to_json()["items"][0] == {
        "itemId": result.items[0].item_id,
        "score": result.items[0].score,
        "fields": result.items[0].fields,
    }


@pytest.mark.slow
def test_related_items_and_ranking(rec: Recommender) -> None:
    similar = rec.recommend("similar-items", item_id="i0103", num=3)
    assert similar.kind == "related-items" and len(similar.items) == 3 and similar.cold_start is None
    ranked = rec.rank("ranking", "u0246", ["i0103", "new-item", "i0010"])
    assert ranked.kind == "ranking" and ranked.unknown_items == ("new-item",)
    assert ranked.items[-1] == Recommendation("new-item", 0.0, {})
    assert sum(i.score or 0 for i in ranked.items) == pytest.approx(1, abs=1e-4)
    assert any("new-item" in note for note in ranked.notes)


@pytest.mark.slow
def test_filters_with_values_as_list_or_string(
    rec: Recommender, items_csv: dict[str, dict[str, str]]
) -> None:
    assert sorted(rec.filters()) == ["exclude-purchased", PARAM_FILTER]
    as_list = rec.recommend(
        "user-recs", "u0246", num=20, filter=PARAM_FILTER, filter_values={"CATEGORY": ["books", "garden"]}
    )
    as_text = rec.recommend(
        "user-recs", "u0246", num=20, filter=PARAM_FILTER, filter_values={"$CATEGORY": '"books","garden"'}
    )
    assert as_list.item_ids == as_text.item_ids and len(as_list.items) == 20
    assert all(categories(items_csv[i]) & {"books", "garden"} for i in as_list.item_ids)
    one = rec.recommend(
        "user-recs", "u0246", num=5, filter=PARAM_FILTER, filter_values={"CATEGORY": "garden"}
    )
    assert one.filter_values == {"CATEGORY": '"garden"'}
    assert all("garden" in categories(items_csv[i]) for i in one.item_ids)
    ranked = rec.rank("ranking", "u0246", ["i0103", "i0010"], filter="exclude-purchased")
    assert ranked.filter == "exclude-purchased"


@pytest.mark.slow
def test_typed_errors(rec: Recommender) -> None:
    with pytest.raises(UnknownCampaign) as unknown:
        rec.recommend("nope", "u1")
    assert isinstance(unknown.value, CampaignNotDeployed) and unknown.value.exit_code == 2
    with pytest.raises(UnknownFilter, match="filter 'nope' is not in the deployed dataset group"):
        rec.recommend("user-recs", "u1", filter="nope")
    with pytest.raises(MissingFilterValues) as missing:
        rec.recommend("user-recs", "u1", filter=PARAM_FILTER)
    assert isinstance(missing.value, BadRequest)
    for num in (0, 501, True, 2.5):
        with pytest.raises(BadRequest, match="num must be an integer from 1 to 500"):
            rec.recommend("user-recs", "u1", num=num)  # type: ignore[arg-type]
    with pytest.raises(BadRequest, match="repeated"):
        rec.rank("ranking", "u1", ["a", "a"])
    with pytest.raises(BadRequest, match="give 1 to 500 item ids"):
        rec.rank("ranking", "u1", [])


def test_environment_and_stack_errors(deployed: Deployed, tmp_path: Path) -> None:
    shipped = r"environments: \['dev', 'prod', 'vod'\]"
    with pytest.raises(NoSuchEnvironment, match=r"no environment 'qa'.*" + shipped):
        Recommender.for_environment("qa", target="local", state_dir=deployed.state_dir)
    bad = tmp_path / "config"
    bad.mkdir()
    (bad / "dev.toml").write_text("[environment]\nname = 'dev'\n")
    with pytest.raises(NoSuchEnvironment, match=r"config/dev\.toml is not a valid configuration"):
        Recommender.for_environment("dev", target="local", config_dir=bad)
    with pytest.raises(StackNotDeployed, match="pz deploy -c env=dev"):
        Recommender.for_environment("dev", target="local", state_dir=tmp_path / "empty")
    with pytest.raises(BadRequest, match="target must be 'aws' or 'local'"):
        Recommender.for_environment("dev", target="gcp", state_dir=tmp_path)  # type: ignore[arg-type]


@pytest.mark.slow
def test_unreadable_world_says_to_start_again(deployed: Deployed, tmp_path: Path) -> None:
    state = tmp_path / "state"
    (state / "stacks").mkdir(parents=True)
    source = deployed.state_dir / "stacks" / f"{stack_name('dev')}.json"
    (state / "stacks" / f"{stack_name('dev')}.json").write_text(source.read_text())
    (state / "world.pkl").write_bytes(b"not a pickle")
    with pytest.raises(StackNotDeployed, match=r"cannot read the local world .*make clean"):
        Recommender.for_environment("dev", target="local", state_dir=state)


def client_error(code: str, message: str = "m") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "GetRecommendations")


@pytest.mark.parametrize(
    ("code", "kind", "exit_code"),
    [
        ("ExpiredTokenException", CredentialsMissing, 2),
        ("UnrecognizedClientException", CredentialsMissing, 2),
        ("AccessDeniedException", AccessDenied, 2),
        ("InvalidInputException", BadRequest, 2),
        ("ThrottlingException", ServiceError, 1),
        ("InternalServerError", ServiceError, 1),
    ],
)
def test_service_errors_map_to_typed_errors(code: str, kind: type[RecsError], exit_code: int) -> None:
    error = translate(client_error(code), "GetRecommendations")
    assert type(error) is kind and error.exit_code == exit_code


def test_filter_values_format() -> None:
    assert format_filter_value("books") == '"books"'
    assert format_filter_value(["books", "garden"]) == '"books","garden"'
    assert format_filter_value('"as","written"') == '"as","written"'
    assert format_filter_value(['say "hi"']) == '"say \\"hi\\""'


def test_filter_parameters_required_only_for_include() -> None:
    expression = (
        "INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($CATEGORY) | EXCLUDE ItemID WHERE Items.BRAND IN ($BRAND)"
    )
    assert filter_parameters(expression) == ({"CATEGORY"}, {"BRAND"})
    assert filter_parameters('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")') == (set(), set())


def test_campaign_from_the_command_output() -> None:
    arn = "arn:aws:personalize:r:1:campaign/c"
    ranking = parse_command(
        "ranking",
        arn,
        f"aws personalize-runtime get-personalized-ranking --region r --campaign-arn {arn} "
        "--user-id u7 --input-list a b c",
    )
    assert (ranking.kind, ranking.sample_user, ranking.sample_items) == ("ranking", "u7", ("a", "b", "c"))
    assert ranking.usage == "--user-id u7 --rank a,b,c"
    similar = parse_command(
        "s", arn, f"aws personalize-runtime get-recommendations --campaign-arn {arn} --item-id i9"
    )
    assert similar.kind == "related-items" and similar.usage == "--item-id i9"
    assert parse_command("u", arn, "").kind == "user"


def test_stack_name_matches_the_stack() -> None:
    """recs names a deployed stack with the app's one definition (pipeline.naming)."""
    import recs.local_target
    import recs.stack
    import stacks

    assert recs.stack.stack_name is stack_name and recs.local_target.stack_name is stack_name
    assert stacks.stack_name is stack_name
