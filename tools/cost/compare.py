"""Where a configuration's bill differs from the draft's: what both pay for, and what only the pipeline buys.

The draft's total is not a like-for-like baseline: it has no queues, dead-letter queues, alarms, dashboard,
key, point-in-time recovery or warm instances, and past about 6.6 M writes a month it loses records. So the
comparison groups the bill's lines by what they pay for, puts the groups both bills have side by side
(with the draft-to-pipeline ratio), and lists apart what the draft does not buy at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from tools.cost.model import Estimate, Line

COMPUTE = "Lambda requests and duration"
TABLE = "DynamoDB capacity and storage"
LOGS = "CloudWatch logs"


def purpose(line: Line) -> str:
    """The group of a bill line: what the money buys."""
    if line.service == "Lambda":
        return "warm instances (provisioned concurrency)" if "provisioned" in line.item else COMPUTE
    if line.service == "DynamoDB":
        return "point-in-time recovery" if line.item.startswith("point-in-time") else TABLE
    if line.service == "SQS":
        return "queues, rejects and dead-letter queues (SQS)"
    if line.service == "CloudWatch":
        if line.item.startswith("logs"):
            return LOGS
        return "alarms" if line.item.startswith("alarms") else "dashboard"
    return f"{line.service} {line.item}"


def _by_purpose(estimate: Estimate) -> dict[str, float]:
    groups: dict[str, float] = {}
    for line in estimate.lines:
        groups[purpose(line)] = groups.get(purpose(line), 0.0) + line.usd
    return groups


@dataclass(frozen=True)
class Comparison:
    """One configuration against the draft at one number of events a month, USD a month by purpose."""

    config: str
    events: float
    shared: dict[str, tuple[float, float]]  # purpose -> (this configuration, the draft)
    only_ours: dict[str, float]
    only_draft: dict[str, float]

    @property
    def shared_ours(self) -> float:
        return sum(ours for ours, _ in self.shared.values())

    @property
    def shared_draft(self) -> float:
        return sum(draft for _, draft in self.shared.values())

    @property
    def total_ours(self) -> float:
        return self.shared_ours + sum(self.only_ours.values())

    @property
    def total_draft(self) -> float:
        return self.shared_draft + sum(self.only_draft.values())


def compare(ours: Estimate, draft: Estimate) -> Comparison:
    """Group both bills by purpose; ``ValueError`` if they are not at the same number of events."""
    if ours.events != draft.events:
        raise ValueError(f"comparing bills at {ours.events:g} and {draft.events:g} events a month")
    mine, theirs = _by_purpose(ours), _by_purpose(draft)
    return Comparison(
        config=ours.config,
        events=ours.events,
        shared={p: (mine[p], theirs[p]) for p in mine if p in theirs},
        only_ours={p: usd for p, usd in mine.items() if p not in theirs},
        only_draft={p: usd for p, usd in theirs.items() if p not in mine},
    )
