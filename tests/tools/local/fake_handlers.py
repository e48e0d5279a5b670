"""Tiny Lambda handlers for testing the local runner on a hand-made queue layout (no Terraform needed)."""

from __future__ import annotations

import os
import time
from typing import Any

import boto3

#: Every call, as (function env seen, event, context facts), for the tests to inspect.
CALLS: list[dict[str, Any]] = []
_clients: dict[str, Any] = {}


def _sqs() -> Any:
    # Cached like the real handlers' clients: made on first use, from AWS_ENDPOINT_URL.
    if "sqs" not in _clients:
        _clients["sqs"] = boto3.client("sqs")
    return _clients["sqs"]


def forward(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Forwards each body to OUTPUT_QUEUE_URL; bodies containing "fail" are reported as failures."""
    CALLS.append(
        {
            "env": {k: os.environ.get(k) for k in ("OUTPUT_QUEUE_URL", "STAGE", "AWS_LAMBDA_FUNCTION_NAME")},
            "event": event,
            "remaining_ms": context.get_remaining_time_in_millis(),
            "function_name": context.function_name,
            "invoked_arn": context.invoked_function_arn,
        }
    )
    print(f"forwarding {len(event['Records'])} records")  # goes to the function's log file
    failures = []
    for record in event["Records"]:
        if "fail" in record["body"]:
            failures.append({"itemIdentifier": record["messageId"]})
        else:
            _sqs().send_message(QueueUrl=os.environ["OUTPUT_QUEUE_URL"], MessageBody=record["body"])
    return {"batchItemFailures": failures}


def explode(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Raises: the whole batch fails."""
    raise RuntimeError("boom")


def invalid(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Names a record that is not in the batch: Lambda treats that as a failure of the whole batch."""
    return {"batchItemFailures": [{"itemIdentifier": "not-in-this-batch"}]}


def slow(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Runs past its timeout (1 s in the tests): the whole batch fails."""
    time.sleep(1.2)
    return {"batchItemFailures": []}
