"""Filter expressions of the local Personalize: the grammar, the errors, and what they keep."""

from __future__ import annotations

from typing import Any

import pytest

from local.emulator.personalize.data import Items, Users
from local.emulator.personalize.filters import compile_filter, parse_filter_values

ITEMS_SCHEMA = {
    "type": "record",
    "name": "Items",
    "fields": [
        {"name": "ITEM_ID", "type": "string"},
        {"name": "CATEGORY", "type": "string", "categorical": True},
        {"name": "BRAND", "type": ["null", "string"], "categorical": True},
        {"name": "PRICE", "type": "float"},
    ],
    "version": "1.0",
}
ITEMS = Items.from_csv(
    "ITEM_ID,CATEGORY,BRAND,PRICE\n"
    "shoe1,shoes,acme,40\n"
    "shoe2,shoes|sale,zeta,15\n"
    "book1,books,acme,12\n"
    "book2,books|sale,,8\n"
    "pan1,kitchen,zeta,25\n",
    ITEMS_SCHEMA,
)
USERS = Users.from_csv(
    "USER_ID,MEMBERSHIP,AGE\ngold-user,gold,40\nbasic-user,basic,20\n",
    {
        "type": "record",
        "name": "Users",
        "fields": [
            {"name": "USER_ID", "type": "string"},
            {"name": "MEMBERSHIP", "type": "string", "categorical": True},
            {"name": "AGE", "type": "int"},
        ],
    },
)
CANDIDATES = ["shoe1", "shoe2", "book1", "book2", "pan1"]
HISTORY = [("shoe1", "view"), ("book1", "purchase"), ("pan1", "Click")]


def keep(expression: str, values: dict[str, str] | None = None, **kwargs: object) -> list[str]:
    compiled = compile_filter(expression)
    return compiled.apply(CANDIDATES, user_history=HISTORY, items=ITEMS, filter_values=values, **kwargs)  # type: ignore[arg-type]


def test_exclude_by_event_type_ignores_case() -> None:
    assert keep('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")') == [
        "shoe1",
        "shoe2",
        "book2",
        "pan1",
    ]
    assert keep('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click", "VIEW")') == [
        "shoe2",
        "book1",
        "book2",
    ]
    assert keep('INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("view")') == ["shoe1"]


def test_interactions_consider_the_100_most_recent_per_event_type() -> None:
    history = [("old", "purchase")] + [(f"x{i}", "purchase") for i in range(100)] + [("seen", "view")]
    compiled = compile_filter('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")')
    assert compiled.apply(["old", "x5", "seen"], user_history=history, items=None, filter_values=None) == [
        "old",
        "seen",
    ]


def test_item_metadata_in_not_in_and_multi_valued_categories() -> None:
    assert keep('INCLUDE ItemID WHERE Items.CATEGORY IN ("sale")') == ["shoe2", "book2"]
    assert keep('EXCLUDE ItemID WHERE Items.CATEGORY IN ("shoes", "books")') == ["pan1"]
    assert keep('INCLUDE ItemID WHERE Items.CATEGORY NOT IN ("shoes")') == ["book1", "book2", "pan1"]
    # an item with no BRAND value is not IN anything
    assert keep('INCLUDE ItemID WHERE Items.BRAND IN ("acme", "zeta")') == ["shoe1", "shoe2", "book1", "pan1"]


def test_numeric_comparisons_and_parameters() -> None:
    assert keep("INCLUDE ItemID WHERE Items.PRICE < 15") == ["book1", "book2"]
    assert keep("INCLUDE ItemID WHERE Items.PRICE >= 15") == ["shoe1", "shoe2", "pan1"]
    assert keep("EXCLUDE ItemID WHERE Items.PRICE > ($MAX)", {"MAX": "20"}) == ["shoe2", "book1", "book2"]
    assert keep("INCLUDE ItemID WHERE Items.PRICE = 8") == ["book2"]
    assert keep("INCLUDE ItemID WHERE Items.PRICE <= $P", {"P": '"12"'}) == ["book1", "book2"]


