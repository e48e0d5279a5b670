"""``python -m tools redrive`` against moto: a dry run first, keys kept, a limit, nothing lost, rejects replayed."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from tools import __main__ as tools_cli
from tools import redrive as redrive_tool
from tools.redrive import RedriveError, Target, environment_of, move_messages, resolve_route

REGION = "us-east-1"
DEV = Target(region=REGION, project="tap", suffix="dev")
INGEST, DLQ, REJECTS = "tap-ingest-dev", "tap-ingest-dev-dlq", "tap-rejects-dev"


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """dev's ingest queue (a message moves to its DLQ on its second receive) and rejects queue, in moto."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        import boto3

        client = boto3.client("sqs", region_name=REGION)
        dlq_url = client.create_queue(QueueName=DLQ)["QueueUrl"]
        dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        client.create_queue(QueueName=INGEST, Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})})
        client.create_queue(QueueName=REJECTS)
        yield client


def url(sqs: Any, name: str) -> str:
    return sqs.get_queue_url(QueueName=name)["QueueUrl"]


def dead_letter(sqs: Any, body: str, attributes: dict[str, Any] | None = None) -> int:
    """Send ``body`` to the ingest queue and fail it into the DLQ; its SentTimestamp (ms)."""
    kwargs = {"MessageAttributes": attributes} if attributes else {}
    sqs.send_message(QueueUrl=url(sqs, INGEST), MessageBody=body, **kwargs)
    [first] = sqs.receive_message(QueueUrl=url(sqs, INGEST), VisibilityTimeout=0,
                                  MessageSystemAttributeNames=["SentTimestamp"])["Messages"]
    assert sqs.receive_message(QueueUrl=url(sqs, INGEST), VisibilityTimeout=0).get("Messages") is None
    return int(first["Attributes"]["SentTimestamp"])


def messages(sqs: Any, name: str) -> list[dict[str, Any]]:
    """Every message of the queue (received, then made visible again)."""
    found = sqs.receive_message(QueueUrl=url(sqs, name), MaxNumberOfMessages=10, VisibilityTimeout=5,
                                MessageSystemAttributeNames=["SentTimestamp"],
                                MessageAttributeNames=["All"]).get("Messages", [])
    for message in found:
        sqs.change_message_visibility(QueueUrl=url(sqs, name), ReceiptHandle=message["ReceiptHandle"],
                                      VisibilityTimeout=0)
    return found


def string(attribute: dict[str, Any]) -> str:
    return attribute["StringValue"]


def test_a_dry_run_moves_nothing_and_shows_the_key_each_message_would_keep(sqs: Any) -> None:
    sent = [dead_letter(sqs, json.dumps({"id": f"r{n}", "data": {}})) for n in range(3)]
    out = io.StringIO()

    code = redrive_tool.redrive(sqs, DEV, DLQ, apply=False, limit=None, out=out)

    lines = out.getvalue().splitlines()
    listed = [json.loads(line) for line in lines[:-1]]
    assert code == 0 and len(listed) == 3
    assert sorted(item["original_sent_timestamp"] for item in listed) == sorted(sent)
    assert {item["action"] for item in listed} == {"move"}
    assert lines[-1] == ("dry run: tap-ingest-dev-dlq holds about 3 messages; a redrive would move them to "
                         "tap-ingest-dev. Nothing moved: run again with --apply.")
    assert len(messages(sqs, DLQ)) == 3 and messages(sqs, INGEST) == []


def test_apply_moves_every_message_back_with_its_first_sent_timestamp(sqs: Any) -> None:
    first_sent = dead_letter(sqs, '{"id": "k1", "data": {}}', {"trace": {"DataType": "String", "StringValue": "t"}})
    time.sleep(0.01)  # the redriven message's own SentTimestamp is later
    out = io.StringIO()

    code = redrive_tool.redrive(sqs, DEV, DLQ, apply=True, limit=None, out=out)

    assert code == 0 and out.getvalue() == "moved 1 messages from tap-ingest-dev-dlq to tap-ingest-dev\n"
    assert messages(sqs, DLQ) == []
    [back] = messages(sqs, INGEST)
    assert back["Body"] == '{"id": "k1", "data": {}}'
    assert string(back["MessageAttributes"]["original_sent_timestamp"]) == str(first_sent)
    assert string(back["MessageAttributes"]["trace"]) == "t", "the producer's attributes travel along"
    assert int(back["Attributes"]["SentTimestamp"]) > first_sent, "a new message: only the attribute keeps the key"


