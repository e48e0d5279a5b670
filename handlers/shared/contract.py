"""The record contract (README, "The handlers") and the limits that follow from it.

Every stage parses its input with the functions here, so a rule lives in one place. Error messages say
where a problem is (a path of 0-based positions, such as ``data[2][0]``), its type and its size, never the
record's content: reasons travel in logs and message attributes, which the data's retention rules do not
govern, and a key or value may be personal data. The validator applies
all rules; later stages re-check shape and storability (not the time window, which a record can age out of
while it waits in a queue).
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from decimal import Clamped, Context, Decimal, DecimalException, Inexact, Overflow, Rounded, Underflow
from typing import Any

from handlers.shared import codec
from handlers.shared.errors import ContractViolation, Reason

#: SQS limit for one message (body plus message attributes) and for one SendMessageBatch call.
MAX_SQS_MESSAGE_BYTES = 262_144
#: Bytes kept free in every normalized record for the fields the enricher adds.
ENRICHMENT_RESERVE_BYTES = 512
#: Largest normalized record (compact JSON, UTF-8) the validator forwards.
MAX_RECORD_BYTES = MAX_SQS_MESSAGE_BYTES - ENRICHMENT_RESERVE_BYTES
#: DynamoDB's item limit is "400 KB"; the decimal reading is the safe one.
MAX_ITEM_BYTES = 400_000
#: Most values (numbers, strings, booleans, nulls at any depth) one record's ``data`` may hold; larger
#: payloads belong in S3 with a pointer in the record, and the bound keeps a full batch's memory in check.
MAX_DATA_VALUES = 10_000
#: Largest value of pipeline_version / environment, so that the enrichment fits its reserve.
MAX_ENRICHMENT_VALUE_BYTES = 64

_SIZE_RULE = (
    f"the limit is {MAX_RECORD_BYTES} bytes: SQS's {MAX_SQS_MESSAGE_BYTES} less {ENRICHMENT_RESERVE_BYTES} "
    "kept for the fields the enricher adds"
)

MAX_ID_CHARS = 512
#: DynamoDB stores 32 nesting levels counting the top-level attribute; the deepest container is level 31.
MAX_DATA_DEPTH = 31
TIMESTAMP_MAX_AGE_MS = 3653 * 86_400_000  # ten years, leap days included
TIMESTAMP_MAX_AHEAD_MS = 86_400_000

RECORD_FIELDS = ("id", "timestamp", "data")
ENRICHMENT_FIELDS = ("enriched_at", "pipeline_version", "environment", "data_size_bytes")

# DynamoDB numbers: 38 significant digits, magnitude 1E-130 .. 9.99...E+125.
_MAX_DIGITS = 38
_MIN_ADJUSTED_EXPONENT = -130
_MAX_ADJUSTED_EXPONENT = 125
#: The decimal context boto3's TypeSerializer checks numbers with (boto3/dynamodb/types.py), copied so that
#: importing the contract does not import boto3 (about a third of a handler's cold start).
DYNAMODB_CONTEXT = Context(
    Emin=-128, Emax=126, prec=_MAX_DIGITS, traps=[Clamped, Overflow, Inexact, Rounded, Underflow]
)

# DynamoDB attribute names, map keys included, must have 1 to 65535 bytes.
_MAX_KEY_BYTES = 65_535
# Approximate DynamoDB item-size rules (developer guide, "Item sizes"), rounded up.
_CONTAINER_BYTES = 3
_ELEMENT_BYTES = 1


@dataclass(frozen=True)
class Record:
    """A record that satisfies the contract, in its normalized form."""

    id: str
    timestamp: int
    data: dict[str, Any]

    def to_json(self) -> str:
        """Normalized body forwarded to the enricher: ``{"id","timestamp","data"}``."""
        return codec.dumps({"id": self.id, "timestamp": self.timestamp, "data": self.data})


@dataclass(frozen=True)
class EnrichedRecord:
    """A record with the enricher's documented fields; the processor stores exactly these."""

    record: Record
    enriched_at: str
    pipeline_version: str
    environment: str
    data_size_bytes: int

    def fields(self) -> dict[str, Any]:
        """All fields, in the order they are written."""
        return {
            "id": self.record.id,
            "timestamp": self.record.timestamp,
            "data": self.record.data,
            "enriched_at": self.enriched_at,
            "pipeline_version": self.pipeline_version,
            "environment": self.environment,
            "data_size_bytes": self.data_size_bytes,
        }

    def to_json(self) -> str:
        """Body forwarded to the processor."""
        return codec.dumps(self.fields())


