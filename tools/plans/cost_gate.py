"""The review's cost rule: the plan's monthly cost before and after (tools/cost), a warning when it rises by
more than the budget's share (tools/cost/budgets.json), a block above the environment's ceiling
(``review.monthly_cost_ceiling_usd`` in the environments file).

Findings are about the address ``cost``, so that a person acknowledges a blocked cost with ``--ack cost``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.cost.change import DEFAULT_BUDGET, Budget, CostChange, cost_change, load_budget
from tools.cost.errors import CostInputError

if TYPE_CHECKING:
    from modules.environments_file import EnvironmentsFile

ADDRESS = "cost"
CEILING_KEY = "monthly_cost_ceiling_usd"


@dataclass(frozen=True)
class CostFinding:
    message: str
    blocking: bool


@dataclass(frozen=True)
class Ceiling:
    """An environment's monthly cost ceiling, and where it is set (``environments.toml: environments.prod.
    review.monthly_cost_ceiling_usd``)."""

    usd: float
    source: str


@dataclass
class CostReview:
    """The change (None when it cannot be estimated, with the reason in ``note``) and what the rule found."""

    change: CostChange | None
    budget: Budget | None
    note: str = ""
    findings: list[CostFinding] = field(default_factory=list)
    ceiling: Ceiling | None = None

    def record(self) -> dict[str, Any]:
        if self.change is None:
            return {"estimated": False, "note": self.note}
        change = self.change
        return {
            "estimated": True, "events_per_month": change.events, "before_usd": round(change.before_usd, 2),
            "after_usd": round(change.after.total, 2), "difference_usd": round(change.difference_usd, 2),
            "share": None if change.share is None else round(change.share, 4),
            "ceiling_usd": self.ceiling.usd if self.ceiling else None,
            "lines": [{"line": label, "before_usd": round(b, 2), "after_usd": round(a, 2)}
                      for label, b, a in change.lines()],
        }


def environment_of(stack: str) -> str:
    """``tap-pipeline-prod`` -> ``prod``."""
    return stack.removeprefix("tap-pipeline-")


def millions(events: float) -> str:
    return f"{events / 1e6:g} M events"


def ceiling_of(stack: str, environments: EnvironmentsFile | None = None) -> Ceiling | None:
    """The stack's environment's ceiling from the environments file (the one ``main.py`` reads unless given);
    SettingsError when the file or the value is invalid."""
    if environments is None:
        from main import environments_file

        environments = environments_file()
    settings, origins = environments.review(environment_of(stack))
    if settings.monthly_cost_ceiling_usd is None:
        return None
    return Ceiling(settings.monthly_cost_ceiling_usd, origins.get(CEILING_KEY, f"review.{CEILING_KEY}"))


def review_cost(plan: Mapping[str, Any], stack: str, budget_path: Path = DEFAULT_BUDGET,
                environments: EnvironmentsFile | None = None) -> CostReview:
    """Estimate the plan's cost change and apply the budget's and the environment's rules to it."""
    from modules.settings import SettingsError

    environment = environment_of(stack)
    try:
        budget = load_budget(budget_path)
    except CostInputError as error:
        return CostReview(None, None, f"not estimated: {error}",
                          [CostFinding(f"{ADDRESS}: the budget cannot be read, so the cost is not checked: {error}",
                                       blocking=True)])
    try:
        ceiling = ceiling_of(stack, environments)
    except SettingsError as error:
        return CostReview(None, budget, f"not estimated: {error}",
                          [CostFinding(f"{ADDRESS}: {environment}'s cost ceiling cannot be read, so the cost is not "
                                       f"checked: {error}", blocking=True)])
    try:
        change = cost_change(plan, environment, budget)
    except CostInputError as error:
        findings = []
        if ceiling is not None:
            findings.append(CostFinding(f"{ADDRESS}: {environment}'s monthly cost cannot be estimated ({error}), "
                                        f"so its ceiling of {ceiling.usd:,.2f} USD cannot be checked", blocking=True))
        return CostReview(None, budget, f"not estimated: {error}", findings, ceiling)
    return CostReview(change, budget, findings=rules(change, budget, ceiling), ceiling=ceiling)


def rules(change: CostChange, budget: Budget, ceiling: Ceiling | None) -> list[CostFinding]:
    at = f"at {millions(change.events)}"
    found = []
    if change.before is None:
        found.append(CostFinding(f"{ADDRESS}: a new stack: {change.after.total:,.2f} USD a month {at}", blocking=False))
    elif change.share is not None and change.share > budget.warn_increase_share:
        found.append(CostFinding(
            f"{ADDRESS}: the monthly cost {at} rises by {change.share:.0%} ({change.before_usd:,.2f} -> "
            f"{change.after.total:,.2f} USD), more than {budget.warn_increase_share:.0%}", blocking=False))
    if ceiling is not None and change.after.total > ceiling.usd:
        found.append(CostFinding(
            f"{ADDRESS}: the monthly cost {at} would be {change.after.total:,.2f} USD, above {change.environment}'s "
            f"ceiling of {ceiling.usd:,.2f} USD ({ceiling.source}); acknowledge with --ack {ADDRESS} if intended",
            blocking=True))
    return found
