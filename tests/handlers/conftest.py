"""Fixtures for the handler tests: environment, moto queues and table, SQS events, a fake Lambda context."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer
from moto import mock_aws

from handlers.shared import clients
from tests.handlers.helpers import REGION, FakeContext
from tools.records_table import create_records_table

TABLE_NAME = "tap-records-test"

BASE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "ENVIRONMENT": "test",
    "PIPELINE_VERSION": "1.2.3",
    "POWERTOOLS_SERVICE_NAME": "tap-pipeline-test",
    "POWERTOOLS_METRICS_NAMESPACE": "TapPipeline",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}
# Any of these would send the clients somewhere moto does not intercept, or to a real account.
UNSET_ENV = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE")


@pytest.fixture(scope="package", autouse=True)
def handler_env() -> Iterator[None]:
    """Test credentials and the settings every function gets, for the handler tests only."""
    with pytest.MonkeyPatch.context() as patch:
        for name in UNSET_ENV:
            patch.delenv(name, raising=False)
        for name, value in BASE_ENV.items():
            patch.setenv(name, value)
        clients.reset()
        yield
        clients.reset()


@pytest.fixture
def lambda_context() -> FakeContext:
    """A context with 30 s left."""
    return FakeContext()


@dataclass
class Aws:
    """moto resources: the queues a stage sends to and the table."""

    sqs: Any
    dynamodb: Any
    output_url: str
    rejects_url: str
    table_name: str = TABLE_NAME

    def drain(self, queue_url: str) -> list[dict[str, Any]]:
        """Every message now in ``queue_url`` (received and deleted), with attributes."""
        messages: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=0
            ).get("Messages", [])
            if not batch:
                return messages
            messages.extend(batch)
            self.sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
            )

    def items(self) -> list[dict[str, Any]]:
        """Every item in the table, deserialized (numbers as Decimal)."""
        items = self.dynamodb.scan(TableName=self.table_name, ConsistentRead=True)["Items"]
        return [{name: _deserializer.deserialize(value) for name, value in item.items()} for item in items]

    def create_table(self) -> None:
        """(Re)create the table empty: hash key id (S), range key timestamp (N), on-demand."""
        existing = self.dynamodb.list_tables()["TableNames"]
        if self.table_name in existing:
            self.dynamodb.delete_table(TableName=self.table_name)
        create_records_table(self.dynamodb, self.table_name)


_deserializer = TypeDeserializer()


@pytest.fixture(scope="package")
def moto_aws(handler_env: None) -> Iterator[Aws]:
    """moto for the whole package (starting it per test costs more than the tests), clients from the
    handlers' own factory, so they carry the production botocore Config."""
    with mock_aws():
        sqs, dynamodb = clients.sqs(), clients.dynamodb()
        output_url = sqs.create_queue(QueueName="tap-output-test")["QueueUrl"]
        rejects_url = sqs.create_queue(QueueName="tap-rejects-test")["QueueUrl"]
        yield Aws(sqs, dynamodb, output_url, rejects_url)
        clients.reset()


@pytest.fixture
def aws(moto_aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Aws:
    """Empty queues and an empty table; the stage env vars point at them; real (moto) clients in place."""
    clients.set_client("sqs", moto_aws.sqs)
    clients.set_client("dynamodb", moto_aws.dynamodb)
    for url in (moto_aws.output_url, moto_aws.rejects_url):
        moto_aws.drain(url)  # PurgeQueue is limited to once a minute, in moto too
    moto_aws.create_table()
    monkeypatch.setenv("OUTPUT_QUEUE_URL", moto_aws.output_url)
    monkeypatch.setenv("REJECTS_QUEUE_URL", moto_aws.rejects_url)
    monkeypatch.setenv("TABLE_NAME", moto_aws.table_name)
    return moto_aws
