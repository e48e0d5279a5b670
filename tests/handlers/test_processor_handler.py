"""Processor handler: idempotent BatchWriteItem, retries within the remaining time, isolation of bad items."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from handlers.processor import app
from handlers.shared import clients
from handlers.shared.backoff import Backoff
from handlers.shared.contract import MAX_RECORD_BYTES
from handlers.shared.errors import ConfigurationError
from tests.handlers.conftest import Aws
from tests.handlers.helpers import (
    DROP,
    NOW_MS,
    FakeContext,
    FlakyDynamo,
    TimedSleep,
    enriched,
    failures,
    logged_reasons,
    realistic_data,
    sqs_event,
    sqs_record,
)


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch, lambda_context: FakeContext) -> TimedSleep:
    """Millisecond backoff whose sleeps are recorded and taken off the fake context's remaining time."""
    sleep = TimedSleep(lambda_context)
    monkeypatch.setattr(
        app, "BACKOFF", Backoff(base_delay=0.001, max_delay=0.008, safety_margin_ms=500, sleep=sleep)
    )
    return sleep


def stored(aws: Aws) -> dict[tuple[str, int], dict[str, Any]]:
    """Items in the table by (id, timestamp)."""
    return {(item["id"], int(item["timestamp"])): item for item in aws.items()}


def test_full_batch_is_stored_with_data_as_a_native_map(aws: Aws, lambda_context: FakeContext) -> None:
    records = [sqs_record(enriched(f"order-{n}", NOW_MS - n, realistic_data(n))) for n in range(10)]

    response = app.handler(sqs_event(*records), lambda_context)

    assert response == failures(), "a batch of enriched records must report no failures"
    items = stored(aws)
    assert sorted(items) == sorted((f"order-{n}", NOW_MS - n) for n in range(10)), "one item per record"
    item = items[("order-3", NOW_MS - 3)]
    assert item["data"] == json.loads(
        json.dumps(realistic_data(3)), parse_float=Decimal, parse_int=Decimal
    ), "data must be stored as a native map equal to the record's data"
    assert item["enriched_at"] == "2026-11-26T12:00:00.000Z", "enrichment fields are stored"
    assert item["pipeline_version"] == "1.2.3" and item["environment"] == "test", (
        "enrichment fields are stored"
    )
    raw = aws.dynamodb.get_item(
        TableName=aws.table_name, Key={"id": {"S": "order-3"}, "timestamp": {"N": str(NOW_MS - 3)}}
    )
    assert "M" in raw["Item"]["data"], "data must be a DynamoDB map (M), not a JSON string"


def test_malformed_json_is_a_batch_failure_and_the_rest_is_stored(
    aws: Aws, lambda_context: FakeContext, caplog: pytest.LogCaptureFixture
) -> None:
    records = [
        sqs_record("{oops", message_id="bad"),
        sqs_record(enriched("ok", NOW_MS, {}), message_id="good"),
    ]

    response = app.handler(sqs_event(*records), lambda_context)

    assert response == failures("bad"), "a malformed record fails while the others are stored"
    assert list(stored(aws)) == [("ok", NOW_MS)], "the valid record is stored"
    assert logged_reasons(caplog, "bad") == ["malformed_json"], "the failure must be logged with its reason"


SHAPE_CASES = [
    ("not an object", "[]", "not_an_object"),
    ("unknown field", enriched("a", 1, {}, extra=1), "unknown_field"),
    ("id missing", enriched("a", 1, {}, id=DROP), "missing_id"),
    ("id empty", enriched("", 1, {}), "invalid_id"),
    ("timestamp missing", enriched("a", 1, {}, timestamp=DROP), "missing_timestamp"),
    ("timestamp fractional", enriched("a", 1, {}, timestamp=1.5), "invalid_timestamp"),
    ("data missing", enriched("a", 1, {}, data=DROP), "missing_data"),
    ("data not an object", enriched("a", 1, {}, data="x"), "invalid_data"),
    ("number DynamoDB cannot store", '{"id":"a","timestamp":1,"data":{"x":1e-200}}', "unsupported_number"),
    ("enriched_at missing", enriched("a", 1, {}, enriched_at=DROP), "invalid_enrichment"),
    ("pipeline_version not a string", enriched("a", 1, {}, pipeline_version=3), "invalid_enrichment"),
    ("environment empty", enriched("a", 1, {}, environment=""), "invalid_enrichment"),
    ("data_size_bytes negative", enriched("a", 1, {}, data_size_bytes=-1), "invalid_enrichment"),
    ("item over 400 KB in DynamoDB", enriched("a", 1, {"x": [[]] * 120_000}), "too_large"),
]


