"""Where the validator's default timestamp comes from: the clock, the carried ``original_sent_timestamp``
message attribute (up to 15 digits, refused with how to fix it otherwise), else SentTimestamp."""

from __future__ import annotations

import time
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from handlers.shared.errors import ContractViolation, Reason
from handlers.validator.app import now_ms, sent_timestamp
from tests.handlers.helpers import sqs_record

REFUSED = (
    "message attribute original_sent_timestamp must be a String or Number of up to 15 digits "
    "(ms since the epoch); send the SentTimestamp of the first message unchanged"
)


def record(*, carried: Any = None, sent: str | None = None) -> SQSRecord:
    raw = sqs_record("{}", sent_timestamp=None)
    if sent is not None:
        raw["attributes"]["SentTimestamp"] = sent
    if carried is not None:
        raw["messageAttributes"] = {"original_sent_timestamp": carried}
    return SQSRecord(raw)


def test_now_is_whole_milliseconds_of_the_wall_clock() -> None:
    before = time.time_ns() // 1_000_000
    now = now_ms()
    after = time.time_ns() // 1_000_000

    assert type(now) is int
    assert before <= now <= after


def test_a_carried_timestamp_of_exactly_15_digits_is_taken() -> None:
    carried = {"stringValue": "999999999999999", "dataType": "Number"}

    assert sent_timestamp(record(carried=carried, sent="5")) == 999_999_999_999_999


@pytest.mark.parametrize(
    "carried",
    [
        "1700000000000",  # not a message attribute object
        {"stringValue": "1234567890123456", "dataType": "Number"},  # 16 digits
        {"binaryValue": "MTcwMA==", "dataType": "Binary"},  # no string value
    ],
)
def test_a_malformed_carried_timestamp_is_refused_with_how_to_fix_it(carried: Any) -> None:
    with pytest.raises(ContractViolation) as raised:
        sent_timestamp(record(carried=carried, sent="5"))

    assert (raised.value.code, raised.value.message) == (Reason.INVALID_TIMESTAMP, REFUSED)


@pytest.mark.parametrize(("sent", "expected"), [("1700000000000", 1_700_000_000_000), ("soon", None), (None, None)])
def test_without_a_carried_timestamp_the_sent_timestamp_is_taken_if_it_is_a_number(
    sent: str | None, expected: int | None
) -> None:
    assert sent_timestamp(record(sent=sent)) == expected
