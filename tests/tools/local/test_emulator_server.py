"""The emulator's patches of moto: SQS keeps a queue's policy when SetQueueAttributes does not name it, and
Lambda keeps one event source mapping per queue and function, as the services do, and a create repeated
byte for byte (a retry of a call already served) gets what the first one made."""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.awslambda.models import LambdaBackend
from moto.awslambda.responses import LambdaResponse
from moto.dynamodb.models import DynamoDBBackend
from moto.sqs.models import Queue

from tools.local import emulator_server
from tools.local.emulator_server import (
    answer_repeated_conditional_puts,
    answer_repeated_function_creates,
    keep_unnamed_queue_policy,
    list_moto_modules_once,
    one_mapping_per_source_and_function,
)

POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "sqs:*",
    "Resource": "arn:aws:sqs:us-east-1:123456789012:work",
    "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})


def restored_after_the_test(monkeypatch: pytest.MonkeyPatch, *methods: tuple[Any, str]) -> None:
    """Each (owner, name) of moto's put back as it is now after the test, whatever the test patches."""
    for owner, name in methods:
        monkeypatch.setattr(owner, name, getattr(owner, name))


@contextlib.contextmanager
def moto_in_process(monkeypatch: pytest.MonkeyPatch, *methods: tuple[Any, str]) -> Iterator[None]:
    """moto's in-process AWS with test credentials, ``methods`` restored after the test."""
    restored_after_the_test(monkeypatch, *methods)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        yield


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with moto_in_process(monkeypatch, (Queue, "_set_attributes")):
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


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Lambda and SQS clients, with two functions and one queue; moto's own create restored afterwards."""
    with moto_in_process(monkeypatch, (LambdaBackend, "create_event_source_mapping"),
                         (LambdaResponse, "create_function")):
        iam, sqs = boto3.client("iam", region_name="us-east-1"), boto3.client("sqs", region_name="us-east-1")
        role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17",
                               "Statement": []}))["Role"]["Arn"]
        functions = boto3.client("lambda", region_name="us-east-1")
        for name in ("validator", "enricher"):
            functions.create_function(**function_request(name, role))
        url = sqs.create_queue(QueueName="ingest")["QueueUrl"]
        queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        yield {"lambda": functions, "queue": queue, "role": role}


def handler_zip() -> bytes:
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        # A fixed date: a repeated request must be the same bytes, as a client's retry is.
        archive.writestr(zipfile.ZipInfo("handler.py", date_time=(2026, 1, 1, 0, 0, 0)),
                         "def handler(event, context):\n    return None\n")
    return code.getvalue()


def function_request(name: str, role: str, memory: int = 128) -> dict[str, Any]:
    return {"FunctionName": name, "Runtime": "python3.11", "Role": role, "Handler": "handler.handler",
            "MemorySize": memory, "Publish": True, "Code": {"ZipFile": handler_zip()}}


def mapping_request(aws: dict[str, Any], function: str = "validator", batch_size: int = 10) -> dict[str, Any]:
    return {"EventSourceArn": aws["queue"], "FunctionName": function, "BatchSize": batch_size, "Enabled": False}


def test_a_repeated_create_gets_the_mapping_it_made_and_no_second_one(aws: dict[str, Any]) -> None:
    assert one_mapping_per_source_and_function() is True
    first = aws["lambda"].create_event_source_mapping(**mapping_request(aws))
    again = aws["lambda"].create_event_source_mapping(**mapping_request(aws))
    assert again["UUID"] == first["UUID"]
    assert [m["UUID"] for m in aws["lambda"].list_event_source_mappings()["EventSourceMappings"]] == [first["UUID"]]


def test_another_mapping_of_the_same_queue_and_function_is_refused_naming_the_existing_one(
        aws: dict[str, Any]) -> None:
    one_mapping_per_source_and_function()
    first = aws["lambda"].create_event_source_mapping(**mapping_request(aws))
    with pytest.raises(ClientError) as refused:
        aws["lambda"].create_event_source_mapping(**mapping_request(aws, batch_size=5))
    assert refused.value.response["Error"]["Code"] == "ResourceConflictException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert first["UUID"] in refused.value.response["Error"]["Message"]
    assert len(aws["lambda"].list_event_source_mappings()["EventSourceMappings"]) == 1


def test_the_same_queue_may_feed_another_function(aws: dict[str, Any]) -> None:
    one_mapping_per_source_and_function()
    aws["lambda"].create_event_source_mapping(**mapping_request(aws))
    aws["lambda"].create_event_source_mapping(**mapping_request(aws, function="enricher"))
    functions = {m["FunctionArn"].split(":")[-1] for m in
                 aws["lambda"].list_event_source_mappings()["EventSourceMappings"]}
    assert functions == {"validator", "enricher"}


def test_unpatched_moto_makes_a_second_mapping_on_a_repeated_create(aws: dict[str, Any]) -> None:
    """Why the patch exists: once moto refuses the pair itself, this fails and the patch can go."""
    aws["lambda"].create_event_source_mapping(**mapping_request(aws))
    aws["lambda"].create_event_source_mapping(**mapping_request(aws))
    assert len(aws["lambda"].list_event_source_mappings()["EventSourceMappings"]) == 2


def test_a_repeated_function_create_gets_the_function_it_made(aws: dict[str, Any]) -> None:
    assert answer_repeated_function_creates() is True
    first = aws["lambda"].create_function(**function_request("processor", aws["role"]))
    again = aws["lambda"].create_function(**function_request("processor", aws["role"]))
    assert (again["FunctionArn"], again["Version"]) == (first["FunctionArn"], first["Version"])
    assert [v["Version"] for v in aws["lambda"].list_versions_by_function(FunctionName="processor")["Versions"]] \
        == ["$LATEST", "1"], "no second version published by the repeat"


