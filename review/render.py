"""A review as Markdown for a pull request (a short summary and the warnings first, the details
folded in <details>) and as one JSON object for scripts."""

from __future__ import annotations

from typing import Any

from local.runner import report
from local.runner.results import hms
from review.core import Review
from review.cost import Cost, money
from review.kinds import kind_of
from review.outcomes import ResourceChange

OUTCOME_ORDER = ("rolled back", "replaced", "deleted", "created", "updated", "retained")


def _counts(changes: list[ResourceChange]) -> str:
    counts = {o: sum(1 for c in changes if c.outcome == o) for o in OUTCOME_ORDER}
    shown = [f"{n} {o}" for o, n in counts.items() if n]
    return ", ".join(shown) or "nothing changes"


def _delta(before: float, after: float) -> str:
    diff = after - before
    sign = "+" if diff >= 0 else "-"
    return f"{money(before)} -> {money(after)} ({sign}{money(abs(diff))})"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _resource(change: ResourceChange) -> str:
    noun = kind_of(change.type).noun
    return f"`{change.logical_id}` ({noun}{' ' + change.name if change.name else ''})"


def summary_line(review: Review) -> str:
    update = review.update
    cp = update.critical
    path = f", critical path {hms(cp.seconds)}" if cp and cp.seconds else ""
    return (
        f"{_counts(review.personalize)} of {len(review.personalize)} Personalize resources; "
        f"update {update.status} in {hms(update.virtual_seconds)} (virtual){path}; "
        f"one-off {money(review.one_off.dollars)}; monthly "
        f"{_delta(review.monthly_before.dollars, review.monthly_after.dollars)}; "
        f"IAM +{len(review.security.added)}/-{len(review.security.removed)}; "
        f"new findings {len(review.security.new_findings)}"
    )


def markdown(review: Review) -> str:
    update = review.update
    lines = [
        f"### Review of `{review.stack}`: {review.base_label} -> {review.head_label}",
        "",
        summary_line(review) + ".",
        "",
    ]
    if review.warnings:
        lines += ["> [!WARNING]"]
        lines += [f"> - **{w.category}**: {_cell(w.message)}" for w in review.warnings]
        lines.append("")
    touched = review.touched()
    if touched:
        lines += ["| Personalize resource | outcome | what it means |", "|---|---|---|"]
        for change in touched:
            lines.append(f"| {_resource(change)} | {change.outcome} | "
                         f"{_cell('; '.join(change.consequences))} |")
        lines.append("")
    else:
        lines += ["No Personalize resource changes.", ""]
    others = review.touched(personalize=False)
    if others:
        lines += _details(f"Other resources: {_counts(others)}", [
            "| resource | type | outcome | properties |", "|---|---|---|---|",
            *[f"| `{c.logical_id}` | {c.type} | {c.outcome} | {_cell(', '.join(c.changed_names))} |"
              for c in others],
        ])
    cp = update.critical
    timeline = [f"The update, simulated by the local runner on the virtual clock: {update.status}, "
                f"{hms(update.virtual_seconds)}."]
    if cp and cp.seconds:
        timeline.append(f"Critical path {hms(cp.seconds)}: {cp.text()}.")
    if update.reason:
        timeline.append(f"Reason: {update.reason}")
    timeline += ["", report.gantt(update, f"{review.stack} update (virtual time)")]
    lines += _details(f"Timeline: {hms(update.virtual_seconds)} virtual", timeline)
    lines += _details(f"Cost: one-off {money(review.one_off.dollars)}, monthly "
                      f"{_delta(review.monthly_before.dollars, review.monthly_after.dollars)}", _cost(review))
    lines += _details(f"Security: IAM +{len(review.security.added)}/-{len(review.security.removed)}, "
                      f"new findings {len(review.security.new_findings)}", _security(review))
    untouched = [c for c in review.personalize if c.outcome == "untouched"]
    if untouched:
        lines += _details(f"Untouched Personalize resources ({len(untouched)})",
                          [", ".join(f"`{c.logical_id}`" for c in untouched)])
    lines.append(f"<sub>`pz review -c env={review.env}`: base and head synthesized, the base deployed to a "
                 "scratch local world and updated to the head by the local runner (virtual clock); "
                 "what is listed here is what that update did. Prices: see Cost.</sub>")
    return "\n".join(lines) + "\n"


def _details(summary: str, body: list[str]) -> list[str]:
    return ["<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>", ""]


