"""Each permission helper grants exactly the actions IAM needs, on exactly the ARN it is given.

Expected action lists are written out here, not read from ``modules.permissions``: a helper widened
with, say, ``sqs:PurgeQueue`` must fail these tests.
"""

from __future__ import annotations

import pytest

from modules import permissions
from modules.permissions import Condition, Statement

ARN = "arn:aws:sqs:us-east-1:111122223333:q"


@pytest.mark.parametrize(("helper", "actions"), [
    (permissions.consume_queue,
     ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes")),
    (permissions.send_to_queue, ("sqs:SendMessage", "sqs:GetQueueAttributes")),
    (permissions.write_table, ("dynamodb:BatchWriteItem", "dynamodb:PutItem")),
], ids=lambda v: getattr(v, "__name__", ""))
def test_helper_grants_exactly_its_actions_on_exactly_the_given_arn(helper, actions: tuple[str, ...]) -> None:
    assert helper("Sid1", ARN) == Statement("Sid1", actions, [ARN], "Allow", ())


def test_log_statement_covers_the_groups_streams_and_nothing_else() -> None:
    group = "arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/f"
    assert permissions.write_logs("Logs", group) == Statement(
        "Logs", ("logs:CreateLogStream", "logs:PutLogEvents"), [f"{group}:*"])


def test_trace_upload_is_the_one_statement_on_every_resource() -> None:
    assert permissions.upload_traces("Traces") == Statement(
        "Traces", ("xray:PutTraceSegments", "xray:PutTelemetryRecords"), ["*"])


def test_statement_becomes_the_same_document_statement() -> None:
    statement = Statement("S", ("sqs:SendMessage",), [ARN], "Deny",
                          (Condition("Bool", "aws:SecureTransport", ("false",)),))
    document = statement.to_document_statement()
    assert (document.sid, document.effect, document.actions, document.resources) == (
        "S", "Deny", ["sqs:SendMessage"], [ARN])
    [condition] = document.condition
    assert (condition.test, condition.variable, condition.values) == ("Bool", "aws:SecureTransport", ["false"])


def test_statement_without_conditions_leaves_the_condition_out() -> None:
    assert Statement("S", ("sqs:SendMessage",), [ARN]).to_document_statement().condition is None


def test_trust_statement_lets_only_the_named_service_assume_the_role() -> None:
    document = permissions.service_principal_statement("Trust", "lambda.amazonaws.com")
    assert (document.sid, document.effect, document.actions) == ("Trust", "Allow", ["sts:AssumeRole"])
    [principal] = document.principals
    assert (principal.type, principal.identifiers) == ("Service", ["lambda.amazonaws.com"])


def test_tls_guard_denies_everyone_every_request_without_https() -> None:
    document = permissions.deny_insecure_transport("Tls", ["sqs:*"], [ARN])
    assert (document.sid, document.effect, document.actions, document.resources) == (
        "Tls", "Deny", ["sqs:*"], [ARN])
    [principal] = document.principals
    assert (principal.type, principal.identifiers) == ("*", ["*"])
    [condition] = document.condition
    assert (condition.test, condition.variable, condition.values) == ("Bool", "aws:SecureTransport", ["false"])
