"""Cutting messages into SendMessageBatch calls: at most 10 entries and 256 KiB of payload per call.

Free of side effects and of Powertools, so that the operator tools (tools/redrive.py) send the same way the
handlers do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from handlers.shared.contract import MAX_SQS_MESSAGE_BYTES

#: SendMessageBatch takes at most 10 entries.
MAX_BATCH_ENTRIES = 10
T = TypeVar("T")


def sqs_batches(items: Iterable[T], size: Callable[[T], int]) -> Iterator[list[T]]:
    """``items`` in order, in lists of at most 10 whose ``size`` sums to at most 256 KiB.

    A message over the limit travels alone: the queue may allow more than 256 KiB (SQS goes up to 1 MiB),
    and if it does not, SQS refuses that one call and only that message fails.
    """
    batch: list[T] = []
    batch_bytes = 0
    for item in items:
        item_bytes = size(item)
        if batch and (len(batch) == MAX_BATCH_ENTRIES or batch_bytes + item_bytes > MAX_SQS_MESSAGE_BYTES):
            yield batch
            batch, batch_bytes = [], 0
        batch.append(item)
        batch_bytes += item_bytes
    if batch:
        yield batch