def _cost_rows(cost: Cost) -> list[str]:
    return [f"| {_cell(line.what)} | {line.quantity:,.2f} {line.unit} | {money(line.dollars)} | "
            f"{_cell(line.note)} |" for line in cost.lines] or ["| (none) | | | |"]


def _cost(review: Review) -> list[str]:
    prices = review.prices
    out = [
        f"Prices: {prices.label} (page: {prices.page}). "
        + ("" if prices.verified else "**These prices are not verified against the pricing page**; "
           "quantities are the simulation's. ")
        + "Training hours are the duration model's estimate (billed hours can exceed elapsed hours).",
        "",
        "One-off (this update):",
        "",
        "| item | quantity | cost | note |", "|---|---|---|---|",
        *_cost_rows(review.one_off),
        "",
        f"Monthly before: {money(review.monthly_before.dollars)}; after: "
        f"{money(review.monthly_after.dollars)}.",
        "",
        "| after the update | quantity | cost a month | note |", "|---|---|---|---|",
        *_cost_rows(review.monthly_after),
    ]
    return out


def _security(review: Review) -> list[str]:
    sec = review.security
    out: list[str] = []
    for title, items in (("Added", sec.added), ("Removed", sec.removed)):
        if items:
            out += [f"{title} IAM statements:", "", "| owner | policy | statement |", "|---|---|---|"]
            out += [f"| {_cell(s.owner)} | {s.policy} | {_cell(s.text())} |" for s in items]
            out.append("")
    if not sec.added and not sec.removed:
        out += ["No IAM statement, trust or resource policy changes.", ""]
    if sec.new_findings:
        out += ["New findings:", "", "| tool | rule | resource | acknowledged with |", "|---|---|---|---|"]
        out += [f"| {f.tool} | {_cell(f.rule)} | {_cell(f.resource)} | {_cell(f.acknowledged) or '(not)'} |"
                for f in sec.new_findings]
        out.append("")
    else:
        out += ["No cdk-nag or checkov finding new in the head.", ""]
    out += [f"Note: {n}" for n in sec.notes]
    return out


def _finite(value: Any) -> Any:
    """JSON has no infinity: an open-ended tier's bound becomes null."""
    if isinstance(value, float) and value == float("inf"):
        return None
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


def as_json(review: Review, fail_on: list[str], flagged: list[str]) -> dict[str, Any]:
    update = review.update
    cp = update.critical

    def cost(value: Cost) -> dict[str, Any]:
        return {"dollars": round(value.dollars, 4), "lines": [
            {"what": line.what, "quantity": line.quantity, "unit": line.unit, "dollars": line.dollars,
             "note": line.note} for line in value.lines]}

    return {
        "environment": review.env,
        "stack": review.stack,
        "base": review.base_label,
        "head": review.head_label,
        "region": review.region,
        "production": review.production,
        "summary": summary_line(review),
        "warnings": [{"category": w.category, "message": w.message} for w in review.warnings],
        "categories": review.categories,
        "fail_on": fail_on,
        "flagged": flagged,
        "resources": [
            {"logical_id": c.logical_id, "type": c.type, "kind": kind_of(c.type).noun if c.type.startswith(
                "Custom::Personalize") else None, "name": c.name, "outcome": c.outcome,
             "before": c.before_id, "after": c.after_id, "changed": c.changed_names,
             "consequences": c.consequences, "categories": c.categories}
            for c in review.changes if c.outcome != "untouched" or c.type.startswith("Custom::Personalize")
        ],
        "update": {
            "status": update.status, "reason": update.reason, "virtual_seconds": update.virtual_seconds,
            "critical_path_seconds": cp.seconds if cp else None,
            "critical_path": [{"step": step, "seconds": seconds}
                              for step, seconds in (cp.chain if cp else [])],
            "gantt": report.gantt(update, f"{review.stack} update (virtual time)"),
        },
        "cost": {
            "prices": {"region": review.prices.region, "table_region": review.prices.table_region,
                       "verified": review.prices.verified, "source": review.prices.source,
                       "retrieved": review.prices.retrieved, "page": review.prices.page,
                       "values": _finite(review.prices.values)},
            "one_off": cost(review.one_off),
            "monthly_before": cost(review.monthly_before),
            "monthly_after": cost(review.monthly_after),
        },
        "security": {
            "iam_added": [vars(s) for s in review.security.added],
            "iam_removed": [vars(s) for s in review.security.removed],
            "new_findings": [vars(f) for f in review.security.new_findings],
            "gone_findings": [vars(f) for f in review.security.gone_findings],
            "notes": review.security.notes,
        },
        "seconds": review.seconds,
        "cached_base": review.cached_base,
    }
