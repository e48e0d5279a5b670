"""The writer's item-by-item fallback (after a batch an item's content made DynamoDB refuse): retries with
backoff, the deadline before each call, counters, and what is logged for a lost item."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from handlers.processor.store import PendingItem, TableWriter
from handlers.shared.deadline import worst_case_call_ms
from tests.handlers.helpers import NOW_MS, client_error, enriched


class RecordingBackoff:
    """Allows ``allowed`` waits, records each (attempt, reserve_ms), never sleeps."""

    safety_margin_ms = 0

    def __init__(self, allowed: int = 10) -> None:
        self.allowed = allowed
        self.calls: list[tuple[int, float]] = []

    def wait(self, attempt: int, context: Any, reserve_ms: float = 0.0) -> bool:
        self.calls.append((attempt, reserve_ms))
        return len(self.calls) <= self.allowed


class ScriptedContext:
    """Remaining time from a list, one value per question (the last one repeats)."""

    def __init__(self, *remaining_ms: float) -> None:
        self.remaining = list(remaining_ms)

    def get_remaining_time_in_millis(self) -> float:
        return self.remaining.pop(0) if len(self.remaining) > 1 else self.remaining[0]


class ScriptedDynamo:
    """BatchWriteItem always blames an item; PutItem raises the scripted errors per id, then succeeds."""

    def __init__(self, **errors: list[Exception]) -> None:
        self.errors = errors
        self.puts: list[str] = []

    def batch_write_item(self, **_: Any) -> dict[str, Any]:
        raise client_error("ValidationException", "BatchWriteItem")

    def put_item(self, *, TableName: str, Item: dict[str, Any]) -> dict[str, Any]:
        record_id = Item["id"]["S"]
        self.puts.append(record_id)
        pending = self.errors.get(record_id, [])
        if pending:
            raise pending.pop(0)
        return {}


def item(record_id: str) -> PendingItem:
    return PendingItem((record_id, NOW_MS), enriched(record_id, NOW_MS, {}), 100, [f"m-{record_id}"])


def throttled() -> Exception:
    return client_error("ProvisionedThroughputExceededException", "PutItem")


def test_throttled_puts_are_retried_with_growing_attempts_until_stored() -> None:
    client = ScriptedDynamo(a=[throttled(), throttled()])
    backoff = RecordingBackoff()
    writer = TableWriter(client, "t", backoff, ScriptedContext(60_000))  # type: ignore[arg-type]

    assert writer.write([item("a"), item("b")]) == set()
    assert client.puts == ["a", "a", "a", "b"]
    assert backoff.calls == [(0, worst_case_call_ms()), (1, worst_case_call_ms())]
    assert (writer.retries, writer.written) == (2, 2)


def test_a_put_whose_retries_run_out_fails_its_item_and_says_why(caplog: pytest.LogCaptureFixture) -> None:
    last = throttled()
    client = ScriptedDynamo(a=[throttled(), last])
    writer = TableWriter(client, "t", RecordingBackoff(allowed=1), ScriptedContext(60_000))  # type: ignore[arg-type]

    with caplog.at_level(logging.ERROR):
        assert writer.write([item("a"), item("b")]) == {("a", NOW_MS)}
    assert (writer.retries, writer.written) == (1, 1)
    [record] = [r for r in caplog.records if r.getMessage().startswith("PutItem failed")]
    assert record.getMessage() == "PutItem failed; reporting the item's records as batch item failures"
    assert (record.error_code, record.message_ids) == ("ProvisionedThroughputExceededException", ["m-a"])
    assert record.error == str(last)


def test_a_put_that_cannot_be_fixed_is_not_retried() -> None:
    client = ScriptedDynamo(a=[client_error("AccessDeniedException", "PutItem")])
    backoff = RecordingBackoff()
    writer = TableWriter(client, "t", backoff, ScriptedContext(60_000))  # type: ignore[arg-type]

    assert writer.write([item("a")]) == {("a", NOW_MS)}
    assert backoff.calls == [] and client.puts == ["a"]


def test_no_time_for_a_put_fails_that_item_and_keeps_earlier_failures(caplog: pytest.LogCaptureFixture) -> None:
    client = ScriptedDynamo(a=[client_error("AccessDeniedException", "PutItem")])
    # Enough time for the batch call and the put of "a", then none for "b" or "c".
    context = ScriptedContext(60_000, 60_000, 0)
    writer = TableWriter(client, "t", RecordingBackoff(), context)  # type: ignore[arg-type]

    with caplog.at_level(logging.ERROR):
        assert writer.write([item("a"), item("b"), item("c")]) == {("a", NOW_MS), ("b", NOW_MS), ("c", NOW_MS)}
    assert client.puts == ["a"]
    gave_up = [r for r in caplog.records if r.getMessage().startswith("items not stored")]
    assert [(r.getMessage(), r.message_ids) for r in gave_up] == [
        ("items not stored (no time left for a call at its worst case); reporting their records as batch item "
         "failures", [f"m-{i}"]) for i in ("b", "c")]


class ScriptedBatch:
    """BatchWriteItem answers from a script: an exception to raise, or the ids to leave unprocessed."""

    def __init__(self, *script: Exception | tuple[str, ...]) -> None:
        self.script = list(script)
        self.calls: list[list[str]] = []

    def batch_write_item(self, *, RequestItems: dict[str, Any]) -> dict[str, Any]:
        ((table, requests),) = RequestItems.items()
        self.calls.append([r["PutRequest"]["Item"]["id"]["S"] for r in requests])
        answer = self.script.pop(0) if self.script else ()
        if isinstance(answer, Exception):
            raise answer
        held = [r for r in requests if r["PutRequest"]["Item"]["id"]["S"] in answer]
        return {"UnprocessedItems": {table: held} if held else {}}


def logged(caplog: pytest.LogCaptureFixture, *fields: str) -> list[tuple[Any, ...]]:
    return [(r.levelname, r.getMessage(), *(getattr(r, f, None) for f in fields)) for r in caplog.records]


def test_batch_retries_log_each_attempt_and_count_what_was_written(caplog: pytest.LogCaptureFixture) -> None:
    client = ScriptedBatch(throttled(), ("b",), ())
    backoff = RecordingBackoff()
    writer = TableWriter(client, "t", backoff, ScriptedContext(60_000))  # type: ignore[arg-type]

    with caplog.at_level(logging.INFO):
        assert writer.write([item("a"), item("b")]) == set()
    assert client.calls == [["a", "b"], ["a", "b"], ["b"]]
    assert backoff.calls == [(0, worst_case_call_ms()), (1, worst_case_call_ms())]
    assert (writer.retries, writer.written) == (2, 2)
    assert logged(caplog, "error_code", "attempt", "message_ids", "unprocessed") == [
        ("WARNING", "BatchWriteItem failed with a retryable error", "ProvisionedThroughputExceededException", 0,
         ["m-a", "m-b"], None),
        ("INFO", "BatchWriteItem left items unprocessed; retrying them", None, 1, None, 1),
    ]


def test_batch_retries_that_run_out_give_up_on_what_is_pending(caplog: pytest.LogCaptureFixture) -> None:
    client = ScriptedBatch(("b",))
    writer = TableWriter(client, "t", RecordingBackoff(allowed=0), ScriptedContext(60_000))  # type: ignore[arg-type]

    with caplog.at_level(logging.ERROR):
        assert writer.write([item("a"), item("b")]) == {("b", NOW_MS)}
    assert (writer.retries, writer.written) == (0, 1)
    assert logged(caplog, "message_ids") == [(
        "ERROR", "items not stored (retries exhausted within the invocation's remaining time); reporting their "
        "records as batch item failures", ["m-b"])]


def test_no_time_for_a_batch_call_gives_up_on_the_chunk(caplog: pytest.LogCaptureFixture) -> None:
    client = ScriptedBatch()
    writer = TableWriter(client, "t", RecordingBackoff(), ScriptedContext(0))  # type: ignore[arg-type]

    with caplog.at_level(logging.ERROR):
        assert writer.write([item("a")]) == {("a", NOW_MS)}
    assert client.calls == []
    assert logged(caplog, "message_ids") == [(
        "ERROR", "items not stored (no time left for a call at its worst case); reporting their records as batch "
        "item failures", ["m-a"])]


def test_an_error_retrying_cannot_fix_fails_the_chunk_at_once(caplog: pytest.LogCaptureFixture) -> None:
    client = ScriptedBatch(client_error("AccessDeniedException", "BatchWriteItem"))
    backoff = RecordingBackoff()
    writer = TableWriter(client, "t", backoff, ScriptedContext(60_000))  # type: ignore[arg-type]

    with caplog.at_level(logging.ERROR):
        assert writer.write([item("a"), item("b")]) == {("a", NOW_MS), ("b", NOW_MS)}
    assert backoff.calls == []
    assert logged(caplog, "error_code", "message_ids") == [(
        "ERROR", "BatchWriteItem failed with an error retrying cannot fix; reporting its records as batch item "
        "failures", "AccessDeniedException", ["m-a", "m-b"])]


def test_a_refused_batch_is_written_item_by_item_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    refused = client_error("ValidationException", "BatchWriteItem")
    client = ScriptedDynamo()
    writer = TableWriter(client, "t", RecordingBackoff(), ScriptedContext(60_000))  # type: ignore[arg-type]

    with caplog.at_level(logging.WARNING):
        assert writer.write([item("a"), item("b")]) == set()
    assert client.puts == ["a", "b"] and writer.written == 2
    assert logged(caplog, "error_code", "error", "message_ids") == [(
        "WARNING", "BatchWriteItem refused the batch; writing its items one by one to isolate bad ones",
        "ValidationException", str(refused), ["m-a", "m-b"])]


class ForeignUnprocessed(ScriptedBatch):
    """The first answer holds an UnprocessedItems key that was not in the request."""

    def batch_write_item(self, *, RequestItems: dict[str, Any]) -> dict[str, Any]:
        ((table, requests),) = RequestItems.items()
        self.calls.append([r["PutRequest"]["Item"]["id"]["S"] for r in requests])
        if len(self.calls) > 1:
            return {"UnprocessedItems": {}}
        return {"UnprocessedItems": {table: [{"PutRequest": {"Item": {"id": {"S": "z"}, "timestamp": {"N": "7"}}}}]}}


def test_an_unknown_unprocessed_key_is_logged_and_the_chunk_sent_again(caplog: pytest.LogCaptureFixture) -> None:
    client = ForeignUnprocessed()
    writer = TableWriter(client, "t", RecordingBackoff(), ScriptedContext(60_000))  # type: ignore[arg-type]

    with caplog.at_level(logging.ERROR):
        assert writer.write([item("a")]) == set()
    assert client.calls == [["a"], ["a"]]
    assert logged(caplog, "key") == [
        ("ERROR", "UnprocessedItems holds an unknown key; retrying the whole chunk", ("z", 7))]


@pytest.mark.parametrize(("value", "name"), [(object(), "object"), ({1}, "set"), (1.5, "float")])
def test_a_value_dynamodb_cannot_store_is_named_in_the_error(value: object, name: str) -> None:
    from handlers.processor.store import to_attribute_value

    with pytest.raises(TypeError) as error:
        to_attribute_value(value)
    assert str(error.value) == f"cannot store a {name} in DynamoDB"
