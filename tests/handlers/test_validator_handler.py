"""Validator handler: contract checks, forwarding, rejects with reasons, partial batch responses."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from handlers.shared import clients
from handlers.shared.contract import MAX_RECORD_BYTES, MAX_SQS_MESSAGE_BYTES
from handlers.shared.errors import ConfigurationError
from handlers.validator import app
from tests.handlers.conftest import Aws
from tests.handlers.helpers import (
    NOW_MS,
    FailingSqs,
    FakeContext,
    failures,
    realistic_data,
    sqs_event,
    sqs_record,
)

SENT_MS = NOW_MS - 1_000


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """The validator's clock reads NOW_MS, so the timestamp window is deterministic."""
    monkeypatch.setattr(app, "now_ms", lambda: NOW_MS)


def forwarded(aws: Aws) -> dict[str, dict[str, Any]]:
    """Records now in the output queue, by id (numbers as Decimal, as the body says them)."""
    bodies = [
        json.loads(m["Body"], parse_float=Decimal, parse_int=Decimal) for m in aws.drain(aws.output_url)
    ]
    return {body["id"]: body for body in bodies}


def rejected(aws: Aws) -> list[dict[str, Any]]:
    """Rejected records now in the rejects queue as {body, reason_code, reason, source_message_id}; a body
    sent in parts is joined again in part order."""
    parts: dict[str, list[tuple[int, str, dict[str, str]]]] = {}
    for message in aws.drain(aws.rejects_url):
        attributes = {name: value["StringValue"] for name, value in message["MessageAttributes"].items()}
        number = int(attributes.pop("body_part", "1/1").split("/")[0])
        parts.setdefault(attributes["source_message_id"], []).append((number, message["Body"], attributes))
    result = []
    for pieces in parts.values():
        pieces.sort(key=lambda piece: piece[0])
        attributes = {k: v for k, v in pieces[0][2].items() if k not in ("body_bytes", "body_sha256")}
        result.append({"body": "".join(body for _, body, _ in pieces), **attributes})
    return result


def nested(depth: int) -> dict[str, Any]:
    """A data object whose containers nest ``depth`` levels, ``data`` itself included."""
    data: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        data = {"next": data}
    return data


def test_full_batch_of_valid_records_is_forwarded_normalized(aws: Aws, lambda_context: FakeContext) -> None:
    records = [
        sqs_record({"id": f"order-{n}", "timestamp": NOW_MS - n, "data": realistic_data(n)})
        for n in range(10)
    ]

    response = app.handler(sqs_event(*records), lambda_context)

    assert response == failures(), "a batch of valid records must report no batch item failures"
    out = forwarded(aws)
    assert sorted(out) == sorted(f"order-{n}" for n in range(10)), "every valid record must be forwarded once"
    for n in range(10):
        assert list(out[f"order-{n}"]) == ["id", "timestamp", "data"], (
            "forwarded body has exactly id, timestamp, data"
        )
        assert out[f"order-{n}"]["timestamp"] == NOW_MS - n, "a given timestamp must be kept"
        assert out[f"order-{n}"]["data"] == json.loads(json.dumps(realistic_data(n)), parse_float=Decimal), (
            "data must be forwarded unchanged"
        )
    assert rejected(aws) == [], "no valid record may go to the rejects queue"


def test_missing_timestamp_is_taken_from_sent_timestamp(aws: Aws, lambda_context: FakeContext) -> None:
    record = sqs_record({"id": "no-ts", "data": {}}, sent_timestamp=SENT_MS)

    response = app.handler(sqs_event(record), lambda_context)

    assert response == failures(), "a record without timestamp is valid"
    assert forwarded(aws)["no-ts"]["timestamp"] == SENT_MS, "the SQS SentTimestamp must become the timestamp"


def test_integral_timestamp_written_as_float_is_normalized_to_integer(
    aws: Aws, lambda_context: FakeContext
) -> None:
    body = '{"id": "float-ts", "timestamp": 1.789e12, "data": {}}'

    response = app.handler(sqs_event(sqs_record(body)), lambda_context)

    assert response == failures(), "a timestamp with no fractional part is an integer"
    assert '"timestamp":1789000000000,' in aws.drain(aws.output_url)[0]["Body"], (
        "the forwarded timestamp must be written as a plain integer"
    )


