"""AWS clients, made once per container on first use, replaceable in tests.

botocore (>= 1.31) reads ``AWS_ENDPOINT_URL`` and ``AWS_ENDPOINT_URL_<SERVICE>`` itself, so pointing the
handlers at an emulator needs no code here: set the variable before the first call (or ``reset()`` after).
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from botocore.config import Config

#: Standard retry mode retries throttling and 5xx answers with its own backoff; the timeouts keep one call
#: well inside a Lambda timeout, so the handler can still report its partial response.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 3},  # the first call and two retries
    connect_timeout=2,
    read_timeout=5,
    tcp_keepalive=True,
)

_clients: dict[str, Any] = {}


def get(service: str) -> Any:
    """The cached client for ``service`` ("sqs", "dynamodb"), created on first use."""
    client = _clients.get(service)
    if client is None:
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        client = boto3.client(service, region_name=region, config=CLIENT_CONFIG)
        _clients[service] = client
    return client


def sqs() -> Any:
    """The SQS client."""
    return get("sqs")


def dynamodb() -> Any:
    """The DynamoDB client."""
    return get("dynamodb")


def set_client(service: str, client: Any) -> None:
    """Use ``client`` for ``service`` from now on (tests, local runner)."""
    _clients[service] = client


def reset() -> None:
    """Forget every cached client, so the next call builds one from the current environment."""
    _clients.clear()
