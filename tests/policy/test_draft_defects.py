"""One test per defect of the Pulumi first draft (README, "What this replaces"), each gone in every environment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from modules.settings import LOG_RETENTION_DAYS, load_environment, preview_environment
from tests.conftest import PIPELINE_ENVIRONMENTS, PREVIEW_SUFFIX
from tools.policy import checks as policy_checks
from tools.policy.stack_json import StackJson

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENTS = pytest.mark.parametrize("env", PIPELINE_ENVIRONMENTS)


def settings_of(env: str):
    return preview_environment(env) if env == PREVIEW_SUFFIX else load_environment(env)


@ENVIRONMENTS
def test_defect_1_memory_over_provisioning_is_gone(pipeline_stacks: dict[str, StackJson], env: str) -> None:
    functions = pipeline_stacks[env].resources("aws_lambda_function")
    memory = {f.body["function_name"]: f.body["memory_size"] for f in functions}
    assert memory and all(128 <= m <= 512 for m in memory.values()), f"draft had 3008 MB; now {memory}"


@ENVIRONMENTS
def test_defect_2_copy_pasted_functions_are_one_reusable_construct(
        pipeline_stacks: dict[str, StackJson], env: str) -> None:
    stack = pipeline_stacks[env]
    functions = stack.resources("aws_lambda_function")
    paths = sorted(f.path for f in functions)
    assert paths == [f"tap-pipeline-{env}/{s}/function" for s in ("enricher", "processor", "validator")]
    shapes = {tuple(sorted(f.body)) for f in functions}
    assert len(shapes) == 1, "every function must be made by the same construct, with the same attributes"
    for stage in ("validator", "enricher", "processor"):
        owned = {r.type for r in stack.resources() if r.path.startswith(f"tap-pipeline-{env}/{stage}/")}
        assert {"aws_iam_role", "aws_iam_role_policy", "aws_cloudwatch_log_group", "aws_lambda_alias",
                "aws_lambda_event_source_mapping"} <= owned, stage


@ENVIRONMENTS
def test_defect_3_fixed_table_capacity_is_gone(pipeline_stacks: dict[str, StackJson], env: str) -> None:
    stack = pipeline_stacks[env]
    [table] = stack.resources("aws_dynamodb_table")
    if table.body["billing_mode"] == "PAY_PER_REQUEST":
        return
    dimensions = {t.body["scalable_dimension"] for t in stack.resources("aws_appautoscaling_target")}
    assert dimensions == {"dynamodb:table:ReadCapacityUnits", "dynamodb:table:WriteCapacityUnits"}
    assert len(stack.resources("aws_appautoscaling_policy")) == 2
    assert set(table.body["lifecycle"]["ignore_changes"]) >= {"read_capacity", "write_capacity"}


@ENVIRONMENTS
def test_defect_4_missing_dead_letter_queues_are_gone(pipeline_stacks: dict[str, StackJson], env: str) -> None:
    stack = pipeline_stacks[env]
    assert policy_checks.check_queues_redrive(stack) == []
    # The DLQ sits on each function's source queue: an SQS event source invokes synchronously, so a
    # function-level dead_letter_config would never be used (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html).
    redriven = {stack.referenced(r.body["queue_url"]).address for r in stack.resources("aws_sqs_queue_redrive_policy")}
    mappings = stack.resources("aws_lambda_event_source_mapping")
    assert len(mappings) == 3
    for mapping in mappings:
        assert stack.referenced(mapping.body["event_source_arn"]).address in redriven, mapping.address


@ENVIRONMENTS
def test_defect_5_wildcard_iam_permissions_are_gone(pipeline_stacks: dict[str, StackJson], env: str) -> None:
    assert policy_checks.check_iam_wildcards(pipeline_stacks[env]) == []


@ENVIRONMENTS
def test_defect_6_missing_cost_tags_are_gone(pipeline_stacks: dict[str, StackJson], env: str) -> None:
    [provider] = pipeline_stacks[env].document["provider"]["aws"]
    tags = provider["default_tags"][0]["tags"]
    assert all(tags.get(t, "").strip() for t in policy_checks.REQUIRED_TAGS), tags
    tagged = [r for r in pipeline_stacks[env].resources() if "tags" in r.body]
    assert tagged and all(r.body["tags"].get("Component") for r in tagged)


@ENVIRONMENTS
def test_defect_7_logs_kept_forever_are_gone(pipeline_stacks: dict[str, StackJson], env: str) -> None:
    stack = pipeline_stacks[env]
    assert policy_checks.check_function_log_groups(stack) == []
    retention = {g.body["retention_in_days"] for g in stack.resources("aws_cloudwatch_log_group")}
    assert retention == {settings_of(env).log_retention_days} and retention <= set(LOG_RETENTION_DAYS)


@ENVIRONMENTS
def test_defect_8_missing_provisioned_concurrency_is_gone(pipeline_stacks: dict[str, StackJson], env: str) -> None:
    stack = pipeline_stacks[env]
    wanted = {settings_of(env).resource_name(s): f.provisioned_concurrency
              for s, f in settings_of(env).functions.items() if f.provisioned_concurrency}
    configured = {}
    for config in stack.resources("aws_lambda_provisioned_concurrency_config"):
        alias = stack.referenced(config.body["qualifier"])
        assert alias.type == "aws_lambda_alias", "warm instances must sit on the alias the event source invokes"
        configured[stack.referenced(config.body["function_name"]).body["function_name"]] = (
            config.body["provisioned_concurrent_executions"])
    assert configured == wanted
    assert policy_checks.check_event_source_mappings(stack) == [], "mappings must invoke the (warm) alias"
    if env == "prod":
        assert configured.get("tap-processor-prod", 0) > 0, "prod's latency-critical processor must stay warm"


@ENVIRONMENTS
def test_defect_9_missing_error_handling_is_gone(pipeline_stacks: dict[str, StackJson], env: str) -> None:
    stack = pipeline_stacks[env]
    assert policy_checks.check_event_source_mappings(stack) == []
    assert policy_checks.check_visibility_timeouts(stack) == []
    bare_except = [
        f"{path.relative_to(PROJECT_ROOT)}:{number}"
        for path in (PROJECT_ROOT / "handlers").rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.match(r"\s*except\s*:", line)
    ]
    assert bare_except == [], "handlers must not swallow errors with bare except"


@ENVIRONMENTS
def test_defect_10_missing_dependency_management_is_gone(pipeline_stacks: dict[str, StackJson], env: str) -> None:
    stack = pipeline_stacks[env]
    assert policy_checks.check_mappings_wait_for_role_policy(stack) == []
    assert policy_checks.check_function_log_groups(stack) == []
    lock = (PROJECT_ROOT / "Pipfile.lock").read_text()
    assert '"cdktf-cdktf-provider-aws"' in lock and '"version": "==20.1.0"' in lock, "packages must be locked"
