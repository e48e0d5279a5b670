"""The local runner and its helpers on a hand-made queue layout in the emulator, with tiny fake handlers."""

from __future__ import annotations

import hashlib
import json
import os
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.tools.local import fake_handlers
from tools.local import inspect_queues
from tools.local.emulator import Emulator, client
from tools.local.events import QueueProducer, send_bodies
from tools.local.faults import WriteFaults
from tools.local.runner import Runner
from tools.local.topology import Function, Queue, Stage, Topology

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

REGION = "us-east-1"
MAX_RECEIVES = 3


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """A bare emulator for this module only; stopped (and checked gone) at the end."""
    server = Emulator.start()
    try:
        yield server
    finally:
        server.stop()
        assert not server.alive()


@pytest.fixture
def clients(emulator: Emulator) -> Iterator[dict[str, Any]]:
    """SQS and DynamoDB clients on an emulator emptied before each test."""
    request = urllib.request.Request(f"{emulator.endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=5).close()
    fake_handlers.CALLS.clear()
    fake_handlers._clients.clear()
    yield {
        "sqs": client("sqs", emulator.endpoint, REGION),
        "dynamodb": client("dynamodb", emulator.endpoint, REGION),
    }


def make_queue(sqs: Any, name: str, dead_letter: Queue | None = None) -> Queue:
    attributes = {"VisibilityTimeout": "30"}
    if dead_letter is not None:
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": dead_letter.arn, "maxReceiveCount": MAX_RECEIVES}
        )
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return Queue(
        name, url, arn, 30, dead_letter.arn if dead_letter else None, MAX_RECEIVES if dead_letter else None
    )


def one_stage(sqs: Any, handler: str, timeout: int = 5, batch_size: int = 10) -> Topology:
    """src (with a DLQ) -> function -> out."""
    dlq = make_queue(sqs, "src-dlq")
    src = make_queue(sqs, "src", dlq)
    out = make_queue(sqs, "out")
    function = Function(
        name="fn-test",
        arn=f"arn:aws:lambda:{REGION}:123456789012:function:fn-test",
        handler=f"tests.tools.local.fake_handlers.{handler}",
        timeout=timeout,
        memory_size=256,
        environment={"OUTPUT_QUEUE_URL": out.url, "STAGE": "one"},
    )
    stage = Stage(function, src, batch_size, 0, True, function.arn + ":live")
    return Topology((stage,), (src, dlq, out), (), {}, REGION)