@pytest.mark.parametrize(
    ("body", "reason_code"), [case[1:] for case in SHAPE_CASES], ids=[case[0] for case in SHAPE_CASES]
)
def test_record_without_the_enriched_shape_is_a_logged_batch_failure(
    aws: Aws, lambda_context: FakeContext, caplog: pytest.LogCaptureFixture, body: str, reason_code: str
) -> None:
    response = app.handler(sqs_event(sqs_record(body, message_id="bad")), lambda_context)

    assert response == failures("bad"), "a record with the wrong shape must fail, never be dropped"
    assert stored(aws) == {}, "nothing is stored"
    assert logged_reasons(caplog, "bad") == [reason_code], f"the log must say why: {reason_code}"


def test_record_at_the_size_limit_is_stored(aws: Aws, lambda_context: FakeContext) -> None:
    overhead = len(
        json.dumps({"id": "edge", "timestamp": NOW_MS, "data": {"pad": ""}}, separators=(",", ":"))
    )
    data = {"pad": "x" * (MAX_RECORD_BYTES - overhead)}

    response = app.handler(sqs_event(sqs_record(enriched("edge", NOW_MS, data))), lambda_context)

    assert response == failures(), "the largest record the validator forwards must be storable"
    assert stored(aws)[("edge", NOW_MS)]["data"] == data, "the whole record is stored"


def test_unicode_id_and_data_are_stored_intact(aws: Aws, lambda_context: FakeContext) -> None:
    data = {"名前": "Zoë 🚀", "rtl": "שלום", "nonchar": "\uffff"}

    response = app.handler(sqs_event(sqs_record(enriched("订单-🚀", NOW_MS, data))), lambda_context)

    assert response == failures(), "unicode records are valid"
    assert stored(aws)[("订单-🚀", NOW_MS)]["data"] == data, "unicode id and data must be stored intact"


def test_floats_and_big_integers_are_stored_exactly(aws: Aws, lambda_context: FakeContext) -> None:
    body = (
        '{"id":"n","timestamp":1,"data":{"f":0.1,"big":12345678901234567890123456789012345678,'
        '"trailing":1000000000000000000000000000000000000000000,"l":[1.250,-3.5E-7,{"e":9.99E+125}]},'
        '"enriched_at":"2026-11-26T12:00:00.000Z","pipeline_version":"1","environment":"t","data_size_bytes":1}'
    )

    response = app.handler(sqs_event(sqs_record(body)), lambda_context)

    assert response == failures(), "storable numbers are stored"
    data = stored(aws)[("n", 1)]["data"]
    assert data["f"] == Decimal("0.1"), "a float is stored exactly, not as a binary approximation"
    assert data["big"] == Decimal("12345678901234567890123456789012345678"), (
        "38-digit integers keep every digit"
    )
    assert data["trailing"] == Decimal("1E+42"), "trailing zeros do not count against the 38 digits"
    assert data["l"] == [Decimal("1.25"), Decimal("-3.5E-7"), {"e": Decimal("9.99E+125")}], "nested numbers"


def test_empty_batch_reports_no_failures(aws: Aws, lambda_context: FakeContext) -> None:
    assert app.handler(sqs_event(), lambda_context) == failures(), "an empty batch has nothing to fail"


