"""Records at the edges of the contract: the value bound, the size limit and its reserve, rejects too large to
travel with their attributes, and the key of a timestamp-less record across a redrive."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from handlers.validator import app
from handlers.validator.rejects import split_utf8
from tests.handlers.conftest import Aws
from tests.handlers.helpers import NOW_MS, FakeContext, failures, sqs_event, sqs_record

SQS_LIMIT = 262_144  # bytes of body plus attributes (SQS developer guide, "Quotas related to messages")
RECORD_LIMIT = 261_632  # SQS's limit less the 512 bytes kept for the enricher's fields


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """The validator's clock reads NOW_MS."""
    monkeypatch.setattr(app, "now_ms", lambda: NOW_MS)


def attributes_of(message: dict[str, Any]) -> dict[str, str]:
    """A received message's attributes as plain strings."""
    return {name: value["StringValue"] for name, value in message["MessageAttributes"].items()}


def sqs_size(message: dict[str, Any]) -> int:
    """What SQS counts against its limit: body, and each attribute's name, type and value."""
    return len(message["Body"].encode()) + sum(
        len(name.encode()) + len(value["DataType"]) + len(value["StringValue"].encode())
        for name, value in message["MessageAttributes"].items()
    )


# ---------------------------------------------------------------- the 10,000-value bound


@pytest.mark.parametrize(("values", "accepted"), [(10_000, True), (10_001, False)])
def test_data_holds_at_most_ten_thousand_values_at_any_depth(
    aws: Aws, lambda_context: FakeContext, values: int, accepted: bool
) -> None:
    # Values spread over three levels; containers do not count.
    data = {"a": [0] * (values - 2), "b": {"c": [None, {"d": "x"}]}}

    response = app.handler(sqs_event(sqs_record({"id": "v", "data": data}, message_id="m")), lambda_context)

    assert response == failures(), "accepted or rejected, never failed"
    if accepted:
        assert len(aws.drain(aws.output_url)) == 1, f"{values} values are within the bound"
    else:
        (reject,) = aws.drain(aws.rejects_url)
        assert attributes_of(reject)["reason_code"] == "too_many_values", f"{values} values are too many"
        assert "10000" in attributes_of(reject)["reason"], "the reason states the bound"


def test_empty_containers_are_not_values(aws: Aws, lambda_context: FakeContext) -> None:
    data = {"a": [[]] * 20_000, "b": [{}] * 20_000}

    response = app.handler(sqs_event(sqs_record({"id": "c", "data": data})), lambda_context)

    assert response == failures() and len(aws.drain(aws.output_url)) == 1, "40,000 containers hold no value"


# ---------------------------------------------------------------- the size limit and its 512-byte reserve


def body_of_size(size: int) -> str:
    """A compact valid body of exactly ``size`` bytes."""
    base = '{"id":"s","timestamp":' + str(NOW_MS) + ',"data":{"pad":""}}'
    return base.replace('"pad":""', '"pad":"' + "x" * (size - len(base)) + '"')


@pytest.mark.parametrize(("size", "forwarded"), [(RECORD_LIMIT, True), (RECORD_LIMIT + 1, False)])
def test_body_over_the_record_limit_is_too_large_and_says_why(
    aws: Aws, lambda_context: FakeContext, size: int, forwarded: bool
) -> None:
    body = body_of_size(size)
    assert len(body.encode()) == size, "the body has the size under test"

    app.handler(sqs_event(sqs_record(body)), lambda_context)

    if forwarded:
        assert len(aws.drain(aws.output_url)) == 1, f"a body of {size} bytes is within the limit"
        return
    reason = attributes_of(aws.drain(aws.rejects_url)[0])
    assert reason["reason_code"] == "too_large", f"a body of {size} bytes is too large"
    assert "261632" in reason["reason"] and "512" in reason["reason"], "the reason states the limit and reserve"


def test_whitespace_does_not_buy_room_beyond_the_body_limit(aws: Aws, lambda_context: FakeContext) -> None:
    body = body_of_size(RECORD_LIMIT - 10).replace(":", ": ", 1) + " " * 10  # normalizes below the limit

    app.handler(sqs_event(sqs_record(body)), lambda_context)

    (reject,) = aws.drain(aws.rejects_url)
    assert attributes_of(reject)["reason_code"] == "too_large", "the limit applies to the body as sent"


# ---------------------------------------------------------------- rejects too large for their attributes