def test_a_timestamp_carried_by_an_earlier_redrive_is_kept(sqs: Any) -> None:
    carried = {"original_sent_timestamp": {"DataType": "Number", "StringValue": "1700000000000"}}
    dead_letter(sqs, '{"id": "k2"}', carried)

    move_messages(sqs, url(sqs, DLQ), url(sqs, INGEST), wait_s=0)

    [back] = messages(sqs, INGEST)
    assert string(back["MessageAttributes"]["original_sent_timestamp"]) == "1700000000000"


@pytest.mark.parametrize(("limit", "moved"), [(2, 2), (5, 5), (6, 5)])
def test_a_limit_moves_at_most_that_many(sqs: Any, limit: int, moved: int) -> None:
    for n in range(5):
        dead_letter(sqs, f'{{"id": "l{n}"}}')

    result = move_messages(sqs, url(sqs, DLQ), url(sqs, INGEST), limit=limit, wait_s=0)

    assert result.moved == moved and result.left == {}
    assert (len(messages(sqs, INGEST)), len(messages(sqs, DLQ))) == (moved, 5 - moved)


def test_a_message_the_target_refuses_stays_in_the_dead_letter_queue_and_is_named(sqs: Any) -> None:
    """The ingest queue takes at most 1 KiB here: a 2 KiB message in its DLQ cannot go back, the one beside
    it still does, and nothing is lost."""
    sqs.set_queue_attributes(QueueUrl=url(sqs, INGEST), Attributes={"MaximumMessageSize": "1024"})
    sqs.send_message(QueueUrl=url(sqs, DLQ), MessageBody="x" * 2048)
    sqs.send_message(QueueUrl=url(sqs, DLQ), MessageBody='{"id": "fine"}')
    out = io.StringIO()

    code = redrive_tool.redrive(sqs, DEV, DLQ, apply=True, limit=None, out=out)

    assert code == 1
    [kept] = messages(sqs, DLQ)
    assert kept["Body"] == "x" * 2048, "the refused message is still there, visible again"
    assert [m["Body"] for m in messages(sqs, INGEST)] == ['{"id": "fine"}']
    report = out.getvalue().splitlines()
    assert report[0] == "moved 1 messages from tap-ingest-dev-dlq to tap-ingest-dev"
    assert report[1].startswith(f"left {kept['MessageId']} in tap-ingest-dev-dlq: the target refused it: ")
    assert len(report) == 2


def test_a_batch_the_target_refuses_entry_by_entry_is_reported_per_message() -> None:
    """SendMessageBatch's per-entry failures (SQS refuses an 11th message attribute that way) leave exactly
    those messages behind."""
    class RefusesSecond:
        def __init__(self) -> None:
            self.calls: list[list[str]] = []

        def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
            self.calls.append([entry["Id"] for entry in Entries])
            return {"Successful": [{"Id": e["Id"]} for e in Entries if e["Id"] != "1"],
                    "Failed": [{"Id": "1", "Code": "InvalidParameterValue", "Message": "too many attributes"}]}

    fake = RefusesSecond()
    entries = [{"Id": str(n), "MessageBody": "b"} for n in range(3)]
    sent, refused = redrive_tool._send(fake, "q", entries)
    assert (sent, refused) == ({"0", "2"}, {"1": "InvalidParameterValue: too many attributes"})
    assert fake.calls == [["0", "1", "2"]]


def test_large_messages_travel_in_batches_sqs_accepts() -> None:
    """SendMessageBatch takes at most 256 KiB in all: ten DLQ messages near the limit go one by one."""
    class Records:
        def __init__(self) -> None:
            self.sizes: list[int] = []

        def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
            self.sizes.append(sum(redrive_tool.entry_size(e) for e in Entries))
            return {"Successful": [{"Id": e["Id"]} for e in Entries]}

    fake = Records()
    big = {"DataType": "Number", "StringValue": "1700000000000"}
    entries = [{"Id": str(n), "MessageBody": "x" * 200_000, "MessageAttributes": {"original_sent_timestamp": big}}
               for n in range(3)]
    sent, _ = redrive_tool._send(fake, "q", entries)
    assert sent == {"0", "1", "2"} and fake.sizes == [200_000 + 23 + 6 + 13] * 3


def test_a_dry_run_of_the_rejects_queue_shows_why_each_was_rejected(sqs: Any) -> None:
    sqs.send_message(QueueUrl=url(sqs, REJECTS), MessageBody='{"id": 1}', MessageAttributes={
        "reason_code": {"DataType": "String", "StringValue": "invalid_id"}})
    out = io.StringIO()

    assert redrive_tool.redrive(sqs, DEV, REJECTS, apply=False, limit=None, out=out) == 0

    [listed] = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]
    assert (listed["reason_code"], listed["action"]) == ("invalid_id", "move")
    assert "a replay would move them to tap-ingest-dev" in out.getvalue()


