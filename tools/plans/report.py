"""The review as text for the terminal and as Markdown for a pull-request comment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tools.plans.changes import ACTION_ORDER, Change, action_counts

if TYPE_CHECKING:
    from tools.plans.cost_gate import CostReview
    from tools.plans.review import Finding, Review

SYMBOLS = {"create": "+", "update": "~", "delete": "-", "replace": "-/+"}


def _counts(review: Review) -> str:
    counts = action_counts(review.changes)
    if not counts:
        return "no changes" + (" to resources (outputs change)" if review.output_changes else "")
    return ", ".join(f"{counts[a]} to {a}" for a in ACTION_ORDER if counts.get(a))


def _verdict(review: Review) -> str:
    if review.passed and review.acknowledged:
        return f"PASSED with acknowledged: {', '.join(review.acknowledged)}"
    if review.passed:
        return "PASSED"
    return f"BLOCKED: {len(review.unacknowledged)} blocking finding(s) not acknowledged"


def _finding_line(finding: Finding, review: Review) -> str:
    mark = " (acknowledged)" if finding.address in review.acknowledged else ""
    return f"{finding.message}{mark}"


def _change_lines(change: Change) -> list[str]:
    lines = [f"{SYMBOLS.get(change.action, change.action)} {change.address}  [{change.construct}]"]
    if change.forces_replacement:
        lines.append(f"    forces replacement: {', '.join(change.forces_replacement)}")
    for attribute in change.attributes:
        lines.append(f"    {attribute.name}: {attribute.before} -> {attribute.after}")
        lines += [f"      {line}" for line in attribute.diff]
    return lines


OFFLINE_NOTE = "made with --offline (stub credentials, no refresh): apply refuses it"


def _usd(value: float) -> str:
    return f"{value:,.2f}"


def _signed(value: float) -> str:
    return f"{value:+,.2f}"


def _share(before: float, after: float) -> str:
    return f"{(after - before) / before:+.1%}" if before else ("new" if after else "")


#: A bill line whose cost moves less than this (USD a month) is unchanged.
CENT = 0.005


def _changed_lines(cost: CostReview) -> list[tuple[str, float, float]]:
    assert cost.change is not None
    return [(label, before, after) for label, before, after in cost.change.lines() if abs(after - before) >= CENT]


def _cost_summary(cost: CostReview) -> str:
    if cost.change is None:
        return cost.note
    change = cost.change
    if not _changed_lines(cost):
        return f"{_usd(change.after.total)} USD a month at {change.events / 1e6:g} M events, unchanged"
    return (f"{_usd(change.before_usd)} -> {_usd(change.after.total)} USD a month at {change.events / 1e6:g} M events "
            f"({_signed(change.difference_usd)}, {_share(change.before_usd, change.after.total)})")


def _cost_rows(cost: CostReview) -> list[list[str]]:
    """[line, before, after, difference, share] per bill line that changes, then the totals at every volume;
    nothing when no line changes."""
    change = cost.change
    assert change is not None
    changed = _changed_lines(cost)
    if not changed:
        return []
    unchanged = len(change.lines()) - len(changed)
    rows = [[label, _usd(before), _usd(after), _signed(after - before), _share(before, after)]
            for label, before, after in changed]
    if unchanged:
        rows.append([f"({unchanged} other lines unchanged)", "", "", "", ""])
    rows.append([f"total at {change.events / 1e6:g} M events", _usd(change.before_usd), _usd(change.after.total),
                 _signed(change.difference_usd), _share(change.before_usd, change.after.total)])
    rows += [[f"total at {events / 1e6:g} M events", _usd(before), _usd(after), _signed(after - before),
              _share(before, after)] for events, before, after in change.totals if events != change.events]
    return rows


COST_HEADER = ["line (USD/month)", "before", "after", "change", "share"]


def _cost_terminal(cost: CostReview) -> list[str]:
    if cost.change is None or not _cost_rows(cost):
        return []
    rows = [COST_HEADER, *_cost_rows(cost)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COST_HEADER))]
    return ["", "Cost (tools/cost model, usage.json, prices.json):"] + [
        ("  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                          for i, (c, w) in enumerate(zip(row, widths, strict=True)))).rstrip()
        for row in rows]


def _cost_markdown(cost: CostReview) -> list[str]:
    if cost.change is None or not _cost_rows(cost):
        return []
    rows = ["| " + " | ".join(row) + " |" for row in _cost_rows(cost)]
    return ["", "#### Monthly cost (tools/cost model)", "", "| " + " | ".join(COST_HEADER) + " |",
            "| --- |" + " ---: |" * (len(COST_HEADER) - 1), *rows]


def acknowledge_hint(review: Review) -> str:
    """How to pass the blocked addresses on purpose: the ACK value to give make (review, plan, deploy, destroy)."""
    addresses = ",".join(sorted({f.address for f in review.unacknowledged}))
    env = review.stack.removeprefix("tap-pipeline-")
    return (f"To pass them on purpose, after reading each: make review ENV={env} ACK={addresses} "
            "(the same ACK works with make plan, deploy and destroy)")


def terminal(review: Review) -> str:
    lines = [f"Review of {review.stack}: {_verdict(review)}", f"plan SHA-256: {review.plan_sha256}",
             f"changes: {_counts(review)}", f"checkov: {review.checkov}"]
    if review.cost is not None:
        lines.append(f"cost: {_cost_summary(review.cost)}")
    if review.offline:
        lines.append(f"plan: {OFFLINE_NOTE}")
    if review.blocking:
        lines += ["", "Blocking:"] + [f"  ✗ {_finding_line(f, review)}" for f in review.blocking]
    if review.unacknowledged:
        lines += ["", acknowledge_hint(review)]
    if review.warnings:
        lines += ["", "Warnings:"] + [f"  ! {f.message}" for f in review.warnings]
    if review.cost is not None:
        lines += _cost_terminal(review.cost)
    if review.changes:
        lines += ["", "Changes:"] + [f"  {line}" for c in review.changes for line in _change_lines(c)]
    return "\n".join(lines)


def markdown(review: Review) -> str:
    icon = "✅" if review.passed else "⛔"
    lines = [f"### {icon} Plan review: `{review.stack}` — {_verdict(review)}", "",
             f"- plan SHA-256: `{review.plan_sha256}`", f"- changes: {_counts(review)}",
             f"- checkov (terraform_plan): {review.checkov}", f"- reviewed at {review.reviewed_at}"]
    if review.cost is not None:
        lines.insert(-1, f"- cost: {_cost_summary(review.cost)}")
    if review.offline:
        lines.insert(-1, f"- plan {OFFLINE_NOTE}")
    if review.blocking:
        lines += ["", "#### Blocking", ""] + [f"- ⛔ `{_finding_line(f, review)}`" for f in review.blocking]
    if review.warnings:
        lines += ["", "#### Warnings", ""] + [f"- ⚠️ `{f.message}`" for f in review.warnings]
    if review.cost is not None:
        lines += _cost_markdown(review.cost)
    if review.changes:
        lines += ["", "#### Changes", "", "```diff"]
        lines += [line for change in review.changes for line in _change_lines(change)]
        lines.append("```")
    return "\n".join(lines) + "\n"
