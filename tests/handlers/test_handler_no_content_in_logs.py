"""A producer's data never reaches logs or the reject's attributes: reasons name a path, a type and a size.

Logs and message attributes are kept by CloudWatch Logs and the rejects queue, whose retention the data's
owner does not govern, so a value, a key or a field name from a record must not be quoted in them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from handlers.enricher import app as enricher
from handlers.processor import app as processor
from handlers.shared.errors import Reason
from handlers.shared.observability import logger
from handlers.validator import app as validator
from tests.handlers.conftest import Aws
from tests.handlers.helpers import NOW_MS, FakeContext, enriched, normalized, sqs_event, sqs_record

EMAIL = "alice.private@example.com"
LOCAL_PART = "alice.private"


def _nest(levels: int) -> dict[str, Any]:
    data: dict[str, Any] = {"contact": EMAIL}
    for _ in range(levels - 1):
        data = {"next": data}
    return data


# One body per reason code the validator can give, each carrying the e-mail address where that rule looks.
VALIDATOR_CASES: dict[Reason, str] = {
    Reason.MALFORMED_JSON: '{"id": "a", "data": {"contact": ' + EMAIL + "}}",
    Reason.NOT_AN_OBJECT: json.dumps(EMAIL),
    Reason.DUPLICATE_KEY: '{"id": "a", "data": {"' + EMAIL + '": 1, "' + EMAIL + '": 2}}',
    Reason.UNKNOWN_FIELD: json.dumps({"id": "a", "data": {}, EMAIL: 1}),
    Reason.MISSING_ID: json.dumps({"data": {"contact": EMAIL}}),
    Reason.INVALID_ID: json.dumps({"id": EMAIL + "\u0007", "data": {}}),
    Reason.INVALID_TIMESTAMP: json.dumps({"id": "a", "timestamp": EMAIL, "data": {}}),
    Reason.MISSING_DATA: json.dumps({"id": EMAIL}),
    Reason.INVALID_DATA: json.dumps({"id": "a", "data": EMAIL}),
    Reason.UNSUPPORTED_NUMBER: '{"id": "a", "data": {"' + EMAIL + '": 1e999}}',
    Reason.INVALID_UNICODE: '{"id": "a", "data": {"contact": "' + EMAIL + '\\ud800"}}',
    Reason.TOO_DEEP: json.dumps({"id": "a", "data": _nest(32)}),
    Reason.TOO_LARGE: json.dumps({"id": "a", "data": {"contact": EMAIL, "pad": "x" * 262_000}}),
    Reason.TOO_MANY_VALUES: json.dumps({"id": "a", "data": {"contacts": [EMAIL] + [0] * 10_000}}),
}


@pytest.fixture(autouse=True)
def every_log_line(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Log at DEBUG, so that no level hides a line that would leak; the clock is fixed for the validator."""
    monkeypatch.setattr(validator, "now_ms", lambda: NOW_MS)
    level = logger.log_level
    logger.setLevel("DEBUG")
    yield
    logger.setLevel(level)


def assert_no_content(output: str, caplog: pytest.LogCaptureFixture) -> None:
    """Neither the address nor its local part appears in the Powertools output or any log record."""
    for record in caplog.records:
        output += "\n" + record.getMessage() + "\n" + repr(record.__dict__)
    assert output.strip(), "the logs were captured (an empty capture would prove nothing)"
    for text in (EMAIL, LOCAL_PART):
        assert text not in output, f"{text!r} was logged"


def test_every_validator_case_is_rejected_with_its_code() -> None:
    assert set(VALIDATOR_CASES) == set(Reason) - {Reason.MISSING_TIMESTAMP, Reason.INVALID_ENRICHMENT}, (
        "every reason the validator can give has a case (the other two belong to later stages)"
    )


@pytest.mark.parametrize("code", list(VALIDATOR_CASES), ids=str)
def test_validator_rejection_quotes_no_content(
    aws: Aws,
    lambda_context: FakeContext,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    code: Reason,
) -> None:
    response = validator.handler(sqs_event(sqs_record(VALIDATOR_CASES[code], message_id="m1")), lambda_context)

    assert response == {"batchItemFailures": []}, "the record is rejected, not failed"
    messages = aws.drain(aws.rejects_url)
    assert messages, "the record reached the rejects queue"
    for message in messages:  # a body too large to travel with its attributes comes in parts
        attributes = {name: value["StringValue"] for name, value in message["MessageAttributes"].items()}
        assert attributes["reason_code"] == str(code), f"the record is rejected as {code}"
        for name, value in attributes.items():
            assert EMAIL not in value and LOCAL_PART not in value, f"attribute {name} quotes the record: {value!r}"
    captured = capsys.readouterr()
    assert_no_content(captured.out + captured.err, caplog)


@pytest.mark.parametrize(
    ("stage", "body"),
    [
        (enricher, json.dumps({"id": "a", "timestamp": NOW_MS, "data": {}, EMAIL: 1})),
        (enricher, normalized("a", NOW_MS, {"contact": EMAIL + "\ud800"})),
        (processor, enriched("a", NOW_MS, {"n": 1}, **{EMAIL: 1})),
        (processor, enriched("a", NOW_MS, {EMAIL: 1e999})),
        (processor, enriched("a", NOW_MS, {}, environment=EMAIL * 3)),
    ],
    ids=["enricher-unknown-field", "enricher-surrogate", "processor-unknown-field", "processor-number",
         "processor-enrichment"],
)  # fmt: skip
def test_later_stages_log_no_content(
    aws: Aws,
    lambda_context: FakeContext,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    stage: Any,
    body: str,
) -> None:
    response = stage.handler(sqs_event(sqs_record(body, message_id="m1")), lambda_context)

    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}]}, "the record fails"
    captured = capsys.readouterr()
    assert_no_content(captured.out + captured.err, caplog)
