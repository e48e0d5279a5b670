"""The record codec at its edges: what each refusal says, and the SQS non-characters escaped one at a time."""

from __future__ import annotations

from decimal import Decimal

import pytest

from handlers.shared import codec
from handlers.shared.errors import ContractViolation, Reason


def test_a_repeated_key_is_reported_with_the_length_of_that_key_not_of_the_first() -> None:
    with pytest.raises(ContractViolation) as refused:
        codec.loads('{"a": 1, "bbb": 2, "bbb": 3}')

    assert refused.value.code is Reason.DUPLICATE_KEY
    assert refused.value.message == "a JSON object repeats a key (3 characters); each key may appear once"


def test_distinct_keys_that_differ_only_in_case_are_not_a_repeat() -> None:
    assert codec.loads('{"bbb": 2, "BBB": 3}') == {"bbb": Decimal(2), "BBB": Decimal(3)}


def test_nesting_deeper_than_the_parser_can_follow_is_too_deep_with_a_fixed_message() -> None:
    # Far beyond Python's recursion limit (1000 by default), so the C scanner gives up with RecursionError.
    with pytest.raises(ContractViolation) as refused:
        codec.loads("[" * 100_000 + "]" * 100_000)

    assert refused.value.code is Reason.TOO_DEEP
    assert refused.value.message == "body nests JSON deeper than the parser allows"


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity"])
def test_a_decimal_that_is_not_finite_cannot_be_written_and_the_error_names_it(text: str) -> None:
    with pytest.raises(ValueError, match=rf"^cannot write {text} as JSON$"):
        codec.dumps({"n": Decimal(text)})


def test_a_python_float_is_refused_with_its_type_named() -> None:
    # Records hold Decimal numbers only (loads never makes a float), so a float means a caller bug.
    with pytest.raises(TypeError, match=r"^cannot write float as record JSON$"):
        codec.dumps([1.5])


def test_an_object_has_a_comma_between_members_and_none_before_the_first() -> None:
    assert codec.dumps({"a": 1, "b": [2, 3], "c": {}}) == '{"a":1,"b":[2,3],"c":{}}'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x\ufffe", '"x\\ufffe"'),  # U+FFFE alone, without U+FFFF next to it
        ("x\uffff", '"x\\uffff"'),
        ("x\ufffd", '"x\ufffd"'),  # the last character SQS accepts below U+FFFE stays as it is
    ],
)
def test_each_sqs_non_character_is_escaped_on_its_own(text: str, expected: str) -> None:
    assert codec.dumps(text) == expected
