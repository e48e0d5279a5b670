"""Enricher: adds the documented fields to each record and forwards it to OUTPUT_QUEUE_URL.

Added fields: ``enriched_at`` (ISO-8601 UTC, ms), ``pipeline_version`` (PIPELINE_VERSION), ``environment``
(ENVIRONMENT), ``data_size_bytes`` (UTF-8 size of the compact JSON of ``data``). A record that does not have
the validator's normalized shape is logged and reported as a batch item failure, so it ends in the
enrich queue's dead-letter queue rather than being dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from handlers.shared import contract, forwarding
from handlers.shared.batch import finish_batch, records_of, run_step
from handlers.shared.config import require_env
from handlers.shared.errors import ConfigurationError, ContractViolation, Reason
from handlers.shared.observability import logger, metrics

if TYPE_CHECKING:
    # A TypedDict for annotations only: importing it at run time loads Powertools' whole batch package.
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse


@dataclass(frozen=True)
class Settings:
    """The enricher's environment."""

    output_queue_url: str
    pipeline_version: str
    environment: str

    @classmethod
    def from_env(cls) -> Settings:
        """Read the settings; ConfigurationError names a missing or oversized variable."""
        settings = cls(
            require_env("OUTPUT_QUEUE_URL"), require_env("PIPELINE_VERSION"), require_env("ENVIRONMENT")
        )
        for name, value in (
            ("PIPELINE_VERSION", settings.pipeline_version),
            ("ENVIRONMENT", settings.environment),
        ):
            # The validator keeps a fixed reserve for these fields in every record.
            if contract.utf8_size(value) > contract.MAX_ENRICHMENT_VALUE_BYTES:
                raise ConfigurationError(
                    f"environment variable {name} is longer than {contract.MAX_ENRICHMENT_VALUE_BYTES} bytes"
                )
        return settings


def utc_now() -> datetime:
    """Current UTC time (replaced in tests)."""
    return datetime.now(UTC)


def iso_utc(moment: datetime) -> str:
    """ISO-8601 in UTC with milliseconds and a ``Z`` suffix."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def enrich(record: contract.Record, settings: Settings, enriched_at: str) -> contract.EnrichedRecord:
    """The record with the documented fields added."""
    return contract.EnrichedRecord(
        record=record,
        enriched_at=enriched_at,
        pipeline_version=settings.pipeline_version,
        environment=settings.environment,
        data_size_bytes=contract.data_size_bytes(record.data),
    )


def enriched_body(record: SQSRecord, settings: Settings, enriched_at: str) -> str:
    """The body to forward; ContractViolation if the input is not a normalized record."""
    body = enrich(contract.parse_record(record.body), settings, enriched_at).to_json()
    if contract.utf8_size(body) > contract.MAX_SQS_MESSAGE_BYTES:
        raise ContractViolation(Reason.TOO_LARGE, "enriched record exceeds the SQS size limit")
    return body


@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """Lambda entry point for the enrich queue's event source mapping."""
    settings = Settings.from_env()
    records = records_of(event)
    enriched_at = iso_utc(utc_now())
    bodies, failed = run_step(records, lambda record: enriched_body(record, settings, enriched_at))

    forwards = [forwarding.Outgoing(record.message_id, body) for record, body in bodies]
    failed |= forwarding.send(settings.output_queue_url, forwards, context)

    forwarded = sum(message.source_id not in failed for message in forwards)
    return finish_batch(records, failed, {"RecordsForwarded": forwarded})
