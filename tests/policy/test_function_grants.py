"""Every statement of every function's role policy, by content: exact actions, exact resource.

moto does not enforce IAM, so the end-to-end tests cannot see a lost or widened grant; these can.
Resources are named by the construct path of what they point at (stable across environments).
"""

from __future__ import annotations

import pytest

from tests.conftest import PIPELINE_ENVIRONMENTS
from tools.policy.stack_json import REFERENCE, StackJson

CONSUME = ("sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage")
SEND = ("sqs:GetQueueAttributes", "sqs:SendMessage")
LOGS = ("logs:CreateLogStream", "logs:PutLogEvents")
XRAY = ("xray:PutTelemetryRecords", "xray:PutTraceSegments")
WRITE = ("dynamodb:BatchWriteItem", "dynamodb:PutItem")
KMS_DATA_KEY = ("kms:Decrypt", "kms:GenerateDataKey")
# Environments with customer-managed encryption (docs/architecture.md, "Checked against AWS's documentation"): their
# roles may use the environment's one key, for the queues, table and logs it encrypts.
ENCRYPTED_ENVIRONMENTS = ("prod",)


def _common(stage: str, queue: str) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    return {
        "ConsumeSourceQueue": (CONSUME, (f"{queue}/queue",)),
        "WriteOwnLogStreams": (LOGS, (f"{stage}/log-group:*",)),
        "UploadTraces": (XRAY, ("*",)),
    }


EXPECTED_GRANTS = {
    "validator": {**_common("validator", "ingest-queue"),
                  "SendToOutputQueue": (SEND, ("enrich-queue/queue",)),
                  "SendToRejectsQueue": (SEND, ("rejects-queue/queue",))},
    "enricher": {**_common("enricher", "enrich-queue"),
                 "SendToOutputQueue": (SEND, ("process-queue/queue",))},
    "processor": {**_common("processor", "process-queue"),
                  "WriteRecordsTable": (WRITE, ("data-table/table",))},
}


def _resource_path(stack: StackJson, value: str) -> str:
    """``${aws_sqs_queue.x.arn}:*`` -> ``<construct path of x, without the stack>:*``; ``*`` stays."""
    match = REFERENCE.match(value)
    if match is None:
        return value
    target = stack.referenced(match.group(0))
    return target.path.split("/", 1)[1] + value[match.end():]


def grants_of(stack: StackJson, stage: str) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """sid -> (sorted actions, resources) of the Allow statements in the policy attached to ``stage``'s role."""
    function = stack.by_path(f"{stage}/function")
    role = stack.referenced(function.body["role"])
    [policy] = [p for p in stack.resources("aws_iam_role_policy") if stack.referenced(p.body["role"]) == role]
    document = stack.referenced(policy.body["policy"])
    grants = {}
    for statement in document.body["statement"]:
        assert statement.get("effect", "Allow") == "Allow", statement
        assert statement["sid"] not in grants, f"duplicate sid {statement['sid']}"
        grants[statement["sid"]] = (tuple(sorted(statement["actions"])),
                                    tuple(_resource_path(stack, r) for r in statement["resources"]))
    return grants


@pytest.mark.parametrize("stage", sorted(EXPECTED_GRANTS))
@pytest.mark.parametrize("env", PIPELINE_ENVIRONMENTS)
def test_function_role_grants_exactly_the_pinned_actions_on_the_pinned_resources(
        pipeline_stacks: dict[str, StackJson], env: str, stage: str) -> None:
    # No grant on the function's own DLQ: SQS, not the function, moves a failing message there.
    expected = dict(EXPECTED_GRANTS[stage])
    if env in ENCRYPTED_ENVIRONMENTS:
        expected["UseDataKey"] = (KMS_DATA_KEY, ("key/key",))
    assert grants_of(pipeline_stacks[env], stage) == expected


@pytest.mark.parametrize("stage", sorted(EXPECTED_GRANTS))
@pytest.mark.parametrize("env", PIPELINE_ENVIRONMENTS)
def test_function_is_created_after_its_role_policy(pipeline_stacks: dict[str, StackJson], env: str,
                                                    stage: str) -> None:
    # Without it, the first invocations may run before the policy is attached and fail with AccessDenied.
    stack = pipeline_stacks[env]
    function = stack.by_path(f"{stage}/function")
    policy = stack.by_path(f"{stage}/role-policy")
    assert stack.referenced(policy.body["role"]) == stack.referenced(function.body["role"])
    assert policy.address in function.body.get("depends_on", [])
