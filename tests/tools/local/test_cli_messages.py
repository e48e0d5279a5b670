"""What the local commands say to a person: skipped input lines, empty queues, why a message was dead-lettered,
and how a run ended. No emulator: the session's environment is a stand-in."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace
from typing import Any

import pytest

from tools import __main__ as tools_cli
from tools.local import cli as local_cli
from tools.local import inspect_queues
from tools.local.events import JsonLines
from tools.local.topology import Queue


def queue(name: str, dead_letter: Queue | None = None, max_receives: int | None = None) -> Queue:
    return Queue(name, f"http://sqs/{name}", f"arn:aws:sqs:us-east-1:123456789012:{name}", 30,
                 dead_letter.arn if dead_letter else None, max_receives)


PROCESS_DLQ = queue("tap-process-local-dlq")
PROCESS = queue("tap-process-local", PROCESS_DLQ, 5)
INGEST_DLQ = queue("tap-ingest-local-dlq")
INGEST = queue("tap-ingest-local", INGEST_DLQ, 5)
REJECTS = queue("tap-rejects-local")


class FakeTopology:
    stages = (SimpleNamespace(source=INGEST, function=SimpleNamespace(name="tap-validator-local")),
              SimpleNamespace(source=PROCESS, function=SimpleNamespace(name="tap-processor-local")))

    def dead_letter_queues(self) -> list[tuple[Queue, Queue]]:
        return [(INGEST_DLQ, INGEST), (PROCESS_DLQ, PROCESS)]

    def reject_queues(self) -> list[Queue]:
        return [REJECTS]

    def queue(self, name: str) -> Queue:
        return next(q for q in (INGEST, INGEST_DLQ, PROCESS, PROCESS_DLQ, REJECTS) if name in (q.name, q.url))


class FakeEnvironment:
    def __init__(self) -> None:
        self.topology = FakeTopology()
        self.sqs = None
        self.ingest_url = INGEST.url


def message(body: str, **attributes: str) -> dict[str, Any]:
    return {"MessageId": "m-1", "Body": body, "Attributes": {"ApproximateReceiveCount": "6", "SentTimestamp": "1"},
            "MessageAttributes": {k: {"StringValue": v, "DataType": "String"} for k, v in attributes.items()}}


@pytest.fixture
def queues(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[dict[str, Any]]]:
    """The messages each queue holds (by name), for the commands to peek at."""
    held: dict[str, list[dict[str, Any]]] = {}
    monkeypatch.setattr(local_cli, "Environment", FakeEnvironment)
    monkeypatch.setattr(inspect_queues, "peek", lambda sqs, q, limit=None: held.get(q.name, []))
    return held


def test_an_empty_dlq_says_so_naming_the_queues(queues: dict, capsys: pytest.CaptureFixture[str]) -> None:
    assert tools_cli.main(["local", "dlq"]) == 0
    out, err = capsys.readouterr()
    assert out == "", "stdout stays JSON Lines: nothing"
    assert err == ("no dead-lettered messages: every dead-letter queue is empty "
                   "(tap-ingest-local-dlq, tap-process-local-dlq)\n")


def test_an_empty_dlq_named_alone_is_the_one_said_empty(queues: dict, capsys: pytest.CaptureFixture[str]) -> None:
    tools_cli.main(["local", "dlq", "tap-process-local"])
    assert capsys.readouterr().err == (
        "no dead-lettered messages: the dead-letter queue is empty (tap-process-local-dlq)\n")


def test_a_dlq_with_messages_prints_no_empty_note(queues: dict, capsys: pytest.CaptureFixture[str]) -> None:
    queues["tap-process-local-dlq"] = [message('{"id": "poison-1"}')]
    tools_cli.main(["local", "dlq"])
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 1 and err == ""


def test_a_dead_lettered_message_without_a_reason_says_it_failed_every_receive(
        queues: dict, capsys: pytest.CaptureFixture[str]) -> None:
    queues["tap-process-local-dlq"] = [message('{"id": "poison-1"}')]
    tools_cli.main(["local", "dlq"])
    [entry] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert entry["reason"] == ("dead-lettered after 5 receives from tap-process-local: each delivery failed by "
                               "tap-processor-local, whose log (.local/logs/tap-processor-local.log) says why")
    assert entry["reason_code"] is None, "no code is made up"


def test_a_dead_lettered_message_keeps_a_reason_it_carries(queues: dict, capsys: pytest.CaptureFixture[str]) -> None:
    queues["tap-ingest-local-dlq"] = [message("{}", reason_code="too_large", reason="the body is too large")]
    tools_cli.main(["local", "dlq"])
    assert '"reason": "the body is too large"' in capsys.readouterr().out


def test_an_empty_rejects_queue_says_so(queues: dict, capsys: pytest.CaptureFixture[str]) -> None:
    tools_cli.main(["local", "rejects"])
    assert capsys.readouterr().err == "no rejected records: tap-rejects-local is empty\n"


def test_json_lines_keeps_every_non_blank_line_and_numbers_the_blank_ones() -> None:
    lines = JsonLines.read(io.StringIO('{"id": "a"}\n\n{"id": "b"}\n   \n{oops\n'))
    assert lines.bodies == ['{"id": "a"}', '{"id": "b"}', "{oops"], "invalid JSON is sent as written"
    assert lines.blank_lines == [2, 4]
    assert lines.skipped() == "; skipped 2 blank lines (lines 2, 4): a blank line holds no message"


def test_json_lines_without_blank_lines_skip_nothing() -> None:
    assert JsonLines.read(io.StringIO('{"id": "a"}\n')).skipped() == ""


def test_send_says_how_many_it_sent_and_which_lines_it_skipped(
        queues: dict, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    sent: list[list[str]] = []
    monkeypatch.setattr(local_cli, "send_bodies", lambda sqs, url, bodies: sent.append(bodies) or bodies)
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(f'{{"id": "{n}"}}\n' for n in range(12)) + "\n\n"))
    assert tools_cli.main(["local", "send"]) == 0
    assert len(sent[0]) == 12
    assert capsys.readouterr().err == (f"sent 12 messages to {INGEST.url}; skipped 2 blank lines (lines 13, 14): "
                                       "a blank line holds no message\n")


def stage(function: str, received: int, succeeded: int, failures: dict[str, int] | None = None) -> dict:
    return {"function": function, "received": received, "succeeded": succeeded, "failed": received - succeeded,
            "invocations": 1, "errors": 0, "failures": failures or {}}


def test_a_run_with_nothing_to_deliver_says_what_to_do_first() -> None:
    result = {"seconds": 0.3, "sent": 0, "stages": [stage("v", 0, 0), stage("e", 0, 0), stage("p", 0, 0)]}
    assert local_cli.run_sentence(result) == (
        "Nothing to deliver: every stage's queue was already empty. Send records first "
        "(python -m tools local send FILE), then run again.")


def test_a_run_ends_with_what_was_stored_retried_and_where_the_rest_is() -> None:
    result = {"seconds": 2.04, "sent": 0, "stages": [stage("v", 12, 12), stage("e", 10, 10),
                                                     stage("p", 11, 10, {"m-1": 1})]}
    assert local_cli.run_sentence(result) == (
        "Done in 2.0 s: every stage's queue is empty, and the table got 10 records. 1 record failed at least once "
        "and was delivered again. Rejected records: python -m tools local rejects; dead-lettered ones: "
        "python -m tools local dlq.")


def test_a_run_that_sent_a_file_says_so_with_its_skipped_lines() -> None:
    result = {"seconds": 1.0, "sent": 2, "stages": [stage("v", 2, 2), stage("p", 1, 1)]}
    lines = JsonLines(['{"id": "a"}', '{"id": "b"}'], [3])
    assert local_cli.run_sentence(result, lines).startswith(
        "Sent 2 messages; skipped 1 blank line (line 3): a blank line holds no message. Done in 1.0 s:")
