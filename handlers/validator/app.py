"""Validator: checks each record against the contract, forwards it normalized or rejects it with a reason.

Valid records go to OUTPUT_QUEUE_URL as ``{"id","timestamp","data"}``. Invalid ones go to REJECTS_QUEUE_URL
with their original body and the attributes ``reason_code``, ``reason``, ``source_message_id`` and, when it is
known, ``original_sent_timestamp`` (so that a record replayed after a fix keeps its key; a body too large to
travel with them is split into parts, see ``rejects.py``); once every send succeeded they are acknowledged,
since retrying them can never succeed.

A record without ``timestamp`` is keyed by the ``SentTimestamp`` of the first message the producer sent: the
``original_sent_timestamp`` message attribute when a redrive carried it over, the message's own otherwise.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from handlers.shared import contract, forwarding
from handlers.shared.batch import finish_batch, records_of, run_step
from handlers.shared.config import require_env
from handlers.shared.errors import ContractViolation, Reason
from handlers.shared.names import ORIGINAL_SENT_TIMESTAMP
from handlers.shared.observability import logger, metrics
from handlers.validator.rejects import reject_messages

if TYPE_CHECKING:
    # A TypedDict for annotations only: importing it at run time loads Powertools' whole batch package.
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

#: Longest ``reason`` attribute sent with a rejected record.
MAX_REASON_CHARS = 1024


@dataclass(frozen=True)
class Settings:
    """The validator's environment."""

    output_queue_url: str
    rejects_queue_url: str

    @classmethod
    def from_env(cls) -> Settings:
        """Read the settings; ConfigurationError names a missing variable."""
        return cls(require_env("OUTPUT_QUEUE_URL"), require_env("REJECTS_QUEUE_URL"))


@dataclass(frozen=True)
class Rejection:
    """Why a record breaks the contract."""

    code: Reason
    reason: str


def now_ms() -> int:
    """Current time in ms since the epoch (replaced in tests)."""
    return time.time_ns() // 1_000_000


def sent_timestamp(record: SQSRecord) -> int | None:
    """When the producer first sent the record (ms): the ``original_sent_timestamp`` message attribute if a
    redrive carried it, else the SQS attribute SentTimestamp (identical on every redelivery); None if absent.

    ContractViolation if the message attribute is there but is not a whole number of milliseconds.
    """
    carried = (record.get("messageAttributes") or {}).get(ORIGINAL_SENT_TIMESTAMP)
    if carried is not None:
        value = carried.get("stringValue") if isinstance(carried, dict) else None
        if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 15:
            return int(value)
        raise ContractViolation(
            Reason.INVALID_TIMESTAMP,
            f"message attribute {ORIGINAL_SENT_TIMESTAMP} must be a String or Number of up to 15 digits "
            "(ms since the epoch); send the SentTimestamp of the first message unchanged",
        )
    value = (record.get("attributes") or {}).get("SentTimestamp")
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def first_sent_or_none(record: SQSRecord) -> int | None:
    """:func:`sent_timestamp`, or None where it is unknown or the carried attribute is itself malformed."""
    try:
        return sent_timestamp(record)
    except ContractViolation:
        return None


def classify(record: SQSRecord, now: int) -> str | Rejection:
    """The normalized record's JSON, or the reason it is rejected.

    The JSON, not the parsed record: a parsed record at the contract's limits holds up to ~100,000
    Python objects, and keeping ten of them alive until the batch is sent multiplies the peak by ten.
    """
    try:
        return contract.validate_body(
            record.body, default_timestamp=sent_timestamp(record), now_ms=now
        ).to_json()
    except ContractViolation as exc:
        return Rejection(exc.code, exc.message[:MAX_REASON_CHARS])


@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """Lambda entry point for the ingest queue's event source mapping."""
    settings = Settings.from_env()
    records = records_of(event)
    now = now_ms()
    classified, failed = run_step(records, lambda record: classify(record, now))

    forwards: list[forwarding.Outgoing] = []
    rejects: list[forwarding.Outgoing] = []
    for record, outcome in classified:
        if isinstance(outcome, Rejection):
            logger.warning(
                "record rejected",
                extra={
                    "message_id": record.message_id,
                    "reason_code": str(outcome.code),
                    "reason": outcome.reason,
                },
            )
            attributes = {
                "reason_code": str(outcome.code),
                "reason": outcome.reason,
                "source_message_id": record.message_id,
            }
            first_sent = first_sent_or_none(record)
            if first_sent is not None:
                attributes[ORIGINAL_SENT_TIMESTAMP] = str(first_sent)
            rejects.extend(reject_messages(record.message_id, record.body, attributes))
        else:
            forwards.append(forwarding.Outgoing(record.message_id, outcome))

    failed |= forwarding.send(settings.output_queue_url, forwards, context)
    failed |= forwarding.send(settings.rejects_queue_url, rejects, context)

    forwarded = sum(message.source_id not in failed for message in forwards)
    rejected = len({message.source_id for message in rejects} - failed)
    return finish_batch(records, failed, {"RecordsForwarded": forwarded, "RecordsRejected": rejected})
