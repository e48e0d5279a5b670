"""tools/records_table.py: a hand-made records table keyed exactly like the deployed one."""

from __future__ import annotations

import boto3
from moto import mock_aws

from tools.policy.stack_json import StackJson
from tools.records_table import create_records_table


def test_hand_made_table_has_the_deployed_tables_key_schema(stacks: dict[str, StackJson]) -> None:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_records_table(dynamodb, "records")
        table = dynamodb.describe_table(TableName="records")["Table"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"},
                                  {"AttributeName": "timestamp", "KeyType": "RANGE"}]
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    assert types == {"id": "S", "timestamp": "N"}
    [deployed] = stacks["tap-pipeline-dev"].resources("aws_dynamodb_table")
    assert (deployed.body["hash_key"], deployed.body["range_key"]) == ("id", "timestamp")
    assert {a["name"]: a["type"] for a in deployed.body["attribute"]} == {"id": "S", "timestamp": "N"}
