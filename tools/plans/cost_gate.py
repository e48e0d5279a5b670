"""The review's cost rule: the plan's monthly cost before and after (tools/cost), a warning when it rises by
more than the budget's share, a block above the environment's ceiling.

Findings are about the address ``cost``, so that a person acknowledges a blocked cost with ``--ack cost``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.cost.change import DEFAULT_BUDGET, Budget, CostChange, cost_change, load_budget
from tools.cost.errors import CostInputError

ADDRESS = "cost"


@dataclass(frozen=True)
class CostFinding:
    message: str
    blocking: bool


@dataclass
class CostReview:
    """The change (None when it cannot be estimated, with the reason in ``note``) and what the rule found."""

    change: CostChange | None
    budget: Budget | None
    note: str = ""
    findings: list[CostFinding] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        if self.change is None:
            return {"estimated": False, "note": self.note}
        change = self.change
        return {
            "estimated": True, "events_per_month": change.events, "before_usd": round(change.before_usd, 2),
            "after_usd": round(change.after.total, 2), "difference_usd": round(change.difference_usd, 2),
            "share": None if change.share is None else round(change.share, 4),
            "ceiling_usd": self.budget.ceilings_usd.get(change.environment) if self.budget else None,
            "lines": [{"line": label, "before_usd": round(b, 2), "after_usd": round(a, 2)}
                      for label, b, a in change.lines()],
        }


def environment_of(stack: str) -> str:
    """``tap-pipeline-prod`` -> ``prod``."""
    return stack.removeprefix("tap-pipeline-")


def millions(events: float) -> str:
    return f"{events / 1e6:g} M events"


def review_cost(plan: Mapping[str, Any], stack: str, budget_path: Path = DEFAULT_BUDGET) -> CostReview:
    """Estimate the plan's cost change and apply the budget's rules to it."""
    environment = environment_of(stack)
    try:
        budget = load_budget(budget_path)
    except CostInputError as error:
        return CostReview(None, None, f"not estimated: {error}",
                          [CostFinding(f"{ADDRESS}: the budget cannot be read, so the cost is not checked: {error}",
                                       blocking=True)])
    ceiling = budget.ceilings_usd.get(environment)
    try:
        change = cost_change(plan, environment, budget)
    except CostInputError as error:
        findings = []
        if ceiling is not None:
            findings.append(CostFinding(f"{ADDRESS}: {environment}'s monthly cost cannot be estimated ({error}), "
                                        f"so its ceiling of {ceiling:,.2f} USD cannot be checked", blocking=True))
        return CostReview(None, budget, f"not estimated: {error}", findings)
    return CostReview(change, budget, findings=rules(change, budget, budget_path))


def rules(change: CostChange, budget: Budget, budget_path: Path) -> list[CostFinding]:
    at = f"at {millions(change.events)}"
    found = []
    if change.before is None:
        found.append(CostFinding(f"{ADDRESS}: a new stack: {change.after.total:,.2f} USD a month {at}", blocking=False))
    elif change.share is not None and change.share > budget.warn_increase_share:
        found.append(CostFinding(
            f"{ADDRESS}: the monthly cost {at} rises by {change.share:.0%} ({change.before_usd:,.2f} -> "
            f"{change.after.total:,.2f} USD), more than {budget.warn_increase_share:.0%}", blocking=False))
    ceiling = budget.ceilings_usd.get(change.environment)
    if ceiling is not None and change.after.total > ceiling:
        found.append(CostFinding(
            f"{ADDRESS}: the monthly cost {at} would be {change.after.total:,.2f} USD, above {change.environment}'s "
            f"ceiling of {ceiling:,.2f} USD ({budget_path.name}); acknowledge with --ack {ADDRESS} if intended",
            blocking=True))
    return found
