"""The cost of a change: a stack's monthly bill before a plan (its prior state) and after (its planned
values), line by line, and the budget the review holds it to.

The bill is the cost model's (:mod:`tools.cost.model`) at the usage file's volumes; the budget file
(``budgets.json``) says at which volume the review judges it and by how much a plan may raise it before the
review warns. The ceiling above which the review blocks is an environment's setting
(``review.monthly_cost_ceiling_usd`` in the environments file: tools/plans/cost_gate.py).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.cost.errors import CostInputError
from tools.cost.model import Estimate, estimate
from tools.cost.plan_values import pipeline_from_values
from tools.cost.prices import DEFAULT_PRICES, load_prices
from tools.cost.usage import DEFAULT_USAGE, load_usage

DEFAULT_BUDGET = Path(__file__).with_name("budgets.json")
DEFAULT_WARN_SHARE = 0.20
BUDGET_FIELDS = {
    "warn_increase_share": "number > 0: warn when a plan raises the monthly cost by more than this share (0.2 = 20 %)",
    "events_per_month": "number > 0: the volume the review judges the bill at (one of the usage file's)",
}
#: Fields of earlier budget files, and where their setting is now.
MOVED_FIELDS = {
    "ceilings_usd": "each environment's ceiling is review.monthly_cost_ceiling_usd in its table of the "
                    "environments file ([environments.<name>] of environments.toml; docs/configuration-reference.md)",
}


@dataclass(frozen=True)
class Budget:
    """How the review judges the cost of a change: at which volume, and which rise it warns about."""

    events_per_month: float
    warn_increase_share: float = DEFAULT_WARN_SHARE


def _positive(path: Path, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise CostInputError(f"{path}: {name} must be a number > 0, not {value!r}")
    return float(value)


def load_budget(path: Path = DEFAULT_BUDGET, usage_path: Path = DEFAULT_USAGE) -> Budget:
    """Read and check a budget file; its volume defaults to the usage file's largest."""
    try:
        document = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise CostInputError(f"{path}: cannot read the budget file ({error})") from None
    if not isinstance(document, dict):
        raise CostInputError(f"{path}: the budget file must be a JSON object with the fields "
                             f"{', '.join(BUDGET_FIELDS)}")
    moved = sorted(set(document) & set(MOVED_FIELDS))
    if moved:
        raise CostInputError(f"{path}: {moved[0]} is no budget field any more: {MOVED_FIELDS[moved[0]]}")
    unknown = sorted(set(document) - set(BUDGET_FIELDS) - {"_comment"})
    if unknown:
        raise CostInputError(f"{path}: unknown fields {unknown}; allowed: "
                             + "; ".join(f"{k} ({v})" for k, v in BUDGET_FIELDS.items()))
    events = document.get("events_per_month")
    return Budget(
        events_per_month=(_positive(path, "events_per_month", events) if events is not None
                          else max(load_usage(usage_path).events_per_month)),
        warn_increase_share=_positive(path, "warn_increase_share",
                                      document.get("warn_increase_share", DEFAULT_WARN_SHARE)),
    )


def line_label(service: str, item: str) -> str:
    """A bill line's name without its per-scale details (the SQS lines carry request counts after ':')."""
    return f"{service} {item.split(':')[0]}"


def _by_label(bill: Estimate | None) -> dict[str, float]:
    found: dict[str, float] = {}
    for line in bill.lines if bill else ():
        label = line_label(line.service, line.item)
        found[label] = found.get(label, 0.0) + line.usd
    return found


@dataclass(frozen=True)
class CostChange:
    """The bill before and after a plan at the budget's volume (``before`` None: nothing deployed yet),
    and the totals at each volume of the usage file."""

    environment: str
    events: float
    before: Estimate | None
    after: Estimate
    totals: tuple[tuple[float, float, float], ...]  # (events, before USD, after USD)

    @property
    def before_usd(self) -> float:
        return self.before.total if self.before else 0.0

    @property
    def difference_usd(self) -> float:
        return self.after.total - self.before_usd

    @property
    def share(self) -> float | None:
        """The increase as a share of the bill before (None from nothing)."""
        return self.difference_usd / self.before_usd if self.before_usd else None

    def lines(self) -> list[tuple[str, float, float]]:
        """(line, USD before, USD after) for every line of either bill, in the bills' order."""
        before, after = _by_label(self.before), _by_label(self.after)
        labels = list(dict.fromkeys([*before, *after]))
        return [(label, before.get(label, 0.0), after.get(label, 0.0)) for label in labels]


def cost_change(plan: Mapping[str, Any], environment: str, budget: Budget,
                usage_path: Path = DEFAULT_USAGE, prices_path: Path = DEFAULT_PRICES) -> CostChange:
    """The bill of ``plan``'s prior state and of its planned values; CostInputError when either is not a
    pipeline the model can read (a partial or foreign stack)."""
    usage, prices = load_usage(usage_path), load_prices(prices_path)
    before = pipeline_from_values((plan.get("prior_state") or {}).get("values"), environment)
    after = pipeline_from_values(plan.get("planned_values"), environment, plan.get("configuration"))
    if after is None:
        raise CostInputError(f"{environment}: the plan leaves no resources: nothing to estimate")
    volumes = sorted({*usage.events_per_month, budget.events_per_month})
    totals = tuple((events, estimate(before, usage, prices, events).total if before else 0.0,
                    estimate(after, usage, prices, events).total) for events in volumes)
    return CostChange(
        environment=environment, events=budget.events_per_month,
        before=estimate(before, usage, prices, budget.events_per_month) if before else None,
        after=estimate(after, usage, prices, budget.events_per_month), totals=totals,
    )
