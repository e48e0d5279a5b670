"""SQS batch plumbing shared by the stages: reading the event, per-record steps, the partial response.

Powertools' BatchProcessor handles one record at a time; every stage here ends with a batched call
(SendMessageBatch, BatchWriteItem) whose per-entry results decide which records failed, so the stages run
a per-record step first and the batched call second, and build the same partial response.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from handlers.shared.errors import ContractViolation
from handlers.shared.observability import logger, metrics

if TYPE_CHECKING:
    # A TypedDict for annotations only: importing it at run time loads Powertools' whole batch package.
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

T = TypeVar("T")


def records_of(event: dict[str, Any]) -> list[SQSRecord]:
    """The SQS records of a Lambda event; ValueError if the event is not an SQS event."""
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        raise ValueError("event is not an SQS event: it has no 'Records' list")
    return [SQSRecord(raw) for raw in records]


def run_step(
    records: Iterable[SQSRecord], step: Callable[[SQSRecord], T]
) -> tuple[list[tuple[SQSRecord, T]], set[str]]:
    """Apply ``step`` to each record; a record whose step raises is logged and counted as failed."""
    done: list[tuple[SQSRecord, T]] = []
    failed: set[str] = set()
    for record in records:
        try:
            done.append((record, step(record)))
        except ContractViolation as exc:
            logger.error(
                "record breaks the contract; reporting it as a batch item failure",
                extra={"message_id": record.message_id, "reason_code": str(exc.code), "reason": exc.message},
            )
            failed.add(record.message_id)
        except Exception:  # noqa: BLE001 - one record's failure must never fail the batch; logged, reported
            logger.exception(
                "record could not be processed; reporting it as a batch item failure",
                extra={"message_id": record.message_id},
            )
            failed.add(record.message_id)
    return done, failed


def partial_response(records: Iterable[SQSRecord], failed: set[str]) -> PartialItemFailureResponse:
    """``{"batchItemFailures": [...]}`` listing the failed records once each, in event order."""
    failures = []
    seen: set[str] = set()
    for record in records:
        if record.message_id in failed and record.message_id not in seen:
            seen.add(record.message_id)
            failures.append({"itemIdentifier": record.message_id})
    return {"batchItemFailures": failures}


def finish_batch(
    records: list[SQSRecord], failed: set[str], counts: dict[str, int]
) -> PartialItemFailureResponse:
    """Emit the batch's metrics (``counts`` by metric name, plus received and failed), log it, and
    return the partial response: one ending for every stage."""
    response = partial_response(records, failed)
    totals = {"RecordsReceived": len(records), **counts, "RecordsFailed": len(response["batchItemFailures"])}
    for name, value in totals.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    logger.info("batch done", extra={"counts": totals})
    return response
