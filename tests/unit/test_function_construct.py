"""PipelineFunction, synthesized alone through the QueueToFunction pattern that feeds it."""

from __future__ import annotations

from pathlib import Path

import pytest

from modules import permissions
from modules.function import FunctionProps
from modules.function_code import build_archive
from modules.log_levels import LambdaLogLevels
from modules.monitoring import AlarmProps
from modules.queue_to_function import EventSourceProps, QueueToFunction
from tests.support.synth import synth_scope
from tools.policy.stack_json import Resource, StackJson, reference

TOPIC = "arn:aws:sns:us-east-1:123456789012:alarms"
TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/data-table-dev"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
LOG_RETENTION_DAYS = 14


def fake_handlers(root: Path) -> Path:
    handlers = root / "handlers"
    for folder in ("shared", "processor"):
        (handlers / folder).mkdir(parents=True)
        (handlers / folder / "__init__.py").write_text("")
    (handlers / "__init__.py").write_text("")
    (handlers / "processor" / "app.py").write_text("def handler(event, context):\n    return {}\n")
    return handlers


def function_props(**overrides: object) -> FunctionProps:
    values: dict[str, object] = {
        "name": "processor-dev", "component": "processor", "description": "tap-pipeline processor stage (dev)",
        "runtime": "python3.13", "architecture": "arm64", "memory_mb": 256, "timeout_s": 60,
        "reserved_concurrency": 10, "provisioned_concurrency": 0, "log_retention_days": LOG_RETENTION_DAYS,
        "environment": {"TABLE_NAME": "data-table-dev", "POWERTOOLS_SERVICE_NAME": "processor",
                        "ENVIRONMENT": "dev"},
        "duration_alarm_fraction": 0.8, "log_levels": LambdaLogLevels(application="WARN", system="INFO"),
    }
    return FunctionProps(**{**values, **overrides})  # type: ignore[arg-type]


EVENT_SOURCE = EventSourceProps(batch_size=10, batching_window_s=2, max_concurrency=5, max_receive_count=5,
                                retention_s=4 * 24 * 3600, dlq_retention_s=14 * 24 * 3600,
                                oldest_message_age_threshold_s=900)


def synth_function(tmp: Path, function: FunctionProps, kms_key_arn: str | None = None) -> StackJson:
    archive = build_archive("processor", handlers_dir=fake_handlers(tmp), build_dir=tmp / "build")

    def build(scope):
        QueueToFunction(
            scope, queue_id="process-queue", queue_name="process-dev", function_id="processor",
            function=function, event_source=EVENT_SOURCE, archive=archive,
            outbound=[permissions.write_table("WriteRecordsTable", TABLE_ARN)],
            alarms=AlarmProps(topic_arn=TOPIC, period_s=60), account_id="123456789012",
            kms_key_arn=kms_key_arn,
        )

    return synth_scope(build)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> StackJson:
    return synth_function(tmp_path_factory.mktemp("fn"), function_props())


@pytest.fixture(scope="module")
def warm_stack(tmp_path_factory: pytest.TempPathFactory) -> StackJson:
    props = function_props(reserved_concurrency=20, provisioned_concurrency=3)
    return synth_function(tmp_path_factory.mktemp("warm"), props)


def function_of(stack: StackJson) -> Resource:
    [function] = stack.resources("aws_lambda_function")
    return function


def test_function_is_arm64_on_a_current_python_runtime(stack: StackJson) -> None:
    body = function_of(stack).body
    assert body["architectures"] == ["arm64"]
    assert body["runtime"] in ("python3.12", "python3.13")


def test_memory_timeout_and_reserved_concurrency_come_from_the_props(stack: StackJson) -> None:
    body = function_of(stack).body
    assert (body["memory_size"], body["timeout"], body["reserved_concurrent_executions"]) == (256, 60, 10)




def test_tracing_is_active_and_logs_are_json_in_its_own_group(stack: StackJson) -> None:
    body = function_of(stack).body
    assert body["tracing_config"] == {"mode": "Active"}
    assert body["logging_config"]["log_format"] == "JSON"
    log_group = stack.referenced(body["logging_config"]["log_group"])
    assert log_group.body["name"] == "/aws/lambda/processor-dev"


def test_log_group_has_the_environment_retention(stack: StackJson) -> None:
    [log_group] = stack.resources("aws_cloudwatch_log_group")
    assert log_group.body["retention_in_days"] == LOG_RETENTION_DAYS