def test_another_create_of_an_existing_function_is_still_refused(aws: dict[str, Any]) -> None:
    answer_repeated_function_creates()
    aws["lambda"].create_function(**function_request("processor", aws["role"]))
    with pytest.raises(ClientError) as refused:
        aws["lambda"].create_function(**function_request("processor", aws["role"], memory=256))
    assert refused.value.response["Error"]["Code"] == "ResourceConflictException"


def test_the_same_create_after_a_delete_makes_the_function_again(aws: dict[str, Any]) -> None:
    answer_repeated_function_creates()
    aws["lambda"].create_function(**function_request("processor", aws["role"]))
    aws["lambda"].delete_function(FunctionName="processor")
    aws["lambda"].create_function(**function_request("processor", aws["role"]))
    assert aws["lambda"].get_function(FunctionName="processor")["Configuration"]["FunctionName"] == "processor"


def test_unpatched_moto_refuses_a_repeated_function_create(aws: dict[str, Any]) -> None:
    """Why the patch exists: the provider retried this 409 for five minutes, then failed the apply."""
    aws["lambda"].create_function(**function_request("processor", aws["role"]))
    with pytest.raises(ClientError, match="ResourceConflictException"):
        aws["lambda"].create_function(**function_request("processor", aws["role"]))


def test_moto_lists_its_backends_folder_once_and_finds_the_same_backends(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from moto import backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    monkeypatch.setattr(backends, "list_of_moto_modules", backends.list_of_moto_modules)
    listed = list(backends.list_of_moto_modules())
    assert {"sqs", "dynamodb", "awslambda"} <= set(listed)
    listings: list[str] = []
    real_listdir = os.listdir
    monkeypatch.setattr(os, "listdir", lambda path: listings.append(path) or real_listdir(path))
    assert list_moto_modules_once()
    assert len(listings) == 1, "listed when patched"
    dispatcher = DomainDispatcherApplication(create_app=lambda service: None)
    assert [dispatcher.get_backend_for_host(host) for host in ("sqs", "dynamodb", "awslambda")] == [
        "sqs", "dynamodb", "awslambda"]
    assert list(backends.list_of_moto_modules()) == listed
    assert len(listings) == 1, "never listed again, whatever the requests"


LOCKS = "tap-pipeline-terraform-locks"


def lock_item(run: str) -> dict[str, Any]:
    """The item Terraform's S3 backend puts to take its DynamoDB lock (its info names the run's lock ID)."""
    return {"LockID": {"S": "tap-pipeline-tfstate/dev/tap-pipeline-dev.tfstate"},
            "Info": {"S": json.dumps({"ID": run, "Operation": "OperationTypePlan", "Who": "root@vm"})}}


@pytest.fixture
def locks(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A DynamoDB client and the lock table; moto's own put_item restored afterwards."""
    with moto_in_process(monkeypatch, (DynamoDBBackend, "put_item")):
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(TableName=LOCKS, KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
                              BillingMode="PAY_PER_REQUEST")
        yield dynamodb


def take_lock(dynamodb: Any, run: str) -> Any:
    return dynamodb.put_item(TableName=LOCKS, Item=lock_item(run), ConditionExpression="attribute_not_exists(LockID)")


def test_a_repeated_conditional_put_of_the_item_it_wrote_succeeds(locks: Any) -> None:
    assert answer_repeated_conditional_puts()
    take_lock(locks, "run-1")
    take_lock(locks, "run-1")  # the resent request of the same run
    assert locks.scan(TableName=LOCKS)["Items"] == [lock_item("run-1")]


def test_a_conditional_put_over_another_runs_item_is_still_refused(locks: Any) -> None:
    assert answer_repeated_conditional_puts()
    take_lock(locks, "run-1")
    with pytest.raises(ClientError, match="ConditionalCheckFailedException"):
        take_lock(locks, "run-2")
    assert locks.scan(TableName=LOCKS)["Items"] == [lock_item("run-1")], "the first run keeps its lock"


def test_unpatched_moto_refuses_a_repeated_conditional_put(locks: Any) -> None:
    """Why the patch exists: Terraform took its own lock for another run's and waited out its lock timeout."""
    take_lock(locks, "run-1")
    with pytest.raises(ClientError, match="ConditionalCheckFailedException"):
        take_lock(locks, "run-1")


def test_the_server_answers_repeated_conditional_puts_from_its_start(monkeypatch: pytest.MonkeyPatch) -> None:
    import moto.server
    from moto import backends
    from moto.core import utils

    restored_after_the_test(monkeypatch, (DynamoDBBackend, "put_item"),
                            (LambdaBackend, "create_event_source_mapping"), (LambdaResponse, "create_function"),
                            (Queue, "_set_attributes"), (backends, "list_of_moto_modules"),
                            (utils, "camelcase_to_underscores"), (utils, "unix_time"), (utils, "unix_time_millis"))
    started: list[list[str]] = []
    monkeypatch.setattr(moto.server, "main", started.append)
    moto_put_item = DynamoDBBackend.put_item
    emulator_server.main(["-p", "0"])
    assert started == [["-p", "0"]]
    assert DynamoDBBackend.put_item is not moto_put_item and DynamoDBBackend.put_item.__module__ == (
        "tools.local.emulator_server")