def test_and_binds_tighter_than_or() -> None:
    expression = (
        'INCLUDE ItemID WHERE Items.CATEGORY IN ("shoes") AND Items.PRICE < 20 OR Items.BRAND IN ("acme")'
    )
    assert keep(expression) == ["shoe1", "shoe2", "book1"]


def test_parameters_and_filter_values() -> None:
    compiled = compile_filter(
        "INCLUDE ItemID WHERE Items.CATEGORY IN ($CATEGORY) | EXCLUDE ItemID WHERE Items.BRAND IN ($BRAND)"
    )
    assert compiled.parameters == ("CATEGORY", "BRAND")
    assert compiled.required_parameters == ("CATEGORY",)
    assert keep(compiled.expression, {"CATEGORY": '"shoes","books"', "BRAND": '"zeta"'}) == [
        "shoe1",
        "book1",
        "book2",
    ]
    # an EXCLUDE part without its value is skipped; an INCLUDE part without it is an error
    assert keep(compiled.expression, {"CATEGORY": '"books"'}) == ["book1", "book2"]
    with pytest.raises(ValueError, match=r"missing for the parameters \['CATEGORY'\]"):
        keep(compiled.expression, {"BRAND": '"zeta"'})
    assert parse_filter_values('"a", "b,c",d') == ("a", "b,c", "d")
    assert parse_filter_values('"say \\"hi\\""') == ('say "hi"',)


def test_combining_expressions() -> None:
    # INCLUDE A | INCLUDE B: union
    union = (
        'INCLUDE ItemID WHERE Items.CATEGORY IN ("kitchen") | '
        'INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("view")'
    )
    assert keep(union) == ["shoe1", "pan1"]
    # EXCLUDE A | EXCLUDE B: both removed
    both = (
        'EXCLUDE ItemID WHERE Items.CATEGORY IN ("shoes") | '
        'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")'
    )
    assert keep(both) == ["book2", "pan1"]
    # INCLUDE A | EXCLUDE B = A - B, whatever the order
    minus = (
        'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase") | '
        'INCLUDE ItemID WHERE Items.CATEGORY IN ("books")'
    )
    assert keep(minus) == ["book2"]


def test_current_user_condition() -> None:
    expression = 'INCLUDE ItemID WHERE Items.CATEGORY IN ("sale") IF CurrentUser.MEMBERSHIP IN ("gold")'
    assert keep(expression, users=USERS, user_id="gold-user") == ["shoe2", "book2"]
    assert keep(expression, users=USERS, user_id="basic-user") == CANDIDATES  # condition false: not applied
    older = "EXCLUDE ItemID WHERE Items.PRICE > 20 IF CurrentUser.AGE < $AGE"
    assert keep(older, {"AGE": "30"}, users=USERS, user_id="basic-user") == ["shoe2", "book1", "book2"]
    assert keep(older, {"AGE": "30"}, users=USERS, user_id="gold-user") == CANDIDATES


def test_current_item_condition() -> None:
    cheaper = "INCLUDE ItemID WHERE Items.PRICE < CurrentItem.PRICE AND Items.BRAND IN CurrentItem.BRAND"
    assert keep(cheaper, current_item="shoe1") == ["book1"]
    with pytest.raises(ValueError, match="CurrentItem"):
        keep(cheaper)