@pytest.mark.parametrize("body_bytes", [RECORD_LIMIT + 1, SQS_LIMIT - 100, SQS_LIMIT])
def test_reject_too_large_for_its_attributes_arrives_in_parts_that_rebuild_it(
    aws: Aws, lambda_context: FakeContext, body_bytes: int
) -> None:
    body = body_of_size(body_bytes).replace("xxxx", "é€😀", 2_000)  # cut points may land inside characters
    body = body + " " * (body_bytes - len(body.encode()))

    response = app.handler(sqs_event(sqs_record(body, message_id="big")), lambda_context)

    assert response == failures(), "the reject was delivered, so the record is acknowledged"
    messages = aws.drain(aws.rejects_url)
    parts = sorted(messages, key=lambda m: int(attributes_of(m)["body_part"].split("/")[0]))
    labels = [attributes_of(m)["body_part"] for m in parts]
    assert labels == ["1/2", "2/2"], "two parts, numbered"
    assert all(sqs_size(m) <= SQS_LIMIT for m in parts), "each part fits SQS with its attributes"
    rebuilt = "".join(m["Body"] for m in parts)
    assert rebuilt == body, "the parts joined in order are the original body"
    raw = body.encode()
    for message in parts:
        attributes = attributes_of(message)
        assert attributes["reason_code"] == "too_large" and attributes["source_message_id"] == "big", (
            "each part carries the reason and the source"
        )
        assert attributes["body_bytes"] == str(len(raw)), "the original size"
        assert attributes["body_sha256"] == hashlib.sha256(raw).hexdigest(), "the original digest"


def test_reject_that_fits_with_its_attributes_travels_whole(aws: Aws, lambda_context: FakeContext) -> None:
    body = json.dumps({"id": "a", "data": {}, "typo": "y" * 200_000})

    app.handler(sqs_event(sqs_record(body)), lambda_context)

    (message,) = aws.drain(aws.rejects_url)
    assert message["Body"] == body and "body_part" not in attributes_of(message), "one message, the body as is"


@pytest.mark.parametrize(
    ("text", "max_bytes", "expected"),
    [
        ("abcdef", 4, ["abcd", "ef"]),
        ("ab€cd", 4, ["ab", "€c", "d"]),  # € is 3 bytes: never split
        ("😀😀", 4, ["😀", "😀"]),
        ("", 4, []),
    ],
)
def test_split_utf8_never_cuts_a_character(text: str, max_bytes: int, expected: list[str]) -> None:
    assert split_utf8(text.encode(), max_bytes) == expected, "parts end on character boundaries"


def test_split_utf8_refuses_a_size_below_one_character() -> None:
    with pytest.raises(ValueError, match="room for one UTF-8 character"):
        split_utf8(b"abc", 3)


# ---------------------------------------------------------------- the key across a redrive


def redriven(body: dict[str, Any], sent: int, original: str | None, data_type: str = "Number") -> dict[str, Any]:
    """A record as delivered after a redrive: a new SentTimestamp, the first one in a message attribute."""
    record = sqs_record(body, sent_timestamp=sent)
    if original is not None:
        record["messageAttributes"] = {
            "original_sent_timestamp": {"stringValue": original, "dataType": data_type}
        }
    return record


@pytest.mark.parametrize("data_type", ["Number", "String"])
def test_redriven_record_keeps_the_key_of_its_first_send(
    aws: Aws, lambda_context: FakeContext, data_type: str
) -> None:
    first_sent = NOW_MS - 3_600_000
    record = redriven({"id": "r", "data": {}}, sent=NOW_MS - 5, original=str(first_sent), data_type=data_type)

    app.handler(sqs_event(record), lambda_context)

    (message,) = aws.drain(aws.output_url)
    assert json.loads(message["Body"])["timestamp"] == first_sent, "the first SentTimestamp keys the record"


def test_record_without_the_attribute_is_keyed_by_its_sent_timestamp(
    aws: Aws, lambda_context: FakeContext
) -> None:
    app.handler(sqs_event(redriven({"id": "r", "data": {}}, sent=NOW_MS - 5, original=None)), lambda_context)

    (message,) = aws.drain(aws.output_url)
    assert json.loads(message["Body"])["timestamp"] == NOW_MS - 5, "SentTimestamp keys a first delivery"


def test_a_timestamp_in_the_body_wins_over_the_attribute(aws: Aws, lambda_context: FakeContext) -> None:
    body = {"id": "r", "timestamp": NOW_MS - 7, "data": {}}

    app.handler(sqs_event(redriven(body, sent=NOW_MS - 5, original=str(NOW_MS - 9))), lambda_context)

    (message,) = aws.drain(aws.output_url)
    assert json.loads(message["Body"])["timestamp"] == NOW_MS - 7, "the producer's timestamp is the key"


@pytest.mark.parametrize("bad", ["", "12.5", "-1", "1e12", "1234567890123456", "１２３"])
def test_a_malformed_attribute_is_rejected_with_how_to_fix_it(
    aws: Aws, lambda_context: FakeContext, bad: str
) -> None:
    app.handler(sqs_event(redriven({"id": "r", "data": {}}, sent=NOW_MS - 5, original=bad)), lambda_context)

    (reject,) = aws.drain(aws.rejects_url)
    attributes = attributes_of(reject)
    assert attributes["reason_code"] == "invalid_timestamp", f"{bad!r} is not a SentTimestamp"
    assert "original_sent_timestamp" in attributes["reason"] and "15 digits" in attributes["reason"], (
        "the reason names the attribute and its format"
    )
    assert aws.drain(aws.output_url) == [], "nothing is forwarded under a guessed key"
