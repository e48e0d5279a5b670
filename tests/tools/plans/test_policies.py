"""Each Rego policy on small plan fixtures: a case it fails and a case it passes."""

from __future__ import annotations

import json

import pytest

from tools.plans.policies import evaluate


def change(address: str, actions: list[str], before: dict | None = None, after: dict | None = None) -> dict:
    type_, name = address.split(".", 1)
    return {"address": address, "mode": "managed", "type": type_, "name": name,
            "change": {"actions": actions, "before": before, "after": after}}


def plan(*changes: dict) -> dict:
    return {"resource_changes": list(changes)}


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


READ = {"Sid": "Read", "Effect": "Allow", "Action": ["sqs:ReceiveMessage"], "Resource": "arn:aws:sqs:::q"}
TLS = {"Sid": "Tls", "Effect": "Deny", "Action": "sqs:*", "Resource": "arn:aws:sqs:::q",
       "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


@pytest.mark.parametrize("type_", ["aws_dynamodb_table", "aws_sqs_queue", "aws_s3_bucket",
                                   "aws_cloudwatch_log_group", "aws_kms_key"])
@pytest.mark.parametrize(("actions", "verb"), [(["delete"], "deletion"), (["delete", "create"], "replacement"),
                                               (["create", "delete"], "replacement")])
def test_stateful_delete_or_replace_is_denied(type_: str, actions: list[str], verb: str) -> None:
    result = evaluate(plan(change(f"{type_}.x", actions, {}, {})))
    assert result.deny == (f"{type_}.x: {verb} of a stateful {type_} would lose its data",)


@pytest.mark.parametrize("actions", [["create"], ["update"], ["no-op"]])
def test_stateful_create_or_update_is_allowed(actions: list[str]) -> None:
    assert evaluate(plan(change("aws_dynamodb_table.x", actions, {}, {}))).deny == ()


def test_deleting_a_stateless_resource_is_allowed() -> None:
    assert evaluate(plan(change("aws_cloudwatch_metric_alarm.x", ["delete"], {}, None))).deny == ()


def policy_update(type_: str, before: str, after: str, attribute: str = "policy") -> dict:
    return plan(change(f"{type_}.p", ["update"], {attribute: before}, {attribute: after}))


@pytest.mark.parametrize(("type_", "attribute"), [
    ("aws_iam_role_policy", "policy"), ("aws_sqs_queue", "policy"), ("aws_sqs_queue_policy", "policy"),
    ("aws_s3_bucket_policy", "policy"),
    ("aws_kms_key", "policy"), ("aws_iam_role", "assume_role_policy")])
def test_new_action_is_denied_in_every_policy_kind(type_: str, attribute: str) -> None:
    wider = {**READ, "Action": ["sqs:ReceiveMessage", "sqs:PurgeQueue"]}
    result = evaluate(policy_update(type_, policy(READ), policy(wider), attribute))
    assert result.deny == (f"{type_}.p: IAM widening: new allowed action sqs:PurgeQueue",)


def test_new_resource_is_denied() -> None:
    wider = {**READ, "Resource": ["arn:aws:sqs:::q", "arn:aws:sqs:::other"]}
    result = evaluate(policy_update("aws_iam_role_policy", policy(READ), policy(wider)))
    assert result.deny == ("aws_iam_role_policy.p: IAM widening: new allowed resource arn:aws:sqs:::other",)


def test_wildcards_are_denied() -> None:
    wider = {**READ, "Action": "sqs:*", "Resource": "*"}
    result = evaluate(policy_update("aws_iam_role_policy", policy(READ), policy(wider)))
    assert set(result.deny) == {
        "aws_iam_role_policy.p: statement Read of policy allows the wildcard action sqs:*",
        "aws_iam_role_policy.p: IAM widening: new allowed action sqs:*",
        "aws_iam_role_policy.p: IAM widening: new allowed resource *",
        "aws_iam_role_policy.p: IAM widening: wildcard in action sqs:*",
        "aws_iam_role_policy.p: IAM widening: wildcard in resource *",
    }


def test_removed_condition_is_denied() -> None:
    conditioned = {**READ, "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}
    result = evaluate(policy_update("aws_iam_role_policy", policy(conditioned), policy(READ)))
    assert result.deny == (
        "aws_iam_role_policy.p: IAM widening: statement Read lost its condition StringEquals aws:SourceAccount",)


def test_removed_deny_statement_is_denied() -> None:
    result = evaluate(policy_update("aws_sqs_queue_policy", policy(READ, TLS), policy(READ)))
    assert result.deny == ("aws_sqs_queue_policy.p: IAM widening: Deny statement Tls removed or changed",)


def test_removed_deny_statement_of_a_queue_is_denied() -> None:
    # A queue's policy is an argument of the queue itself: losing its TLS-only statement is a widening.
    result = evaluate(policy_update("aws_sqs_queue", policy(READ, TLS), policy(READ)))
    assert result.deny == ("aws_sqs_queue.p: IAM widening: Deny statement Tls removed or changed",)


def test_queue_without_a_policy_before_or_after_is_not_a_policy_change() -> None:
    # The provider reports a queue with no policy as "": nothing to compare, nothing to deny.
    assert evaluate(policy_update("aws_sqs_queue", "", "")).deny == ()


def test_narrowing_or_reordering_a_policy_is_allowed() -> None:
    wider = {**READ, "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage"]}
    assert evaluate(policy_update("aws_iam_role_policy", policy(wider, TLS), policy(TLS, READ))).deny == ()


def test_policy_known_only_after_apply_without_its_configuration_cannot_be_reviewed() -> None:
    unknown = change("aws_iam_role_policy.p", ["update"], {"policy": policy(READ)}, {})
    unknown["change"]["after_unknown"] = {"policy": True}
    assert evaluate(plan(unknown)).deny == (
        "aws_iam_role_policy.p: policy cannot be reviewed before apply: its value is known only after apply and "
        "its value does not come from an aws_iam_policy_document data source",)


@pytest.mark.parametrize(("type_", "attribute", "before", "after"), [
    ("aws_lambda_function", "memory_size", 128, 256), ("aws_lambda_function", "timeout", 30, 60),
    ("aws_lambda_function", "reserved_concurrent_executions", 10, 20),
    ("aws_lambda_event_source_mapping", "batch_size", 10, 100),
    ("aws_cloudwatch_log_group", "retention_in_days", 14, 30),
    ("aws_dynamodb_table", "billing_mode", "PAY_PER_REQUEST", "PROVISIONED"),
    ("aws_dynamodb_table", "read_capacity", 5, 10), ("aws_appautoscaling_target", "max_capacity", 100, 200),
    ("aws_cloudwatch_metric_alarm", "threshold", 1, 5),
    ("aws_lambda_provisioned_concurrency_config", "provisioned_concurrent_executions", 1, 2),
])
def test_watched_attribute_change_warns(type_: str, attribute: str, before: object, after: object) -> None:
    result = evaluate(plan(change(f"{type_}.x", ["update"], {attribute: before}, {attribute: after})))
    assert result.warn == (f"{type_}.x: {attribute} changes from {before} to {after}",)
    assert result.deny == ()


def test_unwatched_or_unchanged_attribute_does_not_warn() -> None:
    result = evaluate(plan(change("aws_lambda_function.x", ["update"], {"memory_size": 128, "description": "a"},
                                  {"memory_size": 128, "description": "b"})))
    assert result.warn == ()


def test_replacement_warns() -> None:
    result = evaluate(plan(change("aws_lambda_alias.x", ["delete", "create"], {}, {})))
    assert result.warn == ("aws_lambda_alias.x: will be replaced (destroyed and created again)",)
    assert evaluate(plan(change("aws_lambda_alias.x", ["update"], {}, {}))).warn == ()