def test_event_context_and_environment_are_lambdas(
    clients: dict[str, Any], emulator: Emulator, tmp_path: Path
) -> None:
    sqs = clients["sqs"]
    topology = one_stage(sqs, "forward")
    src, out = topology.queue("src"), topology.queue("out")
    sqs.send_message(
        QueueUrl=src.url,
        MessageBody='{"id": "a"}',
        MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "test"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    assert "STAGE" not in os.environ
    with Runner(topology, emulator.endpoint, log_dir=tmp_path) as runner:
        runner.run(timeout=30)
        stats = runner.stats()[0]
    assert "STAGE" not in os.environ, "the function's variables leak out of its invocation"

    (call,) = fake_handlers.CALLS
    assert call["env"] == {"OUTPUT_QUEUE_URL": out.url, "STAGE": "one", "AWS_LAMBDA_FUNCTION_NAME": "fn-test"}
    assert call["function_name"] == "fn-test"
    assert call["invoked_arn"].endswith(":function:fn-test:live")
    assert 4000 < call["remaining_ms"] <= 5000
    (record,) = call["event"]["Records"]
    assert set(record) >= {
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    }
    assert record["body"] == '{"id": "a"}'
    assert record["md5OfBody"] == hashlib.md5(b'{"id": "a"}').hexdigest()  # noqa: S324 - SQS's checksum
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == (
        "aws:sqs",
        src.arn,
        REGION,
    )
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["attributes"]["SentTimestamp"].isdigit()
    assert record["messageAttributes"]["kind"] == {
        "stringValue": "test",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert record["messageAttributes"]["blob"]["binaryValue"] == "AAE="

    assert (stats.invocations, stats.received, stats.succeeded, stats.failed) == (1, 1, 1, 0)
    assert inspect_queues.depth(sqs, src) == 0
    assert [m["Body"] for m in inspect_queues.peek(sqs, out)] == ['{"id": "a"}']
    assert "forwarding 1 records" in (tmp_path / "fn-test.log").read_text()


def test_reported_failure_is_dead_lettered_after_max_receives_then_redriven(
    clients: dict[str, Any], emulator: Emulator, tmp_path: Path
) -> None:
    sqs = clients["sqs"]
    topology = one_stage(sqs, "forward")
    src, dlq, out = topology.queue("src"), topology.queue("src-dlq"), topology.queue("out")
    bodies = [json.dumps({"id": f"ok-{n}"}) for n in range(25)] + ['{"id": "fail-me"}']
    (failing_id,) = send_bodies(sqs, src.url, bodies)[-1:]
    with Runner(topology, emulator.endpoint, log_dir=tmp_path, retry_visibility=1) as runner:
        runner.run(timeout=60)
        stats = runner.stats()[0]

    assert stats.failures == {failing_id: MAX_RECEIVES}
    assert (stats.succeeded, stats.failed) == (25, MAX_RECEIVES)
    assert inspect_queues.depth(sqs, src) == 0
    assert inspect_queues.depth(sqs, out) == 25
    (dead,) = inspect_queues.peek(sqs, dlq)
    assert dead["MessageId"] == failing_id
    assert inspect_queues.depth(sqs, dlq) == 1, "peeking must leave the message in the queue"

    assert inspect_queues.redrive(sqs, dlq, src) == 1
    assert inspect_queues.depth(sqs, dlq) == 0
    assert [m["Body"] for m in inspect_queues.peek(sqs, src)] == ['{"id": "fail-me"}']


@pytest.mark.parametrize("handler", ["explode", "invalid", "slow"])
def test_error_timeout_or_invalid_response_fails_the_whole_batch(
    clients: dict[str, Any], emulator: Emulator, tmp_path: Path, handler: str
) -> None:
    sqs = clients["sqs"]
    topology = one_stage(sqs, handler, timeout=1)
    src, dlq = topology.queue("src"), topology.queue("src-dlq")
    send_bodies(sqs, src.url, [json.dumps({"id": n}) for n in range(3)])
    with Runner(topology, emulator.endpoint, log_dir=tmp_path, retry_visibility=1) as runner:
        runner.run(timeout=60)
        stats = runner.stats()[0]
    assert stats.errors == stats.invocations == MAX_RECEIVES
    assert stats.succeeded == 0
    assert inspect_queues.depth(sqs, dlq) == 3
    if handler == "explode":
        assert "RuntimeError: boom" in (tmp_path / "fn-test.log").read_text()


def test_producer_is_fed_as_the_queue_drains(
    clients: dict[str, Any], emulator: Emulator, tmp_path: Path
) -> None:
    sqs = clients["sqs"]
    topology = one_stage(sqs, "forward")
    src, out = topology.queue("src"), topology.queue("out")
    producer = QueueProducer(sqs, src.url, [json.dumps({"id": n}) for n in range(95)], chunk=20)
    with Runner(topology, emulator.endpoint, log_dir=tmp_path) as runner:
        runner.run(producer=producer, timeout=60)
        stats = runner.stats()[0]
    assert producer.sent == 95 and len(set(producer.message_ids)) == 95
    assert stats.succeeded == 95
    assert inspect_queues.depth(sqs, out) == 95


def _run_fed_by_chunks(sqs: Any, emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                       ) -> tuple[list[tuple[int, bool]], list[int], QueueProducer]:
    """95 bodies fed in chunks of 20 to a one-stage pipeline of batch 10: what each receive of the source
    returned (how many messages, and whether the producer still had bodies to send), and the source queue's
    depth before each chunk went out."""
    topology = one_stage(sqs, "forward")
    src = topology.queue("src")
    producer = QueueProducer(sqs, src.url, [json.dumps({"id": n}) for n in range(95)], chunk=20)
    receives: list[tuple[int, bool]] = []
    depths_before_sends: list[int] = []
    send_some = producer.send_some

    def recording_send() -> int:
        depths_before_sends.append(inspect_queues.depth(sqs, src))
        return send_some()

    monkeypatch.setattr(producer, "send_some", recording_send)
    with Runner(topology, emulator.endpoint, log_dir=tmp_path) as runner:
        receive = runner.sqs.receive_message

        def recording_receive(**kwargs: Any) -> dict[str, Any]:
            answer = receive(**kwargs)
            if kwargs["QueueUrl"] == src.url:
                receives.append((len(answer.get("Messages", [])), producer.has_more()))
            return answer

        monkeypatch.setattr(runner.sqs, "receive_message", recording_receive)
        runner.run(producer=producer, timeout=60)
    return receives, depths_before_sends, producer


def test_the_producer_feeds_the_source_before_it_runs_dry(
    clients: dict[str, Any], emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    receives, _, producer = _run_fed_by_chunks(clients["sqs"], emulator, tmp_path, monkeypatch)
    assert producer.sent == 95
    # Each empty receive costs a request of every stage: none while the producer still has bodies to send.
    assert [count for count, more in receives if more and count == 0] == []
    assert sum(count for count, _ in receives) == 95


def test_the_producer_sends_a_chunk_only_when_less_than_a_batch_is_left(
    clients: dict[str, Any], emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, depths, _ = _run_fed_by_chunks(clients["sqs"], emulator, tmp_path, monkeypatch)
    assert len(depths) == 5, "95 bodies in chunks of 20"
    # moto's SQS slows down with the messages a queue holds: it never gets more than a chunk and a batch.
    assert all(depth < 10 for depth in depths), depths


def test_write_faults_fail_chosen_items_once_and_refuse_poison_always(
    clients: dict[str, Any], emulator: Emulator
) -> None:
    ddb = clients["dynamodb"]
    ddb.create_table(
        TableName="t",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    faults = WriteFaults(fail_once_rate=0.2, always_fail={"poison"}).install(session)
    try:
        client = session.client("dynamodb", endpoint_url=emulator.endpoint)
        requests = [{"PutRequest": {"Item": {"id": {"S": f"id-{n}"}}}} for n in range(25)]
        first = client.batch_write_item(RequestItems={"t": requests})["UnprocessedItems"].get("t", [])
        assert 2 <= len(first) <= 12, "about a fifth of the items should come back unprocessed"
        assert len(requests) == 25, "the caller's request list must stay as it was"
        assert client.batch_write_item(RequestItems={"t": first})["UnprocessedItems"] == {}, "only once"
        assert faults.injected == len(first)

        poison = {"PutRequest": {"Item": {"id": {"S": "poison"}}}}
        with pytest.raises(ClientError, match="ValidationException"):
            client.batch_write_item(RequestItems={"t": [poison, requests[0]]})
        with pytest.raises(ClientError, match="ValidationException"):
            client.put_item(TableName="t", Item={"id": {"S": "poison"}})
        client.put_item(TableName="t", Item={"id": {"S": "fine"}})
        assert faults.refused == 2
    finally:
        faults.uninstall()
    stored = {item["id"] for item in inspect_queues.scan_items(ddb, "t")}
    assert stored == {f"id-{n}" for n in range(25)} | {"fine"}


def test_runner_puts_back_the_environment_it_found(clients: dict[str, Any], emulator: Emulator) -> None:
    topology = one_stage(clients["sqs"], "forward")
    before = dict(os.environ)
    with Runner(topology, emulator.endpoint) as runner:
        assert os.environ["AWS_ENDPOINT_URL"] == emulator.endpoint
        runner.load_handlers()
    assert dict(os.environ) == before


def test_emulator_dies_with_its_parent(tmp_path: Path) -> None:
    """A runner killed outright must not leave its emulator behind (PR_SET_PDEATHSIG)."""
    import subprocess
    import sys

    script = (
        "from tools.local.emulator import Emulator; import sys; "
        "e = Emulator.start(); print(e.pid, flush=True); sys.stdin.read()"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    try:
        pid = int(child.stdout.readline())  # type: ignore[union-attr]
        assert Emulator("", pid).alive()
        child.kill()
        child.wait(10)
        deadline = time.monotonic() + 10
        while Emulator("", pid).alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not Emulator("", pid).alive()
    finally:
        if child.poll() is None:
            child.kill()