def utf8_size(text: str) -> int:
    """UTF-8 length in bytes; unpaired surrogates count as 3 bytes instead of raising."""
    return len(text.encode("utf-8", "surrogatepass"))


def data_size_bytes(data: dict[str, Any]) -> int:
    """The documented ``data_size_bytes``: UTF-8 size of the compact JSON of ``data``."""
    return len(codec.dumps(data).encode("utf-8"))


def validate_body(body: str, *, default_timestamp: int | None, now_ms: int) -> Record:
    """Apply every contract rule to an incoming message body (the validator's check).

    ``default_timestamp`` is the SQS ``SentTimestamp``, used when the body has no ``timestamp``.
    Raises ContractViolation for a record that can never be accepted, LookupError when the body
    has no timestamp and no default was supplied (an event problem, not the producer's).
    """
    body_size = utf8_size(body)
    if body_size > MAX_RECORD_BYTES:
        raise ContractViolation(Reason.TOO_LARGE, f"body is {body_size} bytes; {_SIZE_RULE}")
    obj = _load_object(body)
    _reject_unknown_fields(obj, RECORD_FIELDS)
    record_id = _check_id(obj)
    if "timestamp" in obj:
        timestamp = check_timestamp(obj["timestamp"], now_ms=now_ms)
    elif default_timestamp is None:
        raise LookupError("record has no timestamp and the SQS attribute SentTimestamp is missing")
    else:
        timestamp = default_timestamp
    data, data_estimate = _check_data_field(obj)
    record = Record(record_id, timestamp, data)
    _check_record_size(record, data_estimate)
    return record


def parse_record(body: str) -> Record:
    """Re-check a normalized record (the enricher's input): exact fields, types and sizes."""
    obj = _load_object(body)
    _reject_unknown_fields(obj, RECORD_FIELDS)
    data, data_estimate = _check_data_field(obj)
    record = Record(_check_id(obj), _required_timestamp(obj), data)
    _check_record_size(record, data_estimate)
    return record


def parse_enriched(body: str) -> EnrichedRecord:
    """Re-check an enriched record (the processor's input): every field present and storable."""
    obj = _load_object(body)
    _reject_unknown_fields(obj, RECORD_FIELDS + ENRICHMENT_FIELDS)
    data, data_estimate = _check_data_field(obj)
    record = Record(_check_id(obj), _required_timestamp(obj), data)
    for name in ENRICHMENT_FIELDS:
        if name not in obj:
            raise ContractViolation(Reason.INVALID_ENRICHMENT, f"field {name!r} is missing")
    texts = {}
    for name in ("enriched_at", "pipeline_version", "environment"):
        value = obj[name]
        if not isinstance(value, str) or not value or utf8_size(value) > MAX_ENRICHMENT_VALUE_BYTES:
            raise ContractViolation(
                Reason.INVALID_ENRICHMENT,
                f"field {name!r} must be a string of 1 to {MAX_ENRICHMENT_VALUE_BYTES} bytes",
            )
        texts[name] = value
    size = obj["data_size_bytes"]
    if not isinstance(size, Decimal) or size != size.to_integral_value() or size < 0 or size > 10**9:
        raise ContractViolation(Reason.INVALID_ENRICHMENT, "field 'data_size_bytes' must be a whole number")
    enriched = EnrichedRecord(record, data_size_bytes=int(size), **texts)
    if item_size(enriched, data_estimate) > MAX_ITEM_BYTES:
        raise ContractViolation(Reason.TOO_LARGE, f"item would exceed DynamoDB's {MAX_ITEM_BYTES} bytes")
    return enriched


def check_timestamp(value: Any, *, now_ms: int) -> int:
    """A timestamp in ms since the epoch within [now - 10 years, now + 1 day].

    JSON Schema ``integer`` semantics: any number with no fractional part (``1.7e12`` too).
    """
    if not isinstance(value, Decimal) or not value.is_finite() or value != value.to_integral_value():
        raise ContractViolation(
            Reason.INVALID_TIMESTAMP, "timestamp must be an integer number of milliseconds since the epoch"
        )
    oldest, newest = now_ms - TIMESTAMP_MAX_AGE_MS, now_ms + TIMESTAMP_MAX_AHEAD_MS
    # Compare as Decimal first: int() of a value like 1e999999 would build a huge integer.
    if not oldest <= value <= newest:
        raise ContractViolation(
            Reason.INVALID_TIMESTAMP,
            f"timestamp is outside [{oldest}, {newest}] "
            "(last 10 years, at most 1 day ahead)",
        )
    return int(value)