def test_malformed_json_is_rejected_with_its_original_body(aws: Aws, lambda_context: FakeContext) -> None:
    record = sqs_record('{"id": "x", "data": {', message_id="broken")

    response = app.handler(sqs_event(record), lambda_context)

    assert response == failures(), "a rejected record is acknowledged, not a batch item failure"
    (reject,) = rejected(aws)
    assert reject["body"] == '{"id": "x", "data": {', "the rejects queue must receive the original body"
    assert reject["reason_code"] == "malformed_json", "reason_code must name the broken rule"
    assert "not valid JSON" in reject["reason"], "reason must say what is wrong"
    assert reject["source_message_id"] == "broken", "source_message_id must name the SQS message"
    assert forwarded(aws) == {}, "a rejected record must not be forwarded"


def test_a_reject_carries_the_first_sent_timestamp_for_a_replay_after_a_fix(
    aws: Aws, lambda_context: FakeContext
) -> None:
    """Replayed from the rejects queue (python -m tools redrive), a record without timestamp keeps the key it
    would have had: the SentTimestamp of the producer's message, not the reject's own."""
    fresh = sqs_record('{"id": "x"}', message_id="fresh", sent_timestamp=SENT_MS)
    replayed = sqs_record('{"id": "y"}', message_id="replayed", sent_timestamp=SENT_MS)
    replayed["messageAttributes"] = {"original_sent_timestamp": {"stringValue": "1700000000000",
                                                                 "dataType": "Number"}}

    app.handler(sqs_event(fresh, replayed), lambda_context)

    carried = {r["source_message_id"]: r.get("original_sent_timestamp") for r in rejected(aws)}
    assert carried == {"fresh": str(SENT_MS), "replayed": "1700000000000"}


def test_a_reject_whose_carried_timestamp_is_malformed_carries_none(aws: Aws, lambda_context: FakeContext) -> None:
    record = sqs_record('{"id": "z", "data": {}}', message_id="bad-carry", sent_timestamp=SENT_MS)
    record["messageAttributes"] = {"original_sent_timestamp": {"stringValue": "soon", "dataType": "String"}}

    app.handler(sqs_event(record), lambda_context)

    (reject,) = rejected(aws)
    assert reject["reason_code"] == "invalid_timestamp" and "original_sent_timestamp" not in reject


def _deep_arrays(levels: int) -> str:
    return '{"id": "deep", "data": {"x": ' + "[" * levels + "]" * levels + "}}"


