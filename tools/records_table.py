"""The records table created by hand in moto, for tools and tests that need one without deploying.

The key schema comes from ``modules/table_keys.py``, the same definition the deployed table uses.
"""

from __future__ import annotations

from typing import Any

from modules.table_keys import HASH_KEY, RANGE_KEY


def create_records_table(dynamodb: Any, name: str) -> None:
    """Create an on-demand table keyed like the pipeline's records table."""
    dynamodb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": HASH_KEY.name, "KeyType": "HASH"},
            {"AttributeName": RANGE_KEY.name, "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": key.name, "AttributeType": key.type} for key in (HASH_KEY, RANGE_KEY)
        ],
        BillingMode="PAY_PER_REQUEST",
    )
