"""Both sides of each contract boundary: the last accepted value and the first rejected one, on a fixed clock."""

from __future__ import annotations

import json

import pytest

from handlers.shared.contract import parse_enriched, parse_record, validate_body
from handlers.shared.errors import ContractViolation

NOW_MS = 1_750_000_000_000  # a fixed clock: 2025-06-15T15:06:40Z
DAY_MS = 86_400_000
# The contract: within the last 10 years (3653 days, leap days included) and at most 1 day ahead.
OLDEST_MS = NOW_MS - 3653 * DAY_MS
NEWEST_MS = NOW_MS + DAY_MS
ENRICHMENT = {"enriched_at": "2025-06-15T15:06:40Z", "pipeline_version": "1.2.3", "environment": "test",
              "data_size_bytes": 2}


def body(**fields: object) -> str:
    return json.dumps({"id": "r1", "timestamp": NOW_MS, "data": {}, **fields})


@pytest.mark.parametrize("timestamp", [OLDEST_MS, OLDEST_MS + 1, NOW_MS, NEWEST_MS - 1, NEWEST_MS])
def test_timestamp_inside_the_window_is_accepted_up_to_both_edges(timestamp: int) -> None:
    assert validate_body(body(timestamp=timestamp), default_timestamp=None, now_ms=NOW_MS).timestamp == timestamp


@pytest.mark.parametrize("timestamp", [OLDEST_MS - 1, NEWEST_MS + 1])
def test_timestamp_one_ms_outside_the_window_is_rejected(timestamp: int) -> None:
    with pytest.raises(ContractViolation) as error:
        validate_body(body(timestamp=timestamp), default_timestamp=None, now_ms=NOW_MS)
    assert error.value.code == "invalid_timestamp"
    assert f"[{OLDEST_MS}, {NEWEST_MS}]" in error.value.message


@pytest.mark.parametrize("length", [1, 511, 512])
def test_id_of_1_to_512_characters_is_accepted_at_every_stage(length: int) -> None:
    record_id = "x" * length
    assert validate_body(body(id=record_id), default_timestamp=None, now_ms=NOW_MS).id == record_id
    assert parse_record(body(id=record_id)).id == record_id
    assert parse_enriched(body(id=record_id, **ENRICHMENT)).record.id == record_id


@pytest.mark.parametrize("length", [0, 513])
def test_id_of_0_or_513_characters_is_rejected_at_every_stage(length: int) -> None:
    for parse in (lambda b: validate_body(b, default_timestamp=None, now_ms=NOW_MS), parse_record,
                  parse_enriched):
        with pytest.raises(ContractViolation) as error:
            parse(body(id="x" * length, **ENRICHMENT) if parse is parse_enriched else body(id="x" * length))
        assert error.value.code == "invalid_id"
        assert error.value.message == f"id must have 1 to 512 characters, not {length}"


def test_missing_timestamp_takes_the_sent_timestamp_even_outside_the_window() -> None:
    # SentTimestamp is SQS's own clock: it is taken as is.
    record = validate_body(json.dumps({"id": "r1", "data": {}}), default_timestamp=OLDEST_MS - 1, now_ms=NOW_MS)
    assert record.timestamp == OLDEST_MS - 1


def test_timestamp_outside_the_window_is_explained_in_full() -> None:
    with pytest.raises(ContractViolation) as error:
        validate_body(body(timestamp=NEWEST_MS + 1), default_timestamp=None, now_ms=NOW_MS)
    assert error.value.message == (
        f"timestamp is outside [{OLDEST_MS}, {NEWEST_MS}] (last 10 years, at most 1 day ahead)")


@pytest.mark.parametrize("timestamp", [1.5, "1750000000000", None])
def test_timestamp_that_is_not_a_whole_number_is_explained(timestamp: object) -> None:
    with pytest.raises(ContractViolation) as error:
        validate_body(body(timestamp=timestamp), default_timestamp=None, now_ms=NOW_MS)
    assert (error.value.code, error.value.message) == (
        "invalid_timestamp", "timestamp must be an integer number of milliseconds since the epoch")


@pytest.mark.parametrize(("data", "kind"), [([], "an array"), ("x", "a string"), (True, "a boolean"),
                                            (None, "null"), (1, "a number"), (1.5, "a number")])
def test_data_that_is_not_an_object_names_the_json_type_it_is(data: object, kind: str) -> None:
    with pytest.raises(ContractViolation) as error:
        validate_body(body(data=data), default_timestamp=None, now_ms=NOW_MS)
    assert (error.value.code, error.value.message) == ("invalid_data", f"data must be a JSON object, not {kind}")
