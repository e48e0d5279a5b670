"""How ``forwarding.send`` groups messages into SendMessageBatch calls, and how it reads partial answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from handlers.shared import clients, forwarding
from handlers.shared.forwarding import Outgoing
from tests.handlers.helpers import FakeContext

URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/out"
#: SQS's message size limit for a SendMessageBatch call (all entries together): 256 KiB.
CALL_LIMIT = 262_144


class RecordingSqs:
    """Records the source bodies' sizes per call; answers with ``answer(entries)`` (all sent by default)."""

    def __init__(self, answer: Any = None) -> None:
        self.answer = answer or (lambda entries: {"Successful": [{"Id": e["Id"], "MessageId": "x"} for e in entries]})
        self.calls: list[list[int]] = []

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append([len(e["MessageBody"]) for e in Entries])
        return self.answer(Entries)


@pytest.fixture
def sqs() -> Iterator[RecordingSqs]:
    fake = RecordingSqs()
    clients.set_client("sqs", fake)
    yield fake
    clients.reset()


def messages(*sizes: int) -> list[Outgoing]:
    return [Outgoing(f"m{index}", "a" * size) for index, size in enumerate(sizes)]


def test_messages_that_add_up_to_exactly_the_limit_share_a_call_in_every_chunk(sqs: RecordingSqs) -> None:
    half = CALL_LIMIT // 2

    assert forwarding.send(URL, messages(half, half, half, half), FakeContext()) == set()
    assert sqs.calls == [[half, half], [half, half]], "two full calls: the second chunk starts from zero again"


def test_one_byte_over_the_limit_starts_a_new_call(sqs: RecordingSqs) -> None:
    half = CALL_LIMIT // 2

    assert forwarding.send(URL, messages(half, half + 1), FakeContext()) == set()
    assert sqs.calls == [[half], [half + 1]]


def test_a_call_counts_every_message_so_far_not_only_the_last(sqs: RecordingSqs) -> None:
    third = 100_000  # two fit (200,000 bytes), a third would make 300,000

    assert forwarding.send(URL, messages(third, third, third), FakeContext()) == set()
    assert sqs.calls == [[third, third], [third]]


def test_with_no_time_left_every_chunk_fails_not_only_the_first(sqs: RecordingSqs) -> None:
    sent = messages(*[1] * 11)  # two chunks: 10 entries, then 1

    assert forwarding.send(URL, sent, FakeContext(remaining_ms=0)) == {f"m{index}" for index in range(11)}
    assert sqs.calls == [], "no call is made without the time for it"


def test_an_answer_without_a_successful_list_fails_the_entries_it_does_not_confirm() -> None:
    # SendMessageBatch may leave out the Successful key when no entry succeeded.
    clients.set_client("sqs", RecordingSqs(lambda entries: {"Failed": [{"Id": "0", "Code": "InternalError"}]}))
    try:
        assert forwarding.send(URL, messages(1, 1), FakeContext()) == {"m0", "m1"}
    finally:
        clients.reset()


def test_entries_after_a_failed_one_are_still_checked(sqs: RecordingSqs) -> None:
    sqs.answer = lambda entries: {
        "Failed": [{"Id": "0", "Code": "InternalError"}],
        "Successful": [{"Id": "2", "MessageId": "x"}],
    }

    assert forwarding.send(URL, messages(1, 1, 1), FakeContext()) == {"m0", "m1"}, (
        "entry 1 has no answer at all: it fails too, though it comes after the failed entry 0"
    )
