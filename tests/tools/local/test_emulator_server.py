"""The emulator's SQS keeps a queue's policy when SetQueueAttributes does not name it, as SQS does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.sqs.models import Queue

from tools.local.emulator_server import keep_unnamed_queue_policy

POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "sqs:*",
    "Resource": "arn:aws:sqs:us-east-1:123456789012:work",
    "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # monkeypatch restores moto's own method after the test, whatever the test patches.
    monkeypatch.setattr(Queue, "_set_attributes", Queue._set_attributes)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def policy_after_setting_the_redrive(sqs: Any) -> str | None:
    dlq = sqs.create_queue(QueueName="work-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(QueueName="work", Attributes={"Policy": POLICY})["QueueUrl"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5})
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": redrive})
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert json.loads(attributes["RedrivePolicy"])["maxReceiveCount"] == 5
    return attributes.get("Policy")


def test_setting_another_attribute_keeps_the_policy(sqs: Any) -> None:
    assert keep_unnamed_queue_policy() is True
    assert json.loads(policy_after_setting_the_redrive(sqs) or "{}") == json.loads(POLICY)


def test_naming_the_policy_still_replaces_or_clears_it(sqs: Any) -> None:
    keep_unnamed_queue_policy()
    url = sqs.create_queue(QueueName="work", Attributes={"Policy": POLICY})["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
    assert "Policy" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


def test_unpatched_moto_still_clears_the_policy(sqs: Any) -> None:
    """Why the patch exists: once moto keeps the policy itself, this fails and the patch can go."""
    assert policy_after_setting_the_redrive(sqs) is None
