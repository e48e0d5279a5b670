"""SendMessageBatch outcomes, entry by entry: which source records fail, and what each log line says."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from handlers.shared import clients, forwarding
from handlers.shared.forwarding import Outgoing
from tests.handlers.helpers import FakeContext

URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/out"


class ScriptedSqs:
    """Answers SendMessageBatch with a scripted answer (a function of the entries), or raises it."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer(Entries)


@pytest.fixture
def use_sqs() -> Iterator[Any]:
    def install(answer: Any) -> None:
        clients.set_client("sqs", ScriptedSqs(answer))

    yield install
    clients.reset()


def logged(caplog: pytest.LogCaptureFixture, *fields: str) -> list[tuple[Any, ...]]:
    return [(r.levelname, r.getMessage(), *(getattr(r, f, None) for f in fields)) for r in caplog.records
            if r.name != "botocore"]


MESSAGES = [Outgoing("m0", "a"), Outgoing("m1", "b")]


def test_failed_entries_are_logged_with_aws_reasons_and_unknown_ids_ignored(use_sqs, caplog) -> None:
    use_sqs(lambda entries: {
        "Successful": [{"Id": "0", "MessageId": "sqs-0"}],
        "Failed": [{"Id": "7", "Code": "X", "Message": "not ours", "SenderFault": True},
                   {"Id": "1", "Code": "InternalError", "Message": "boom", "SenderFault": False}]})
    with caplog.at_level(logging.DEBUG, logger=forwarding.logger.name):
        assert forwarding.send(URL, MESSAGES, FakeContext()) == {"m1"}
    assert logged(caplog, "message_id", "queue_url", "error_code", "error_message", "sender_fault",
                  "sent_message_id") == [
        ("ERROR", "SendMessageBatch entry failed; reporting it as a batch item failure", "m1", URL,
         "InternalError", "boom", False, None),
        ("DEBUG", "message sent", "m0", URL, None, None, None, "sqs-0"),
    ]


def test_an_entry_without_an_answer_is_logged_and_failed(use_sqs, caplog) -> None:
    use_sqs(lambda entries: {"Successful": [{"Id": "1", "MessageId": "sqs-1"}]})
    with caplog.at_level(logging.ERROR, logger=forwarding.logger.name):
        assert forwarding.send(URL, MESSAGES, FakeContext()) == {"m0"}
    assert logged(caplog, "message_id", "queue_url") == [
        ("ERROR", "SendMessageBatch reported neither success nor failure for an entry; treating it as failed",
         "m0", URL)]


def test_a_call_that_raises_fails_and_logs_all_its_records(use_sqs, caplog) -> None:
    use_sqs(EndpointConnectionError(endpoint_url=URL))
    with caplog.at_level(logging.ERROR, logger=forwarding.logger.name):
        assert forwarding.send(URL, MESSAGES, FakeContext()) == {"m0", "m1"}
    assert logged(caplog, "message_ids", "queue_url") == [
        ("ERROR", "SendMessageBatch call failed; reporting all its records as batch item failures", ["m0", "m1"],
         URL)]


def test_no_time_for_a_call_fails_and_logs_its_records_without_calling(use_sqs, caplog) -> None:
    use_sqs(AssertionError("must not be called"))
    with caplog.at_level(logging.ERROR, logger=forwarding.logger.name):
        assert forwarding.send(URL, MESSAGES, FakeContext(remaining_ms=0)) == {"m0", "m1"}
    assert logged(caplog, "message_ids", "queue_url") == [
        ("ERROR", "not enough time left for a SendMessageBatch call at its worst case; reporting its records "
         "as batch item failures", ["m0", "m1"], URL)]