def test_same_record_delivered_twice_in_a_batch_gives_one_item(aws: Aws, lambda_context: FakeContext) -> None:
    fake = FlakyDynamo(aws.dynamodb)
    clients.set_client("dynamodb", fake)
    body = enriched("dup", NOW_MS, {"v": 1})
    records = [sqs_record(body, message_id="first"), sqs_record(body, message_id="second")]

    response = app.handler(sqs_event(*records), lambda_context)

    assert response == failures(), "duplicates must not break BatchWriteItem"
    assert fake.batch_calls == [["dup"]], "the key is written once per request"
    assert list(stored(aws)) == [("dup", NOW_MS)], "the same record twice gives one item"


def test_records_sharing_a_key_store_the_last_one(aws: Aws, lambda_context: FakeContext) -> None:
    records = [
        sqs_record(enriched("k", NOW_MS, {"version": 1}), message_id="older"),
        sqs_record(enriched("other", NOW_MS, {}), message_id="other"),
        sqs_record(enriched("k", NOW_MS, {"version": 2}), message_id="newer"),
    ]

    response = app.handler(sqs_event(*records), lambda_context)

    assert response == failures(), "records sharing a key both succeed"
    assert stored(aws)[("k", NOW_MS)]["data"] == {"version": 2}, "the last record with the key wins"


def test_redelivery_in_a_later_batch_overwrites_the_same_item(aws: Aws, lambda_context: FakeContext) -> None:
    body = enriched("again", NOW_MS, {"v": 1})

    first = app.handler(sqs_event(sqs_record(body, message_id="d1")), lambda_context)
    second = app.handler(sqs_event(sqs_record(body, message_id="d2")), lambda_context)

    assert first == failures() and second == failures(), "a redelivered record is stored again without error"
    assert list(stored(aws)) == [("again", NOW_MS)], "the key is deterministic: still one item"


def test_records_sharing_a_key_fail_together(aws: Aws, lambda_context: FakeContext) -> None:
    clients.set_client("dynamodb", FlakyDynamo(aws.dynamodb, always_unprocessed=frozenset({"k"})))
    records = [
        sqs_record(enriched("k", NOW_MS, {"v": 1}), message_id="a"),
        sqs_record(enriched("fine", NOW_MS, {}), message_id="b"),
        sqs_record(enriched("k", NOW_MS, {"v": 2}), message_id="c"),
    ]

    response = app.handler(sqs_event(*records), lambda_context)

    assert response == failures("a", "c"), "both messages of an unstored key are batch failures"
    assert list(stored(aws)) == [("fine", NOW_MS)], "the other record is stored"


def test_unprocessed_items_are_retried_until_stored(
    aws: Aws, lambda_context: FakeContext, fast_backoff: TimedSleep
) -> None:
    fake = FlakyDynamo(aws.dynamodb, unprocessed_once=frozenset({"r1", "r4"}))
    clients.set_client("dynamodb", fake)
    records = [sqs_record(enriched(f"r{n}", NOW_MS, {}), message_id=f"m{n}") for n in range(6)]

    response = app.handler(sqs_event(*records), lambda_context)

    assert response == failures(), "items unprocessed once are stored by the retry"
    assert fake.batch_calls == [[f"r{n}" for n in range(6)], ["r1", "r4"]], (
        "only unprocessed items are resent"
    )
    assert len(fast_backoff.pauses) == 1, "one backoff pause before the retry"
    assert len(stored(aws)) == 6, "every record is stored"


def test_throttling_that_clears_is_retried_with_backoff(
    aws: Aws, lambda_context: FakeContext, fast_backoff: TimedSleep
) -> None:
    fake = FlakyDynamo(aws.dynamodb, throttle_calls=2)
    clients.set_client("dynamodb", fake)
    records = [sqs_record(enriched(f"r{n}", NOW_MS, {}), message_id=f"m{n}") for n in range(3)]

    response = app.handler(sqs_event(*records), lambda_context)

    assert response == failures(), "throttling that clears loses nothing"
    assert len(fake.batch_calls) == 3, "two throttled calls, then the one that succeeds"
    assert len(fast_backoff.pauses) == 2, "a backoff pause after each throttled call"
    assert len(stored(aws)) == 3, "every record is stored"


