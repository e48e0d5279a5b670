"""Project checks on every synthesized stack, and proof that each check can fail."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable

import pytest

from tools import __main__ as tools_cli
from tools.policy import checks as policy_checks
from tools.policy.stack_json import StackJson

STACK_NAMES = ["tap-pipeline-local", "tap-pipeline-dev", "tap-pipeline-staging", "tap-pipeline-prod",
               "tap-pipeline-pr42", "tap-pipeline-state", "tap-pipeline-ci"]


@pytest.mark.parametrize("check", policy_checks.STRUCTURAL_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("stack_name", STACK_NAMES)
def test_stack_passes_project_check(stacks: dict[str, StackJson], stack_name: str,
                                    check: Callable[[StackJson], list[str]]) -> None:
    assert check(stacks[stack_name]) == [], f"{stack_name} violates {check.__name__}"


@pytest.fixture
def dev(stacks: dict[str, StackJson]) -> StackJson:
    """A private copy of the dev stack that a test may break."""
    original = stacks["tap-pipeline-dev"]
    return StackJson(original.name, original.directory, copy.deepcopy(original.document))


def first(dev: StackJson, type_: str, predicate: Callable[[dict], bool] = lambda body: True) -> dict:
    return next(r.body for r in dev.resources(type_) if predicate(r.body))


def test_queue_without_redrive_is_caught(dev: StackJson) -> None:
    dev.document["resource"].pop("aws_sqs_queue_redrive_policy")
    assert any("no dead-letter queue" in v for v in policy_checks.check_queues_redrive(dev))


def test_short_visibility_timeout_is_caught(dev: StackJson) -> None:
    first(dev, "aws_sqs_queue", lambda b: b["name"] == "tap-process-dev")["visibility_timeout_seconds"] = 60
    assert policy_checks.check_visibility_timeouts(dev) == [
        "tap-process-dev: visibility timeout 60 s < 6 x tap-processor-dev timeout + window = 360 s"]


def test_mapping_without_batch_item_failures_is_caught(dev: StackJson) -> None:
    first(dev, "aws_lambda_event_source_mapping")["function_response_types"] = []
    assert any("batch item failures" in v for v in policy_checks.check_event_source_mappings(dev))


def test_mapping_to_latest_instead_of_alias_is_caught(dev: StackJson) -> None:
    mapping = first(dev, "aws_lambda_event_source_mapping")
    mapping["function_name"] = mapping["function_name"].replace("aws_lambda_alias", "aws_lambda_function")
    assert any("not an alias" in v for v in policy_checks.check_event_source_mappings(dev))


def test_reserved_concurrency_below_maximum_is_caught(dev: StackJson) -> None:
    first(dev, "aws_lambda_function")["reserved_concurrent_executions"] = 1
    assert any("reserved concurrency 1 <" in v for v in policy_checks.check_concurrency(dev))


def test_wildcard_resource_is_caught(dev: StackJson) -> None:
    document = next(iter(dev.document["data"]["aws_iam_policy_document"].values()))
    document.setdefault("statement", []).append({"sid": "Bad", "effect": "Allow", "actions": ["dynamodb:PutItem"],
                                                 "resources": ["*"]})
    assert any('resource "*"' in v for v in policy_checks.check_iam_wildcards(dev))


def test_wildcard_action_is_caught(dev: StackJson) -> None:
    document = next(iter(dev.document["data"]["aws_iam_policy_document"].values()))
    document.setdefault("statement", []).append({"sid": "Bad", "effect": "Allow", "actions": ["dynamodb:*"],
                                                 "resources": ["arn:aws:dynamodb:::table/x"]})
    assert any("wildcard action" in v for v in policy_checks.check_iam_wildcards(dev))


def test_namespace_bound_put_metric_data_is_allowed(dev: StackJson) -> None:
    document = next(iter(dev.document["data"]["aws_iam_policy_document"].values()))
    document.setdefault("statement", []).append({
        "sid": "Metrics", "effect": "Allow", "actions": ["cloudwatch:PutMetricData"], "resources": ["*"],
        "condition": [{"test": "StringEquals", "variable": "cloudwatch:namespace", "values": ["TapPipeline"]}]})
    assert policy_checks.check_iam_wildcards(dev) == []


def test_function_not_depending_on_its_log_group_is_caught(dev: StackJson) -> None:
    function = first(dev, "aws_lambda_function")
    function["depends_on"] = [d for d in function["depends_on"] if "log_group" not in d]
    assert any("does not depend on its log group" in v for v in policy_checks.check_function_log_groups(dev))


def test_mapping_not_waiting_for_role_policy_is_caught(dev: StackJson) -> None:
    first(dev, "aws_lambda_event_source_mapping")["depends_on"] = []
    assert any("role's policy" in v for v in policy_checks.check_mappings_wait_for_role_policy(dev))


def test_missing_component_tag_is_caught(dev: StackJson) -> None:
    first(dev, "aws_sqs_queue")["tags"] = {}
    assert any("no Component tag" in v for v in policy_checks.check_tags(dev, {"aws_sqs_queue"}))


def test_missing_default_tag_is_caught(dev: StackJson) -> None:
    dev.document["provider"]["aws"][0]["default_tags"][0]["tags"].pop("CostCenter")
    assert any("CostCenter" in v for v in policy_checks.check_tags(dev, set()))


def test_command_line_reports_violations_and_exits_1(dev: StackJson, tmp_path, capsys) -> None:
    dev.document["resource"].pop("aws_sqs_queue_redrive_policy")
    (tmp_path / "cdk.tf.json").write_text(json.dumps(dev.document))
    assert tools_cli.main(["policy-check", str(tmp_path)]) == 1
    assert "no dead-letter queue" in capsys.readouterr().out


def test_command_line_passes_a_good_stack_with_exit_0(stacks: dict[str, StackJson], capsys) -> None:
    directory = stacks["tap-pipeline-dev"].directory
    assert tools_cli.main(["policy-check", str(directory)]) == 0
    assert capsys.readouterr().out == "tap-pipeline-dev: all project checks pass\n"


def test_command_line_says_what_to_pass_when_a_folder_holds_no_stack(tmp_path, capsys) -> None:
    assert tools_cli.main(["policy-check", str(tmp_path)]) == 1
    assert "no cdk.tf.json here; pass cdktf.out/stacks/<stack> folders" in capsys.readouterr().out
