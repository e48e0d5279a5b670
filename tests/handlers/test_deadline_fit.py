"""The fit rule before each AWS call: the time left, less the margin, must cover the call's worst case;
exactly covering it is enough, one millisecond short is not."""

from __future__ import annotations

import pytest

from handlers.shared import clients, deadline
from tests.handlers.helpers import FakeContext

#: The default limits: 3 attempts x (2 s + 5 s) + 1 s + 2 s of pauses = 24 s.
DEFAULT_WORST_CASE_MS = 24_000


@pytest.fixture
def default_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clients, "_limits", clients.CallLimits(2.0, 5.0, 3))


def test_worst_case_is_the_clients_worst_case_in_milliseconds(default_limits: None) -> None:
    assert deadline.worst_case_call_ms() == DEFAULT_WORST_CASE_MS


def test_the_margin_is_one_second() -> None:
    assert deadline.SAFETY_MARGIN_MS == 1_000


@pytest.mark.parametrize(
    ("remaining_ms", "fits"),
    [
        (DEFAULT_WORST_CASE_MS + 1_000, True),  # exactly the worst case plus the margin
        (DEFAULT_WORST_CASE_MS + 1_001, True),
        (DEFAULT_WORST_CASE_MS + 999, False),  # the margin is taken off, not added
        (DEFAULT_WORST_CASE_MS, False),
    ],
)
def test_a_call_fits_when_the_time_left_less_the_margin_covers_its_worst_case(
    default_limits: None, remaining_ms: int, fits: bool
) -> None:
    assert deadline.call_fits(FakeContext(remaining_ms=remaining_ms)) is fits


def test_a_call_fits_with_a_smaller_margin_given_by_the_caller(default_limits: None) -> None:
    context = FakeContext(remaining_ms=DEFAULT_WORST_CASE_MS + 10)

    assert deadline.call_fits(context, margin_ms=10) is True
    assert deadline.call_fits(context, margin_ms=11) is False