def test_function_depends_on_its_log_group(stack: StackJson) -> None:
    [log_group] = stack.resources("aws_cloudwatch_log_group")
    assert log_group.address in function_of(stack).body["depends_on"]


def test_environment_names_the_table_and_the_stage(stack: StackJson) -> None:
    variables = function_of(stack).body["environment"]["variables"]
    assert variables["TABLE_NAME"] == "data-table-dev"
    assert variables["POWERTOOLS_SERVICE_NAME"] == "processor"
    assert variables["ENVIRONMENT"] == "dev"


def test_log_levels_reach_lambdas_logging_config(stack: StackJson) -> None:
    # Lambda sets AWS_LAMBDA_LOG_LEVEL from these, and Powertools prefers it to POWERTOOLS_LOG_LEVEL.
    config = function_of(stack).body["logging_config"]
    assert (config["application_log_level"], config["system_log_level"]) == ("WARN", "INFO")


def test_queue_fed_function_has_no_function_level_dead_letter_target(stack: StackJson) -> None:
    # dead_letter_config applies to asynchronous invocations only; an SQS event source invokes
    # synchronously, and the source queue's redrive policy moves failures to its DLQ.
    assert "dead_letter_config" not in function_of(stack).body
    [redrive] = stack.resources("aws_sqs_queue_redrive_policy")
    assert stack.referenced(redrive.body["queue_url"]).body["name"] == "process-dev"


def test_alias_ignores_the_routing_weights_aws_sets_during_a_version_shift(stack: StackJson) -> None:
    [alias] = stack.resources("aws_lambda_alias")
    assert alias.body["lifecycle"] == {"ignore_changes": ["routing_config"]}
    assert "routing_config" not in alias.body


def test_function_is_published_behind_the_alias_live(stack: StackJson) -> None:
    assert function_of(stack).body["publish"] is True
    [alias] = stack.resources("aws_lambda_alias")
    assert alias.body["name"] == "live"
    assert reference(alias.body["function_version"])[2] == "version", "the alias must follow the published version"


def test_event_source_mapping_targets_the_alias_and_reports_batch_item_failures(stack: StackJson) -> None:
    [mapping] = stack.resources("aws_lambda_event_source_mapping")
    body = mapping.body
    assert reference(body["function_name"])[0] == "aws_lambda_alias"
    assert body["function_response_types"] == ["ReportBatchItemFailures"]
    assert (body["batch_size"], body["maximum_batching_window_in_seconds"]) == (10, 2)
    assert body["scaling_config"] == {"maximum_concurrency": 5}
    assert stack.referenced(body["event_source_arn"]).body["name"] == "process-dev"


def test_event_source_mapping_waits_for_the_role_policy(stack: StackJson) -> None:
    [mapping] = stack.resources("aws_lambda_event_source_mapping")
    [policy] = stack.resources("aws_iam_role_policy")
    assert policy.address in mapping.body["depends_on"]


def test_no_provisioned_concurrency_unless_asked(stack: StackJson) -> None:
    assert not stack.resources("aws_lambda_provisioned_concurrency_config")


def test_provisioned_concurrency_sits_on_the_alias(warm_stack: StackJson) -> None:
    [config] = warm_stack.resources("aws_lambda_provisioned_concurrency_config")
    [alias] = warm_stack.resources("aws_lambda_alias")
    assert config.body["provisioned_concurrent_executions"] == 3
    assert warm_stack.referenced(config.body["qualifier"]).address == alias.address


def test_role_policy_comes_from_a_policy_document(stack: StackJson) -> None:
    [policy] = stack.resources("aws_iam_role_policy")
    assert policy.body["policy"].startswith("${data.aws_iam_policy_document.")
    assert stack.referenced(policy.body["policy"]).body["statement"], "the document must hold the statements"


def policy_statements(stack: StackJson) -> dict[str, dict]:
    [policy] = stack.resources("aws_iam_role_policy")
    document = stack.referenced(policy.body["policy"])
    return {s["sid"]: s for s in document.body["statement"]}


