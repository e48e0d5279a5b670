"""The contract's refusals word for word (each tells the producer what is wrong), its numeric limits on
both sides, and the item-size estimate pinned on small inputs (DynamoDB developer guide, "Item sizes":
3 bytes per map or list, 1 per element, keys and strings by UTF-8 length, numbers 1 byte per 2 digits + 1,
booleans and nulls 1)."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from handlers.shared import contract
from handlers.shared.errors import ContractViolation, Reason

ENRICHED = {"enriched_at": "2026-11-26T12:00:00.000Z", "pipeline_version": "1.2.3", "environment": "test",
            "data_size_bytes": 2}
ALLOWED = "allowed: id, timestamp, data"


def refusal(check: Callable[[], Any]) -> tuple[Reason, str]:
    with pytest.raises(ContractViolation) as raised:
        check()
    return raised.value.code, raised.value.message


def record_body(**fields: Any) -> str:
    return json.dumps({"id": "r", "timestamp": 1_700_000_000_000, "data": {}, **fields})


def enriched_body(**fields: Any) -> str:
    return json.dumps({"id": "r", "timestamp": 1_700_000_000_000, "data": {}, **ENRICHED, **fields})


def test_a_body_without_timestamp_or_sent_timestamp_is_an_event_problem() -> None:
    with pytest.raises(LookupError) as raised:
        contract.validate_body('{"id": "r", "data": {}}', default_timestamp=None, now_ms=1_700_000_000_000)

    assert str(raised.value) == "record has no timestamp and the SQS attribute SentTimestamp is missing"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[1]", (Reason.NOT_AN_OBJECT, "body must be a JSON object, not an array")),
        ('{"timestamp": 1, "data": {}}', (Reason.MISSING_ID, "field 'id' is required")),
        ('{"id": {}, "timestamp": 1, "data": {}}', (Reason.INVALID_ID, "id must be a string, not an object")),
        ('{"id": "a\\u0007", "timestamp": 1, "data": {}}',
         (Reason.INVALID_ID, "id contains a control character or an unpaired surrogate")),
        ('{"id": "r", "timestamp": 1}', (Reason.MISSING_DATA, "field 'data' is required")),
        ('{"id": "r", "data": {}}', (Reason.MISSING_TIMESTAMP, "field 'timestamp' is required after validation")),
        ('{"id": "r", "timestamp": 1.5, "data": {}}', (Reason.INVALID_TIMESTAMP, "timestamp must be an integer")),
        ('{"id": "r", "timestamp": 1000000000000000001, "data": {}}',
         (Reason.INVALID_TIMESTAMP, "timestamp is out of range")),
        ('{"id": "r", "timestamp": -1000000000000000001, "data": {}}',
         (Reason.INVALID_TIMESTAMP, "timestamp is out of range")),
    ],
)
def test_a_normalized_record_is_refused_with_what_is_wrong(body: str, expected: tuple[Reason, str]) -> None:
    assert refusal(lambda: contract.parse_record(body)) == expected


@pytest.mark.parametrize("timestamp", [10**18, -(10**18)])
def test_a_normalized_timestamp_of_exactly_ten_to_the_18_is_accepted(timestamp: int) -> None:
    assert contract.parse_record(record_body(timestamp=timestamp)).timestamp == timestamp


@pytest.mark.parametrize(
    ("unknown", "positions"), [(5, "1, 2, 3, 4, 5"), (6, "1, 2, 3, 4, 5, ...")]
)
def test_unknown_fields_are_listed_by_position_five_at_most(unknown: int, positions: str) -> None:
    obj: dict[str, Any] = {"id": "r"}
    obj.update({f"x{n}": n for n in range(unknown)})
    obj.update(timestamp=1, data={})

    assert refusal(lambda: contract.parse_record(json.dumps(obj))) == (
        Reason.UNKNOWN_FIELD,
        f"{unknown} unknown top-level field(s), at 0-based position(s) {positions}; {ALLOWED}",
    )


def test_a_normalized_record_over_the_limit_says_its_size_and_the_rule() -> None:
    body = record_body(data={"pad": "x" * contract.MAX_RECORD_BYTES})
    size = len(body.replace(" ", "").encode())

    assert refusal(lambda: contract.parse_record(body)) == (
        Reason.TOO_LARGE,
        f"normalized record is {size} bytes; the limit is 261632 bytes: SQS's 262144 less 512 kept for the "
        "fields the enricher adds",
    )


def test_a_missing_enrichment_field_is_named() -> None:
    body = json.dumps({"id": "r", "timestamp": 1, "data": {}, **{k: v for k, v in ENRICHED.items()
                                                               if k != "environment"}})

    assert refusal(lambda: contract.parse_enriched(body)) == (
        Reason.INVALID_ENRICHMENT, "field 'environment' is missing"
    )


def test_an_enrichment_text_of_exactly_64_bytes_is_accepted_and_65_refused() -> None:
    assert contract.parse_enriched(enriched_body(environment="\u00e9" * 32)).environment == "\u00e9" * 32
    assert refusal(lambda: contract.parse_enriched(enriched_body(environment="\u00e9" * 32 + "x"))) == (
        Reason.INVALID_ENRICHMENT, "field 'environment' must be a string of 1 to 64 bytes"
    )


@pytest.mark.parametrize("size", [0, 10**9])
def test_data_size_bytes_from_0_to_a_billion_is_accepted(size: int) -> None:
    assert contract.parse_enriched(enriched_body(data_size_bytes=size)).data_size_bytes == size


@pytest.mark.parametrize("size", [-1, 10**9 + 1, 1.5, "2"])
def test_other_data_size_bytes_are_refused(size: Any) -> None:
    assert refusal(lambda: contract.parse_enriched(enriched_body(data_size_bytes=size))) == (
        Reason.INVALID_ENRICHMENT, "field 'data_size_bytes' must be a whole number"
    )


def test_an_enriched_item_over_dynamodbs_limit_is_refused() -> None:
    body = enriched_body(data={"pad": "x" * 400_000})

    assert refusal(lambda: contract.parse_enriched(body)) == (
        Reason.TOO_LARGE, "item would exceed DynamoDB's 400000 bytes"
    )


@pytest.mark.parametrize(
    ("data", "size"),
    [
        ({}, 3),
        ({"ab": "xyz"}, 3 + 1 + 2 + 3),
        ({"a": True, "b": None}, 3 + 2 + 1 + 1 + 1 + 1),
        ({"a": Decimal("12345")}, 3 + 1 + 1 + 4),
        ({"a": [Decimal("1"), "\u00e9"]}, 3 + 1 + 1 + 3 + 2 + 2 + 2),
    ],
)
def test_the_item_size_estimate_of_small_data(data: dict[str, Any], size: int) -> None:
    assert contract.check_data(data) == size


@pytest.mark.parametrize(("number", "size"), [("1", 2), ("12", 2), ("123", 3), ("1234", 3), ("12345", 4)])
def test_a_number_takes_one_byte_per_two_digits_plus_one(number: str, size: int) -> None:
    assert contract.number_size(Decimal(number)) == size


@pytest.mark.parametrize(("number", "stored"), [("123", "123"), ("1.2300", "1.23"), ("-0.0500", "-0.05")])
def test_a_number_is_stored_with_its_digits_and_no_trailing_zeros(number: str, stored: str) -> None:
    assert str(contract.dynamodb_number(Decimal(number))) == str(Decimal(stored))


def test_a_non_finite_number_is_refused_by_where_it_is() -> None:
    assert refusal(lambda: contract.dynamodb_number(Decimal("NaN"))) == (
        Reason.UNSUPPORTED_NUMBER, "a number is not a number DynamoDB can store"
    )


def test_a_value_json_cannot_hold_is_refused_by_its_path() -> None:
    assert refusal(lambda: contract.check_data({"a": 1, "b": [None, 1.5]})) == (
        Reason.INVALID_DATA, "data[1][1] holds an unsupported float"
    )


def test_lists_count_towards_the_depth_limit() -> None:
    deepest: Any = []
    for _ in range(29):
        deepest = [deepest]
    # data is level 1, so 30 nested lists reach level 31, the deepest allowed.
    assert contract.check_data({"a": deepest}) == 3 + 1 + 1 + 4 * 29 + 3

    assert refusal(lambda: contract.check_data({"a": [deepest]})) == (
        Reason.TOO_DEEP, "data" + "[0]" * 31 + " nests objects/arrays deeper than 31 levels"
    )


def test_too_many_values_says_how_to_send_larger_payloads() -> None:
    assert refusal(lambda: contract.check_data({"a": [None] * 10_001})) == (
        Reason.TOO_MANY_VALUES,
        "data holds more than 10000 values (numbers, strings, booleans, nulls at any depth); store larger "
        "payloads in S3 and send a pointer",
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"a\ud800": 1}, "the key at data[0] (2 characters) contains an unpaired surrogate"),
        ({"a": [1, "\ud800x"]}, "the string at data[0][1] (2 characters) contains an unpaired surrogate"),
    ],
)
def test_an_unpaired_surrogate_is_refused_by_what_and_where_it_is(data: dict[str, Any], message: str) -> None:
    assert refusal(lambda: contract.check_data(data)) == (Reason.INVALID_UNICODE, message)


def test_a_number_dynamodb_cannot_keep_is_refused_by_its_path() -> None:
    assert refusal(lambda: contract.check_data({"a": 1, "b": Decimal("1" * 39)})) == (
        Reason.UNSUPPORTED_NUMBER, "data[1] has 39 significant digits; DynamoDB keeps 38"
    )


def test_a_key_of_exactly_65535_bytes_is_accepted() -> None:
    assert contract.check_data({"k" * 65_535: None}) == 3 + 1 + 65_535 + 1


def test_the_stored_item_size_counts_names_and_values() -> None:
    enriched = contract.EnrichedRecord(contract.Record("r", 1, {}), "t", "v", "e", 2)
    # id 2+1, timestamp 9+2, data 4+3, enriched_at 11+1, pipeline_version 16+1, environment 11+1,
    # data_size_bytes 15+2.
    assert contract.item_size(enriched) == 79
    assert contract.item_size(enriched, 100) == 79 - 3 + 100, "a given data estimate replaces data's"


def deep_lists(chains: int, pad: int) -> dict[str, Any]:
    """``{"a": [chain, ..., "x" * pad]}``, each chain 29 nested lists: 2 JSON bytes but 4 estimated bytes
    a level, so the item estimate outgrows the record's size."""
    chain: Any = []
    for _ in range(28):
        chain = [chain]
    return {"a": [chain] * chains + ["x" * pad]}


