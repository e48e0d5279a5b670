"""Storing items with BatchWriteItem: unprocessed items and throttling retried with backoff inside the
invocation's remaining time; an item DynamoDB refuses is isolated so it alone fails."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError, ParamValidationError
from botocore.exceptions import ConnectionError as BotoConnectionError

from handlers.shared.backoff import Backoff, RemainingTime
from handlers.shared.contract import MAX_ITEM_BYTES, EnrichedRecord, dynamodb_number, parse_enriched
from handlers.shared.deadline import call_fits, worst_case_call_ms
from handlers.shared.observability import logger

#: BatchWriteItem takes at most 25 put requests.
MAX_BATCH_ITEMS = 25
#: Estimated item bytes per BatchWriteItem call. Items are built as AttributeValue maps only for the call
#: that sends them, and botocore copies them again while serializing: one item at DynamoDB's limit made of
#: nested arrays is ~100,000 dicts, so a call carries at most about one such item's worth.
MAX_CALL_ITEM_BYTES = MAX_ITEM_BYTES

#: Error codes that mean "try again later" rather than "this request is wrong".
RETRYABLE_ERROR_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "InternalFailure",
    }
)

#: Error codes that blame the content of some item: retrying item by item finds which.
ITEM_ERROR_CODES = frozenset({"ValidationException", "SerializationException"})

Key = tuple[str, int]


@dataclass
class PendingItem:
    """One item to store and the SQS records whose outcome it decides (several if they share its key).

    It keeps the enriched record's body (which the event holds anyway), not the item: ``item()`` parses
    and converts it when a call needs it, so a batch never holds all its items at once.
    """

    key: Key
    body: str
    #: Estimated DynamoDB size in bytes, for sizing calls.
    size: int
    message_ids: list[str] = field(default_factory=list)

    def item(self) -> dict[str, Any]:
        """The AttributeValue map to write."""
        return to_item(parse_enriched(self.body))


def to_item(enriched: EnrichedRecord) -> dict[str, Any]:
    """The DynamoDB item (AttributeValue map) for an enriched record; ``data`` as a native map."""
    return {name: to_attribute_value(value) for name, value in enriched.fields().items()}


def to_attribute_value(value: Any) -> dict[str, Any]:
    """A parsed JSON value as a DynamoDB AttributeValue; numbers normalized as DynamoDB stores them."""
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):
        return {"BOOL": value}
    if value is None:
        return {"NULL": True}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, Decimal):
        return {"N": str(dynamodb_number(value))}
    if isinstance(value, dict):
        return {"M": {key: to_attribute_value(item) for key, item in value.items()}}
    if isinstance(value, list):
        return {"L": [to_attribute_value(item) for item in value]}
    raise TypeError(f"cannot store a {type(value).__name__} in DynamoDB")


def key_of(item: dict[str, Any]) -> Key:
    """The (id, timestamp) key of an AttributeValue item."""
    return item["id"]["S"], int(Decimal(item["timestamp"]["N"]))


def is_retryable(exc: Exception) -> bool:
    """Throttling, server errors and network failures are worth retrying; anything else is not."""
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return code in RETRYABLE_ERROR_CODES or status >= 500
    return isinstance(exc, BotoConnectionError | HTTPClientError)


def blames_an_item(exc: Exception) -> bool:
    """Errors caused by some item's content, as opposed to the table, permissions or the service."""
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code") in ITEM_ERROR_CODES
    return isinstance(exc, ParamValidationError)