def check_data(data: Any) -> int:
    """Check that ``data`` is a JSON object DynamoDB can store, with at most MAX_DATA_VALUES values;
    return its estimated item size in bytes."""
    if not isinstance(data, dict):
        raise ContractViolation(Reason.INVALID_DATA, f"data must be a JSON object, not {_json_type(data)}")
    size = 0
    values = 0
    # (value, depth, parent's path, position in the parent): the path is built only for an error.
    stack: list[tuple[Any, int, tuple[int, ...], int | None]] = [(data, 1, (), None)]
    while stack:
        value, depth, parent, position = stack.pop()
        if isinstance(value, dict | list):
            path = parent if position is None else (*parent, position)
            if depth > MAX_DATA_DEPTH:
                raise ContractViolation(
                    Reason.TOO_DEEP,
                    f"{render_path(path)} nests objects/arrays deeper than {MAX_DATA_DEPTH} levels",
                )
            size += _CONTAINER_BYTES + _ELEMENT_BYTES * len(value)
            if isinstance(value, dict):
                for index, (key, item) in enumerate(value.items()):
                    key_size = _string_size(key, (*path, index), "key")
                    if not 0 < key_size <= _MAX_KEY_BYTES:
                        raise ContractViolation(
                            Reason.INVALID_DATA,
                            f"the key of {render_path((*path, index))} has {key_size} bytes; "
                            f"object keys in data must have 1 to {_MAX_KEY_BYTES}",
                        )
                    size += key_size
                    stack.append((item, depth + 1, path, index))
            else:
                stack.extend((item, depth + 1, path, index) for index, item in enumerate(value))
            continue
        values += 1
        if values > MAX_DATA_VALUES:
            raise ContractViolation(
                Reason.TOO_MANY_VALUES,
                f"data holds more than {MAX_DATA_VALUES} values (numbers, strings, booleans, nulls at any "
                "depth); store larger payloads in S3 and send a pointer",
            )
        if isinstance(value, str):
            size += _string_size(value, (*parent, position), "string")
        elif isinstance(value, bool) or value is None:
            size += 1
        elif isinstance(value, Decimal):
            size += number_size(dynamodb_number(value, render_path((*parent, position))))
        else:
            raise ContractViolation(
                Reason.INVALID_DATA,
                f"{render_path((*parent, position))} holds an unsupported {type(value).__name__}",
            )
    return size


def render_path(path: tuple[int | None, ...]) -> str:
    """``data[2][0]``: 0-based positions (object members in order), so no key or value is shown."""
    return "data" + "".join(f"[{index}]" for index in path)


def dynamodb_number(value: Decimal, where: str = "a number") -> Decimal:
    """The number as DynamoDB stores it (trailing zeros stripped), or ContractViolation if it cannot.

    ``where`` names the number in the error (a path, never the number itself).
    """
    if not value.is_finite():
        raise ContractViolation(Reason.UNSUPPORTED_NUMBER, f"{where} is not a number DynamoDB can store")
    if value.is_zero():
        return Decimal(0)
    sign, digits, exponent = value.as_tuple()
    exponent = int(exponent)  # an int for every finite Decimal
    end = len(digits)
    while digits[end - 1] == 0:
        end -= 1
    exponent += len(digits) - end
    digits = digits[:end]
    start = 0
    while digits[start] == 0:
        start += 1
    digits = digits[start:]
    adjusted = exponent + len(digits) - 1
    if len(digits) > _MAX_DIGITS:
        raise ContractViolation(
            Reason.UNSUPPORTED_NUMBER,
            f"{where} has {len(digits)} significant digits; DynamoDB keeps 38",
        )
    if not _MIN_ADJUSTED_EXPONENT <= adjusted <= _MAX_ADJUSTED_EXPONENT:
        raise ContractViolation(
            Reason.UNSUPPORTED_NUMBER,
            f"{where} is outside DynamoDB's range 1E-130 .. 9.99E+125",
        )
    normalized = Decimal((sign, digits, exponent))
    try:
        # boto3's serializer would raise on these too (e.g. 38 digits near 1E-130); refuse them here.
        DYNAMODB_CONTEXT.create_decimal(normalized)
    except DecimalException as exc:
        raise ContractViolation(
            Reason.UNSUPPORTED_NUMBER, f"{where} cannot be stored exactly"
        ) from exc
    return normalized


