"""Every branch of every policy check, on a small hand-written stack: one passing stack, and for each way a
check can fail, a stack that fails it with the exact sentence operators read.

No synthesis: these run in milliseconds, so `make mutation` can run them for every mutant of the checks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tools.policy import checks
from tools.policy.stack_json import StackJson

FIVE_TAGS = {"Project": "p", "Environment": "e", "CostCenter": "c", "Owner": "o", "ManagedBy": "m"}
XRAY = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]


def _alarm(queue: str) -> dict[str, Any]:
    return {"metric_name": "ApproximateNumberOfMessagesVisible", "threshold": 0, "dimensions": {"QueueName": queue}}


def good_document() -> dict[str, Any]:
    """One function fed by one queue with a DLQ, plus a rejects queue: every check passes."""
    return {
        "provider": {"aws": [{"default_tags": [{"tags": dict(FIVE_TAGS)}]}]},
        "resource": {
            "aws_sqs_queue": {
                "src": {"name": "src", "visibility_timeout_seconds": 185, "tags": {"Component": "q"},
                        "redrive_policy": json.dumps({"deadLetterTargetArn": "${aws_sqs_queue.dlq.arn}",
                                                      "maxReceiveCount": 5})},
                "dlq": {"name": "dlq", "message_retention_seconds": 1209600, "tags": {"Component": "q"}},
                "rejects": {"name": "rejects", "message_retention_seconds": 1209600, "tags": {"Component": "r"}},
            },
            "aws_cloudwatch_metric_alarm": {"dlq": _alarm("dlq"), "rejects": _alarm("rejects")},
            "aws_cloudwatch_log_group": {"logs": {"name": "/aws/lambda/fn", "retention_in_days": 14}},
            "aws_iam_role": {"role": {"name": "role"}},
            "aws_iam_role_policy": {"policy": {"role": "${aws_iam_role.role.id}",
                                               "policy": "${data.aws_iam_policy_document.doc.json}"}},
            "aws_lambda_function": {"fn": {
                "function_name": "fn", "timeout": 30, "role": "${aws_iam_role.role.arn}",
                "reserved_concurrent_executions": 5,
                "depends_on": ["aws_cloudwatch_log_group.logs", "aws_iam_role_policy.policy"]}},
            "aws_lambda_alias": {"live": {"function_name": "${aws_lambda_function.fn.function_name}"}},
            "aws_lambda_event_source_mapping": {"map": {
                "event_source_arn": "${aws_sqs_queue.src.arn}", "function_name": "${aws_lambda_alias.live.arn}",
                "function_response_types": ["ReportBatchItemFailures"], "maximum_batching_window_in_seconds": 5,
                "scaling_config": {"maximum_concurrency": 5}, "depends_on": ["aws_iam_role_policy.policy"]}},
        },
        "data": {"aws_iam_policy_document": {"doc": {"statement": [
            {"sid": "Send", "effect": "Allow", "actions": ["sqs:SendMessage"],
             "resources": ["${aws_sqs_queue.src.arn}"]},
            {"sid": "Traces", "actions": XRAY, "resources": ["*"]},
        ]}}},
    }


@pytest.fixture
def doc() -> dict[str, Any]:
    return good_document()


def stack(document: dict[str, Any]) -> StackJson:
    return StackJson("test", Path("."), document)


def res(document: dict[str, Any], type_: str, name: str) -> dict[str, Any]:
    return document["resource"][type_][name]


def add_statement(document: dict[str, Any], **statement: Any) -> None:
    document["data"]["aws_iam_policy_document"]["doc"]["statement"].append({"sid": "Extra", **statement})


@pytest.mark.parametrize("check", checks.STRUCTURAL_CHECKS, ids=lambda c: c.__name__)
def test_the_good_stack_passes_every_check(doc: dict[str, Any], check) -> None:
    assert check(stack(doc)) == []


def test_the_good_stack_passes_the_tag_check_and_run_all(doc: dict[str, Any]) -> None:
    assert checks.check_tags(stack(doc), {"aws_sqs_queue"}) == []
    assert checks.run_all(stack(doc), {"aws_sqs_queue"}) == []


# check_queues_redrive


def test_redrive_without_max_receive_count_is_caught(doc: dict[str, Any]) -> None:
    res(doc, "aws_sqs_queue", "src")["redrive_policy"] = json.dumps({"deadLetterTargetArn": "${aws_sqs_queue.dlq.arn}"})
    assert checks.check_queues_redrive(stack(doc)) == ["src: redrive policy has no maxReceiveCount"]


def test_redrive_with_max_receive_count_1_passes(doc: dict[str, Any]) -> None:
    res(doc, "aws_sqs_queue", "src")["redrive_policy"] = json.dumps(
        {"deadLetterTargetArn": "${aws_sqs_queue.dlq.arn}", "maxReceiveCount": 1})
    assert checks.check_queues_redrive(stack(doc)) == []


def test_redrive_policy_as_its_own_resource_counts(doc: dict[str, Any]) -> None:
    policy = res(doc, "aws_sqs_queue", "src").pop("redrive_policy")
    doc["resource"]["aws_sqs_queue_redrive_policy"] = {"r": {"queue_url": "${aws_sqs_queue.src.url}",
                                                             "redrive_policy": policy}}
    assert checks.check_queues_redrive(stack(doc)) == []


def test_redrive_policy_resource_on_an_unknown_queue_does_not_count(doc: dict[str, Any]) -> None:
    policy = res(doc, "aws_sqs_queue", "src").pop("redrive_policy")
    doc["resource"]["aws_sqs_queue_redrive_policy"] = {"r": {"queue_url": "${aws_sqs_queue.gone.url}",
                                                             "redrive_policy": policy}}
    assert checks.check_queues_redrive(stack(doc)) == ["src: consumed by a function but has no dead-letter queue"]


def test_redrive_to_something_that_is_not_a_queue_does_not_count(doc: dict[str, Any]) -> None:
    res(doc, "aws_sqs_queue", "src")["redrive_policy"] = json.dumps(
        {"deadLetterTargetArn": "${aws_iam_role.role.arn}", "maxReceiveCount": 5})
    assert checks.check_queues_redrive(stack(doc)) == ["src: consumed by a function but has no dead-letter queue"]


def test_consumed_queue_without_dead_letter_queue_is_caught(doc: dict[str, Any]) -> None:
    del res(doc, "aws_sqs_queue", "src")["redrive_policy"]
    assert checks.check_queues_redrive(stack(doc)) == ["src: consumed by a function but has no dead-letter queue"]


def test_terminal_queue_neither_redriving_nor_alarming_is_caught(doc: dict[str, Any]) -> None:
    del doc["resource"]["aws_cloudwatch_metric_alarm"]["rejects"]
    assert checks.check_queues_redrive(stack(doc)) == [
        "rejects: neither redrives to a DLQ nor alarms when it holds messages"]


@pytest.mark.parametrize(("field", "value"), [("metric_name", "NumberOfMessagesSent"), ("threshold", 1)])
def test_an_alarm_on_another_metric_or_threshold_does_not_watch_the_queue(
        doc: dict[str, Any], field: str, value: object) -> None:
    doc["resource"]["aws_cloudwatch_metric_alarm"]["rejects"][field] = value
    assert checks.check_queues_redrive(stack(doc)) == [
        "rejects: neither redrives to a DLQ nor alarms when it holds messages"]


def test_terminal_queue_keeping_messages_less_than_14_days_is_caught(doc: dict[str, Any]) -> None:
    res(doc, "aws_sqs_queue", "rejects")["message_retention_seconds"] = 1209599
    assert checks.check_queues_redrive(stack(doc)) == [
        "rejects: a terminal queue must keep messages 14 days (1209600 s)"]


def test_dead_letter_queue_needs_no_14_day_retention_from_this_check(doc: dict[str, Any]) -> None:
    del res(doc, "aws_sqs_queue", "dlq")["message_retention_seconds"]
    assert checks.check_queues_redrive(stack(doc)) == []


# check_visibility_timeouts


def test_visibility_timeout_below_six_timeouts_plus_window_is_caught(doc: dict[str, Any]) -> None:
    res(doc, "aws_sqs_queue", "src")["visibility_timeout_seconds"] = 184
    assert checks.check_visibility_timeouts(stack(doc)) == [
        "src: visibility timeout 184 s < 6 x fn timeout + window = 185 s"]


def test_visibility_defaults_are_aws_defaults(doc: dict[str, Any]) -> None:
    # Lambda's default timeout is 3 s, SQS's default visibility 30 s, the default batching window 0.
    del res(doc, "aws_sqs_queue", "src")["visibility_timeout_seconds"]
    del res(doc, "aws_lambda_event_source_mapping", "map")["maximum_batching_window_in_seconds"]
    function = res(doc, "aws_lambda_function", "fn")
    del function["timeout"]
    assert checks.check_visibility_timeouts(stack(doc)) == []
    function["timeout"] = 6
    assert checks.check_visibility_timeouts(stack(doc)) == [
        "src: visibility timeout 30 s < 6 x fn timeout + window = 36 s"]


@pytest.mark.parametrize(("field", "value"), [("event_source_arn", "${aws_sqs_queue.gone.arn}"),
                                              ("function_name", "${aws_lambda_alias.gone.arn}"),
                                              ("function_name", "${aws_iam_role.role.arn}")])
def test_mapping_whose_queue_or_function_cannot_be_resolved_is_caught(
        doc: dict[str, Any], field: str, value: str) -> None:
    res(doc, "aws_lambda_event_source_mapping", "map")[field] = value
    assert checks.check_visibility_timeouts(stack(doc)) == [
        "aws_lambda_event_source_mapping.map: cannot resolve its queue and function"]


def test_mapping_on_the_function_itself_resolves_it(doc: dict[str, Any]) -> None:
    res(doc, "aws_lambda_event_source_mapping", "map")["function_name"] = "${aws_lambda_function.fn.arn}"
    res(doc, "aws_sqs_queue", "src")["visibility_timeout_seconds"] = 1
    assert checks.check_visibility_timeouts(stack(doc)) == [
        "src: visibility timeout 1 s < 6 x fn timeout + window = 185 s"]


# check_event_source_mappings


def test_mapping_without_batch_item_failures_is_caught(doc: dict[str, Any]) -> None:
    del res(doc, "aws_lambda_event_source_mapping", "map")["function_response_types"]
    assert checks.check_event_source_mappings(stack(doc)) == [
        "aws_lambda_event_source_mapping.map: does not report batch item failures"]


@pytest.mark.parametrize("target", ["${aws_lambda_function.fn.arn}", "fn"])
def test_mapping_invoking_something_other_than_an_alias_is_caught(doc: dict[str, Any], target: str) -> None:
    res(doc, "aws_lambda_event_source_mapping", "map")["function_name"] = target
    assert checks.check_event_source_mappings(stack(doc)) == [
        f"aws_lambda_event_source_mapping.map: invokes {target!r}, not an alias"]


# check_concurrency


def test_reserved_concurrency_below_the_event_source_maximum_is_caught(doc: dict[str, Any]) -> None:
    res(doc, "aws_lambda_function", "fn")["reserved_concurrent_executions"] = 4
    assert checks.check_concurrency(stack(doc)) == [
        "fn: reserved concurrency 4 < event source maximum concurrency 5"]


@pytest.mark.parametrize("reserved", [None, -1])
def test_unreserved_concurrency_is_not_compared(doc: dict[str, Any], reserved: int | None) -> None:
    res(doc, "aws_lambda_function", "fn")["reserved_concurrent_executions"] = reserved
    assert checks.check_concurrency(stack(doc)) == []


def test_mapping_without_a_maximum_is_not_compared(doc: dict[str, Any]) -> None:
    res(doc, "aws_lambda_function", "fn")["reserved_concurrent_executions"] = 1
    del res(doc, "aws_lambda_event_source_mapping", "map")["scaling_config"]
    assert checks.check_concurrency(stack(doc)) == []


def test_unresolvable_function_is_left_to_the_visibility_check(doc: dict[str, Any]) -> None:
    res(doc, "aws_lambda_event_source_mapping", "map")["function_name"] = "${aws_lambda_alias.gone.arn}"
    assert checks.check_concurrency(stack(doc)) == []


# check_iam_wildcards


def test_wildcard_action_is_caught(doc: dict[str, Any]) -> None:
    add_statement(doc, actions=["sqs:*"], resources=["${aws_sqs_queue.src.arn}"])
    assert checks.check_iam_wildcards(stack(doc)) == ["doc/Extra: wildcard action in ['sqs:*']"]


def test_wildcard_resource_is_caught(doc: dict[str, Any]) -> None:
    add_statement(doc, effect="Allow", actions=["dynamodb:PutItem"], resources=["*"])
    assert checks.check_iam_wildcards(stack(doc)) == ["doc/Extra: resource \"*\" for ['dynamodb:PutItem']"]


def test_wildcard_resource_for_xray_and_another_action_is_caught(doc: dict[str, Any]) -> None:
    add_statement(doc, actions=[*XRAY, "sqs:SendMessage"], resources=["*"])
    assert checks.check_iam_wildcards(stack(doc)) == [
        "doc/Extra: resource \"*\" for ['sqs:SendMessage', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments']"]


def test_statement_without_sid_is_named_by_a_question_mark(doc: dict[str, Any]) -> None:
    doc["data"]["aws_iam_policy_document"]["doc"]["statement"].append({"actions": ["s3:*"], "resources": ["x"]})
    assert checks.check_iam_wildcards(stack(doc)) == ["doc/?: wildcard action in ['s3:*']"]


def test_deny_statements_may_use_wildcards(doc: dict[str, Any]) -> None:
    add_statement(doc, effect="Deny", actions=["sqs:*"], resources=["*"])
    assert checks.check_iam_wildcards(stack(doc)) == []


def test_put_metric_data_on_every_resource_needs_a_namespace_condition(doc: dict[str, Any]) -> None:
    add_statement(doc, actions=["cloudwatch:PutMetricData"], resources=["*"],
                  condition=[{"test": "StringEquals", "variable": "cloudwatch:namespace", "values": ["N"]}])
    assert checks.check_iam_wildcards(stack(doc)) == []
    doc["data"]["aws_iam_policy_document"]["doc"]["statement"][-1]["condition"][0]["variable"] = "aws:SourceIp"
    assert checks.check_iam_wildcards(stack(doc)) == [
        "doc/Extra: resource \"*\" for ['cloudwatch:PutMetricData'] without the condition on "
        "['cloudwatch:namespace'] that narrows it"]


@pytest.mark.parametrize(("action", "key"), [("lambda:CreateEventSourceMapping", "lambda:FunctionArn"),
                                             ("kms:CreateKey", "aws:RequestTag/Project")])
def test_a_write_iam_defines_on_no_resource_passes_on_every_resource_only_with_its_condition(
        doc: dict[str, Any], action: str, key: str) -> None:
    """The CI deploy role's creations (modules/ci_identities.py): a condition narrows what a resource cannot."""
    add_statement(doc, actions=[action], resources=["*"],
                  condition=[{"test": "StringEquals", "variable": key, "values": ["x"]}])
    assert checks.check_iam_wildcards(stack(doc)) == []
    doc["data"]["aws_iam_policy_document"]["doc"]["statement"][-1].pop("condition")
    assert checks.check_iam_wildcards(stack(doc)) == [
        f"doc/Extra: resource \"*\" for ['{action}'] without the condition on ['{key}'] that narrows it"]


