"""Whether the invocation has time for one more AWS call.

When Lambda times an invocation out, the whole batch comes back: work already done is repeated (a reject
sent twice) and one of the queue's receives is spent. So before each call the stages check that the time
left, less a margin for returning the partial response, covers the call's worst case; records whose call
does not fit are reported as batch item failures instead.
"""

from __future__ import annotations

from handlers.shared import clients
from handlers.shared.backoff import RemainingTime

#: Time kept back for building and returning the partial response and flushing metrics.
SAFETY_MARGIN_MS = 1_000


def worst_case_call_ms() -> float:
    """The longest one AWS call can block, from the clients' limits."""
    return clients.limits().worst_case_call_s * 1000


def call_fits(context: RemainingTime, margin_ms: float = SAFETY_MARGIN_MS) -> bool:
    """Whether an AWS call, at its worst, still ends ``margin_ms`` before the invocation's timeout."""
    return context.get_remaining_time_in_millis() - margin_ms >= worst_case_call_ms()
