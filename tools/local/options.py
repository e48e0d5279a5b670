"""Command-line options shared by the `demo` and `run` commands."""

from __future__ import annotations

import argparse

from tools.local.runner import DEFAULT_RETRY_VISIBILITY


def add_delivery_options(parser: argparse.ArgumentParser) -> None:
    """How failed records come back, and which write failures to inject."""
    parser.add_argument(
        "--retry-visibility",
        default=str(DEFAULT_RETRY_VISIBILITY),
        metavar="SECONDS|queue",
        help="a failed record becomes visible again after SECONDS (ChangeMessageVisibility), default "
        f"{DEFAULT_RETRY_VISIBILITY}; 'queue' keeps the queue's visibility timeout (6 x function timeout "
        "+ batching window: minutes), as on AWS",
    )
    parser.add_argument(
        "--write-faults",
        type=float,
        default=0.0,
        metavar="RATE",
        help="make RATE of the table writes fail once (returned as UnprocessedItems), to watch "
        "the processor retry (default 0)",
    )
    parser.add_argument(
        "--always-fail",
        action="append",
        default=[],
        metavar="ID",
        help="make the table refuse every write of the record with this id (ValidationException), to "
        "watch it reach the process dead-letter queue (repeatable)",
    )


def retry_visibility(value: str) -> int | None:
    """``--retry-visibility``: seconds, or None for the queue's own visibility timeout."""
    return None if value == "queue" else int(value)
