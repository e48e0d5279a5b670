"""Processor: stores each enriched record in TABLE_NAME, keyed by ``id`` + ``timestamp``.

The deterministic key makes a redelivered record overwrite itself. Records sharing a key within one batch
are written once (the last one wins) and succeed or fail together, since BatchWriteItem refuses duplicate
keys in one request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from handlers.processor.store import Key, PendingItem, TableWriter
from handlers.shared import clients, contract
from handlers.shared.backoff import Backoff
from handlers.shared.batch import finish_batch, records_of, run_step
from handlers.shared.config import require_env
from handlers.shared.observability import logger, metrics

if TYPE_CHECKING:
    # A TypedDict for annotations only: importing it at run time loads Powertools' whole batch package.
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

#: Retry schedule for throttling and unprocessed items (tests replace it with a faster one).
BACKOFF = Backoff(base_delay=0.05, max_delay=2.0, safety_margin_ms=1_000)


@dataclass(frozen=True)
class Settings:
    """The processor's environment."""

    table_name: str

    @classmethod
    def from_env(cls) -> Settings:
        """Read the settings; ConfigurationError names a missing variable."""
        return cls(require_env("TABLE_NAME"))


def prepare(record: SQSRecord) -> tuple[Key, int]:
    """The item's key and estimated size; ContractViolation if the record is not an enriched record.

    The parsed record is dropped here and rebuilt for the call that writes it (see PendingItem).
    """
    enriched = contract.parse_enriched(record.body)
    return (enriched.record.id, enriched.record.timestamp), contract.item_size(enriched)


@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """Lambda entry point for the process queue's event source mapping."""
    settings = Settings.from_env()
    records = records_of(event)
    prepared, failed = run_step(records, prepare)

    by_key: dict[Key, PendingItem] = {}
    duplicates = 0
    for record, (key, size) in prepared:
        if key in by_key:
            duplicates += 1
            by_key[key].body, by_key[key].size = record.body, size
            by_key[key].message_ids.append(record.message_id)
            logger.info(
                "records share a key in this batch; storing the last one for all of them",
                extra={"message_ids": by_key[key].message_ids},
            )
        else:
            by_key[key] = PendingItem(key, record.body, size, [record.message_id])

    writer = TableWriter(clients.dynamodb(), settings.table_name, BACKOFF, context)
    for key in writer.write(by_key.values()):
        failed.update(by_key[key].message_ids)

    return finish_batch(records, failed, {
        "ItemsWritten": writer.written, "DuplicateKeysInBatch": duplicates, "WriteRetries": writer.retries,
    })
