"""Errors with a reason code that the pipeline reports to producers or logs."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Reason codes sent with a rejected record (message attribute ``reason_code``)."""

    MALFORMED_JSON = "malformed_json"
    NOT_AN_OBJECT = "not_an_object"
    DUPLICATE_KEY = "duplicate_key"
    UNKNOWN_FIELD = "unknown_field"
    MISSING_ID = "missing_id"
    INVALID_ID = "invalid_id"
    MISSING_TIMESTAMP = "missing_timestamp"
    INVALID_TIMESTAMP = "invalid_timestamp"
    MISSING_DATA = "missing_data"
    INVALID_DATA = "invalid_data"
    UNSUPPORTED_NUMBER = "unsupported_number"
    INVALID_UNICODE = "invalid_unicode"
    TOO_DEEP = "too_deep"
    TOO_LARGE = "too_large"
    TOO_MANY_VALUES = "too_many_values"
    INVALID_ENRICHMENT = "invalid_enrichment"


class ContractViolation(ValueError):
    """A record breaks the contract; retrying it can never succeed."""

    def __init__(self, code: Reason, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ConfigurationError(RuntimeError):
    """The function is misconfigured (for example a required environment variable is missing)."""
