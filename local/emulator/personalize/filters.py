"""Filter expressions of the local Personalize: parse once at CreateFilter, apply at GetRecommendations.

Grammar (Personalize developer guide: `creating-filter-expressions`, `filter-expression-guidelines-
requirements`, `multiple-expression-example`, `item-recommendation-filter-examples`):

    filter     := expression ("|" expression)*
    expression := (INCLUDE | EXCLUDE) (ItemID | UserID) WHERE condition ((AND | OR) condition)*
                  [IF user_cond (AND user_cond)*]
    condition  := Dataset.FIELD (IN | NOT IN) (values | $PARAM)
                | Dataset.FIELD (= | < | <= | > | >=) (value | $PARAM | ($PARAM) | CurrentItem.FIELD)
                | Items.FIELD IN CurrentItem.FIELD
    user_cond  := CurrentUser.FIELD (IN | NOT IN | = | < | <= | > | >=) (values | value | $PARAM)

Rules enforced (each raises ValueError with the reason): the conditions of one expression use one
dataset (the first condition's); Interactions conditions use EVENT_TYPE only; no placeholder with
NOT IN; at most 5 distinct dataset fields per filter; ActionID needs an Actions dataset, which the
local Personalize does not provide. AND binds tighter than OR.

Semantics: `EXCLUDE A | EXCLUDE B` removes items matching A or B; `INCLUDE A | INCLUDE B` keeps
items matching A or B; with both kinds, the excluded set is subtracted from the included one.
An EXCLUDE expression whose parameter has no value is skipped, an INCLUDE one is an error (the
runtime's InvalidInputException). Event types match case-insensitively, other values exactly. The
interactions considered are the 100 most recent per user per event type (the service's default
quota). An expression whose IF condition does not hold for the current user is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from local.emulator.personalize.data import Items, Users

#: Recent interactions per user per event type a filter considers (service default quota).
INTERACTIONS_PER_EVENT_TYPE = 100
MAX_FIELDS = 5
_COMPARISONS = ("=", "<", "<=", ">", ">=")
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?(?![\w.]))
      | (?P<param>\$[A-Za-z0-9_]+)
      | (?P<op><=|>=|=|<|>|\(|\)|,|\|)
      | (?P<word>[A-Za-z_][A-Za-z0-9_\-]*(?:\.[A-Za-z_][A-Za-z0-9_\-]*)?)
    )""",
    re.VERBOSE,
)

T = TypeVar("T")


def _invalid(expression: str, detail: str, position: int | None = None) -> ValueError:
    where = f" at character {position + 1}" if position is not None else ""
    return ValueError(f"Invalid filter expression{where}: {detail}. Expression: {expression}")


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    position: int


