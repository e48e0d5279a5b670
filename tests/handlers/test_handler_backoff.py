"""Backoff: capped, exponential, full jitter, bounded by the invocation's remaining time."""

from __future__ import annotations

import random

from handlers.shared.backoff import Backoff
from tests.handlers.helpers import FakeContext, TimedSleep


def test_delay_ceiling_doubles_until_the_cap() -> None:
    backoff = Backoff(base_delay=0.1, max_delay=1.0, rng=lambda: 1.0)

    ceilings = [backoff.delay(attempt) for attempt in range(7)]

    assert ceilings == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0], (
        "ceiling is base * 2**attempt, capped at max_delay"
    )


def test_delay_is_capped_even_after_many_attempts() -> None:
    backoff = Backoff(base_delay=0.05, max_delay=2.0, rng=lambda: 0.999999)

    assert all(backoff.delay(attempt) <= 2.0 for attempt in (10, 100, 10_000)), "no delay exceeds max_delay"


def test_delay_is_full_jitter_over_zero_to_the_ceiling() -> None:
    draws = iter([0.0, 0.25, 0.5, 0.999])
    backoff = Backoff(base_delay=0.1, max_delay=1.0, rng=lambda: next(draws))

    delays = [backoff.delay(3) for _ in range(4)]

    assert delays == [0.0, 0.25 * 0.8, 0.5 * 0.8, 0.999 * 0.8], "delay is uniform(0, ceiling): full jitter"


def test_real_random_delays_spread_over_the_whole_range() -> None:
    backoff = Backoff(base_delay=0.1, max_delay=1.0, rng=random.Random(7).random)

    delays = [backoff.delay(4) for _ in range(2_000)]

    assert 0 <= min(delays) < 0.05 and 0.95 < max(delays) <= 1.0, "full jitter uses the whole [0, cap] range"
    assert 0.45 < sum(delays) / len(delays) < 0.55, "full jitter averages half the ceiling"


def test_wait_stops_before_the_safety_margin() -> None:
    context = FakeContext(remaining_ms=1_500)
    sleep = TimedSleep(context)
    backoff = Backoff(base_delay=0.05, max_delay=0.4, safety_margin_ms=1_000, sleep=sleep, max_attempts=1_000)

    attempt = 0
    while backoff.wait(attempt, context):
        attempt += 1

    assert attempt > 0, "with time left the backoff sleeps"
    assert sum(sleep.pauses) * 1000 <= 500, "total sleep never exceeds remaining time minus the safety margin"
    assert context.remaining_ms > 1_000, "the safety margin is kept for reporting the partial response"


def test_wait_refuses_at_once_when_only_the_margin_is_left() -> None:
    context = FakeContext(remaining_ms=1_000)
    sleep = TimedSleep(context)
    backoff = Backoff(safety_margin_ms=1_000, sleep=sleep, rng=lambda: 0.0)

    assert backoff.wait(0, context) is False, "no retry when only the safety margin is left"
    assert sleep.pauses == [], "and no sleep either"


def test_wait_clamps_a_pause_that_would_cross_the_margin() -> None:
    context = FakeContext(remaining_ms=1_100)
    sleep = TimedSleep(context)
    backoff = Backoff(base_delay=0.2, max_delay=0.2, safety_margin_ms=1_000, sleep=sleep, rng=lambda: 0.9)

    assert backoff.wait(0, context) is True, "a 180 ms draw with 100 ms above the margin still retries"
    assert sleep.pauses == [0.1], "the pause is clamped to the 100 ms left above the margin"


def test_wait_keeps_the_reserve_for_the_next_call() -> None:
    context = FakeContext(remaining_ms=1_600)
    sleep = TimedSleep(context)
    backoff = Backoff(base_delay=2.0, max_delay=2.0, safety_margin_ms=1_000, sleep=sleep, rng=lambda: 0.5)

    assert backoff.wait(0, context, reserve_ms=400) is True, "200 ms are left above margin and reserve"
    assert sleep.pauses == [0.2], "the 1 s draw is clamped to those 200 ms"
    assert backoff.wait(0, context, reserve_ms=400) is False, "nothing is left above margin and reserve"
    assert sleep.pauses == [0.2], "and no further pause is taken"


def test_wait_gives_up_after_max_attempts_even_with_time_left() -> None:
    context = FakeContext(remaining_ms=900_000)
    backoff = Backoff(max_attempts=3, sleep=TimedSleep(context), rng=lambda: 0.0)

    assert [backoff.wait(attempt, context) for attempt in range(5)] == [True, True, True, False, False], (
        "max_attempts bounds retries when the context never runs out of time"
    )


def test_the_ceiling_stops_doubling_at_two_to_the_62_so_huge_attempts_do_not_overflow() -> None:
    # Without the cap on the exponent, 2.0 ** 1024 overflows a float: an unbounded max_delay shows the cap.
    backoff = Backoff(base_delay=1.0, max_delay=float("inf"), rng=lambda: 1.0)

    assert [backoff.delay(attempt) for attempt in (61, 62, 63, 10_000)] == [2.0**61, 2.0**62, 2.0**62, 2.0**62]


def test_wait_still_retries_with_one_millisecond_above_margin_and_reserve() -> None:
    context = FakeContext(remaining_ms=1_401)
    sleep = TimedSleep(context)
    backoff = Backoff(base_delay=1.0, max_delay=1.0, safety_margin_ms=1_000, sleep=sleep, rng=lambda: 0.5)

    assert backoff.wait(0, context, reserve_ms=400) is True, "1 ms left above margin and reserve is time left"
    assert sleep.pauses == [0.001], "the 500 ms draw is clamped to that 1 ms"
    assert backoff.wait(0, context, reserve_ms=400) is False, "0 ms left above margin and reserve is none"