def test_a_rejects_replay_drops_the_verdict_keeps_the_key_and_leaves_body_parts(sqs: Any) -> None:
    verdict = {"reason_code": "unknown_field", "reason": "field 'x' is not allowed", "source_message_id": "m1"}
    attributes = {name: {"DataType": "String", "StringValue": value} for name, value in verdict.items()}
    first = {"original_sent_timestamp": {"DataType": "String", "StringValue": "1700000000000"}}
    sqs.send_message(QueueUrl=url(sqs, REJECTS), MessageBody='{"id": "r", "data": {}, "x": 1}',
                     MessageAttributes={**attributes, **first})
    part = {**attributes, "body_part": {"DataType": "String", "StringValue": "1/2"}}
    sqs.send_message(QueueUrl=url(sqs, REJECTS), MessageBody='{"id": "big", "data": {"a": "', MessageAttributes=part)
    out = io.StringIO()

    code = redrive_tool.redrive(sqs, DEV, "rejects", apply=True, limit=None, out=out)

    assert code == 0, "a body part left behind is the plan, not a failure"
    [replayed] = messages(sqs, INGEST)
    assert replayed["Body"] == '{"id": "r", "data": {}, "x": 1}'
    assert set(replayed["MessageAttributes"]) == {"original_sent_timestamp"}, "the validator judges it again"
    assert string(replayed["MessageAttributes"]["original_sent_timestamp"]) == "1700000000000"
    [left] = messages(sqs, REJECTS)
    assert left["MessageAttributes"]["body_part"]["StringValue"] == "1/2"
    assert "moved 1 messages from tap-rejects-dev to tap-ingest-dev" in out.getvalue()
    assert f"left {left['MessageId']} in tap-rejects-dev: one part of a body too large" in out.getvalue()


@pytest.mark.parametrize("named", [DLQ, INGEST, "ingest"])
def test_a_dead_letter_queue_is_found_by_its_name_its_queue_or_the_stage_short_name(sqs: Any, named: str) -> None:
    route = resolve_route(sqs, named, DEV)
    assert (route.source.name, route.target.name, route.replay) == (DLQ, INGEST, False)


def test_the_rejects_queue_replays_into_the_ingest_queue(sqs: Any) -> None:
    route = resolve_route(sqs, REJECTS, DEV)
    assert (route.source.name, route.target.name, route.replay) == (REJECTS, INGEST, True)


def test_a_queue_that_is_no_dead_letter_queue_is_refused_with_what_to_name(sqs: Any) -> None:
    sqs.create_queue(QueueName="tap-process-dev")
    with pytest.raises(RedriveError, match="tap-process-dev is neither the rejects queue nor the dead-letter queue "
                                           r"of exactly one queue \(queues that use it: none\)"):
        resolve_route(sqs, "tap-process-dev", DEV)


def test_a_missing_queue_says_what_to_check(sqs: Any) -> None:
    with pytest.raises(RedriveError, match="no queue 'tap-enrich-dev-dlq' in us-east-1 for these credentials"):
        resolve_route(sqs, "tap-enrich-dev-dlq", DEV)


@pytest.mark.parametrize(("queue", "environment"), [
    ("tap-ingest-prod-dlq", "prod"), ("tap-rejects-staging", "staging"), ("tap-process-pr-42-dlq", "pr-42"),
])
def test_the_environment_is_read_from_the_queue_name(queue: str, environment: str) -> None:
    assert environment_of(queue, "tap") == environment


@pytest.mark.parametrize("queue", ["tap-ingest", "other-ingest-prod-dlq", "tap-table-prod", "ingest"])
def test_a_name_without_an_environment_asks_for_env(queue: str) -> None:
    with pytest.raises(RedriveError, match="cannot tell the environment .* pass --env"):
        environment_of(queue, "tap")


def test_the_command_line_moves_them_on_dev(sqs: Any, capsys: pytest.CaptureFixture[str]) -> None:
    dead_letter(sqs, '{"id": "cli"}')

    assert tools_cli.main(["redrive", "--queue", DLQ]) == 0
    assert "Nothing moved" in capsys.readouterr().out
    assert tools_cli.main(["redrive", "--queue", DLQ, "--apply"]) == 0

    assert "moved 1 messages" in capsys.readouterr().out and len(messages(sqs, INGEST)) == 1


@pytest.mark.parametrize("limit", ["0", "-3"])
def test_a_limit_below_one_is_refused(limit: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        tools_cli.main(["redrive", "--queue", DLQ, "--limit", limit])
    assert f"--limit {limit} is invalid: give a whole number of messages, 1 or more" in capsys.readouterr().err


def test_a_queue_name_without_an_environment_stops_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert tools_cli.main(["redrive", "--queue", "orders-dlq"]) == 2
    assert "pass --env" in capsys.readouterr().err
