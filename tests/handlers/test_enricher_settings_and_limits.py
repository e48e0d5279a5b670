"""The enricher's settings limits (exact error text, exactly 64 bytes accepted), its UTC clock and ISO
form whatever the machine's time zone, and the SQS limit on a body built by ``enriched_body``."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from handlers.enricher import app
from handlers.shared.errors import ConfigurationError, ContractViolation, Reason
from tests.handlers.helpers import NOW_MS, enriched, normalized, sqs_record

SQS_LIMIT = 262_144  # bytes (SQS developer guide, "Quotas related to messages")
ENRICHED_AT = "2026-11-26T12:00:00.000Z"


@pytest.fixture(autouse=True)
def output_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTPUT_QUEUE_URL", "https://sqs.example/out")


@pytest.mark.parametrize("variable", ["PIPELINE_VERSION", "ENVIRONMENT"])
def test_a_setting_over_64_bytes_is_refused_by_name(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv(variable, "\u00e9" * 32 + "x")  # 65 UTF-8 bytes in 33 characters

    with pytest.raises(ConfigurationError) as raised:
        app.Settings.from_env()

    assert str(raised.value) == f"environment variable {variable} is longer than 64 bytes"


@pytest.mark.parametrize("variable", ["PIPELINE_VERSION", "ENVIRONMENT"])
def test_a_setting_of_exactly_64_bytes_is_accepted(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv(variable, "\u00e9" * 32)

    settings = app.Settings.from_env()

    assert getattr(settings, variable.lower()) == "\u00e9" * 32


@pytest.fixture
def tokyo_local_time() -> Iterator[None]:
    """The process's local time zone set to UTC+9 (a POSIX TZ string: no tz database needed)."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "JST-9"
    time.tzset()
    yield
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    time.tzset()


def test_the_clock_is_aware_utc(tokyo_local_time: None) -> None:
    now = app.utc_now()

    assert now.utcoffset() == timedelta(0)
    assert abs(now.timestamp() - time.time()) < 5


def test_iso_utc_converts_to_utc_whatever_the_local_zone(tokyo_local_time: None) -> None:
    assert app.iso_utc(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00.000Z"
    assert app.iso_utc(datetime(2026, 1, 1, 9, 0, 0, 123456, tzinfo=timezone(timedelta(hours=9)))) == (
        "2026-01-01T00:00:00.123Z"
    )


def with_version_of(version_bytes: int) -> tuple[SQSRecord, app.Settings, str]:
    """A 200 kB record, settings with a ``version_bytes``-long PIPELINE_VERSION, and the expected body."""
    data = {"pad": "x" * 200_000}
    record = SQSRecord(sqs_record(normalized("edge", NOW_MS, data)))
    version = "v" * version_bytes
    settings = app.Settings("https://sqs.example/out", version, "test")
    expected = enriched("edge", NOW_MS, data, pipeline_version=version, environment="test")
    return record, settings, expected


def test_an_enriched_body_of_exactly_the_sqs_limit_is_forwarded() -> None:
    # ``enriched_body`` itself refuses oversized output; Settings built directly skip from_env's 64-byte cap.
    base = len(enriched("edge", NOW_MS, {"pad": "x" * 200_000}, pipeline_version="", environment="test"))
    record, settings, expected = with_version_of(SQS_LIMIT - base)
    assert len(expected) == SQS_LIMIT

    assert app.enriched_body(record, settings, ENRICHED_AT) == expected


def test_an_enriched_body_one_byte_over_the_sqs_limit_is_refused() -> None:
    base = len(enriched("edge", NOW_MS, {"pad": "x" * 200_000}, pipeline_version="", environment="test"))
    record, settings, _ = with_version_of(SQS_LIMIT - base + 1)

    with pytest.raises(ContractViolation) as raised:
        app.enriched_body(record, settings, ENRICHED_AT)

    assert (raised.value.code, raised.value.message) == (
        Reason.TOO_LARGE, "enriched record exceeds the SQS size limit"
    )
