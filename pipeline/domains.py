"""Domain dataset groups (ECOMMERCE, VIDEO_ON_DEMAND): each dataset type's required fields and reserved
keywords, and the use cases a recommender can be created for.

Everything here is read off the service's own pages; docs/recommenders.md cites each one:
- `Domain` enum: botocore's personalize model (CreateDatasetGroupRequest.domain, CreateSchemaRequest.domain).
- Required fields and reserved keywords: ECOMMERCE-datasets-and-schemas and
  VIDEO-ON-DEMAND-datasets-and-schemas ("... domain dataset and schema requirements"): "Reserved keywords
  are optional, non-metadata fields ... you must define the fields as their required data type when you
  use them. Reserved categorical string fields must have `categorical` set to `true`, while reserved
  string fields can't be categorical." Nullability as the current pages list it ("Adding the null type
  is optional": a union with null is accepted, the plain type too). Users: USER_ID and "1 metadata field
  (categorical string or numerical)".
- Use cases: ECOMMERCE-use-cases and VIDEO_ON_DEMAND-use-cases (recipe ARN, whether userId and itemId
  are required, the datasets and events each needs, exploration, automatic filtering).
- Quotas: `limits` ("Total number of recommenders: 5" per dataset group) and creating-recommenders ("You
  can create at most 15 recommenders per region").

Standard library only: the config model, the synth checks, recs and the local Personalize (through
local/emulator/personalize/borrowed.py) read the same tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pipeline.problems import Problem

Domain = Literal["ECOMMERCE", "VIDEO_ON_DEMAND"]
DOMAINS: tuple[Domain, ...] = ("ECOMMERCE", "VIDEO_ON_DEMAND")
#: Recommenders per dataset group (`limits`, not adjustable) and per region (creating-recommenders).
MAX_RECOMMENDERS_PER_DATASET_GROUP = 5
MAX_RECOMMENDERS_PER_REGION = 15
#: Every use case trains on at least this many interaction records of its event types (use-case pages).
MIN_USE_CASE_EVENTS = 1000
NUMERIC = frozenset({"int", "long", "float", "double"})

Need = Literal["required", "optional", "unused"]


@dataclass(frozen=True)
class FieldRule:
    """A required field or reserved keyword: its type, whether a union with null is accepted, and its
    attributes (a categorical string must be `categorical: true`, a plain string must not be; a
    textual one must be `textual: true`)."""

    name: str
    type: str
    nullable: bool = False
    categorical: bool = False
    textual: bool = False

    def describe(self) -> str:
        kind = "textual string" if self.textual else "categorical string" if self.categorical else self.type
        return f"{self.name} ({kind}{', null allowed' if self.nullable else ''})"


@dataclass(frozen=True)
class DatasetRules:
    required: tuple[FieldRule, ...]
    reserved: tuple[FieldRule, ...] = ()
    #: Users: besides USER_ID, at least one metadata field, categorical string or numerical.
    needs_metadata: bool = False

    def rule(self, name: str) -> tuple[FieldRule, bool] | None:
        """(rule, required) for a field name, None for a free field."""
        for rule in self.required:
            if rule.name == name:
                return rule, True
        for rule in self.reserved:
            if rule.name == name:
                return rule, False
        return None


_S, _L, _F = "string", "long", "float"
_INTERACTIONS = DatasetRules(
    required=(FieldRule("USER_ID", _S), FieldRule("ITEM_ID", _S), FieldRule("TIMESTAMP", _L),
              FieldRule("EVENT_TYPE", _S)),
    reserved=(FieldRule("EVENT_VALUE", _F, nullable=True), FieldRule("IMPRESSION", _S, nullable=True),
              FieldRule("RECOMMENDATION_ID", _S, nullable=True),
              FieldRule("EVENT_ATTRIBUTION_SOURCE", _S, nullable=True)),
)

#: domain -> dataset type -> rules.
SCHEMA_RULES: dict[str, dict[str, DatasetRules]] = {
    "ECOMMERCE": {
        "interactions": _INTERACTIONS,
        "users": DatasetRules(required=(FieldRule("USER_ID", _S),), needs_metadata=True),
        "items": DatasetRules(
            required=(FieldRule("ITEM_ID", _S), FieldRule("PRICE", _F),
                      FieldRule("CATEGORY_L1", _S, categorical=True)),
            reserved=(
                FieldRule("CATEGORY_L2", _S, nullable=True, categorical=True),
                FieldRule("CATEGORY_L3", _S, nullable=True, categorical=True),
                FieldRule("PRODUCT_DESCRIPTION", _S, nullable=True, textual=True),
                FieldRule("CREATION_TIMESTAMP", _L),
                FieldRule("AGE_GROUP", _S, nullable=True, categorical=True),
                FieldRule("ADULT", _S, nullable=True, categorical=True),
                FieldRule("GENDER", _S, nullable=True, categorical=True),
            ),
        ),
    },
    "VIDEO_ON_DEMAND": {
        "interactions": _INTERACTIONS,
        "users": DatasetRules(
            required=(FieldRule("USER_ID", _S),),
            reserved=(FieldRule("SUBSCRIPTION_MODEL", _S, nullable=True, categorical=True),),
            needs_metadata=True,
        ),
        "items": DatasetRules(
            required=(FieldRule("ITEM_ID", _S), FieldRule("CREATION_TIMESTAMP", _L),
                      FieldRule("GENRES", _S, categorical=True)),
            reserved=(
                FieldRule("PRICE", _F, nullable=True),
                FieldRule("DURATION", _F, nullable=True),
                FieldRule("GENRE_L2", _S, nullable=True, categorical=True),
                FieldRule("GENRE_L3", _S, nullable=True, categorical=True),
                FieldRule("AVERAGE_RATING", _F, nullable=True),
                FieldRule("PRODUCT_DESCRIPTION", _S, nullable=True, textual=True),
                FieldRule("CONTENT_OWNER", _S, nullable=True, categorical=True),
                FieldRule("CONTENT_CLASSIFICATION", _S, nullable=True, categorical=True),
            ),
        ),
    },
}


def _field_type(raw: Any) -> tuple[str | None, bool]:
    """(primitive type, nullable) of an Avro field type as CreateSchema takes it."""
    if isinstance(raw, str):
        return raw, False
    if isinstance(raw, list):
        others = [t for t in raw if t != "null"]
        if len(others) == 1 and isinstance(others[0], str):
            return others[0], "null" in raw
    return None, False


def check_domain_schema(schema: Any, dataset_type: str, domain: str, file: str) -> list[Problem]:
    """How a schema breaks its domain's rules for this dataset type: each required field missing, of
    another type, nullable, or with the wrong categorical/textual attribute; each reserved keyword
    present with the wrong type or attribute; Users without a metadata field. Problems name the file,
    the field and what the domain expects."""
    rules = SCHEMA_RULES.get(domain, {}).get(dataset_type)
    if rules is None or not isinstance(schema, dict) or not isinstance(schema.get("fields"), list):
        return []  # unknown domain or type, or a schema check_schema already refuses
    problems: list[Problem] = []
    where_domain = f"the {domain} domain"

    def add(field: str | None, value: Any, message: str) -> None:
        problems.append(Problem(file, None, field, value, message))

    present: set[str] = set()
    metadata = 0
    for index, raw in enumerate(schema["fields"]):
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            continue
        name = raw["name"]
        present.add(name)
        base, nullable = _field_type(raw.get("type"))
        categorical = raw.get("categorical") is True
        textual = raw.get("textual") is True
        where = f"fields[{index}] ({name})"
        found = rules.rule(name)
        if found is None:
            if base in NUMERIC or (base == _S and categorical):
                metadata += 1
            continue
        rule, required = found
        what = "required field" if required else "reserved keyword"
        expect = f"{where_domain} defines the {what} {rule.describe()}"
        if base is not None and base != rule.type:
            add(f"{where}.type", raw.get("type"), f"{expect}; this field is {base}")
        if nullable and not rule.nullable:
            add(f"{where}.type", raw.get("type"), f"{expect}; it cannot be nullable")
        if rule.categorical and not categorical:
            add(f"{where}.categorical", raw.get("categorical"),
                f'{expect}: reserved categorical string fields must have "categorical": true')
        if not rule.categorical and categorical:
            add(f"{where}.categorical", True, f"{expect}: it cannot be categorical")
        if rule.textual and not textual:
            add(f"{where}.textual", raw.get("textual"), f'{expect}: it must have "textual": true')
        if not rule.textual and textual:
            add(f"{where}.textual", True, f"{expect}: it cannot be textual")
    for rule in rules.required:
        if rule.name not in present:
            add("fields", None, f"missing the required field {rule.describe()} of {where_domain}'s "
                                f"{dataset_type} dataset")
    if rules.needs_metadata and metadata == 0:
        add("fields", None, f"{where_domain}'s {dataset_type} dataset needs at least 1 metadata field "
                            "besides USER_ID (a categorical string or a numerical field); reserved keywords "
                            "do not count")
    return problems


# ---- use cases (recipes for CreateRecommender) -----------------------------------------------

@dataclass(frozen=True)
class UseCase:
    """One domain use case: its recipe name (ARN `arn:aws:personalize:::recipe/<name>`), its domain,
    what GetRecommendations needs (userId / itemId: required, optional, unused), whether it trains on
    the Items dataset (required for it), the event types its 1000-event minimum counts (empty: any),
    whether it takes item exploration settings, and the event types whose items it filters out of a
    user's recommendations by itself."""

    name: str
    domain: Domain
    title: str
    user_id: Need
    item_id: Need
    needs_items: bool = False
    events: tuple[str, ...] = ()
    exploration: bool = False
    filters_out: tuple[str, ...] = ()

    @property
    def arn(self) -> str:
        return f"arn:aws:personalize:::recipe/{self.name}"