def number_size(value: Decimal) -> int:
    """Estimated DynamoDB size of a normalized number: 1 byte per two digits, plus 1."""
    return math.ceil(len(value.as_tuple().digits) / 2) + 1


def item_size(enriched: EnrichedRecord, data_estimate: int | None = None) -> int:
    """Estimated DynamoDB size of the stored item (attribute names plus values)."""
    size = 0
    for name, value in enriched.fields().items():
        size += len(name)
        if name == "data":
            size += check_data(value) if data_estimate is None else data_estimate
        elif isinstance(value, int):
            size += number_size(Decimal(value))
        else:
            size += utf8_size(value)
    return size


def _load_object(body: str) -> dict[str, Any]:
    obj = codec.loads(body)
    if not isinstance(obj, dict):
        raise ContractViolation(Reason.NOT_AN_OBJECT, f"body must be a JSON object, not {_json_type(obj)}")
    return obj


def _reject_unknown_fields(obj: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = [name for name in obj if name not in allowed]
    if unknown:
        positions = [index for index, name in enumerate(obj) if name not in allowed]
        raise ContractViolation(
            Reason.UNKNOWN_FIELD,
            f"{len(unknown)} unknown top-level field(s), at 0-based position(s) "
            f"{', '.join(map(str, positions[:5]))}{', ...' if len(positions) > 5 else ''}; "
            f"allowed: {', '.join(allowed)}",
        )


def _check_id(obj: dict[str, Any]) -> str:
    if "id" not in obj:
        raise ContractViolation(Reason.MISSING_ID, "field 'id' is required")
    value = obj["id"]
    if not isinstance(value, str):
        raise ContractViolation(Reason.INVALID_ID, f"id must be a string, not {_json_type(value)}")
    if not 1 <= len(value) <= MAX_ID_CHARS:
        raise ContractViolation(
            Reason.INVALID_ID, f"id must have 1 to {MAX_ID_CHARS} characters, not {len(value)}"
        )
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in value):
        raise ContractViolation(Reason.INVALID_ID, "id contains a control character or an unpaired surrogate")
    return value


def _required_timestamp(obj: dict[str, Any]) -> int:
    if "timestamp" not in obj:
        raise ContractViolation(Reason.MISSING_TIMESTAMP, "field 'timestamp' is required after validation")
    value = obj["timestamp"]
    if not isinstance(value, Decimal) or not value.is_finite() or value != value.to_integral_value():
        raise ContractViolation(Reason.INVALID_TIMESTAMP, "timestamp must be an integer")
    if abs(value) > 10**18:
        raise ContractViolation(Reason.INVALID_TIMESTAMP, "timestamp is out of range")
    return int(value)


def _check_data_field(obj: dict[str, Any]) -> tuple[dict[str, Any], int]:
    if "data" not in obj:
        raise ContractViolation(Reason.MISSING_DATA, "field 'data' is required")
    return obj["data"], check_data(obj["data"])


def _check_record_size(record: Record, data_estimate: int) -> None:
    size = utf8_size(record.to_json())
    if size > MAX_RECORD_BYTES:
        raise ContractViolation(Reason.TOO_LARGE, f"normalized record is {size} bytes; {_SIZE_RULE}")
    estimate = (
        len("id") + utf8_size(record.id)
        + len("timestamp") + number_size(Decimal(record.timestamp))
        + len("data") + data_estimate
        + ENRICHMENT_RESERVE_BYTES
    )  # fmt: skip
    if estimate > MAX_ITEM_BYTES:
        raise ContractViolation(
            Reason.TOO_LARGE, f"stored item would be about {estimate} bytes; DynamoDB allows {MAX_ITEM_BYTES}"
        )


def _string_size(text: str, path: tuple[int | None, ...], what: str) -> int:
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise ContractViolation(
            Reason.INVALID_UNICODE,
            f"the {what} at {render_path(path)} ({len(text)} characters) contains an unpaired surrogate",
        ) from exc


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"