def error_code(exc: Exception) -> str:
    """The AWS error code, or the exception's class name."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "ClientError"))
    return type(exc).__name__


class TableWriter:
    """Writes items to one table; ``write`` returns the keys it could not store."""

    def __init__(self, client: Any, table_name: str, backoff: Backoff, context: RemainingTime) -> None:
        self.client = client
        self.table_name = table_name
        self.backoff = backoff
        self.context = context
        self.retries = 0
        self.written = 0

    def write(self, items: Iterable[PendingItem]) -> set[Key]:
        """Store ``items`` (unique keys) in calls of at most 25 items and MAX_CALL_ITEM_BYTES; return the
        keys that could not be stored."""
        failed: set[Key] = set()
        for chunk in chunks(items):
            failed |= self._write_chunk(chunk)
        return failed

    def _write_chunk(self, chunk: list[PendingItem]) -> set[Key]:
        pending = {item.key: item for item in chunk}
        attempt = 0
        while pending:
            if not self._call_fits():
                return self._give_up(pending, "no time left for a call at its worst case")
            requests = [{"PutRequest": {"Item": item.item()}} for item in pending.values()]
            try:
                response = self.client.batch_write_item(RequestItems={self.table_name: requests})
                del requests  # the items are rebuilt if a retry needs them
            except (ClientError, BotoCoreError) as exc:
                if blames_an_item(exc):
                    logger.warning(
                        "BatchWriteItem refused the batch; writing its items one by one to isolate bad ones",
                        extra={
                            "error_code": error_code(exc),
                            "error": str(exc),
                            "message_ids": _ids(pending),
                        },
                    )
                    return self._put_each(list(pending.values()))
                if not is_retryable(exc):
                    logger.exception(
                        "BatchWriteItem failed with an error retrying cannot fix; reporting its records as "
                        "batch item failures",
                        extra={"error_code": error_code(exc), "message_ids": _ids(pending)},
                    )
                    return set(pending)
                logger.warning(
                    "BatchWriteItem failed with a retryable error",
                    extra={"error_code": error_code(exc), "attempt": attempt, "message_ids": _ids(pending)},
                )
            else:
                unprocessed = response.get("UnprocessedItems", {}).get(self.table_name, [])
                still = self._still_pending(pending, unprocessed)
                self.written += len(pending) - len(still)
                if not still:
                    return set()
                pending = still
                logger.info(
                    "BatchWriteItem left items unprocessed; retrying them",
                    extra={"unprocessed": len(pending), "attempt": attempt},
                )
            if not self.backoff.wait(attempt, self.context, reserve_ms=worst_case_call_ms()):
                return self._give_up(pending, "retries exhausted within the invocation's remaining time")
            attempt += 1
            self.retries += 1
        return set()

    def _still_pending(
        self, pending: dict[Key, PendingItem], unprocessed: list[dict[str, Any]]
    ) -> dict[Key, PendingItem]:
        still: dict[Key, PendingItem] = {}
        for request in unprocessed:
            key = key_of(request["PutRequest"]["Item"])
            if key not in pending:
                # Cannot tell which items were stored: writing all again is safe, the keys make it idempotent.
                logger.error(
                    "UnprocessedItems holds an unknown key; retrying the whole chunk",
                    extra={"key": key},
                )
                return pending
            still[key] = pending[key]
        return still

    def _put_each(self, items: list[PendingItem]) -> set[Key]:
        failed: set[Key] = set()
        for item in items:
            attempt = 0
            while True:
                if not self._call_fits():
                    failed |= self._give_up({item.key: item}, "no time left for a call at its worst case")
                    break
                try:
                    self.client.put_item(TableName=self.table_name, Item=item.item())
                except (ClientError, BotoCoreError) as exc:
                    if is_retryable(exc) and self.backoff.wait(
                        attempt, self.context, reserve_ms=worst_case_call_ms()
                    ):
                        attempt += 1
                        self.retries += 1
                        continue
                    logger.error(
                        "PutItem failed; reporting the item's records as batch item failures",
                        extra={
                            "error_code": error_code(exc),
                            "error": str(exc),
                            "message_ids": item.message_ids,
                        },
                    )
                    failed.add(item.key)
                    break
                else:
                    self.written += 1
                    break
        return failed

    def _call_fits(self) -> bool:
        # Before each call: the time left, less the backoff's margin, must cover the call's worst case.
        return call_fits(self.context, self.backoff.safety_margin_ms)

    def _give_up(self, pending: dict[Key, PendingItem], why: str) -> set[Key]:
        logger.error(
            f"items not stored ({why}); reporting their records as batch item failures",
            extra={"message_ids": _ids(pending)},
        )
        return set(pending)


def chunks(items: Iterable[PendingItem]) -> Iterable[list[PendingItem]]:
    """Consecutive groups of at most MAX_BATCH_ITEMS items and MAX_CALL_ITEM_BYTES (any item alone)."""
    chunk: list[PendingItem] = []
    size = 0
    for item in items:
        if chunk and (len(chunk) == MAX_BATCH_ITEMS or size + item.size > MAX_CALL_ITEM_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(item)
        size += item.size
    if chunk:
        yield chunk


def _ids(pending: dict[Key, PendingItem]) -> list[str]:
    return [message_id for item in pending.values() for message_id in item.message_ids]