def test_network_error_is_retried(aws: Aws, lambda_context: FakeContext) -> None:
    class DropsFirstCall(FlakyDynamo):
        def batch_write_item(self, *, RequestItems: dict[str, Any]) -> dict[str, Any]:
            if not self.batch_calls:
                self.batch_calls.append([])
                raise EndpointConnectionError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com")
            return super().batch_write_item(RequestItems=RequestItems)

    clients.set_client("dynamodb", DropsFirstCall(aws.dynamodb))

    response = app.handler(sqs_event(sqs_record(enriched("net", NOW_MS, {}))), lambda_context)

    assert response == failures(), "a connection error is transient and retried"
    assert list(stored(aws)) == [("net", NOW_MS)], "the record is stored by the retry"


def test_write_that_keeps_failing_fails_exactly_its_records_within_the_time_left(
    aws: Aws, lambda_context: FakeContext, fast_backoff: TimedSleep
) -> None:
    # 100 ms above the 500 ms safety margin plus the 24 s a call can take at worst (3 x (2 + 5) s + 1 + 2 s)
    lambda_context.remaining_ms = 24_600
    clients.set_client("dynamodb", FlakyDynamo(aws.dynamodb, always_unprocessed=frozenset({"r2", "r7"})))
    records = [sqs_record(enriched(f"r{n}", NOW_MS, {}), message_id=f"m{n}") for n in range(10)]

    response = app.handler(sqs_event(*records), lambda_context)

    assert response == failures("m2", "m7"), "only the records that could not be stored are batch failures"
    assert sorted(stored(aws)) == sorted((f"r{n}", NOW_MS) for n in range(10) if n not in (2, 7)), (
        "the others are stored"
    )
    assert sum(fast_backoff.pauses) * 1000 <= 100, "backoff never sleeps into the safety margin"
    assert lambda_context.remaining_ms > 24_500, "the handler keeps the margin and one worst-case call"


def test_throttling_that_never_clears_fails_the_batch_records_without_raising(
    aws: Aws, lambda_context: FakeContext, fast_backoff: TimedSleep
) -> None:
    lambda_context.remaining_ms = 24_520
    clients.set_client("dynamodb", FlakyDynamo(aws.dynamodb, throttle_calls=10_000))
    records = [sqs_record(enriched(f"r{n}", NOW_MS, {}), message_id=f"m{n}") for n in range(3)]

    response = app.handler(sqs_event(*records), lambda_context)

    assert response == failures("m0", "m1", "m2"), "records still throttled when time runs out are failures"


def test_item_dynamodb_refuses_is_isolated_and_only_it_fails(aws: Aws, lambda_context: FakeContext) -> None:
    fake = FlakyDynamo(aws.dynamodb, invalid_ids=frozenset({"poison"}))
    clients.set_client("dynamodb", fake)
    ids = ["r0", "r1", "poison", "r3"]
    records = [
        sqs_record(enriched(record_id, NOW_MS, {}), message_id=f"m{n}") for n, record_id in enumerate(ids)
    ]

    response = app.handler(sqs_event(*records), lambda_context)

    assert response == failures("m2"), "a ValidationException fails only the item that caused it"
    assert sorted(fake.put_calls) == sorted(ids), "the refused batch is retried item by item"
    assert sorted(stored(aws)) == [("r0", NOW_MS), ("r1", NOW_MS), ("r3", NOW_MS)], (
        "the other items are stored"
    )


