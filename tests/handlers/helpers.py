"""Builders and fakes shared by the handler tests (fixtures live in conftest.py)."""

from __future__ import annotations

import itertools
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError, EndpointConnectionError

REGION = "eu-west-1"
NOW_MS = 1_790_000_000_000  # fixed "now" for the timestamp window (2026-09-21)


@dataclass
class FakeContext:
    """The parts of the Lambda context the handlers and Powertools read."""

    remaining_ms: float = 30_000
    function_name: str = "tap-test-function"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:tap-test-function:live"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/tap-test-function"
    log_stream_name: str = "2026/11/26/[$LATEST]test"

    def get_remaining_time_in_millis(self) -> int:
        return int(self.remaining_ms)


@dataclass
class TimedSleep:
    """A ``sleep`` for Backoff that records each pause and takes it off the context's remaining time."""

    context: FakeContext
    pauses: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.context.remaining_ms -= seconds * 1000


_message_numbers = itertools.count(1)


def sqs_record(
    body: str | dict[str, Any],
    *,
    message_id: str | None = None,
    sent_timestamp: int | None = NOW_MS - 1_000,
    queue: str = "tap-ingest-test",
) -> dict[str, Any]:
    """One record as Lambda's SQS event source mapping delivers it; a dict body is JSON-encoded."""
    attributes = {
        "ApproximateReceiveCount": "1",
        "SenderId": "AIDAEXAMPLE",
        "ApproximateFirstReceiveTimestamp": str(NOW_MS),
    }
    if sent_timestamp is not None:
        attributes["SentTimestamp"] = str(sent_timestamp)
    return {
        "messageId": message_id or f"msg-{next(_message_numbers):04d}",
        "receiptHandle": "AQEB-receipt",
        "body": body if isinstance(body, str) else json.dumps(body),
        "attributes": attributes,
        "messageAttributes": {},
        "md5OfBody": "0" * 32,
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:{queue}",
        "awsRegion": REGION,
    }


def sqs_event(*records: dict[str, Any]) -> dict[str, Any]:
    """An SQS event holding ``records``."""
    return {"Records": list(records)}


def failures(*message_ids: str) -> dict[str, list[dict[str, str]]]:
    """The expected partial batch response."""
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in message_ids]}


def realistic_data(seed: int, target_bytes: int = 2_000) -> dict[str, Any]:
    """A nested ``data`` object of roughly ``target_bytes`` of JSON, deterministic for a seed."""
    lines = []
    n = 0
    while len(json.dumps(lines)) < target_bytes - 300:
        lines.append(
            {
                "sku": f"SKU-{seed:05d}-{n:03d}",
                "qty": (seed * 7 + n) % 13 + 1,
                "unit_price": float(f"{(seed + n) % 997}.{n % 100:02d}"),
                "attributes": {"colour": ["red", "green", "blue"][n % 3], "fragile": n % 2 == 0},
            }
        )
        n += 1
    return {
        "customer": {
            "id": f"C{seed:08d}",
            "name": f"Customer {seed}",
            "tier": "gold",
            "score": 0.5 + seed % 5,
        },
        "lines": lines,
        "totals": {"count": len(lines), "currency": "EUR"},
        "note": None,
    }


def normalized(record_id: str, timestamp: int, data: dict[str, Any]) -> str:
    """The validator's output for a record (what the enricher receives)."""
    return json.dumps({"id": record_id, "timestamp": timestamp, "data": data}, separators=(",", ":"))


def enriched(record_id: str, timestamp: int, data: dict[str, Any], /, **overrides: Any) -> str:
    """The enricher's output for a record (what the processor receives)."""
    body = {
        "id": record_id,
        "timestamp": timestamp,
        "data": data,
        "enriched_at": "2026-11-26T12:00:00.000Z",
        "pipeline_version": "1.2.3",
        "environment": "test",
        "data_size_bytes": len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()),
    }
    body.update(overrides)
    return json.dumps({k: v for k, v in body.items() if v is not DROP}, separators=(",", ":"))


DROP = object()  # marks a field left out of a body built by ``enriched``


