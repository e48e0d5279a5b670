"""Enricher handler: documented fields added, bad shapes failed (never dropped), partial batch responses."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from handlers.enricher import app
from handlers.shared import clients
from handlers.shared.contract import MAX_RECORD_BYTES, MAX_SQS_MESSAGE_BYTES
from handlers.shared.errors import ConfigurationError
from tests.handlers.conftest import Aws
from tests.handlers.helpers import (
    NOW_MS,
    FailingSqs,
    FakeContext,
    failures,
    logged_reasons,
    normalized,
    realistic_data,
    sqs_event,
    sqs_record,
)

ENRICHED_AT = datetime(2026, 11, 26, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The enricher's clock reads ENRICHED_AT."""
    monkeypatch.setattr(app, "utc_now", lambda: ENRICHED_AT)


def forwarded(aws: Aws) -> dict[str, dict[str, Any]]:
    """Enriched records now in the output queue, by id."""
    bodies = [json.loads(m["Body"], parse_float=Decimal) for m in aws.drain(aws.output_url)]
    return {body["id"]: body for body in bodies}


def compact_size(data: dict[str, Any]) -> int:
    return len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())


def test_full_batch_gets_the_documented_fields(aws: Aws, lambda_context: FakeContext) -> None:
    records = [sqs_record(normalized(f"order-{n}", NOW_MS - n, realistic_data(n))) for n in range(10)]

    response = app.handler(sqs_event(*records), lambda_context)

    assert response == failures(), "a batch of normalized records must report no failures"
    out = forwarded(aws)
    assert sorted(out) == sorted(f"order-{n}" for n in range(10)), "every record must be forwarded once"
    for n in range(10):
        body = out[f"order-{n}"]
        assert list(body) == [
            "id",
            "timestamp",
            "data",
            "enriched_at",
            "pipeline_version",
            "environment",
            "data_size_bytes",
        ], "the enriched record has the record fields then the documented fields"
        assert body["timestamp"] == NOW_MS - n, "timestamp is kept"
        assert body["enriched_at"] == "2026-11-26T12:00:00.123Z", "enriched_at is ISO-8601 UTC with ms"
        assert body["pipeline_version"] == "1.2.3", "pipeline_version comes from PIPELINE_VERSION"
        assert body["environment"] == "test", "environment comes from ENVIRONMENT"
        assert body["data_size_bytes"] == compact_size(realistic_data(n)), (
            "data_size_bytes is the UTF-8 size of the compact JSON of data"
        )


def test_malformed_json_is_a_batch_failure_and_logged(
    aws: Aws, lambda_context: FakeContext, caplog: pytest.LogCaptureFixture
) -> None:
    records = [
        sqs_record("{broken", message_id="bad"),
        sqs_record(normalized("ok", NOW_MS, {}), message_id="good"),
    ]

    response = app.handler(sqs_event(*records), lambda_context)

    assert response == failures("bad"), "a malformed record fails (to the DLQ) while the others go on"
    assert sorted(forwarded(aws)) == ["ok"], "the valid record is forwarded"
    assert logged_reasons(caplog, "bad") == ["malformed_json"], "the failure must be logged with its reason"


SHAPE_CASES = [
    ("not an object", "[]", "not_an_object"),
    ("unknown field", '{"id":"a","timestamp":1,"data":{},"x":1}', "unknown_field"),
    ("id missing", '{"timestamp":1,"data":{}}', "missing_id"),
    ("id not a string", '{"id":1,"timestamp":1,"data":{}}', "invalid_id"),
    ("timestamp missing", '{"id":"a","data":{}}', "missing_timestamp"),
    ("timestamp a string", '{"id":"a","timestamp":"1","data":{}}', "invalid_timestamp"),
    ("data missing", '{"id":"a","timestamp":1}', "missing_data"),
    ("data not an object", '{"id":"a","timestamp":1,"data":[]}', "invalid_data"),
    ("number DynamoDB cannot store", '{"id":"a","timestamp":1,"data":{"x":1e200}}', "unsupported_number"),
    ("data too deep", normalized("a", 1, json.loads('{"a":' * 32 + "1" + "}" * 32)), "too_deep"),
    ("record too large", normalized("a", 1, {"pad": "x" * MAX_RECORD_BYTES}), "too_large"),
]


@pytest.mark.parametrize(
    ("body", "reason_code"), [case[1:] for case in SHAPE_CASES], ids=[case[0] for case in SHAPE_CASES]
)
def test_record_without_the_normalized_shape_is_a_logged_batch_failure(
    aws: Aws, lambda_context: FakeContext, caplog: pytest.LogCaptureFixture, body: str, reason_code: str
) -> None:
    response = app.handler(sqs_event(sqs_record(body, message_id="bad")), lambda_context)

    assert response == failures("bad"), "a record with the wrong shape must fail, never be dropped"
    assert forwarded(aws) == {}, "it must not be forwarded"
    assert logged_reasons(caplog, "bad") == [reason_code], f"the log must say why: {reason_code}"


def test_record_at_the_size_limit_still_fits_sqs_once_enriched(aws: Aws, lambda_context: FakeContext) -> None:
    overhead = len(normalized("edge", NOW_MS, {"pad": ""}))
    body = normalized("edge", NOW_MS, {"pad": "x" * (MAX_RECORD_BYTES - overhead)})
    assert len(body) == MAX_RECORD_BYTES

    response = app.handler(sqs_event(sqs_record(body)), lambda_context)

    assert response == failures(), "the largest record the validator forwards must be enriched"
    (message,) = aws.drain(aws.output_url)
    assert len(message["Body"].encode()) <= MAX_SQS_MESSAGE_BYTES, "the enriched record must still fit SQS"


