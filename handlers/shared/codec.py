"""JSON for records: every number parsed as an exact Decimal, compact output that SQS accepts.

The standard ``json`` module cannot write a Decimal as a number, and converting to float would lose
digits DynamoDB keeps (up to 38), so records are written by the small encoder below.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from json.encoder import encode_basestring  # C-accelerated, keeps non-ASCII text as is
from typing import Any

from handlers.shared.errors import ContractViolation, Reason

# SQS accepts #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF; encode_basestring already
# escapes everything below #x20, so only these two non-characters need escaping as well.
_SQS_FORBIDDEN = {"\ufffe": "\\ufffe", "\uffff": "\\uffff"}


def _object_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ContractViolation(
                    Reason.DUPLICATE_KEY,
                    f"a JSON object repeats a key ({len(key)} characters); each key may appear once",
                )
            seen.add(key)
    return obj


def _parse_number(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise ContractViolation(
            Reason.UNSUPPORTED_NUMBER,
            f"a number of {len(text)} characters is outside any range DynamoDB can store",
        ) from exc


def _parse_constant(name: str) -> Any:
    raise ContractViolation(Reason.UNSUPPORTED_NUMBER, f"{name} is not a number DynamoDB can store")


_DECODER = json.JSONDecoder(
    parse_float=_parse_number,
    parse_int=_parse_number,
    parse_constant=_parse_constant,
    object_pairs_hook=_object_pairs,
)


def loads(text: str) -> Any:
    """Parse JSON text; numbers become Decimal. Raises ContractViolation for anything unusable."""
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise ContractViolation(Reason.MALFORMED_JSON, f"body is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise ContractViolation(Reason.TOO_DEEP, "body nests JSON deeper than the parser allows") from exc


def dumps(value: Any) -> str:
    """Compact JSON of a parsed record value; Decimal numbers keep all their digits."""
    parts: list[str] = []
    _encode(value, parts.append)
    return "".join(parts)


def _encode(value: Any, out: Any) -> None:
    if isinstance(value, str):
        out(_string(value))
    elif value is None:
        out("null")
    elif value is True:
        out("true")
    elif value is False:
        out("false")
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot write {value} as JSON")
        out(str(value))
    elif isinstance(value, int):
        out(str(value))
    elif isinstance(value, dict):
        out("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                out(",")
            out(_string(key))
            out(":")
            _encode(item, out)
        out("}")
    elif isinstance(value, list):
        out("[")
        for index, item in enumerate(value):
            if index:
                out(",")
            _encode(item, out)
        out("]")
    else:
        raise TypeError(f"cannot write {type(value).__name__} as record JSON")


def _string(text: str) -> str:
    encoded = encode_basestring(text)
    if "\ufffe" in encoded or "\uffff" in encoded:
        for char, escape in _SQS_FORBIDDEN.items():
            encoded = encoded.replace(char, escape)
    return encoded
