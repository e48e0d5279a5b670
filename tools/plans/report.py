"""The review as text for the terminal and as Markdown for a pull-request comment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tools.plans.changes import ACTION_ORDER, Change, action_counts

if TYPE_CHECKING:
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


def terminal(review: Review) -> str:
    lines = [f"Review of {review.stack}: {_verdict(review)}", f"plan SHA-256: {review.plan_sha256}",
             f"changes: {_counts(review)}", f"checkov: {review.checkov}"]
    if review.blocking:
        lines += ["", "Blocking:"] + [f"  ✗ {_finding_line(f, review)}" for f in review.blocking]
    if review.warnings:
        lines += ["", "Warnings:"] + [f"  ! {f.message}" for f in review.warnings]
    if review.changes:
        lines += ["", "Changes:"] + [f"  {line}" for c in review.changes for line in _change_lines(c)]
    return "\n".join(lines)


def markdown(review: Review) -> str:
    icon = "✅" if review.passed else "⛔"
    lines = [f"### {icon} Plan review: `{review.stack}` — {_verdict(review)}", "",
             f"- plan SHA-256: `{review.plan_sha256}`", f"- changes: {_counts(review)}",
             f"- checkov (terraform_plan): {review.checkov}", f"- reviewed at {review.reviewed_at}"]
    if review.blocking:
        lines += ["", "#### Blocking", ""] + [f"- ⛔ `{_finding_line(f, review)}`" for f in review.blocking]
    if review.warnings:
        lines += ["", "#### Warnings", ""] + [f"- ⚠️ `{f.message}`" for f in review.warnings]
    if review.changes:
        lines += ["", "#### Changes", "", "```diff"]
        lines += [line for change in review.changes for line in _change_lines(change)]
        lines.append("```")
    return "\n".join(lines) + "\n"
