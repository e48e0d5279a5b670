"""The shared contract and JSON codec, below the handlers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from handlers.shared import codec, contract
from handlers.shared.errors import ContractViolation, Reason


def test_codec_round_trip_keeps_every_digit() -> None:
    text = '{"a":0.10,"b":12345678901234567890123456789012345678,"c":[-0,1E+5,-2.5e-7],"d":null,"e":true}'

    assert codec.dumps(codec.loads(text)) == (
        '{"a":0.10,"b":12345678901234567890123456789012345678,"c":[-0,1E+5,-2.5E-7],"d":null,"e":true}'
    ), "numbers are written back exactly as parsed (exponent case aside)"


def test_codec_escapes_what_sqs_refuses_and_keeps_other_unicode() -> None:
    text = codec.dumps({"k": "é🚀\u0000\u001f\ufffe\uffff\t"})

    assert text == '{"k":"é🚀\\u0000\\u001f\\ufffe\\uffff\\t"}', (
        "control characters and U+FFFE/U+FFFF are escaped; other characters stay as UTF-8"
    )


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("1000000000000000000000000000000000000000000", "1E+42"),
        ("0.000", "0"),
        ("-0", "0"),
        ("1.2500", "1.25"),
        ("9.9999999999999999999999999999999999999E+125", "9.9999999999999999999999999999999999999E+125"),
        ("1E-130", "1E-130"),
        ("-1E-130", "-1E-130"),
    ],
)
def test_dynamodb_number_normalizes_like_dynamodb(value: str, stored: str) -> None:
    assert str(contract.dynamodb_number(Decimal(value))) == stored, f"{value} is stored as {stored}"


@pytest.mark.parametrize(
    "value", ["1E+126", "1E-131", "12345678901234567890123456789012345678.9", "NaN", "-Infinity"]
)
def test_dynamodb_number_refuses_what_dynamodb_cannot_store(value: str) -> None:
    with pytest.raises(ContractViolation) as caught:
        contract.dynamodb_number(Decimal(value))

    assert caught.value.code is Reason.UNSUPPORTED_NUMBER, f"{value} must be unsupported_number"


def test_enriched_record_round_trips_through_the_processor_parser() -> None:
    record = contract.Record("id-1", 1_700_000_000_000, {"a": Decimal("1.5"), "b": ["x", None]})
    enriched = contract.EnrichedRecord(record, "2026-11-26T12:00:00.000Z", "1.2.3", "prod", 17)

    assert contract.parse_enriched(enriched.to_json()) == enriched, (
        "what the enricher writes the processor reads"
    )


def test_data_size_bytes_counts_utf8_bytes_of_compact_json() -> None:
    assert contract.data_size_bytes({"k": "é"}) == len('{"k":"é"}'.encode()), "compact JSON, UTF-8 bytes"


def test_reserve_holds_the_largest_enrichment() -> None:
    record = contract.Record("x", 1_700_000_000_000, {})
    big = "v" * contract.MAX_ENRICHMENT_VALUE_BYTES
    enriched = contract.EnrichedRecord(record, "2026-11-26T12:00:00.000Z", big, big, 10**9)

    growth = len(enriched.to_json()) - len(record.to_json())

    assert growth <= contract.ENRICHMENT_RESERVE_BYTES, (
        "the enrichment must fit the reserve the validator keeps"
    )
