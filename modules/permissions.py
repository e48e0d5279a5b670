"""Least-privilege IAM statements, chosen by access level rather than hand-written action lists.

Each helper returns one statement scoped to the ARNs it is given.  The only
statement allowed a ``"*"`` resource is X-Ray's trace upload, whose actions have
no resource-level permissions in IAM (:mod:`.resourceless_actions`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)

SQS_CONSUME_ACTIONS = (
    "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes",
)
SQS_SEND_ACTIONS = ("sqs:SendMessage", "sqs:GetQueueAttributes")
DYNAMODB_WRITE_ACTIONS = ("dynamodb:BatchWriteItem", "dynamodb:PutItem")
LOG_WRITE_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")


@dataclass(frozen=True)
class Condition:
    test: str
    variable: str
    values: Sequence[str]


@dataclass(frozen=True)
class Statement:
    """One IAM statement, kept as data so that tests and checks can read it before synthesis.

    ``when``: a Terraform expression (the generated module's variables) under which the statement is granted;
    true (the default) grants it always.
    """

    sid: str
    actions: Sequence[str]
    resources: Sequence[str]
    effect: str = "Allow"
    conditions: Sequence[Condition] = field(default_factory=tuple)
    when: Any = True

    def to_document_statement(self) -> DataAwsIamPolicyDocumentStatement:
        return DataAwsIamPolicyDocumentStatement(
            sid=self.sid,
            effect=self.effect,
            actions=list(self.actions),
            resources=list(self.resources),
            condition=[
                DataAwsIamPolicyDocumentStatementCondition(test=c.test, variable=c.variable, values=list(c.values))
                for c in self.conditions
            ] or None,
        )


def consume_queue(sid: str, queue_arn: str) -> Statement:
    """What a Lambda event source mapping needs to poll one queue."""
    return Statement(sid, SQS_CONSUME_ACTIONS, [queue_arn])


def send_to_queue(sid: str, queue_arn: str) -> Statement:
    return Statement(sid, SQS_SEND_ACTIONS, [queue_arn])


def write_table(sid: str, table_arn: str) -> Statement:
    return Statement(sid, DYNAMODB_WRITE_ACTIONS, [table_arn])


def write_logs(sid: str, log_group_arn: str) -> Statement:
    # No logs:CreateLogGroup: Terraform owns the group (terraform-aws-modules/terraform-aws-lambda#342).
    return Statement(sid, LOG_WRITE_ACTIONS, [f"{log_group_arn}:*"])


def upload_traces(sid: str) -> Statement:
    return Statement(sid, XRAY_ACTIONS, ["*"])


def service_principal_statement(sid: str, service: str, actions: Sequence[str] = ("sts:AssumeRole",)):
    """Trust statement letting one AWS service assume a role."""
    return DataAwsIamPolicyDocumentStatement(
        sid=sid,
        effect="Allow",
        actions=list(actions),
        principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="Service", identifiers=[service])],
    )


def deny_insecure_transport(sid: str, actions: Sequence[str], resources: Sequence[str]):
    """A TLS-only guard: deny every principal any request that is not over HTTPS."""
    return DataAwsIamPolicyDocumentStatement(
        sid=sid,
        effect="Deny",
        actions=list(actions),
        resources=list(resources),
        principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="*", identifiers=["*"])],
        condition=[DataAwsIamPolicyDocumentStatementCondition(
            test="Bool", variable="aws:SecureTransport", values=["false"])],
    )