def client_error(code: str, operation: str, status: int = 400) -> ClientError:
    """A ClientError as botocore raises it for an AWS error answer."""
    return ClientError(
        {
            "Error": {"Code": code, "Message": f"injected {code}"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        operation,
    )


def logged_reasons(caplog: Any, message_id: str) -> list[str]:
    """The ``reason_code`` of every log record about ``message_id`` (Powertools passes ``extra`` through)."""
    return [
        record.reason_code
        for record in caplog.records
        if getattr(record, "message_id", None) == message_id and hasattr(record, "reason_code")
    ]


class FailingSqs:
    """The moto SQS client, except that chosen SendMessageBatch entries fail or whole calls raise.

    ``fail_markers``: an entry whose body contains one of these strings is answered as Failed.
    ``raise_on_calls``: 1-based numbers of send_message_batch calls that raise a network error instead.
    ``omit_markers``: an entry whose body contains one of these strings is sent, yet the answer lists it
    neither as Successful nor as Failed.
    ``foreign_failures``: Failed entries with Ids that were not in the request, added to every answer.
    """

    def __init__(
        self,
        real: Any,
        *,
        fail_markers: tuple[str, ...] = (),
        raise_on_calls: tuple[int, ...] = (),
        omit_markers: tuple[str, ...] = (),
        foreign_failures: tuple[str, ...] = (),
    ):
        self.real = real
        self.fail_markers = fail_markers
        self.raise_on_calls = raise_on_calls
        self.omit_markers = omit_markers
        self.foreign_failures = foreign_failures
        self.calls: list[list[dict[str, Any]]] = []

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append(Entries)
        if len(self.calls) in self.raise_on_calls:
            raise EndpointConnectionError(endpoint_url=QueueUrl)
        doomed = [e for e in Entries if any(marker in e["MessageBody"] for marker in self.fail_markers)]
        sent = [e for e in Entries if e not in doomed]
        response = self.real.send_message_batch(QueueUrl=QueueUrl, Entries=sent) if sent else {}
        response.setdefault("Successful", [])
        response.setdefault("Failed", [])
        response["Failed"] += [
            {"Id": e["Id"], "SenderFault": False, "Code": "InternalError", "Message": "injected"}
            for e in doomed
        ] + [
            {"Id": entry_id, "SenderFault": False, "Code": "InternalError", "Message": "injected"}
            for entry_id in self.foreign_failures
        ]
        omitted = {e["Id"] for e in Entries if any(marker in e["MessageBody"] for marker in self.omit_markers)}
        response["Successful"] = [e for e in response["Successful"] if e["Id"] not in omitted]
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class FlakyDynamo:
    """The moto DynamoDB client with injected trouble on BatchWriteItem and PutItem.

    ``throttle_calls``: the first N batch_write_item calls raise ProvisionedThroughputExceededException.
    ``unprocessed_once``: ids returned as UnprocessedItems the first time they are sent.
    ``always_unprocessed``: ids returned as UnprocessedItems every time.
    ``invalid_ids``: ids DynamoDB refuses with ValidationException (the whole batch call, and PutItem).
    ``foreign_unprocessed_once``: the first batch_write_item call stores everything it is sent, yet answers
    with an UnprocessedItems put request whose key was not in the request.
    """

    def __init__(
        self,
        real: Any,
        *,
        throttle_calls: int = 0,
        unprocessed_once: frozenset[str] = frozenset(),
        always_unprocessed: frozenset[str] = frozenset(),
        invalid_ids: frozenset[str] = frozenset(),
        foreign_unprocessed_once: bool = False,
    ) -> None:
        self.real = real
        self.foreign_unprocessed_once = foreign_unprocessed_once
        self.throttle_calls = throttle_calls
        self.unprocessed_once = set(unprocessed_once)
        self.always_unprocessed = always_unprocessed
        self.invalid_ids = invalid_ids
        self.batch_calls: list[list[str]] = []
        self.put_calls: list[str] = []

    def batch_write_item(self, *, RequestItems: dict[str, Any]) -> dict[str, Any]:
        ((table, requests),) = RequestItems.items()
        ids = [r["PutRequest"]["Item"]["id"]["S"] for r in requests]
        self.batch_calls.append(ids)
        if len(self.batch_calls) <= self.throttle_calls:
            raise client_error("ProvisionedThroughputExceededException", "BatchWriteItem")
        if self.invalid_ids & set(ids):
            raise client_error("ValidationException", "BatchWriteItem")
        held, sent = [], []
        for request, record_id in zip(requests, ids, strict=True):
            if record_id in self.always_unprocessed or record_id in self.unprocessed_once:
                self.unprocessed_once.discard(record_id)
                held.append(request)
            else:
                sent.append(request)
        if sent:
            self.real.batch_write_item(RequestItems={table: sent})
        if self.foreign_unprocessed_once:
            self.foreign_unprocessed_once = False
            held.append({"PutRequest": {"Item": {"id": {"S": "never-sent"}, "timestamp": {"N": "1"}}}})
        return {"UnprocessedItems": {table: held} if held else {}}

    def put_item(self, *, TableName: str, Item: dict[str, Any]) -> dict[str, Any]:
        self.put_calls.append(Item["id"]["S"])
        if Item["id"]["S"] in self.invalid_ids:
            raise client_error("ValidationException", "PutItem")
        return self.real.put_item(TableName=TableName, Item=Item)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)