def _tokenize(expression: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(expression):
        if expression[position:].strip() == "":
            break
        match = _TOKEN.match(expression, position)
        if match is None or match.end() == position:
            start = position + (len(expression[position:]) - len(expression[position:].lstrip()))
            raise _invalid(expression, f"unexpected character {expression[start]!r}", start)
        kind = match.lastgroup or ""
        tokens.append(_Token(kind, match.group(kind), match.start(kind)))
        position = match.end()
    return tokens


@dataclass(frozen=True)
class Condition:
    """One test: `dataset.field op operand`; the operand is literals, a $parameter or CurrentItem.F."""

    dataset: str
    field: str
    op: str
    values: tuple[str, ...] = ()
    param: str | None = None
    current_item_field: str | None = None


@dataclass(frozen=True)
class Expression:
    """One `INCLUDE|EXCLUDE ... WHERE ...` part: OR of ANDs of conditions, plus IF conditions."""

    action: str
    target: str
    dataset: str
    clauses: tuple[tuple[Condition, ...], ...]
    user_conditions: tuple[Condition, ...] = ()

    @property
    def parameters(self) -> tuple[str, ...]:
        names = [c.param for clause in self.clauses for c in clause if c.param]
        names += [c.param for c in self.user_conditions if c.param]
        return tuple(dict.fromkeys(names))


class _Parser:
    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.tokens = _tokenize(expression)
        self.at = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def fail(self, detail: str, token: _Token | None = None) -> ValueError:
        token = token or self.peek()
        position = token.position if token else len(self.expression)
        return _invalid(self.expression, detail, position)

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise self.fail("the expression ends too early")
        self.at += 1
        return token

    def keyword(self, *words: str) -> str:
        token = self.take()
        if token.kind != "word" or token.text.upper() not in words:
            raise self.fail(f"expected {' or '.join(words)}, found {token.text!r}", token)
        return token.text.upper()

    def at_keyword(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "word" and token.text.upper() in words

    def at_op(self, *ops: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "op" and token.text in ops

    def parse(self) -> list[Expression]:
        if not self.tokens:
            raise _invalid(self.expression, "the expression is empty")
        parts = [self.expression_part()]
        while self.at_op("|"):
            self.take()
            parts.append(self.expression_part())
        if self.peek() is not None:
            raise self.fail(f"unexpected {self.peek().text!r}")  # type: ignore[union-attr]
        return parts

    def expression_part(self) -> Expression:
        action = self.keyword("INCLUDE", "EXCLUDE")
        target_token = self.take()
        target = {"ITEMID": "ItemID", "USERID": "UserID", "ACTIONID": "ActionID"}.get(
            target_token.text.upper()
        )
        if target is None:
            raise self.fail(
                f"expected ItemID or UserID after {action}, found {target_token.text!r}", target_token
            )
        if target == "ActionID":
            raise self.fail(
                "ActionID filters need an Actions dataset, which this dataset group does not have",
                target_token,
            )
        self.keyword("WHERE")
        clauses: list[list[Condition]] = [[self.condition(target)]]
        while self.at_keyword("AND", "OR"):
            joiner = self.keyword("AND", "OR")
            condition = self.condition(target)
            if joiner == "AND":
                clauses[-1].append(condition)
            else:
                clauses.append([condition])
        dataset = clauses[0][0].dataset
        for clause in clauses:
            for condition in clause:
                if condition.dataset != dataset:
                    raise _invalid(
                        self.expression,
                        f"conditions chained with AND/OR must use the dataset "
                        f"of the first condition ({dataset}), found {condition.dataset}; "
                        "combine expressions on different datasets with |",
                    )
        user_conditions: list[Condition] = []
        if self.at_keyword("IF"):
            self.take()
            user_conditions.append(self.user_condition())
            while self.at_keyword("AND"):
                self.take()
                user_conditions.append(self.user_condition())
        return Expression(action, target, dataset, tuple(tuple(c) for c in clauses), tuple(user_conditions))

    def dataset_field(self, allowed: Sequence[str]) -> tuple[str, str, _Token]:
        token = self.take()
        if token.kind != "word" or "." not in token.text:
            raise self.fail(f"expected Dataset.FIELD, found {token.text!r}", token)
        dataset, name = token.text.split(".", 1)
        canonical = {d.upper(): d for d in allowed}.get(dataset.upper())
        if canonical is None:
            raise self.fail(
                f"dataset {dataset!r} cannot be used here; expected one of {list(allowed)}", token
            )
        return canonical, name, token

    def operand_values(self, allow_param: bool) -> tuple[tuple[str, ...], str | None]:
        """`(literal, ...)`, `($PARAM)`, `$PARAM`, or one literal."""
        if self.at_op("("):
            self.take()
            if self.peek() is not None and self.peek().kind == "param":  # type: ignore[union-attr]
                param = self.param(allow_param)
                self.close()
                return (), param
            values = [self.literal()]
            while self.at_op(","):
                self.take()
                values.append(self.literal())
            self.close()
            return tuple(values), None
        token = self.peek()
        if token is not None and token.kind == "param":
            return (), self.param(allow_param)
        return (self.literal(),), None

    def close(self) -> None:
        token = self.take()
        if token.kind != "op" or token.text != ")":
            raise self.fail(f"expected ')', found {token.text!r}", token)

    def param(self, allowed: bool) -> str:
        token = self.take()
        if not allowed:
            raise self.fail(
                "placeholder parameters cannot be used with NOT IN; use IN with the opposite INCLUDE/EXCLUDE",
                token,
            )
        return token.text[1:]

    def literal(self) -> str:
        token = self.take()
        if token.kind == "string":
            return re.sub(r"\\(.)", r"\1", token.text[1:-1])
        if token.kind == "number":
            return token.text
        raise self.fail(f"expected a quoted value or a number, found {token.text!r}", token)

    def operator(self) -> str:
        if self.at_keyword("NOT"):
            self.take()
            self.keyword("IN")
            return "NOT IN"
        if self.at_keyword("IN"):
            self.take()
            return "IN"
        token = self.take()
        if token.kind == "op" and token.text in _COMPARISONS:
            return token.text
        raise self.fail(f"expected IN, NOT IN or a comparison (=, <, <=, >, >=), found {token.text!r}", token)

    def condition(self, target: str) -> Condition:
        allowed = ("Items", "Interactions") if target == "ItemID" else ("Users", "Interactions")
        dataset, name, token = self.dataset_field(allowed)
        if dataset == "Interactions" and name.upper() != "EVENT_TYPE":
            raise self.fail(f"interactions can be filtered by EVENT_TYPE only, found {name!r}", token)
        if dataset == "Interactions":
            name = "EVENT_TYPE"
        op = self.operator()
        if dataset == "Interactions" and op not in ("IN", "NOT IN"):
            raise self.fail("Interactions.EVENT_TYPE takes IN or NOT IN", token)
        if self.at_keyword_prefix("CurrentItem."):
            current = self.take()
            if target != "ItemID" or dataset != "Items":
                raise self.fail("CurrentItem compares with Items fields of related-items filters", current)
            return Condition(dataset, name, op, current_item_field=current.text.split(".", 1)[1])
        if op in ("IN", "NOT IN"):
            values, param = self.operand_values(allow_param=op == "IN")
        else:
            values, param = self.operand_values(allow_param=True)
            if len(values) > 1:
                raise self.fail(f"{op} compares with one value")
        return Condition(dataset, name, op, values, param)

    def at_keyword_prefix(self, prefix: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "word" and token.text.upper().startswith(prefix.upper())

    def user_condition(self) -> Condition:
        token = self.take()
        if token.kind != "word" or not token.text.upper().startswith("CURRENTUSER."):
            raise self.fail(f"an IF condition tests CurrentUser.FIELD, found {token.text!r}", token)
        name = token.text.split(".", 1)[1]
        op = self.operator()
        values, param = self.operand_values(allow_param=op != "NOT IN")
        return Condition("CurrentUser", name, op, values, param)


def parse_filter_values(raw: str) -> tuple[str, ...]:
    """A runtime filterValues entry: comma-separated values, each usually in double quotes."""
    values: list[str] = []
    for match in re.finditer(r'\s*(?:"((?:[^"\\]|\\.)*)"|([^,]*))\s*(?:,|$)', raw):
        if match.end() == match.start():
            break
        quoted, bare = match.group(1), match.group(2)
        value = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else (bare or "").strip()
        if value != "" or quoted is not None:
            values.append(value)
    return tuple(values)


def _as_number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _compare(left: Any, op: str, right: str) -> bool:
    a, b = _as_number(left), _as_number(right)
    if a is None or b is None:
        if op == "=":
            return left is not None and str(left) == right
        return False
    return {"=": a == b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


@dataclass
class CompiledFilter:
    """A parsed filter expression, ready to apply to candidate items."""

    expression: str
    parts: tuple[Expression, ...]
    parameters: tuple[str, ...] = field(init=False)
    required_parameters: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.parameters = tuple(dict.fromkeys(p for part in self.parts for p in part.parameters))
        self.required_parameters = tuple(
            dict.fromkeys(p for part in self.parts if part.action == "INCLUDE" for p in part.parameters)
        )

    @property
    def target(self) -> str:
        return self.parts[0].target

    @property
    def fields(self) -> tuple[tuple[str, str], ...]:
        """(dataset, field) pairs the filter reads, for checking them against the schemas."""
        found: dict[tuple[str, str], None] = {}
        for part in self.parts:
            for clause in part.clauses:
                for condition in clause:
                    found[(condition.dataset, condition.field)] = None
                    if condition.current_item_field:
                        found[("Items", condition.current_item_field)] = None
            for condition in part.user_conditions:
                found[("Users", condition.field)] = None
        return tuple(found)

    @property
    def uses_interactions(self) -> bool:
        return any(part.dataset == "Interactions" for part in self.parts)

    def check_schemas(self, schemas: Mapping[str, Mapping[str, Any] | str | None]) -> None:
        """ValueError unless every dataset the filter reads exists and has the fields it names.

        `schemas`: dataset type ("Interactions", "Items", "Users") -> its Avro schema (dict or JSON
        text), None or absent when the dataset group has no such dataset. The service refuses
        filters on textual (unstructured) item fields and on boolean fields.
        """
        from local.emulator.personalize.data import parse_schema

        for dataset, name in self.fields:
            schema = schemas.get(dataset)
            if schema is None:
                raise ValueError(
                    f"The filter expression uses {dataset}.{name}, but the dataset group has no "
                    f"{dataset} dataset"
                )
            specs = {spec.name: spec for spec in parse_schema(schema)}
            spec = specs.get(name)
            if spec is None:
                raise ValueError(
                    f"The filter expression uses {dataset}.{name}, but the {dataset} schema has no "
                    f"field {name}; its fields are {sorted(specs)}"
                )
            if spec.textual:
                raise ValueError(f"{dataset}.{name} is a textual field; filters cannot use unstructured text")
            if spec.type == "boolean":
                raise ValueError(
                    f"{dataset}.{name} is a boolean field; filters cannot use boolean values "
                    '(use a string field with "True"/"False" or an int field with 0/1)'
                )

    def _resolve(self, condition: Condition, filter_values: Mapping[str, str]) -> tuple[str, ...] | None:
        if condition.param is None:
            return condition.values
        raw = filter_values.get(condition.param, filter_values.get("$" + condition.param))
        if raw is None:
            return None
        return parse_filter_values(raw)

    def apply(
        self,
        candidates: Sequence[T],
        *,
        user_history: Iterable[tuple[str, str | None]] | Iterable[Sequence[Any]] | None = None,
        items: Items | None = None,
        filter_values: Mapping[str, str] | None = None,
        users: Users | None = None,
        user_id: str | None = None,
        current_item: str | None = None,
    ) -> list[T]:
        """The candidates (item ids, or tuples starting with the item id) that pass, in order.

        `user_history`: the user's interactions, oldest first, each `(item_id, event_type, ...)`.
        ValueError when an INCLUDE expression lacks a parameter value, or a CurrentItem condition
        has no current item.
        """
        if self.target != "ItemID":
            raise ValueError(f"a {self.target} filter applies to user segments, not to item recommendations")
        values = dict(filter_values or {})
        missing = [p for p in self.required_parameters if p not in values and "$" + p not in values]
        if missing:
            raise ValueError(
                f"filter values are missing for the parameters {missing} of the filter "
                f"expression: {self.expression}"
            )
        by_event = _recent_by_event_type(user_history)
        includes: list[Expression] = []
        excludes: list[Expression] = []
        resolved: dict[int, tuple[tuple[tuple[Condition, tuple[str, ...]], ...], ...]] = {}
        for part in self.parts:
            if not self._user_holds(part, values, users, user_id):
                continue
            clauses = []
            skip = False
            for clause in part.clauses:
                bound = []
                for condition in clause:
                    operand = self._resolve(condition, values)
                    if operand is None:  # only EXCLUDE gets here: that part is not used
                        skip = True
                        break
                    bound.append((condition, tuple(operand)))
                if skip:
                    break
                clauses.append(tuple(bound))
            if skip:
                continue
            resolved[id(part)] = tuple(clauses)
            (includes if part.action == "INCLUDE" else excludes).append(part)

        def matches(part: Expression, item_id: str) -> bool:
            return any(
                all(self._test(c, operand, item_id, items, by_event, current_item) for c, operand in clause)
                for clause in resolved[id(part)]
            )

        kept: list[T] = []
        for candidate in candidates:
            item_id = candidate if isinstance(candidate, str) else candidate[0]  # type: ignore[index]
            if includes and not any(matches(part, item_id) for part in includes):
                continue
            if any(matches(part, item_id) for part in excludes):
                continue
            kept.append(candidate)
        return kept

    def _user_holds(
        self, part: Expression, values: Mapping[str, str], users: Users | None, user_id: str | None
    ) -> bool:
        for condition in part.user_conditions:
            operand = self._resolve(condition, values)
            if operand is None or users is None or user_id is None or user_id not in users:
                return False
            own = users.values(user_id, condition.field)
            if condition.op == "IN":
                ok = any(v in operand for v in own)
            elif condition.op == "NOT IN":
                ok = not any(v in operand for v in own)
            else:
                ok = bool(operand) and _compare(
                    users.value(user_id, condition.field), condition.op, operand[0]
                )
            if not ok:
                return False
        return True

    @staticmethod
    def _test(
        condition: Condition,
        operand: tuple[str, ...],
        item_id: str,
        items: Items | None,
        by_event: Mapping[str, set[str]],
        current_item: str | None,
    ) -> bool:
        if condition.dataset == "Interactions":
            wanted = {v.lower() for v in operand}
            hit = any(item_id in by_event.get(kind, ()) for kind in wanted)
            if condition.op == "IN":
                return hit
            return any(item_id in seen for kind, seen in by_event.items() if kind not in wanted)
        if condition.current_item_field is not None:
            if current_item is None:
                raise ValueError("the filter compares with CurrentItem, which needs an itemId in the request")
            if items is None:
                return False
            if condition.op in ("IN", "NOT IN"):
                theirs = set(items.values(current_item, condition.current_item_field))
                hit = any(v in theirs for v in items.values(item_id, condition.field))
                return hit if condition.op == "IN" else not hit
            reference = items.value(current_item, condition.current_item_field)
            if reference is None:
                return False
            return _compare(items.value(item_id, condition.field), condition.op, str(reference))
        if items is None:
            return condition.op == "NOT IN"
        if condition.op == "IN":
            return any(v in operand for v in items.values(item_id, condition.field))
        if condition.op == "NOT IN":
            return not any(v in operand for v in items.values(item_id, condition.field))
        return bool(operand) and _compare(items.value(item_id, condition.field), condition.op, operand[0])


def _recent_by_event_type(history: Iterable[Any] | None) -> dict[str, set[str]]:
    """Event type (lower case) -> items among the user's 100 most recent interactions of that type."""
    per_type: dict[str, list[str]] = {}
    for entry in history or ():
        item_id, event_type = entry[0], entry[1]
        per_type.setdefault((event_type or "").lower(), []).append(item_id)
    return {kind: set(ids[-INTERACTIONS_PER_EVENT_TYPE:]) for kind, ids in per_type.items()}


def compile_filter(expression: str) -> CompiledFilter:
    """Parse and check a filter expression; ValueError (the service's InvalidInputException) if bad."""
    if not isinstance(expression, str) or not expression.strip():
        raise _invalid(str(expression), "the expression is empty")
    if len(expression) > 2500:
        raise _invalid(expression[:80] + "...", "the expression is longer than 2500 characters")
    parts = _Parser(expression).parse()
    targets = {p.target for p in parts}
    if len(targets) > 1:
        raise _invalid(
            expression, f"all expressions of a filter must filter the same kind, found {sorted(targets)}"
        )
    compiled = CompiledFilter(expression, tuple(parts))
    if len(compiled.fields) > MAX_FIELDS:
        raise _invalid(
            expression,
            f"a filter can use at most {MAX_FIELDS} distinct dataset fields, found {len(compiled.fields)}",
        )
    return compiled