def test_reads_iam_defines_on_no_resource_pass_on_every_resource(doc: dict[str, Any]) -> None:
    add_statement(doc, actions=["kms:ListAliases", "application-autoscaling:DescribeScalableTargets",
                                "application-autoscaling:DescribeScalingPolicies"], resources=["*"])
    assert checks.check_iam_wildcards(stack(doc)) == []


def test_a_read_that_a_resource_narrows_is_caught_beside_those_it_cannot(doc: dict[str, Any]) -> None:
    add_statement(doc, actions=["kms:ListAliases", "kms:DescribeKey"], resources=["*"])
    assert checks.check_iam_wildcards(stack(doc)) == [
        "doc/Extra: resource \"*\" for ['kms:DescribeKey', 'kms:ListAliases']"]


def test_put_metric_data_with_another_action_on_every_resource_is_caught(doc: dict[str, Any]) -> None:
    add_statement(doc, actions=["cloudwatch:PutMetricData", "sqs:SendMessage"], resources=["*"],
                  condition=[{"test": "StringEquals", "variable": "cloudwatch:namespace", "values": ["N"]}])
    assert checks.check_iam_wildcards(stack(doc)) == [
        "doc/Extra: resource \"*\" for ['cloudwatch:PutMetricData', 'sqs:SendMessage']"]


