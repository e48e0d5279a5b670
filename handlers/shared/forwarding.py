"""Sending records on to a queue with SendMessageBatch; per-record results instead of exceptions."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from handlers.shared import clients
from handlers.shared.backoff import RemainingTime
from handlers.shared.batches import sqs_batches
from handlers.shared.contract import utf8_size
from handlers.shared.deadline import call_fits
from handlers.shared.observability import logger


@dataclass(frozen=True)
class Outgoing:
    """One message to send, tied to the SQS record (``source_id``) whose outcome it decides."""

    source_id: str
    body: str
    attributes: dict[str, str] = field(default_factory=dict)

    def size(self) -> int:
        """Bytes SQS counts against its limit: body plus each attribute's name, type and value."""
        return utf8_size(self.body) + sum(
            utf8_size(name) + len("String") + utf8_size(value) for name, value in self.attributes.items()
        )


def send(queue_url: str, messages: Sequence[Outgoing], context: RemainingTime) -> set[str]:
    """Send ``messages`` in batches of at most 10 entries and 256 KiB; return the source ids that failed.

    Entries the call reports as Failed, every entry of a call that raised, and every entry of a call the
    invocation no longer has time for (``deadline.call_fits``) count as failed; each is logged with its
    source id. Nothing is raised for AWS or network errors.
    """
    failed: set[str] = set()
    for chunk in _chunks(messages):
        if not call_fits(context):
            ids = [message.source_id for message in chunk]
            logger.error(
                "not enough time left for a SendMessageBatch call at its worst case; reporting its records "
                "as batch item failures",
                extra={"message_ids": ids, "queue_url": queue_url},
            )
            failed.update(ids)
            continue
        failed |= _send_chunk(queue_url, chunk)
    return failed


def _chunks(messages: Sequence[Outgoing]) -> Iterator[list[Outgoing]]:
    return sqs_batches(messages, Outgoing.size)


def _entry(index: int, message: Outgoing) -> dict[str, Any]:
    # Positional entry ids: SQS restricts their characters, and messageIds from other sources may not fit.
    entry: dict[str, Any] = {"Id": str(index), "MessageBody": message.body}
    if message.attributes:
        entry["MessageAttributes"] = {
            name: {"DataType": "String", "StringValue": value} for name, value in message.attributes.items()
        }
    return entry


def _send_chunk(queue_url: str, chunk: list[Outgoing]) -> set[str]:
    entries = [_entry(index, message) for index, message in enumerate(chunk)]
    source_ids = [message.source_id for message in chunk]
    try:
        response = clients.sqs().send_message_batch(QueueUrl=queue_url, Entries=entries)
    except (ClientError, BotoCoreError):
        logger.exception(
            "SendMessageBatch call failed; reporting all its records as batch item failures",
            extra={"message_ids": source_ids, "queue_url": queue_url},
        )
        return set(source_ids)

    by_entry_id = {str(index): source_id for index, source_id in enumerate(source_ids)}
    failed: set[str] = set()
    for entry in response.get("Failed", []):
        source_id = by_entry_id.get(str(entry.get("Id")))
        if source_id is None:
            continue  # not one of ours; our entries without a result are failed below
        failed.add(source_id)
        logger.error(
            "SendMessageBatch entry failed; reporting it as a batch item failure",
            extra={
                "message_id": source_id,
                "queue_url": queue_url,
                "error_code": entry.get("Code"),
                "error_message": entry.get("Message"),
                "sender_fault": entry.get("SenderFault"),
            },
        )
    sent = {entry["Id"]: entry.get("MessageId") for entry in response.get("Successful", [])}
    for entry_id, source_id in by_entry_id.items():
        if source_id in failed:
            continue
        if entry_id not in sent:
            logger.error(
                "SendMessageBatch reported neither success nor failure for an entry; treating it as failed",
                extra={"message_id": source_id, "queue_url": queue_url},
            )
            failed.add(source_id)
        else:
            logger.debug(
                "message sent",
                extra={"message_id": source_id, "sent_message_id": sent[entry_id], "queue_url": queue_url},
            )
    return failed