def test_record_over_the_size_limit_is_a_batch_failure(aws: Aws, lambda_context: FakeContext) -> None:
    overhead = len(normalized("edge", NOW_MS, {"pad": ""}))
    body = normalized("edge", NOW_MS, {"pad": "x" * (MAX_RECORD_BYTES - overhead + 1)})

    response = app.handler(sqs_event(sqs_record(body, message_id="big")), lambda_context)

    assert response == failures("big"), "a record over the limit cannot have come from the validator"


def test_unicode_id_and_data_are_kept_and_sized_in_utf8(aws: Aws, lambda_context: FakeContext) -> None:
    data = {"名前": "Zoë 🚀", "rtl": "שלום"}
    body = json.dumps({"id": "订单-🚀", "timestamp": NOW_MS, "data": data}, ensure_ascii=True)

    response = app.handler(sqs_event(sqs_record(body)), lambda_context)

    assert response == failures(), "unicode records are valid"
    out = forwarded(aws)["订单-🚀"]
    assert out["data"] == data, "unicode data must be forwarded intact"
    assert out["data_size_bytes"] == compact_size(data), "data_size_bytes counts UTF-8 bytes, not characters"


def test_floats_and_big_integers_keep_every_digit(aws: Aws, lambda_context: FakeContext) -> None:
    body = (
        '{"id":"n","timestamp":1,"data":{"f":0.10,"big":12345678901234567890123456789012345678,"e":-3.5E-7}}'
    )

    response = app.handler(sqs_event(sqs_record(body)), lambda_context)

    assert response == failures(), "storable numbers are valid"
    text = aws.drain(aws.output_url)[0]["Body"]
    assert '"data":{"f":0.10,"big":12345678901234567890123456789012345678,"e":-3.5E-7}' in text, (
        "numbers must be forwarded with all their digits"
    )


def test_empty_batch_reports_no_failures(aws: Aws, lambda_context: FakeContext) -> None:
    assert app.handler(sqs_event(), lambda_context) == failures(), "an empty batch has nothing to fail"
    assert forwarded(aws) == {}, "an empty batch sends nothing"


def test_send_message_batch_partial_failure_returns_exactly_the_failed_records(
    aws: Aws, lambda_context: FakeContext
) -> None:
    clients.set_client("sqs", FailingSqs(aws.sqs, fail_markers=('"doomed-',)))
    ids = ["doomed-0" if n in (0, 9) else f"rec-{n}" for n in range(10)]
    records = [
        sqs_record(normalized(record_id, NOW_MS, {}), message_id=f"m{n}") for n, record_id in enumerate(ids)
    ]

    response = app.handler(sqs_event(*records), lambda_context)

    assert response == failures("m0", "m9"), (
        "entries SendMessageBatch reports as Failed are the batch failures"
    )
    assert sorted(forwarded(aws)) == sorted(f"rec-{n}" for n in range(1, 9)), "the others are forwarded"


def test_send_call_raising_fails_every_record_of_the_call(aws: Aws, lambda_context: FakeContext) -> None:
    clients.set_client("sqs", FailingSqs(aws.sqs, raise_on_calls=(1,)))
    records = [sqs_record(normalized(f"rec-{n}", NOW_MS, {}), message_id=f"m{n}") for n in range(3)]

    response = app.handler(sqs_event(*records), lambda_context)

    assert response == failures("m0", "m1", "m2"), "a call that raised fails exactly its records"


@pytest.mark.filterwarnings("ignore:No application metrics")
@pytest.mark.parametrize("variable", ["OUTPUT_QUEUE_URL", "PIPELINE_VERSION", "ENVIRONMENT"])
def test_missing_setting_raises_an_error_naming_it(
    aws: Aws, lambda_context: FakeContext, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.delenv(variable)

    with pytest.raises(ConfigurationError, match=variable):
        app.handler(sqs_event(sqs_record(normalized("a", NOW_MS, {}))), lambda_context)


@pytest.mark.filterwarnings("ignore:No application metrics")
def test_pipeline_version_longer_than_its_reserve_is_a_configuration_error(
    aws: Aws, lambda_context: FakeContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIPELINE_VERSION", "v" * 65)

    with pytest.raises(ConfigurationError, match="PIPELINE_VERSION"):
        app.handler(sqs_event(sqs_record(normalized("a", NOW_MS, {}))), lambda_context)


def test_entry_answered_neither_successful_nor_failed_is_a_batch_failure(
    aws: Aws, lambda_context: FakeContext
) -> None:
    # SQS should answer every entry; one it leaves out may not have been sent, so its record is retried.
    clients.set_client("sqs", FailingSqs(aws.sqs, omit_markers=('"lost-',)))
    ids = ["rec-0", "lost-1", "rec-2"]
    records = [sqs_record(normalized(record_id, NOW_MS, {}), message_id=f"m{n}") for n, record_id in enumerate(ids)]

    response = app.handler(sqs_event(*records), lambda_context)

    assert response == failures("m1"), "the entry without an answer is retried, the others are not"


def test_failed_entry_with_an_id_not_in_the_request_fails_no_record(aws: Aws, lambda_context: FakeContext) -> None:
    clients.set_client("sqs", FailingSqs(aws.sqs, foreign_failures=("99", "x")))
    records = [sqs_record(normalized(f"rec-{n}", NOW_MS, {}), message_id=f"m{n}") for n in range(3)]

    response = app.handler(sqs_event(*records), lambda_context)

    assert response == failures(), "an answer about an entry we did not send changes no record's outcome"
    assert sorted(forwarded(aws)) == ["rec-0", "rec-1", "rec-2"]