# check_function_log_groups


def test_function_without_a_log_group_is_caught(doc: dict[str, Any]) -> None:
    res(doc, "aws_cloudwatch_log_group", "logs")["name"] = "/aws/lambda/other"
    assert checks.check_function_log_groups(stack(doc)) == ["fn: no log group /aws/lambda/fn"]


def test_function_not_depending_on_its_log_group_is_caught(doc: dict[str, Any]) -> None:
    res(doc, "aws_lambda_function", "fn")["depends_on"] = ["aws_iam_role_policy.policy"]
    assert checks.check_function_log_groups(stack(doc)) == ["fn: does not depend on its log group"]


@pytest.mark.parametrize("retention", [None, 0])
def test_log_group_without_retention_is_caught(doc: dict[str, Any], retention: int | None) -> None:
    res(doc, "aws_cloudwatch_log_group", "logs")["retention_in_days"] = retention
    assert checks.check_function_log_groups(stack(doc)) == ["/aws/lambda/fn: no retention"]


def test_log_group_without_retention_and_dependency_reports_both(doc: dict[str, Any]) -> None:
    del res(doc, "aws_cloudwatch_log_group", "logs")["retention_in_days"]
    del res(doc, "aws_lambda_function", "fn")["depends_on"]
    assert checks.check_function_log_groups(stack(doc)) == [
        "fn: does not depend on its log group", "/aws/lambda/fn: no retention"]


