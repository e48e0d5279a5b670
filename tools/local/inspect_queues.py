"""Looking into the pipeline's queues and table: depths, peeking at messages, redriving, table items."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import Binary, TypeDeserializer

from tools.local.topology import Queue, Topology

#: While peeking, each received message stays invisible this long so that paging moves on to the next ones.
PEEK_HOLD_SECONDS = 30
_DEPTH_ATTRIBUTES = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
]


def depth(sqs: Any, queue: Queue) -> int:
    """Messages in the queue: visible, in flight and delayed."""
    attributes = sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=_DEPTH_ATTRIBUTES)["Attributes"]
    return sum(int(value) for value in attributes.values())


def depths(sqs: Any, topology: Topology) -> dict[str, int]:
    """Every queue's depth, stage sources first."""
    return {queue.name: depth(sqs, queue) for queue in topology.queues_in_flow_order()}


def peek(sqs: Any, queue: Queue, limit: int | None = None) -> list[dict[str, Any]]:
    """The queue's visible messages, left in the queue (each receive bumps ApproximateReceiveCount).

    A receive with VisibilityTimeout=0 would return the same first ten each time, so each page is held
    invisible for PEEK_HOLD_SECONDS while paging and made visible again at the end.
    """
    found: list[dict[str, Any]] = []
    try:
        while limit is None or len(found) < limit:
            messages = sqs.receive_message(
                QueueUrl=queue.url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=0,
                VisibilityTimeout=PEEK_HOLD_SECONDS,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not messages:
                break
            found += messages
    finally:
        for start in range(0, len(found), 10):
            sqs.change_message_visibility_batch(
                QueueUrl=queue.url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for i, m in enumerate(found[start : start + 10])
                ],
            )
    return found[:limit] if limit is not None else found


def describe(queue: Queue, message: dict[str, Any]) -> dict[str, Any]:
    """A message as the CLI prints it: where, what, when, how often received, and why (if it says)."""
    attributes = {
        name: value.get("StringValue", value.get("BinaryValue"))
        for name, value in (message.get("MessageAttributes") or {}).items()
    }
    system = message.get("Attributes") or {}
    return {
        "queue": queue.name,
        "message_id": message["MessageId"],
        "reason_code": attributes.get("reason_code"),
        "reason": attributes.get("reason"),
        "sent_timestamp": int(system.get("SentTimestamp", 0)),
        "receive_count": int(system.get("ApproximateReceiveCount", 0)),
        "attributes": attributes,
        "body": message["Body"],
    }


#: Message attribute carrying a message's first SentTimestamp across redrives: the validator keys a record
#: without ``timestamp`` by it, so a redriven record keeps the key it had.
ORIGINAL_SENT_TIMESTAMP = "original_sent_timestamp"


def redrive(sqs: Any, dead_letter: Queue, source: Queue) -> int:
    """Move every message of ``dead_letter`` back to ``source`` (body and attributes kept); how many moved.

    Sending makes a new message with a new SentTimestamp, so each message also carries its first one in
    the ``original_sent_timestamp`` attribute (kept if an earlier redrive set it). Each message is sent
    before it is deleted, so an interruption can duplicate a message, never lose one.
    """
    moved = 0
    while True:
        messages = sqs.receive_message(
            QueueUrl=dead_letter.url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            VisibilityTimeout=PEEK_HOLD_SECONDS,
            MessageSystemAttributeNames=["SentTimestamp"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return moved
        entries = []
        for i, message in enumerate(messages):
            attributes = dict(message.get("MessageAttributes") or {})
            sent = (message.get("Attributes") or {}).get("SentTimestamp")
            if sent and ORIGINAL_SENT_TIMESTAMP not in attributes:
                attributes[ORIGINAL_SENT_TIMESTAMP] = {"DataType": "Number", "StringValue": sent}
            entry: dict[str, Any] = {"Id": str(i), "MessageBody": message["Body"]}
            if attributes:
                entry["MessageAttributes"] = attributes
            entries.append(entry)
        response = sqs.send_message_batch(QueueUrl=source.url, Entries=entries)
        sent = {entry["Id"] for entry in response.get("Successful", [])}
        done = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
            for i, m in enumerate(messages)
            if str(i) in sent
        ]
        if done:
            sqs.delete_message_batch(QueueUrl=dead_letter.url, Entries=done)
        moved += len(done)
        if len(done) < len(messages):
            raise RuntimeError(
                f"{source.name} refused {len(messages) - len(done)} message(s): {response.get('Failed')}"
            )


def scan_items(dynamodb: Any, table: str) -> Iterator[dict[str, Any]]:
    """Every item of ``table`` as plain Python values (numbers as Decimal)."""
    deserializer = TypeDeserializer()
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        for item in page.get("Items", []):
            yield {name: deserializer.deserialize(value) for name, value in item.items()}


def to_json(value: Any) -> str:
    """JSON for items and messages: Decimals as numbers (int if whole), sets as lists, binaries in base64."""
    return json.dumps(value, default=_json_default, ensure_ascii=False, sort_keys=True)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, Binary):
        value = value.value
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")
