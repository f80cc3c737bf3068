"""Custom::PersonalizeSchema (properties: contract.SCHEMA). Schemas never change: a new schema gets
a new (hashed) name and the old one is deleted once no dataset uses it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .base import Ctx, Kind, diff
from .common import HandlerError
from .contract import SCHEMA


class Schema(Kind):
    spec = SCHEMA  # no Tags: CreateSchema takes none
    arn_kind = "schema"
    arn_key = "schemaArn"
    result_key = "schema"

    def _schema(self, ctx: Ctx, name: str) -> str:
        text: str = self.prop(ctx, "Schema")
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise HandlerError(f"{self.label} {name}: property Schema is not valid JSON: {exc.msg} at "
                               f"line {exc.lineno} column {exc.colno}") from None
        if not isinstance(parsed, dict) or parsed.get("type") != "record":
            raise HandlerError(f"{self.label} {name}: property Schema must be an Avro record "
                               '({"type": "record", ...})')
        return text

    def create_params(self, ctx: Ctx, name: str) -> dict[str, Any]:
        params: dict[str, Any] = {"name": name, "schema": self._schema(ctx, name)}
        domain = self.prop(ctx, "Domain")
        if domain:
            params["domain"] = domain
        return params

    def mismatches(self, ctx: Ctx, existing: Mapping[str, Any]) -> list[str]:
        out = []
        wanted = json.loads(self._schema(ctx, ctx.name))
        try:
            current = json.loads(existing.get("schema") or "null")
        except json.JSONDecodeError:
            current = existing.get("schema")
        if current != wanted:
            out.append(diff("schema", existing.get("schema"), ctx.props.get("Schema")))
        if (existing.get("domain") or None) != self.prop(ctx, "Domain"):
            out.append(diff("domain", existing.get("domain"), ctx.props.get("Domain")))
        return out

    def ready(self, ctx: Ctx, arn: str) -> dict[str, Any] | None:
        """Complete without a describe: a schema has no status (DescribeSchema's DatasetSchema has
        none; CreateSchema is synchronous), so the ARN CreateSchema returned (or the adopted
        schema's) is ready for CreateDataset at once, and a describe would tell nothing more."""
        return self.data(ctx, arn)

    def find(self, ctx: Ctx, name: str) -> dict[str, Any] | None:
        return self.find_listed(ctx, name, "list_schemas", "schemas")