# check_mappings_wait_for_role_policy


def test_mapping_not_depending_on_the_role_policy_is_caught(doc: dict[str, Any]) -> None:
    del res(doc, "aws_lambda_event_source_mapping", "map")["depends_on"]
    assert checks.check_mappings_wait_for_role_policy(stack(doc)) == [
        "aws_lambda_event_source_mapping.map: does not depend on its role's policy ['aws_iam_role_policy.policy']"]


def test_mapping_depending_on_only_one_of_its_role_policies_is_caught(doc: dict[str, Any]) -> None:
    doc["resource"]["aws_iam_role_policy"]["more"] = {"role": "${aws_iam_role.role.id}"}
    assert checks.check_mappings_wait_for_role_policy(stack(doc)) == [
        "aws_lambda_event_source_mapping.map: does not depend on its role's policy "
        "['aws_iam_role_policy.more', 'aws_iam_role_policy.policy']"]


def test_policies_of_other_roles_are_not_required(doc: dict[str, Any]) -> None:
    doc["resource"]["aws_iam_role"]["other"] = {"name": "other"}
    doc["resource"]["aws_iam_role_policy"]["other"] = {"role": "${aws_iam_role.other.id}"}
    assert checks.check_mappings_wait_for_role_policy(stack(doc)) == []


