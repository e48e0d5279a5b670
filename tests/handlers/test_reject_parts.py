"""Reject messages at the SQS size limit: a message of exactly the limit goes whole, parts fill the limit
exactly, cuts back off to a character's first byte, and unpaired surrogates survive the round trip."""

from __future__ import annotations

import hashlib

import pytest

from handlers.validator.rejects import reject_messages, split_utf8

SQS_LIMIT = 262_144  # bytes of body plus attributes (SQS developer guide, "Quotas related to messages")
ATTRIBUTES = {"reason_code": "too_large"}
#: What SQS counts for ATTRIBUTES: name + "String" + value.
ATTRIBUTES_BYTES = len("reason_code") + len("String") + len("too_large")


def test_a_message_of_exactly_the_limit_goes_whole() -> None:
    body = "a" * (SQS_LIMIT - ATTRIBUTES_BYTES)

    messages = reject_messages("m1", body, ATTRIBUTES)

    assert [(m.body, m.attributes) for m in messages] == [(body, ATTRIBUTES)]


def test_a_message_one_byte_over_the_limit_is_cut_into_parts_that_fill_the_limit() -> None:
    body = "a" * (SQS_LIMIT - ATTRIBUTES_BYTES + 1)

    messages = reject_messages("m1", body, ATTRIBUTES)

    assert [m.attributes["body_part"] for m in messages] == ["1/2", "2/2"]
    # The first part's room was sized with the widest label ("999/999"); "1/2" is 4 bytes shorter.
    assert messages[0].size() == SQS_LIMIT - len("999/999") + len("1/2")
    assert "".join(m.body for m in messages) == body


def test_a_body_with_an_unpaired_surrogate_is_cut_and_joined_back() -> None:
    # A JSON "\ud800" escape decodes to an unpaired surrogate; the reject must carry it back unchanged.
    body = "\ud800" * 100_000
    raw = body.encode("utf-8", "surrogatepass")

    messages = reject_messages("m1", body, ATTRIBUTES)

    assert len(messages) == 2
    assert "".join(m.body for m in messages) == body
    assert messages[0].attributes["body_sha256"] == hashlib.sha256(raw).hexdigest()
    assert messages[0].attributes["body_bytes"] == "300000"


@pytest.mark.parametrize(
    ("text", "max_bytes", "expected"),
    [
        ("abc\u20ac", 4, ["abc", "\u20ac"]),  # cut at E2|82: one byte back, to the lead byte
        ("ab\u20ac", 4, ["ab", "\u20ac"]),  # cut at E2 82|AC: two bytes back
        ("ab\u00e9", 4, ["ab\u00e9"]),  # fits exactly
        ("abcd\u00e9", 4, ["abcd", "\u00e9"]),
        ("abc\u00e9x", 4, ["abc", "\u00e9x"]),  # cut at C3|A9: a continuation byte with its low bit set
        ("a\U0001f600", 4, ["a", "\U0001f600"]),  # cut at F0 9F 98|80
    ],
)
def test_a_cut_backs_off_to_the_characters_first_byte(text: str, max_bytes: int, expected: list[str]) -> None:
    assert split_utf8(text.encode(), max_bytes) == expected


def test_unpaired_surrogates_are_split_between_characters() -> None:
    raw = ("a" + "\udfff" * 3).encode("utf-8", "surrogatepass")

    # Each unpaired surrogate is 3 bytes (ED BF BF): 1 + 3 fit in 4, then one per part.
    assert split_utf8(raw, 4) == ["a\udfff", "\udfff", "\udfff"]
