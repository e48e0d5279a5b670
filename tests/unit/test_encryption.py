"""The environment's customer-managed key in the synthesized stacks, against AWS's documented key policies.

The emulator does not enforce key policies, so these read the synthesized JSON:
CloudWatch -> encrypted SNS topic (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html),
CloudWatch Logs (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html),
SQS SSE-KMS and DynamoDB through the function roles.
"""

from __future__ import annotations

import json

import pytest

from tools.policy.stack_json import Resource, StackJson

ACCOUNT = "111122223333"  # the test session's account (tests/conftest.py), pinned here
ALARM_EMAIL = "oncall@example.com"
STAGES = ("validator", "enricher", "processor")
# Every ARN in a key policy takes the provider's partition, as the queue policies do (aws-cn, aws-us-gov).
PARTITION = "${data.aws_partition.aws-partition.partition}"


def key_of(stack: StackJson) -> Resource:
    [key] = stack.resources("aws_kms_key")
    return key


def key_arn(stack: StackJson) -> str:
    return f"${{{key_of(stack).address}.arn}}"


def statements(stack: StackJson) -> dict[str, dict]:
    return {s["Sid"]: s for s in json.loads(key_of(stack).body["policy"])["Statement"]}


def role_statements(stack: StackJson, stage: str) -> dict[str, dict]:
    [policy] = [p for p in stack.resources("aws_iam_role_policy") if p.body["name"].startswith(f"tap-{stage}-")]
    return {s["sid"]: s for s in stack.referenced(policy.body["policy"]).body["statement"]}


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_every_environment_has_one_rotating_key_with_its_alias(pipeline_stacks: dict[str, StackJson],
                                                              env: str) -> None:
    stack = pipeline_stacks[env]
    key = key_of(stack).body
    assert key["enable_key_rotation"] is True and key["deletion_window_in_days"] == 30
    [alias] = stack.resources("aws_kms_alias")
    assert alias.body["name"] == f"alias/tap-pipeline-{env}"
    assert stack.referenced(alias.body["target_key_id"]).address == key_of(stack).address


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_key_policy_lets_the_account_administer_and_cloudwatch_publish_alarms(
        pipeline_stacks: dict[str, StackJson], env: str) -> None:
    found = statements(pipeline_stacks[env])
    assert found["AccountAdministersTheKeyThroughIam"]["Principal"] == {"AWS": f"arn:{PARTITION}:iam::{ACCOUNT}:root"}
    cloudwatch = found["CloudWatchAlarmsPublishToEncryptedTopic"]
    assert cloudwatch["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert cloudwatch["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    # The confused-deputy guard: only CloudWatch acting for this account.
    assert cloudwatch["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


@pytest.mark.parametrize(("env", "subscribed"), [("dev", False), ("staging", True), ("prod", True)])
def test_staging_and_prod_alarms_reach_the_subscriber(pipeline_stacks: dict[str, StackJson], env: str,
                                                      subscribed: bool) -> None:
    stack = pipeline_stacks[env]
    found = [(s.body["protocol"], s.body["endpoint"]) for s in stack.resources("aws_sns_topic_subscription")]
    assert found == ([("email", ALARM_EMAIL)] if subscribed else [])


def test_prod_encrypts_table_queues_log_groups_and_environment_with_the_key(
        pipeline_stacks: dict[str, StackJson]) -> None:
    stack = pipeline_stacks["prod"]
    arn = key_arn(stack)
    [table] = stack.resources("aws_dynamodb_table")
    assert table.body["server_side_encryption"] == {"enabled": True, "kms_key_arn": arn}
    queues = stack.resources("aws_sqs_queue")
    assert len(queues) == 7
    for queue in queues:
        assert queue.body["kms_master_key_id"] == arn and "sqs_managed_sse_enabled" not in queue.body, queue.address
    log_groups = stack.resources("aws_cloudwatch_log_group")
    assert len(log_groups) == 3 and all(g.body["kms_key_id"] == arn for g in log_groups)
    functions = stack.resources("aws_lambda_function")
    assert len(functions) == 3 and all(f.body["kms_key_arn"] == arn for f in functions)


def test_prod_key_policy_lets_cloudwatch_logs_use_it_for_the_functions_log_groups_only(
        pipeline_stacks: dict[str, StackJson]) -> None:
    logs = statements(pipeline_stacks["prod"])["CloudWatchLogsEncryptsTheLogGroups"]
    assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert logs["Action"] == ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                              "kms:Describe*"]
    assert logs["Condition"] == {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": [
        f"arn:{PARTITION}:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/tap-{stage}-prod" for stage in STAGES]}}


@pytest.mark.parametrize("stage", STAGES)
def test_prod_function_roles_may_use_that_one_key_only(pipeline_stacks: dict[str, StackJson], stage: str) -> None:
    stack = pipeline_stacks["prod"]
    use = role_statements(stack, stage)["UseDataKey"]
    assert (use["actions"], use["resources"]) == (["kms:Decrypt", "kms:GenerateDataKey"], [key_arn(stack)])


@pytest.mark.parametrize("env", ["dev", "staging"])
def test_without_customer_managed_encryption_data_stays_on_aws_keys(pipeline_stacks: dict[str, StackJson],
                                                                    env: str) -> None:
    stack = pipeline_stacks[env]
    assert "CloudWatchLogsEncryptsTheLogGroups" not in statements(stack)
    [table] = stack.resources("aws_dynamodb_table")
    assert table.body["server_side_encryption"] == {"enabled": True}
    assert all(q.body["sqs_managed_sse_enabled"] is True for q in stack.resources("aws_sqs_queue"))
    assert all("kms_key_id" not in g.body for g in stack.resources("aws_cloudwatch_log_group"))
    for stage in STAGES:
        assert "UseDataKey" not in role_statements(stack, stage), stage


def test_no_resource_hard_codes_the_aws_partition_in_an_arn(stacks: dict[str, StackJson]) -> None:
    """Every ARN a resource or data source names takes the provider's partition (aws_partition data source).

    The backend block is left out: Terraform reads it before any data source, so its key ARN is literal.
    """
    for name, stack in stacks.items():
        text = json.dumps([stack.document.get("resource"), stack.document.get("data")])
        assert "arn:aws:" not in text, f"{name}: {text[max(0, text.find('arn:aws:') - 80):][:200]}"