USE_CASES: dict[str, UseCase] = {
    u.name: u
    for u in (
        UseCase("aws-ecomm-popular-items-by-views", "ECOMMERCE", "Most viewed", "required", "unused",
                events=("View",)),
        UseCase("aws-ecomm-popular-items-by-purchases", "ECOMMERCE", "Best sellers", "required", "unused",
                events=("Purchase",)),
        UseCase("aws-ecomm-frequently-bought-together", "ECOMMERCE", "Frequently bought together",
                "optional", "required", events=("Purchase",)),
        UseCase("aws-ecomm-customers-who-viewed-x-also-viewed", "ECOMMERCE",
                "Customers who viewed X also viewed", "required", "required", events=("View",),
                filters_out=("Purchase",)),
        UseCase("aws-ecomm-recommended-for-you", "ECOMMERCE", "Recommended for you", "required", "unused",
                exploration=True, filters_out=("Purchase",)),
        UseCase("aws-vod-because-you-watched-x", "VIDEO_ON_DEMAND", "Because you watched X", "required",
                "required", events=("Watch",), filters_out=("Watch",)),
        UseCase("aws-vod-more-like-x", "VIDEO_ON_DEMAND", "More like X", "required", "required",
                needs_items=True),
        UseCase("aws-vod-most-popular", "VIDEO_ON_DEMAND", "Most popular", "required", "unused",
                events=("Watch",)),
        UseCase("aws-vod-trending-now", "VIDEO_ON_DEMAND", "Trending now", "optional", "unused"),
        UseCase("aws-vod-top-picks", "VIDEO_ON_DEMAND", "Top picks for you", "required", "unused",
                needs_items=True, exploration=True),
    )
}


def use_cases_of(domain: str) -> list[str]:
    return [name for name, case in USE_CASES.items() if case.domain == domain]


def use_case_problem(recipe: str, domain: str | None, has_items: bool) -> str | None:
    """Why a recommender cannot use `recipe` in a dataset group of `domain`, or None."""
    if domain is None:
        return ("recommenders need a domain dataset group: set [dataset_group] domain to one of "
                f"{list(DOMAINS)} (custom dataset groups serve campaigns)")
    case = USE_CASES.get(recipe)
    if case is None or case.domain != domain:
        other = f" (a {case.domain} use case)" if case is not None else ""
        return f"not a use case of the {domain} domain{other}; expected one of {use_cases_of(domain)}"
    if case.needs_items and not has_items:
        return f"{recipe} ({case.title}) trains on the Items dataset too: add [datasets.items]"
    return None
