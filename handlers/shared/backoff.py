"""Capped exponential backoff with full jitter, bounded by the time the invocation has left."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


class RemainingTime(Protocol):
    """What the Lambda context offers: milliseconds before the invocation times out."""

    def get_remaining_time_in_millis(self) -> int: ...


@dataclass
class Backoff:
    """Sleeps ``uniform(0, min(max_delay, base_delay * 2**attempt))`` seconds ("full jitter").

    Full jitter spreads the retries of concurrent invocations that were throttled together, which a fixed
    or "equal jitter" schedule would keep in step (AWS Architecture Blog, "Exponential Backoff and Jitter").
    """

    base_delay: float = 0.05
    max_delay: float = 2.0
    #: Time kept back for reporting the partial response (and one last call) before Lambda's timeout.
    safety_margin_ms: int = 1_000
    #: Guard against a context that never runs out of time (local runs).
    max_attempts: int = 25
    sleep: Callable[[float], Any] = time.sleep
    #: Uniform [0, 1) source; injectable so tests can pin the jitter.
    rng: Callable[[], float] = field(default=random.random)

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (0 for the first retry)."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** min(attempt, 62))
        return self.rng() * ceiling

    def wait(self, attempt: int, context: RemainingTime, reserve_ms: float = 0.0) -> bool:
        """Sleep before retry ``attempt`` and return True; False at once if there is no time left.

        The jittered pause is clamped to the time left above the safety margin and ``reserve_ms`` (the
        worst case of the call that follows): a shorter pause still spreads retries, giving up does not.
        """
        if attempt >= self.max_attempts:
            return False
        available_ms = context.get_remaining_time_in_millis() - self.safety_margin_ms - reserve_ms
        if available_ms <= 0:
            return False
        self.sleep(min(self.delay(attempt), available_ms / 1000))
        return True
