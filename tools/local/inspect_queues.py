"""Looking into the pipeline's queues and table: depths, peeking at messages, redriving, table items."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import Binary, TypeDeserializer

from tools.local.topology import Queue, Topology
from tools.redrive import move_messages

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


def redrive(sqs: Any, dead_letter: Queue, source: Queue) -> int:
    """Move every message of ``dead_letter`` back to ``source`` (body and attributes kept); how many moved.

    The same move as ``python -m tools redrive`` (tools/redrive.py): each message also carries its first
    SentTimestamp in ``original_sent_timestamp``; sent before deleted. RuntimeError naming any message that
    ``source`` refused (it stays in ``dead_letter``).
    """
    result = move_messages(sqs, dead_letter.url, source.url, wait_s=0)
    if result.left:
        raise RuntimeError(f"{source.name} refused {len(result.left)} message(s), left in {dead_letter.name}: "
                           f"{result.left}")
    return result.moved


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
