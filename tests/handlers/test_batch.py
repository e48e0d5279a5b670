"""The batch plumbing every stage shares: what a non-SQS event is told, what a failing step logs, the
partial response, and the metrics and log line that end each batch."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from handlers.shared import batch
from handlers.shared.errors import ContractViolation, Reason
from handlers.shared.observability import logger, metrics
from tests.handlers.helpers import sqs_record

NOT_SQS = "event is not an SQS event: it has no 'Records' list"


def records(*message_ids: str) -> list[SQSRecord]:
    return [SQSRecord(sqs_record("{}", message_id=message_id)) for message_id in message_ids]


def logged(caplog: pytest.LogCaptureFixture, *fields: str) -> list[tuple[Any, ...]]:
    return [(r.levelname, r.getMessage(), *(getattr(r, f, None) for f in fields)) for r in caplog.records
            if r.name == logger.name]


@pytest.fixture
def metric_set() -> Iterator[dict[str, Any]]:
    metrics.clear_metrics()
    yield metrics.metric_set
    metrics.clear_metrics()


@pytest.mark.parametrize("event", [{}, {"Records": "r"}, [], "Records", None])
def test_an_event_without_a_records_list_is_refused_with_what_is_missing(event: Any) -> None:
    with pytest.raises(ValueError) as raised:
        batch.records_of(event)

    assert str(raised.value) == NOT_SQS


def test_a_contract_violation_is_logged_with_its_reason(caplog: pytest.LogCaptureFixture) -> None:
    def step(record: SQSRecord) -> None:
        raise ContractViolation(Reason.MISSING_ID, "'id' is required")

    with caplog.at_level(logging.INFO, logger=logger.name):
        done, failed = batch.run_step(records("m1"), step)

    assert (done, failed) == ([], {"m1"})
    assert logged(caplog, "message_id", "reason_code", "reason") == [
        ("ERROR", "record breaks the contract; reporting it as a batch item failure", "m1", "missing_id",
         "'id' is required"),
    ]


def test_an_unexpected_error_is_logged_with_its_record_and_traceback(caplog: pytest.LogCaptureFixture) -> None:
    def step(record: SQSRecord) -> None:
        raise KeyError("boom")

    with caplog.at_level(logging.INFO, logger=logger.name):
        done, failed = batch.run_step(records("m1"), step)

    assert (done, failed) == ([], {"m1"})
    assert logged(caplog, "message_id") == [
        ("ERROR", "record could not be processed; reporting it as a batch item failure", "m1"),
    ]
    assert caplog.records[-1].exc_info is not None, "logged with the exception"


def test_a_record_delivered_twice_is_listed_once() -> None:
    assert batch.partial_response(records("m1", "m2", "m1"), {"m1"}) == {
        "batchItemFailures": [{"itemIdentifier": "m1"}]
    }


def test_finishing_a_batch_counts_received_failed_and_the_stage_counts(
    caplog: pytest.LogCaptureFixture, metric_set: dict[str, Any]
) -> None:
    with caplog.at_level(logging.INFO, logger=logger.name):
        response = batch.finish_batch(records("m1", "m2", "m3"), {"m2"}, {"RecordsForwarded": 2})

    assert response == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    assert {name: (dict(m)["Unit"], dict(m)["Value"]) for name, m in metric_set.items()} == {
        "RecordsReceived": ("Count", [3.0]),
        "RecordsForwarded": ("Count", [2.0]),
        "RecordsFailed": ("Count", [1.0]),
    }
    assert logged(caplog, "counts") == [
        ("INFO", "batch done", {"RecordsReceived": 3, "RecordsForwarded": 2, "RecordsFailed": 1}),
    ]
