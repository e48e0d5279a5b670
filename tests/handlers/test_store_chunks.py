"""The writer's calls: how items are grouped (25 items, 400,000 estimated bytes), failures kept across
chunks, answers without UnprocessedItems, and the attempt numbers its retries pass to the backoff."""

from __future__ import annotations

from typing import Any

from handlers.processor.store import PendingItem, TableWriter, chunks
from handlers.shared.backoff import Backoff
from tests.handlers.helpers import NOW_MS, FakeContext, TimedSleep, client_error
from tests.handlers.test_store_put_each import RecordingBackoff, ScriptedBatch, ScriptedContext, ScriptedDynamo, item

#: DynamoDB's item size limit (400 KB), which also bounds the estimated bytes of one BatchWriteItem call.
CALL_LIMIT = 400_000


def sized(*sizes: int) -> list[PendingItem]:
    return [PendingItem((f"i{index}", NOW_MS), "{}", size) for index, size in enumerate(sizes)]


def grouped(items: list[PendingItem]) -> list[list[int]]:
    return [[pending.size for pending in chunk] for chunk in chunks(items)]


def test_items_that_add_up_to_exactly_the_limit_share_a_call_in_every_chunk() -> None:
    half = CALL_LIMIT // 2

    assert grouped(sized(half, half, half, half)) == [[half, half], [half, half]], (
        "two full calls: the second chunk counts from zero again"
    )


def test_one_byte_over_the_limit_starts_a_new_call() -> None:
    half = CALL_LIMIT // 2

    assert grouped(sized(half, half + 1)) == [[half], [half + 1]]


def test_25_items_share_a_call_and_the_26th_starts_the_next() -> None:
    assert [len(chunk) for chunk in chunks(sized(*[1] * 26))] == [25, 1]
    assert [len(chunk) for chunk in chunks(sized(*[1] * 25))] == [25]


def test_a_failed_chunk_stays_failed_when_a_later_chunk_succeeds() -> None:
    client = ScriptedBatch(client_error("AccessDeniedException", "BatchWriteItem"))  # first call only
    writer = TableWriter(client, "t", RecordingBackoff(), ScriptedContext(60_000))  # type: ignore[arg-type]
    items = [item(f"r{index:02d}") for index in range(26)]

    assert writer.write(items) == {(f"r{index:02d}", NOW_MS) for index in range(25)}
    assert [len(call) for call in client.calls] == [25, 1]
    assert writer.written == 1


class SilentBatch:
    """BatchWriteItem that stores everything and answers without an UnprocessedItems key."""

    def __init__(self) -> None:
        self.calls = 0

    def batch_write_item(self, **_: Any) -> dict[str, Any]:
        self.calls += 1
        return {}


def test_an_answer_without_unprocessed_items_means_all_were_stored() -> None:
    client = SilentBatch()
    writer = TableWriter(client, "t", RecordingBackoff(), ScriptedContext(60_000))  # type: ignore[arg-type]

    assert writer.write([item("a"), item("b")]) == set()
    assert (client.calls, writer.written, writer.retries) == (1, 2, 0)


def throttled(operation: str) -> Exception:
    return client_error("ProvisionedThroughputExceededException", operation)


def test_batch_retries_count_their_attempts_0_1_2() -> None:
    client = ScriptedBatch(throttled("BatchWriteItem"), throttled("BatchWriteItem"), throttled("BatchWriteItem"))
    backoff = RecordingBackoff()
    writer = TableWriter(client, "t", backoff, ScriptedContext(60_000))  # type: ignore[arg-type]

    assert writer.write([item("a")]) == set()
    assert [attempt for attempt, _ in backoff.calls] == [0, 1, 2]
    assert writer.retries == 3


def test_put_retries_count_their_attempts_0_1_2() -> None:
    client = ScriptedDynamo(a=[throttled("PutItem")] * 3)
    backoff = RecordingBackoff()
    writer = TableWriter(client, "t", backoff, ScriptedContext(60_000))  # type: ignore[arg-type]

    assert writer.write([item("a")]) == set()
    assert client.puts == ["a"] * 4
    assert [attempt for attempt, _ in backoff.calls] == [0, 1, 2]


def test_a_throttled_put_waits_on_the_invocation_s_own_remaining_time() -> None:
    context = FakeContext(remaining_ms=60_000)
    sleep = TimedSleep(context)
    backoff = Backoff(base_delay=0.1, max_delay=0.1, safety_margin_ms=1_000, sleep=sleep, rng=lambda: 0.5)
    client = ScriptedDynamo(a=[throttled("PutItem")])
    writer = TableWriter(client, "t", backoff, context)  # type: ignore[arg-type]

    assert writer.write([item("a")]) == set()
    assert sleep.pauses == [0.05], "one pause of half the 100 ms ceiling, taken off the context's time"
    assert context.remaining_ms == 59_950
