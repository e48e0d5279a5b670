"""The records table's key schema, defined once for the table construct, the tools and the tests.

Kept free of the cdktf bindings (importing them takes seconds) so that tools
creating the table with boto3 can import it cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KeyAttribute:
    """One key attribute: its name and DynamoDB scalar type (S, N or B)."""

    name: str
    type: str


# A record's key is its id plus its timestamp, so a redelivered record overwrites itself.
HASH_KEY = KeyAttribute("id", "S")
RANGE_KEY = KeyAttribute("timestamp", "N")
