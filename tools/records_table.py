"""The records table's key schema, for tools and tests that create it by hand in moto.

The deployed table comes from ``modules/table.py`` (same keys: ``id`` string, ``timestamp`` number);
this copy avoids importing the cdktf bindings (seconds) where only boto3 is needed.
"""

from __future__ import annotations

from typing import Any


def create_records_table(dynamodb: Any, name: str) -> None:
    """Create an on-demand table keyed like the pipeline's records table."""
    dynamodb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "id", "KeyType": "HASH"},
            {"AttributeName": "timestamp", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "id", "AttributeType": "S"},
            {"AttributeName": "timestamp", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