def test_candidates_may_carry_scores() -> None:
    compiled = compile_filter('EXCLUDE ItemID WHERE Items.CATEGORY IN ("shoes")')
    scored = [("shoe1", 0.5), ("pan1", 0.3), ("book1", 0.2)]
    assert compiled.apply(scored, user_history=[], items=ITEMS, filter_values={}) == [
        ("pan1", 0.3),
        ("book1", 0.2),
    ]
    assert compiled.fields == (("Items", "CATEGORY"),)
    assert not compiled.uses_interactions


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ('EXCLUDE ItemID Interactions.EVENT_TYPE IN ("a")', "expected WHERE"),
        ('REMOVE ItemID WHERE Items.CATEGORY IN ("a")', "expected INCLUDE or EXCLUDE"),
        ('EXCLUDE Things WHERE Items.CATEGORY IN ("a")', "expected ItemID or UserID"),
        ('EXCLUDE ActionID WHERE Actions.CATEGORY IN ("a")', "Actions dataset"),
        ('EXCLUDE ItemID WHERE Orders.CATEGORY IN ("a")', "dataset 'Orders' cannot be used"),
        ('EXCLUDE ItemID WHERE Interactions.DEVICE IN ("web")', "EVENT_TYPE only"),
        ("EXCLUDE ItemID WHERE Interactions.EVENT_TYPE > 3", "IN or NOT IN"),
        ("EXCLUDE ItemID WHERE Items.CATEGORY NOT IN ($CATS)", "NOT IN"),
        (
            'EXCLUDE ItemID WHERE Items.CATEGORY IN ("a") AND Interactions.EVENT_TYPE IN ("b")',
            "dataset of the first",
        ),
        ('EXCLUDE ItemID WHERE Items.CATEGORY IN ("a"', "ends too early"),
        ('EXCLUDE ItemID WHERE Items.CATEGORY IN ("a) ', "unexpected character"),
        ('EXCLUDE ItemID WHERE Items.CATEGORY IN ("a") extra', "unexpected 'extra'"),
        ('EXCLUDE ItemID WHERE Items.CATEGORY IN ("a") |', "ends too early"),
        ("EXCLUDE ItemID WHERE Items.PRICE < (1, 2)", "one value"),
        (
            'EXCLUDE ItemID WHERE Items.CATEGORY IN ("a") | EXCLUDE UserID WHERE Users.AGE IN ("1")',
            "same kind",
        ),
        (
            " | ".join(f"EXCLUDE ItemID WHERE Items.{name} IN (${name})" for name in "ABCDEF"),
            "at most 5 distinct",
        ),
        ('INCLUDE ItemID WHERE Items.CATEGORY IN ("a") IF Users.AGE > 3', "CurrentUser"),
    ],
)
def test_malformed_expressions_are_rejected(expression: str, reason: str) -> None:
    with pytest.raises(ValueError, match="Invalid filter expression") as raised:
        compile_filter(expression)
    assert reason in str(raised.value)


def test_user_filters_compile_but_do_not_filter_items() -> None:
    compiled = compile_filter('INCLUDE UserID WHERE Users.MEMBERSHIP IN ("gold")')
    assert compiled.target == "UserID"
    with pytest.raises(ValueError, match="user segments"):
        compiled.apply(CANDIDATES, user_history=[], items=ITEMS, filter_values={})


def test_filters_are_checked_against_the_schemas() -> None:
    interactions = {
        "type": "record",
        "fields": [
            {"name": "USER_ID", "type": "string"},
            {"name": "ITEM_ID", "type": "string"},
            {"name": "TIMESTAMP", "type": "long"},
            {"name": "EVENT_TYPE", "type": "string"},
        ],
    }
    items = {
        **ITEMS_SCHEMA,
        "fields": [
            *ITEMS_SCHEMA["fields"],
            {"name": "TEXT", "type": "string", "textual": True},
            {"name": "NEW", "type": "boolean"},
        ],
    }
    schemas: dict[str, Any] = {"Interactions": interactions, "Items": items}
    compile_filter(
        'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("x") | INCLUDE ItemID WHERE Items.PRICE < 3'
    ).check_schemas(schemas)
    with pytest.raises(ValueError, match="the Items schema has no field COLOUR"):
        compile_filter('EXCLUDE ItemID WHERE Items.COLOUR IN ("red")').check_schemas(schemas)
    with pytest.raises(ValueError, match="no Users dataset"):
        compile_filter("INCLUDE ItemID WHERE Items.PRICE < 3 IF CurrentUser.AGE > 3").check_schemas(schemas)
    with pytest.raises(ValueError, match="textual field"):
        compile_filter('EXCLUDE ItemID WHERE Items.TEXT IN ("a")').check_schemas(schemas)
    with pytest.raises(ValueError, match="boolean field"):
        compile_filter('EXCLUDE ItemID WHERE Items.NEW IN ("true")').check_schemas(schemas)