def test_mapping_whose_function_has_no_role_policy_is_caught(doc: dict[str, Any]) -> None:
    del doc["resource"]["aws_iam_role_policy"]
    assert checks.check_mappings_wait_for_role_policy(stack(doc)) == [
        "aws_lambda_event_source_mapping.map: does not depend on its role's policy []"]


def test_mapping_whose_function_cannot_be_resolved_is_caught(doc: dict[str, Any]) -> None:
    res(doc, "aws_lambda_event_source_mapping", "map")["function_name"] = "${aws_lambda_alias.gone.arn}"
    assert checks.check_mappings_wait_for_role_policy(stack(doc)) == [
        "aws_lambda_event_source_mapping.map: does not depend on its role's policy []"]


# check_tags


@pytest.mark.parametrize("tag", ["Project", "Environment", "CostCenter", "Owner", "ManagedBy"])
def test_provider_default_tags_missing_one_cost_tag_are_caught(doc: dict[str, Any], tag: str) -> None:
    doc["provider"]["aws"][0]["default_tags"][0]["tags"][tag] = " "
    assert checks.check_tags(stack(doc), set()) == [f"provider aws: default_tags lack ['{tag}']"]


def test_provider_without_default_tags_is_caught(doc: dict[str, Any]) -> None:
    doc["provider"]["aws"][0]["default_tags"] = []
    assert checks.check_tags(stack(doc), set()) == [
        "provider aws: default_tags lack ['Project', 'Environment', 'CostCenter', 'Owner', 'ManagedBy']"]


ALL_COST_TAGS = {"Project": "p", "Environment": "e", "CostCenter": "c", "Owner": "o", "ManagedBy": "m"}


def test_cost_tags_on_every_taggable_resource_stand_in_for_the_providers_default_tags(doc: dict[str, Any]) -> None:
    # The generated module's resources carry the environment's tags themselves, whatever the caller's provider.
    doc["provider"]["aws"][0]["default_tags"] = []
    for name in ("src", "dlq", "rejects"):
        res(doc, "aws_sqs_queue", name)["tags"] = {"Component": "x", **ALL_COST_TAGS}
    assert checks.check_tags(stack(doc), {"aws_sqs_queue"}) == []