def test_every_iam_statement_is_scoped_to_one_arn_except_xray(stack: StackJson) -> None:
    for sid, statement in policy_statements(stack).items():
        if sid == "UploadTraces":
            assert statement["resources"] == ["*"]
            assert set(statement["actions"]) == {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
            continue
        assert len(statement["resources"]) == 1 and statement["resources"][0] != "*", sid


def test_policy_grants_exactly_consume_logs_traces_and_table_write(stack: StackJson) -> None:
    statements = policy_statements(stack)
    assert set(statements) == {"ConsumeSourceQueue", "WriteOwnLogStreams", "UploadTraces", "WriteRecordsTable"}
    assert stack.referenced(statements["ConsumeSourceQueue"]["resources"][0]).body["name"] == "process-dev"
    assert statements["WriteRecordsTable"]["resources"] == [TABLE_ARN]
    assert set(statements["WriteRecordsTable"]["actions"]) == {"dynamodb:BatchWriteItem", "dynamodb:PutItem"}


def test_no_wildcard_actions(stack: StackJson) -> None:
    actions = [a for s in policy_statements(stack).values() for a in s["actions"]]
    assert not [a for a in actions if "*" in a], actions


def test_role_cannot_create_log_groups(stack: StackJson) -> None:
    actions = {a for s in policy_statements(stack).values() for a in s["actions"]}
    assert "logs:CreateLogGroup" not in actions


def test_log_permission_is_scoped_to_its_own_group_streams(stack: StackJson) -> None:
    [resource] = policy_statements(stack)["WriteOwnLogStreams"]["resources"]
    assert resource.endswith(":*") and stack.referenced(resource.removesuffix(":*")).type == "aws_cloudwatch_log_group"


def test_alarms_on_errors_throttles_and_p99_duration_at_80_percent_of_timeout(stack: StackJson) -> None:
    alarms = {r.body["metric_name"]: r.body for r in stack.resources("aws_cloudwatch_metric_alarm")
              if r.body.get("namespace") == "AWS/Lambda"}
    assert set(alarms) == {"Errors", "Throttles", "Duration"}
    assert alarms["Duration"]["extended_statistic"] == "p99"
    assert alarms["Duration"]["threshold"] == pytest.approx(0.8 * 60 * 1000)


def test_queue_visibility_timeout_is_six_function_timeouts_plus_the_batching_window(stack: StackJson) -> None:
    [queue] = [r.body for r in stack.resources("aws_sqs_queue") if r.body["name"] == "process-dev"]
    assert queue["visibility_timeout_seconds"] == 6 * 60 + 2


def test_queue_dead_letter_depth_alarm_names_the_consumer_and_its_receive_count(stack: StackJson) -> None:
    [alarm] = [r.body for r in stack.resources("aws_cloudwatch_metric_alarm")
               if r.body["alarm_name"] == "process-dev-dlq-not-empty"]
    assert "failed 5 times in processor" in alarm["alarm_description"]


def test_function_without_layers_names_none(stack: StackJson) -> None:
    assert "layers" not in function_of(stack).body


def test_function_layers_come_from_the_props(tmp_path: Path) -> None:
    layer = "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:27"
    stack = synth_function(tmp_path, function_props(layers=(layer,)))
    assert function_of(stack).body["layers"] == [layer]


def test_without_a_key_nothing_names_one(stack: StackJson) -> None:
    assert "kms_key_arn" not in function_of(stack).body
    [log_group] = stack.resources("aws_cloudwatch_log_group")
    assert "kms_key_id" not in log_group.body
    assert all(q.body["sqs_managed_sse_enabled"] is True and "kms_master_key_id" not in q.body
               for q in stack.resources("aws_sqs_queue"))


def test_a_key_encrypts_the_log_group_environment_and_both_queues(tmp_path: Path) -> None:
    stack = synth_function(tmp_path, function_props(kms_key_arn=KEY_ARN), kms_key_arn=KEY_ARN)
    assert function_of(stack).body["kms_key_arn"] == KEY_ARN
    [log_group] = stack.resources("aws_cloudwatch_log_group")
    assert log_group.body["kms_key_id"] == KEY_ARN
    queues = {q.body["name"]: q.body for q in stack.resources("aws_sqs_queue")}
    assert set(queues) == {"process-dev", "process-dev-dlq"}
    for name, queue in queues.items():
        # SQS refuses both kinds of server-side encryption on one queue.
        assert queue["kms_master_key_id"] == KEY_ARN and "sqs_managed_sse_enabled" not in queue, name