@pytest.mark.parametrize(("pad", "estimate"), [(421, 400_000), (422, 400_001)])
def test_a_record_whose_stored_item_would_be_over_400000_bytes_is_refused(pad: int, estimate: int) -> None:
    # id 2+1, timestamp 9+2, data 4 + (3 + 1 + 1) + (3 + 3441 elements + 3440 x (4 x 28 + 3) + pad),
    # plus the 512 bytes kept for the enricher's fields.
    assert 2 + 1 + 9 + 2 + 4 + 5 + 3 + 3441 + 3440 * 115 + pad + 512 == estimate
    body = json.dumps({"id": "r", "timestamp": 1, "data": deep_lists(3440, pad)}, separators=(",", ":"))
    assert len(body) < contract.MAX_RECORD_BYTES

    if estimate <= 400_000:
        assert contract.parse_record(body).id == "r"
    else:
        assert refusal(lambda: contract.parse_record(body)) == (
            Reason.TOO_LARGE, "stored item would be about 400001 bytes; DynamoDB allows 400000"
        )


def test_an_enriched_item_of_exactly_400000_bytes_is_accepted() -> None:
    # id 2+1, timestamp 9+8 (13 digits), data 4 + (3 + 1 + 3 + pad), enriched_at 11+24,
    # pipeline_version 16+5, environment 11+4, data_size_bytes 15+2: 119 + pad.
    at_limit = enriched_body(data={"pad": "x" * (400_000 - 119)})

    assert contract.parse_enriched(at_limit).record.id == "r"
    assert refusal(lambda: contract.parse_enriched(enriched_body(data={"pad": "x" * (400_001 - 119)}))) == (
        Reason.TOO_LARGE, "item would exceed DynamoDB's 400000 bytes"
    )