@pytest.mark.parametrize("tags", [None, {"Owner": " "}, {}])
def test_a_cost_tag_missing_from_one_resource_and_the_provider_is_caught(doc: dict[str, Any],
                                                                         tags: dict | None) -> None:
    doc["provider"]["aws"][0]["default_tags"][0]["tags"].pop("Owner")
    for name in ("src", "rejects"):
        res(doc, "aws_sqs_queue", name)["tags"] = {"Component": "x", **ALL_COST_TAGS}
    dlq = res(doc, "aws_sqs_queue", "dlq")
    dlq["tags"] = {"Component": "x", **{k: v for k, v in ALL_COST_TAGS.items() if k != "Owner"}, **(tags or {})}
    if tags is None:
        dlq["tags"] = None  # a resource whose tags are null
    expected = ["provider aws: default_tags lack ['Owner']"]
    if tags is None:
        expected.append("aws_sqs_queue.dlq: taggable but has no Component tag")
    assert checks.check_tags(stack(doc), {"aws_sqs_queue"}) == expected


def test_stack_without_aws_provider_is_caught(doc: dict[str, Any]) -> None:
    del doc["provider"]
    assert checks.check_tags(stack(doc), set()) == ["no aws provider"]


@pytest.mark.parametrize("tags", [None, {}, {"Component": ""}])
def test_taggable_resource_without_component_tag_is_caught(doc: dict[str, Any], tags: dict | None) -> None:
    queue = res(doc, "aws_sqs_queue", "src")
    if tags is None:
        del queue["tags"]  # a resource that lost its tags entirely
    else:
        queue["tags"] = tags
    assert checks.check_tags(stack(doc), {"aws_sqs_queue"}) == [
        "aws_sqs_queue.src: taggable but has no Component tag"]


def test_resource_types_that_cannot_be_tagged_are_not_asked_for_tags(doc: dict[str, Any]) -> None:
    assert checks.check_tags(stack(doc), {"aws_sqs_queue", "aws_iam_role"}) == [
        "aws_iam_role.role: taggable but has no Component tag"]


def test_run_all_adds_the_tag_check_only_with_taggable_types(doc: dict[str, Any]) -> None:
    del res(doc, "aws_sqs_queue", "src")["tags"]
    res(doc, "aws_sqs_queue", "rejects")["message_retention_seconds"] = 60
    assert checks.run_all(stack(doc)) == ["rejects: a terminal queue must keep messages 14 days (1209600 s)"]
    assert checks.run_all(stack(doc), {"aws_sqs_queue"}) == [
        "rejects: a terminal queue must keep messages 14 days (1209600 s)",
        "aws_sqs_queue.src: taggable but has no Component tag"]


def test_taggable_types_are_the_aws_resources_whose_schema_has_tags() -> None:
    schema = {"provider_schemas": {
        "registry.terraform.io/hashicorp/random": {"resource_schemas": {"random_id": {"block": {
            "attributes": {"tags": {}}}}}},
        "registry.terraform.io/hashicorp/aws": {"resource_schemas": {
            "aws_sqs_queue": {"block": {"attributes": {"name": {}, "tags": {}}}},
            "aws_sqs_queue_policy": {"block": {"attributes": {"policy": {}}}},
            "aws_lambda_alias": {"block": {}},
        }},
    }}
    assert checks.taggable_types_from_schema(schema) == {"aws_sqs_queue"}


# Statements and resources that come first must not stop the checks from reading the rest.


def test_a_deny_statement_does_not_end_the_wildcard_check(doc: dict[str, Any]) -> None:
    add_statement(doc, effect="Deny", actions=["sqs:*"], resources=["*"])
    add_statement(doc, actions=["dynamodb:*"], resources=["x"])
    assert checks.check_iam_wildcards(stack(doc)) == ["doc/Extra: wildcard action in ['dynamodb:*']"]


def test_an_allowed_put_metric_data_does_not_end_the_wildcard_check(doc: dict[str, Any]) -> None:
    add_statement(doc, actions=["cloudwatch:PutMetricData"], resources=["*"],
                  condition=[{"test": "StringEquals", "variable": "cloudwatch:namespace", "values": ["N"]}])
    add_statement(doc, actions=["dynamodb:PutItem"], resources=["*"])
    assert checks.check_iam_wildcards(stack(doc)) == ["doc/Extra: resource \"*\" for ['dynamodb:PutItem']"]