def test_missing_table_fails_every_record_without_raising(
    aws: Aws, lambda_context: FakeContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TABLE_NAME", "no-such-table")
    records = [sqs_record(enriched(f"r{n}", NOW_MS, {}), message_id=f"m{n}") for n in range(2)]

    response = app.handler(sqs_event(*records), lambda_context)

    assert response == failures("m0", "m1"), (
        "ResourceNotFoundException fails the records, which SQS redelivers"
    )


@pytest.mark.filterwarnings("ignore:No application metrics")
def test_missing_table_setting_raises_an_error_naming_it(
    aws: Aws, lambda_context: FakeContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TABLE_NAME")

    with pytest.raises(ConfigurationError, match="TABLE_NAME"):
        app.handler(sqs_event(sqs_record(enriched("a", NOW_MS, {}))), lambda_context)


def test_metrics_are_emitted_as_emf_in_the_pipeline_namespace(
    aws: Aws, lambda_context: FakeContext, capsys: pytest.CaptureFixture[str]
) -> None:
    body = enriched("m", NOW_MS, {})

    app.handler(sqs_event(sqs_record(body), sqs_record(body)), lambda_context)

    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    batch_blob = next(blob for blob in blobs if "ItemsWritten" in blob)
    assert batch_blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "TapPipeline", (
        "namespace of the pipeline"
    )
    assert (
        batch_blob["RecordsReceived"],
        batch_blob["ItemsWritten"],
        batch_blob["DuplicateKeysInBatch"],
    ) == (
        [2.0],
        [1.0],
        [1.0],
    ), "two records sharing a key: one item written, one duplicate counted"


@pytest.mark.parametrize(
    ("pad_bytes", "expected_calls"),
    [
        (1_000, [10]),  # small items share one call
        (150_000, [2, 2, 2, 2, 2]),  # two ~150 KB items fit the 400,000 estimated bytes of a call
        (210_000, [1] * 10),  # two would exceed it: each travels alone
    ],
)
def test_calls_carry_at_most_one_item_limit_of_estimated_bytes(
    aws: Aws, lambda_context: FakeContext, pad_bytes: int, expected_calls: list[int]
) -> None:
    fake = FlakyDynamo(aws.dynamodb)
    clients.set_client("dynamodb", fake)
    records = [
        sqs_record(enriched(f"r{n}", NOW_MS, {"pad": "x" * pad_bytes}), message_id=f"m{n}") for n in range(10)
    ]

    response = app.handler(sqs_event(*records), lambda_context)

    assert response == failures(), "every item is stored"
    assert [len(ids) for ids in fake.batch_calls] == expected_calls, "items grouped by estimated size"
    assert sorted(i for ids in fake.batch_calls for i in ids) == sorted(f"r{n}" for n in range(10)), "once each"


def test_unprocessed_key_not_in_the_request_retries_the_whole_chunk_and_drops_nothing(
    aws: Aws, lambda_context: FakeContext, fast_backoff: TimedSleep
) -> None:
    # DynamoDB should never answer with a key it was not sent; if it does, nobody can tell which items were
    # stored, so every item of the call is written again (idempotent: the key decides the item).
    fake = FlakyDynamo(aws.dynamodb, foreign_unprocessed_once=True)
    clients.set_client("dynamodb", fake)
    records = [sqs_record(enriched(f"r{n}", NOW_MS, {}), message_id=f"m{n}") for n in range(3)]

    response = app.handler(sqs_event(*records), lambda_context)

    assert response == failures(), "nothing fails: the retry stores every item"
    assert fake.batch_calls == [["r0", "r1", "r2"], ["r0", "r1", "r2"]], "the whole chunk is sent again"
    assert sorted(stored(aws)) == [(f"r{n}", NOW_MS) for n in range(3)]
    assert ("never-sent", 1) not in stored(aws)


def test_unprocessed_key_not_in_the_request_next_to_known_ones_keeps_them_pending(
    aws: Aws, lambda_context: FakeContext, fast_backoff: TimedSleep
) -> None:
    fake = FlakyDynamo(aws.dynamodb, unprocessed_once=frozenset({"r1"}), foreign_unprocessed_once=True)
    clients.set_client("dynamodb", fake)
    records = [sqs_record(enriched(f"r{n}", NOW_MS, {}), message_id=f"m{n}") for n in range(3)]

    response = app.handler(sqs_event(*records), lambda_context)

    assert response == failures(), "the known unprocessed item is not dropped"
    assert fake.batch_calls == [["r0", "r1", "r2"], ["r0", "r1", "r2"]]
    assert sorted(stored(aws)) == [(f"r{n}", NOW_MS) for n in range(3)]