CONTRACT_CASES = [
    ("body is an array", "[1, 2]", "not_an_object"),
    ("body is a string", '"hello"', "not_an_object"),
    ("duplicate key", '{"id": "a", "id": "b", "data": {}}', "duplicate_key"),
    ("duplicate key inside data", '{"id": "a", "data": {"k": 1, "k": 2}}', "duplicate_key"),
    ("unknown field", {"id": "a", "data": {}, "extra": 1}, "unknown_field"),
    ("misspelt field", {"id": "a", "dta": {}}, "unknown_field"),
    ("id missing", {"data": {}}, "missing_id"),
    ("id not a string", {"id": 42, "data": {}}, "invalid_id"),
    ("id empty", {"id": "", "data": {}}, "invalid_id"),
    ("id longer than 512 characters", {"id": "x" * 513, "data": {}}, "invalid_id"),
    ("id with a newline", {"id": "a\nb", "data": {}}, "invalid_id"),
    ("id with NUL", {"id": "a\u0000b", "data": {}}, "invalid_id"),
    ("id with a C1 control character", {"id": "a\u0085b", "data": {}}, "invalid_id"),
    ("id with an unpaired surrogate", '{"id": "a\\ud800", "data": {}}', "invalid_id"),
    ("timestamp a string", {"id": "a", "timestamp": "2026-01-01", "data": {}}, "invalid_timestamp"),
    ("timestamp a boolean", {"id": "a", "timestamp": True, "data": {}}, "invalid_timestamp"),
    ("timestamp null", {"id": "a", "timestamp": None, "data": {}}, "invalid_timestamp"),
    ("timestamp fractional", {"id": "a", "timestamp": NOW_MS + 0.5, "data": {}}, "invalid_timestamp"),
    ("timestamp in seconds", {"id": "a", "timestamp": NOW_MS // 1000, "data": {}}, "invalid_timestamp"),
    (
        "timestamp older than 10 years",
        {"id": "a", "timestamp": NOW_MS - 3654 * 86_400_000, "data": {}},
        "invalid_timestamp",
    ),
    (
        "timestamp over 1 day ahead",
        {"id": "a", "timestamp": NOW_MS + 86_400_001, "data": {}},
        "invalid_timestamp",
    ),
    ("timestamp huge exponent", '{"id": "a", "timestamp": 1e999999, "data": {}}', "invalid_timestamp"),
    ("data missing", {"id": "a"}, "missing_data"),
    ("data an array", {"id": "a", "data": [1]}, "invalid_data"),
    ("data a string", {"id": "a", "data": "{}"}, "invalid_data"),
    ("data null", {"id": "a", "data": None}, "invalid_data"),
    ("data with an empty key", {"id": "a", "data": {"": 1}}, "invalid_data"),
    ("NaN", '{"id": "a", "data": {"x": NaN}}', "unsupported_number"),
    ("Infinity", '{"id": "a", "data": {"x": -Infinity}}', "unsupported_number"),
    (
        "39 significant digits",
        '{"id": "a", "data": {"x": 123456789012345678901234567890123456789}}',
        "unsupported_number",
    ),
    ("above 9.99E+125", '{"id": "a", "data": {"x": 1e126}}', "unsupported_number"),
    ("below 1E-130", '{"id": "a", "data": {"x": [1e-131]}}', "unsupported_number"),
    (
        "38 digits at 1E-130",
        '{"id": "a", "data": {"x": 1.234567890123456789012345678901234567e-130}}',
        "unsupported_number",
    ),
    ("exponent beyond Decimal", '{"id": "a", "data": {"x": 1e99999999999999999999}}', "unsupported_number"),
    ("unpaired surrogate in data", '{"id": "a", "data": {"x": "\\udc00"}}', "invalid_unicode"),
    ("unpaired surrogate in a data key", '{"id": "a", "data": {"\\ud800": 1}}', "invalid_unicode"),
    ("data nested 32 levels", {"id": "a", "data": nested(32)}, "too_deep"),
    ("nesting beyond the JSON parser", _deep_arrays(5_000), "too_deep"),
    ("body over 256 KiB", {"id": "a", "data": {"pad": "x" * MAX_SQS_MESSAGE_BYTES}}, "too_large"),
    ("item over 400 KB in DynamoDB", {"id": "a", "data": {"x": [[]] * 120_000}}, "too_large"),
]


@pytest.mark.parametrize(
    ("body", "reason_code"), [case[1:] for case in CONTRACT_CASES], ids=[case[0] for case in CONTRACT_CASES]
)
def test_record_breaking_one_rule_is_rejected_with_its_reason_code(
    aws: Aws, lambda_context: FakeContext, body: str | dict[str, Any], reason_code: str
) -> None:
    record = sqs_record(body, message_id="bad-record")

    response = app.handler(sqs_event(record), lambda_context)

    assert response == failures(), "a rejected record is acknowledged once the rejects send succeeded"
    (reject,) = rejected(aws)
    assert reject["reason_code"] == reason_code, f"reason_code must be {reason_code}: {reject['reason']}"
    assert reject["body"] == record["body"], "the rejects queue must receive the original body"
    assert reject["source_message_id"] == "bad-record", "source_message_id must name the SQS message"
    assert reject["reason"], "a human-readable reason must accompany the code"
    assert forwarded(aws) == {}, "a rejected record must not be forwarded"


def test_data_nested_31_levels_is_accepted(aws: Aws, lambda_context: FakeContext) -> None:
    response = app.handler(sqs_event(sqs_record({"id": "deep-ok", "data": nested(31)})), lambda_context)

    assert response == failures(), "31 levels is DynamoDB's deepest nesting below the top-level attribute"
    assert "deep-ok" in forwarded(aws), "the record must be forwarded"


def _record_of_normalized_size(size: int) -> dict[str, Any]:
    base = {"id": "edge", "timestamp": NOW_MS, "data": {"pad": ""}}
    overhead = len(json.dumps(base, separators=(",", ":")))
    return {**base, "data": {"pad": "x" * (size - overhead)}}


def test_record_exactly_at_the_size_limit_is_forwarded(aws: Aws, lambda_context: FakeContext) -> None:
    record = _record_of_normalized_size(MAX_RECORD_BYTES)

    compact = json.dumps(record, separators=(",", ":"))
    response = app.handler(sqs_event(sqs_record(compact)), lambda_context)

    assert response == failures(), f"a normalized record of {MAX_RECORD_BYTES} bytes is within the limit"
    (message,) = aws.drain(aws.output_url)
    assert len(message["Body"].encode()) == MAX_RECORD_BYTES, "the forwarded body is exactly at the limit"


def test_record_one_byte_over_the_size_limit_is_rejected(aws: Aws, lambda_context: FakeContext) -> None:
    record = _record_of_normalized_size(MAX_RECORD_BYTES + 1)

    response = app.handler(sqs_event(sqs_record(record)), lambda_context)

    assert response == failures(), "an oversized record is rejected, not failed"
    (reject,) = rejected(aws)
    assert reject["reason_code"] == "too_large", "one byte over the limit must be rejected as too_large"


def test_unicode_id_and_data_are_forwarded_intact(aws: Aws, lambda_context: FakeContext) -> None:
    data = {"名前": "Zoë 🚀", "rtl": "שלום", "combining": "e\u0301", "nonchar": "\uffff", "tab": "a\tb"}
    record = sqs_record({"id": "订单-42-ß-🚀", "data": data})

    response = app.handler(sqs_event(record), lambda_context)

    assert response == failures(), "unicode ids and data are valid"
    (message,) = aws.drain(aws.output_url)
    assert json.loads(message["Body"]) == {"id": "订单-42-ß-🚀", "timestamp": SENT_MS, "data": data}, (
        "unicode text must survive forwarding"
    )
    assert "\uffff" not in message["Body"] and "\\uffff" in message["Body"], (
        "U+FFFF, which SQS refuses raw, must be escaped in the forwarded body"
    )


def test_floats_and_big_integers_keep_every_digit(aws: Aws, lambda_context: FakeContext) -> None:
    body = (
        '{"id": "numbers", "data": {"f": 0.1, "big": 12345678901234567890123456789012345678, '
        '"nested": {"l": [1.250, -3.5e-7, {"e": 9.9999999999999999999999999999999999999E+125}]}, "z": -0}}'
    )

    response = app.handler(sqs_event(sqs_record(body)), lambda_context)

    assert response == failures(), "numbers within DynamoDB's range and precision are valid"
    forwarded_body = aws.drain(aws.output_url)[0]["Body"]
    for literal in (
        "0.1",
        "12345678901234567890123456789012345678",
        "1.250",
        "-3.5E-7",
        "9.9999999999999999999999999999999999999E+125",
    ):
        assert literal in forwarded_body, f"number {literal} must be forwarded with all its digits"


def test_empty_batch_reports_no_failures(aws: Aws, lambda_context: FakeContext) -> None:
    assert app.handler(sqs_event(), lambda_context) == failures(), "an empty batch has nothing to fail"
    assert forwarded(aws) == {} and rejected(aws) == [], "an empty batch sends nothing"


def test_mixed_batch_forwards_valid_and_rejects_invalid(aws: Aws, lambda_context: FakeContext) -> None:
    records = [
        sqs_record({"id": "good-1", "data": {}}, message_id="m1"),
        sqs_record("not json", message_id="m2"),
        sqs_record({"id": "good-2", "data": {"a": 1}}, message_id="m3"),
        sqs_record({"id": "a", "data": {}, "typo": 1}, message_id="m4"),
    ]

    response = app.handler(sqs_event(*records), lambda_context)

    assert response == failures(), "rejected records are acknowledged, valid ones forwarded"
    assert sorted(forwarded(aws)) == ["good-1", "good-2"], "valid records must be forwarded"
    assert sorted(r["source_message_id"] for r in rejected(aws)) == ["m2", "m4"], (
        "invalid records must be rejected"
    )


def test_send_message_batch_partial_failure_returns_exactly_the_failed_records(
    aws: Aws, lambda_context: FakeContext
) -> None:
    clients.set_client("sqs", FailingSqs(aws.sqs, fail_markers=("doomed",)))
    records = [sqs_record({"id": f"rec-{n}", "data": {}}, message_id=f"m{n}") for n in range(10)]
    records[3] = sqs_record({"id": "doomed-3", "data": {}}, message_id="m3")
    records[7] = sqs_record({"id": "doomed-7", "data": {}}, message_id="m7")

    response = app.handler(sqs_event(*records), lambda_context)

    assert response == failures("m3", "m7"), (
        "entries SendMessageBatch reports as Failed are the batch failures"
    )
    assert sorted(forwarded(aws)) == sorted(f"rec-{n}" for n in range(10) if n not in (3, 7)), (
        "the other records must be forwarded"
    )


def test_send_call_raising_fails_exactly_the_records_of_that_call(
    aws: Aws, lambda_context: FakeContext
) -> None:
    fake = FailingSqs(aws.sqs, raise_on_calls=(2,))
    clients.set_client("sqs", fake)
    records = [sqs_record({"id": f"rec-{n}", "data": {}}, message_id=f"m{n}") for n in range(12)]

    response = app.handler(sqs_event(*records), lambda_context)

    assert [len(call) for call in fake.calls] == [10, 2], "records are sent 10 per SendMessageBatch call"
    assert response == failures("m10", "m11"), "only the records of the call that raised are batch failures"
    assert len(forwarded(aws)) == 10, "the records of the call that succeeded are forwarded"


def test_reject_send_failure_makes_the_rejected_record_a_batch_failure(
    aws: Aws, lambda_context: FakeContext
) -> None:
    clients.set_client("sqs", FailingSqs(aws.sqs, fail_markers=("not json",)))
    records = [
        sqs_record("not json", message_id="bad"),
        sqs_record({"id": "ok", "data": {}}, message_id="good"),
    ]

    response = app.handler(sqs_event(*records), lambda_context)

    assert response == failures("bad"), "a reject that could not be sent must be retried, never dropped"
    assert "ok" in forwarded(aws), "the valid record is still forwarded"


def test_oversized_reject_parts_travel_alone_so_a_refusal_fails_only_that_record(
    aws: Aws, lambda_context: FakeContext
) -> None:
    fake = FailingSqs(aws.sqs, raise_on_calls=(2,))
    clients.set_client("sqs", fake)
    huge = json.dumps({"id": "a", "data": {}, "typo": "x" * MAX_SQS_MESSAGE_BYTES})
    records = [
        sqs_record("not json", message_id="small-1"),
        sqs_record(huge, message_id="huge"),
        sqs_record("not json either", message_id="small-2"),
    ]

    response = app.handler(sqs_event(*records), lambda_context)

    assert [len(call) for call in fake.calls] == [1, 1, 2], (
        "the first part of a reject over 256 KiB fills a call alone; its small second part shares the next"
    )
    assert response == failures("huge"), (
        "if SQS refuses the oversized reject, only that record fails (and ends in the ingest DLQ, intact)"
    )
    assert sorted(r["source_message_id"] for r in rejected(aws)) == ["huge", "small-1", "small-2"], (
        "the other rejects are delivered (and the huge record's second part, sent again with the first)"
    )


def test_record_without_timestamp_or_sent_timestamp_is_a_batch_failure(
    aws: Aws, lambda_context: FakeContext
) -> None:
    record = sqs_record({"id": "a", "data": {}}, message_id="no-sent", sent_timestamp=None)

    response = app.handler(sqs_event(record), lambda_context)

    assert response == failures("no-sent"), "without any timestamp the key is unknown: retry, do not reject"
    assert rejected(aws) == [] and forwarded(aws) == {}, "the record is neither rejected nor forwarded"


@pytest.mark.filterwarnings("ignore:No application metrics")
@pytest.mark.parametrize("variable", ["OUTPUT_QUEUE_URL", "REJECTS_QUEUE_URL"])
def test_missing_queue_setting_raises_an_error_naming_it(
    aws: Aws, lambda_context: FakeContext, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.delenv(variable)

    with pytest.raises(ConfigurationError, match=variable):
        app.handler(sqs_event(sqs_record({"id": "a", "data": {}})), lambda_context)