def test_statements_without_actions_or_resources_are_read_as_empty(doc: dict[str, Any]) -> None:
    # A trust statement has principals and no resources; a not_actions statement has no actions.
    doc["data"]["aws_iam_policy_document"]["doc"]["statement"] += [
        {"sid": "Trust", "actions": ["sts:AssumeRole"]}, {"sid": "NotActions", "resources": ["*"]}]
    assert checks.check_iam_wildcards(stack(doc)) == []


def _second_function(doc: dict[str, Any]) -> dict[str, Any]:
    """A copy of the function, its log group, alias and mapping under the name ``fn2`` (same role)."""
    resources = doc["resource"]
    function = json.loads(json.dumps(resources["aws_lambda_function"]["fn"]))
    function.update(function_name="fn2", depends_on=["aws_cloudwatch_log_group.logs2", "aws_iam_role_policy.policy"])
    resources["aws_lambda_function"]["fn2"] = function
    resources["aws_cloudwatch_log_group"]["logs2"] = {"name": "/aws/lambda/fn2", "retention_in_days": 14}
    return function


def test_a_function_without_a_log_group_does_not_end_the_log_group_check(doc: dict[str, Any]) -> None:
    res(doc, "aws_cloudwatch_log_group", "logs")["name"] = "/aws/lambda/other"
    _second_function(doc)["depends_on"] = []
    assert checks.check_function_log_groups(stack(doc)) == [
        "fn: no log group /aws/lambda/fn", "fn2: does not depend on its log group"]


def test_only_a_log_group_counts_as_the_functions_log_group(doc: dict[str, Any]) -> None:
    res(doc, "aws_cloudwatch_log_group", "logs")["name"] = "/aws/lambda/other"
    doc["resource"]["aws_cloudwatch_log_stream"] = {"s": {"name": "/aws/lambda/fn", "log_group_name": "x"}}
    assert checks.check_function_log_groups(stack(doc)) == ["fn: no log group /aws/lambda/fn"]


def test_an_alarm_without_dimensions_watches_no_queue(doc: dict[str, Any]) -> None:
    doc["resource"]["aws_cloudwatch_metric_alarm"]["math"] = {"metric_name": "ApproximateNumberOfMessagesVisible",
                                                              "threshold": 0}
    assert checks.check_queues_redrive(stack(doc)) == []


def test_a_redriving_queue_does_not_end_the_redrive_check(doc: dict[str, Any]) -> None:
    # Resources are read in address order: "a-first" comes before "rejects".
    doc["resource"]["aws_sqs_queue"]["a-first"] = dict(res(doc, "aws_sqs_queue", "src"), name="a-first")
    del doc["resource"]["aws_cloudwatch_metric_alarm"]["rejects"]
    assert checks.check_queues_redrive(stack(doc)) == [
        "rejects: neither redrives to a DLQ nor alarms when it holds messages"]


def test_an_unresolvable_mapping_does_not_end_the_visibility_check(doc: dict[str, Any]) -> None:
    mappings = doc["resource"]["aws_lambda_event_source_mapping"]
    mappings["a-first"] = dict(mappings["map"], event_source_arn="${aws_sqs_queue.gone.arn}")
    res(doc, "aws_sqs_queue", "src")["visibility_timeout_seconds"] = 184
    assert checks.check_visibility_timeouts(stack(doc)) == [
        "aws_lambda_event_source_mapping.a-first: cannot resolve its queue and function",
        "src: visibility timeout 184 s < 6 x fn timeout + window = 185 s"]


@pytest.mark.parametrize(("window", "violations"), [
    (12, []), (13, ["src: visibility timeout 30 s < 6 x fn timeout + window = 31 s"])])
def test_lambdas_default_timeout_is_3_s(doc: dict[str, Any], window: int, violations: list[str]) -> None:
    del res(doc, "aws_sqs_queue", "src")["visibility_timeout_seconds"]
    del res(doc, "aws_lambda_function", "fn")["timeout"]
    res(doc, "aws_lambda_event_source_mapping", "map")["maximum_batching_window_in_seconds"] = window
    assert checks.check_visibility_timeouts(stack(doc)) == violations
