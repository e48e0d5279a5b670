"""One test per defect of the Pulumi first draft (docs/architecture.md, "What this replaces"), each gone in every
environment.

Tests of the shipped environments.toml: they synthesize that file (``shipped_stacks``) and hold each stack to
what the file asks for, so that a user's edit of a value breaks none of them unless it brings a defect back.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from modules.settings import REQUIRED_TAGS, BillingMode, EnvironmentSettings
from tests.conftest import PREVIEW_SUFFIX
from tests.support.environments import shipped
from tests.support.taggable import is_taggable
from tools.policy import checks as policy_checks
from tools.policy.stack_json import StackJson

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHIPPED = shipped()
ENVIRONMENTS = pytest.mark.parametrize("env", (*SHIPPED.names, PREVIEW_SUFFIX))


def settings_of(env: str) -> EnvironmentSettings:
    """What the shipped file asks of ``env`` (a preview runs on the settings of its preview_from)."""
    return SHIPPED.preview(env) if env == PREVIEW_SUFFIX else SHIPPED.environment(env)


@ENVIRONMENTS
def test_defect_1_memory_over_provisioning_is_gone(shipped_stacks: dict[str, StackJson], env: str) -> None:
    functions = shipped_stacks[env].resources("aws_lambda_function")
    memory = {f.body["function_name"]: f.body["memory_size"] for f in functions}
    assert memory and all(128 <= m <= 512 for m in memory.values()), f"draft had 3008 MB; now {memory}"


@ENVIRONMENTS
def test_defect_2_copy_pasted_functions_are_one_reusable_construct(
        shipped_stacks: dict[str, StackJson], env: str) -> None:
    stack = shipped_stacks[env]
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
def test_defect_3_fixed_table_capacity_is_gone(shipped_stacks: dict[str, StackJson], env: str) -> None:
    stack = shipped_stacks[env]
    [table] = stack.resources("aws_dynamodb_table")
    table_settings = settings_of(env).table
    targets = {t.body["scalable_dimension"]: t.body for t in stack.resources("aws_appautoscaling_target")}
    if table_settings.billing_mode is BillingMode.PAY_PER_REQUEST:  # on-demand: no capacity at all, nothing fixed
        assert table.body["billing_mode"] == "PAY_PER_REQUEST"
        assert "read_capacity" not in table.body and "write_capacity" not in table.body
        assert targets == {} and stack.resources("aws_appautoscaling_policy") == []
        return
    read, write = table_settings.read_autoscaling, table_settings.write_autoscaling
    assert table.body["billing_mode"] == "PROVISIONED"
    assert {dimension: (t["min_capacity"], t["max_capacity"]) for dimension, t in targets.items()} == {
        "dynamodb:table:ReadCapacityUnits": (read.min_capacity, read.max_capacity),
        "dynamodb:table:WriteCapacityUnits": (write.min_capacity, write.max_capacity)}
    policies = stack.resources("aws_appautoscaling_policy")
    assert sorted(p.body["target_tracking_scaling_policy_configuration"]["target_value"] for p in policies) == sorted(
        [read.target_utilization, write.target_utilization])
    assert set(table.body["lifecycle"]["ignore_changes"]) >= {"read_capacity", "write_capacity"}


@ENVIRONMENTS
def test_defect_4_missing_dead_letter_queues_are_gone(shipped_stacks: dict[str, StackJson], env: str) -> None:
    stack = shipped_stacks[env]
    assert policy_checks.check_queues_redrive(stack) == []
    # The DLQ sits on each function's source queue: an SQS event source invokes synchronously, so a
    # function-level dead_letter_config would never be used (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html).
    redriven = {stack.referenced(r.body["queue_url"]).address for r in stack.resources("aws_sqs_queue_redrive_policy")}
    mappings = stack.resources("aws_lambda_event_source_mapping")
    assert len(mappings) == 3
    for mapping in mappings:
        assert stack.referenced(mapping.body["event_source_arn"]).address in redriven, mapping.address
    settings = settings_of(env)
    redrives = {stack.referenced(r.body["queue_url"]).body["name"]: json.loads(r.body["redrive_policy"])
                for r in stack.resources("aws_sqs_queue_redrive_policy")}
    assert {name: r["maxReceiveCount"] for name, r in redrives.items()} == {
        settings.resource_name(queue): settings.functions[stage].max_receive_count
        for stage, queue in (("validator", "ingest"), ("enricher", "enrich"), ("processor", "process"))}
    dlqs = [q.body for q in stack.resources("aws_sqs_queue") if q.body["name"].endswith("-dlq")]
    assert [q["message_retention_seconds"] for q in dlqs] == [settings.dlq_retention_s] * 3


@ENVIRONMENTS
def test_defect_5_wildcard_iam_permissions_are_gone(shipped_stacks: dict[str, StackJson], env: str) -> None:
    assert policy_checks.check_iam_wildcards(shipped_stacks[env]) == []


@ENVIRONMENTS
def test_defect_6_missing_cost_tags_are_gone(shipped_stacks: dict[str, StackJson], env: str) -> None:
    stack = shipped_stacks[env]
    [provider] = stack.document["provider"]["aws"]
    tags = provider["default_tags"][0]["tags"]
    assert all(tags.get(t, "").strip() for t in REQUIRED_TAGS), tags
    assert tags == dict(settings_of(env).tags) and tags["Environment"] == env
    # Every resource whose type can carry tags, whether or not it has a `tags` key: one that lost its tags
    # entirely must fail too.
    taggable = {r.type for r in stack.resources() if is_taggable(r.type)}
    assert {"aws_lambda_function", "aws_sqs_queue", "aws_dynamodb_table"} <= taggable
    assert policy_checks.check_tags(stack, taggable) == []


@ENVIRONMENTS
def test_defect_7_logs_kept_forever_are_gone(shipped_stacks: dict[str, StackJson], env: str) -> None:
    stack = shipped_stacks[env]
    assert policy_checks.check_function_log_groups(stack) == []
    retention = {g.body["retention_in_days"] for g in stack.resources("aws_cloudwatch_log_group")}
    assert retention == {settings_of(env).log_retention_days}


@ENVIRONMENTS
def test_defect_8_missing_provisioned_concurrency_is_gone(shipped_stacks: dict[str, StackJson], env: str) -> None:
    stack = shipped_stacks[env]
    wanted = {stage: f.provisioned_concurrency for stage, f in settings_of(env).functions.items()
              if f.provisioned_concurrency}
    configured = {}
    for config in stack.resources("aws_lambda_provisioned_concurrency_config"):
        alias = stack.referenced(config.body["qualifier"])
        assert alias.type == "aws_lambda_alias", "warm instances must sit on the alias the event source invokes"
        stage = stack.referenced(config.body["function_name"]).path.split("/")[1]  # <stack>/<stage>/function
        configured[stage] = config.body["provisioned_concurrent_executions"]
    assert configured == wanted
    assert policy_checks.check_event_source_mappings(stack) == [], "mappings must invoke the (warm) alias"


def test_defect_8_some_shipped_environment_keeps_a_function_warm() -> None:
    warm = {name: [s for s, f in SHIPPED.environment(name).functions.items() if f.provisioned_concurrency]
            for name in SHIPPED.names}
    assert any(warm.values()), f"no shipped environment asks for provisioned concurrency: {warm}"


@ENVIRONMENTS
def test_defect_9_missing_error_handling_is_gone(shipped_stacks: dict[str, StackJson], env: str) -> None:
    stack = shipped_stacks[env]
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
def test_defect_10_missing_dependency_management_is_gone(shipped_stacks: dict[str, StackJson], env: str) -> None:
    stack = shipped_stacks[env]
    assert policy_checks.check_mappings_wait_for_role_policy(stack) == []
    assert policy_checks.check_function_log_groups(stack) == []
    lock = (PROJECT_ROOT / "Pipfile.lock").read_text()
    assert '"cdktf-cdktf-provider-aws"' in lock and '"version": "==20.1.0"' in lock, "packages must be locked"
