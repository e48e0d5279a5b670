"""The whole app as main.py synthesizes it: stacks, wiring, outputs, provider and tags."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import PIPELINE_ENVIRONMENTS, TEST_ACCOUNT_ID
from tools.policy.stack_json import StackJson

DRAFT_OUTPUTS = {"table_name", "processor_function_arn", "validator_function_arn", "enricher_function_arn"}


def test_main_synthesizes_bootstrap_one_stack_per_environment_and_the_ci_identities(
        stacks: dict[str, StackJson]) -> None:
    expected = {"tap-pipeline-state", "tap-pipeline-ci", *(f"tap-pipeline-{e}" for e in PIPELINE_ENVIRONMENTS)}
    assert set(stacks) == expected


@pytest.mark.parametrize("env", PIPELINE_ENVIRONMENTS)
def test_outputs_keep_the_drafts_names_and_add_ingest_queue_and_alarm_topic(
        pipeline_stacks: dict[str, StackJson], env: str) -> None:
    assert DRAFT_OUTPUTS | {"ingest_queue_url", "alarm_topic_arn"} <= set(pipeline_stacks[env].outputs())


@pytest.mark.parametrize("env", PIPELINE_ENVIRONMENTS)
def test_requires_hashicorp_aws_5_100_0_exactly(pipeline_stacks: dict[str, StackJson], env: str) -> None:
    provider = pipeline_stacks[env].document["terraform"]["required_providers"]["aws"]
    assert provider == {"source": "hashicorp/aws", "version": "5.100.0"}


@pytest.mark.parametrize("env", PIPELINE_ENVIRONMENTS)
def test_provider_default_tags_carry_the_five_cost_tags(pipeline_stacks: dict[str, StackJson], env: str) -> None:
    [provider] = pipeline_stacks[env].document["provider"]["aws"]
    [default_tags] = provider["default_tags"]
    tags = default_tags["tags"]
    assert {"Project", "Environment", "CostCenter", "Owner", "ManagedBy"} <= set(tags)
    assert tags["Environment"] == env and all(v.strip() for v in tags.values())


def test_data_flows_ingest_validator_enrich_enricher_process_processor_table(
        pipeline_stacks: dict[str, StackJson]) -> None:
    stack = pipeline_stacks["dev"]
    flow = {}
    for mapping in stack.resources("aws_lambda_event_source_mapping"):
        queue = stack.referenced(mapping.body["event_source_arn"]).body["name"]
        alias = stack.referenced(mapping.body["function_name"])
        function = stack.referenced(alias.body["function_name"]).body
        flow[queue] = (function["function_name"], function["environment"]["variables"])
    assert set(flow) == {"tap-ingest-dev", "tap-enrich-dev", "tap-process-dev"}
    validator, validator_env = flow["tap-ingest-dev"]
    enricher, enricher_env = flow["tap-enrich-dev"]
    processor, processor_env = flow["tap-process-dev"]
    assert (validator, enricher, processor) == ("tap-validator-dev", "tap-enricher-dev", "tap-processor-dev")
    assert stack.referenced(validator_env["OUTPUT_QUEUE_URL"]).body["name"] == "tap-enrich-dev"
    assert stack.referenced(validator_env["REJECTS_QUEUE_URL"]).body["name"] == "tap-rejects-dev"
    assert stack.referenced(enricher_env["OUTPUT_QUEUE_URL"]).body["name"] == "tap-process-dev"
    assert stack.referenced(processor_env["TABLE_NAME"]).body["name"] == "tap-data-table-dev"


def test_rejects_queue_keeps_14_days_and_alarms_when_not_empty(pipeline_stacks: dict[str, StackJson]) -> None:
    stack = pipeline_stacks["dev"]
    [rejects] = [q for q in stack.resources("aws_sqs_queue") if q.body["name"] == "tap-rejects-dev"]
    assert rejects.body["message_retention_seconds"] == 14 * 24 * 3600
    alarms = {a.body["alarm_name"]: a.body for a in stack.resources("aws_cloudwatch_metric_alarm")
              if a.body["alarm_name"].startswith("tap-rejects-dev-")}
    assert set(alarms) == {"tap-rejects-dev-not-empty", "tap-rejects-dev-arrivals"}
    not_empty = alarms["tap-rejects-dev-not-empty"]
    assert (not_empty["metric_name"], not_empty["threshold"]) == ("ApproximateNumberOfMessagesVisible", 0)
    arrivals = {q["id"]: q for q in alarms["tap-rejects-dev-arrivals"]["metric_query"]}
    assert {q["metric"]["dimensions"]["QueueName"] for q in arrivals.values() if "metric" in q} == {"tap-rejects-dev"}


def test_preview_environment_is_named_with_its_suffix(pipeline_stacks: dict[str, StackJson]) -> None:
    names = {f.body["function_name"] for f in pipeline_stacks["pr42"].resources("aws_lambda_function")}
    assert names == {"tap-validator-pr42", "tap-enricher-pr42", "tap-processor-pr42"}


def test_only_prod_processor_has_provisioned_concurrency(pipeline_stacks: dict[str, StackJson]) -> None:
    warm = {env: [stack.referenced(c.body["function_name"]).body["function_name"]
                  for c in stack.resources("aws_lambda_provisioned_concurrency_config")]
            for env, stack in pipeline_stacks.items()}
    assert warm == {"local": [], "dev": [], "staging": [], "prod": ["tap-processor-prod"], "pr42": []}


def test_alarm_topic_is_encrypted_with_the_environments_own_key(pipeline_stacks: dict[str, StackJson]) -> None:
    for env, stack in pipeline_stacks.items():
        [topic] = stack.resources("aws_sns_topic")
        [key] = stack.resources("aws_kms_key")
        assert topic.body["kms_master_key_id"] == f"${{{key.address}.arn}}", env


def test_every_alarm_in_every_stack_notifies_the_alarm_topic(pipeline_stacks: dict[str, StackJson]) -> None:
    for env, stack in pipeline_stacks.items():
        [topic] = stack.resources("aws_sns_topic")
        topic_arn = f"${{{topic.address}.arn}}"
        for alarm in stack.resources("aws_cloudwatch_metric_alarm"):
            assert alarm.body["alarm_actions"] == [topic_arn], f"{env}: {alarm.address}"
            assert alarm.body["ok_actions"] == [topic_arn], f"{env}: {alarm.address}"


def test_dashboard_shows_every_stage_and_the_table(pipeline_stacks: dict[str, StackJson]) -> None:
    [dashboard] = pipeline_stacks["dev"].resources("aws_cloudwatch_dashboard")
    body = json.loads(dashboard.body["dashboard_body"])
    titles = [w["properties"]["title"] for w in body["widgets"]]
    for stage in ("validator", "enricher", "processor"):
        assert any(t.startswith(f"{stage}: queue depth") for t in titles), stage
        assert any(t.startswith(f"{stage}: invocations") for t in titles), stage
        assert any(t.startswith(f"{stage}: duration") for t in titles), stage
    metrics = {m[1] for w in body["widgets"] for m in w["properties"]["metrics"]}
    assert {"ConsumedWriteCapacityUnits", "WriteThrottleEvents", "Throttles", "Errors"} <= metrics


def test_local_stack_has_credentials_no_account_accepts_and_takes_its_endpoint_from_each_run(
        pipeline_stacks: dict[str, StackJson]) -> None:
    [provider] = pipeline_stacks["local"].document["provider"]["aws"]
    assert (provider["access_key"], provider["secret_key"]) == ("test", "test")
    assert provider["skip_credentials_validation"] is True and provider["skip_requesting_account_id"] is True
    assert "endpoints" not in provider


def test_local_stack_leaves_out_what_the_emulator_lacks(pipeline_stacks: dict[str, StackJson]) -> None:
    stack = pipeline_stacks["local"]
    assert not stack.resources("aws_lambda_provisioned_concurrency_config")
    assert not stack.resources("aws_appautoscaling_target")
    assert all("layers" not in f.body for f in stack.resources("aws_lambda_function"))
    assert all(m.body["enabled"] is False for m in stack.resources("aws_lambda_event_source_mapping")), (
        "the emulator would run enabled mappings itself and count receives")


def test_deployed_functions_use_the_powertools_layer_for_their_runtime(pipeline_stacks: dict[str, StackJson]) -> None:
    stack = pipeline_stacks["prod"]
    for function in stack.resources("aws_lambda_function"):
        [layer] = function.body["layers"]
        parameter = stack.referenced(layer)
        assert parameter.type == "aws_ssm_parameter" and layer.endswith(".insecure_value}")
        assert parameter.body["name"].startswith("/aws/service/powertools/python/arm64/python3.13/")


# The separate policy resources stacks had before the policies became arguments of the queues
# (addresses from that release's synthesized stacks: the same in every environment).
SEPARATE_POLICY_ADDRESSES = {
    "aws_sqs_queue_policy.enrich-queue_dlq_tls-only-policy_E43751C7",
    "aws_sqs_queue_policy.enrich-queue_tls-only-policy_97B48394",
    "aws_sqs_queue_policy.ingest-queue_dlq_tls-only-policy_DC2E017C",
    "aws_sqs_queue_policy.ingest-queue_tls-only-policy_47D4D5BA",
    "aws_sqs_queue_policy.process-queue_dlq_tls-only-policy_DE9294D5",
    "aws_sqs_queue_policy.process-queue_tls-only-policy_60B60A22",
    "aws_sqs_queue_policy.rejects-queue_tls-only-policy_CD266544",
    "aws_sqs_queue_redrive_allow_policy.enrich-queue_dlq-redrive-allow_CEF27856",
    "aws_sqs_queue_redrive_allow_policy.ingest-queue_dlq-redrive-allow_49E675A3",
    "aws_sqs_queue_redrive_allow_policy.process-queue_dlq-redrive-allow_2217A6DE",
}


@pytest.mark.parametrize("env", PIPELINE_ENVIRONMENTS)
def test_existing_deployments_forget_the_separate_queue_policies_without_destroying_them(
        pipeline_stacks: dict[str, StackJson], env: str) -> None:
    # In removed.tf beside cdk.tf.json: a top-level list there would crash checkov's parser.
    stack = pipeline_stacks[env]
    assert "removed" not in stack.document
    text = (stack.directory / "removed.tf").read_text()
    block = re.compile(r"removed \{\n  from = (\S+)\n  lifecycle \{\n    destroy = false\n  \}\n\}\n")
    addresses = block.findall(text)
    assert block.sub("", text) == "", "nothing but removed blocks that only forget"
    assert sorted(addresses) == sorted(SEPARATE_POLICY_ADDRESSES)


def test_a_stack_that_retires_nothing_gets_no_removed_file(stacks: dict[str, StackJson]) -> None:
    assert not (stacks["tap-pipeline-state"].directory / "removed.tf").exists()


@pytest.mark.parametrize("env", PIPELINE_ENVIRONMENTS)
def test_every_queue_carries_its_tls_only_policy_and_each_source_queue_has_its_redrive(
        pipeline_stacks: dict[str, StackJson], env: str) -> None:
    stack = pipeline_stacks[env]
    names = sorted(q.body["name"] for q in stack.resources("aws_sqs_queue"))
    assert len(names) == 7
    for queue in stack.resources("aws_sqs_queue"):
        [statement] = stack.referenced(queue.body["policy"]).body["statement"]
        assert statement["resources"][0].endswith(":" + queue.body["name"])
        assert statement["effect"] == "Deny"
    redriven = sorted(stack.referenced(r.body["queue_url"]).body["name"]
                      for r in stack.resources("aws_sqs_queue_redrive_policy"))
    assert redriven == [f"tap-{stage}-{env}" for stage in ("enrich", "ingest", "process")]
    # The redrive resource keeps its address of earlier releases: it is neither removed nor recreated.
    assert sorted(r.address for r in stack.resources("aws_sqs_queue_redrive_policy")) == [
        "aws_sqs_queue_redrive_policy.enrich-queue_redrive_01293718",
        "aws_sqs_queue_redrive_policy.ingest-queue_redrive_44C99D1D",
        "aws_sqs_queue_redrive_policy.process-queue_redrive_331E43F5"]


@pytest.mark.parametrize("env", PIPELINE_ENVIRONMENTS)
def test_the_provider_refuses_every_account_but_the_environments(pipeline_stacks: dict[str, StackJson],
                                                                 env: str) -> None:
    [provider] = pipeline_stacks[env].document["provider"]["aws"]
    # The emulator (local) answers as its own account; every S3-backed stack names exactly the one it deploys to.
    expected = None if env == "local" else [TEST_ACCOUNT_ID]
    assert provider.get("allowed_account_ids") == expected


def test_the_bootstrap_provider_refuses_every_account_but_the_environments(stacks: dict[str, StackJson]) -> None:
    [provider] = stacks["tap-pipeline-state"].document["provider"]["aws"]
    assert provider["allowed_account_ids"] == [TEST_ACCOUNT_ID]


@pytest.mark.parametrize(("env", "application", "system"), [("prod", "INFO", "INFO"), ("local", "WARN", "WARN")])
def test_the_log_level_setting_reaches_lambdas_logging_config(pipeline_stacks: dict[str, StackJson], env: str,
                                                              application: str, system: str) -> None:
    # prod keeps the default INFO; local sets WARNING, which Lambda spells WARN.
    for function in pipeline_stacks[env].resources("aws_lambda_function"):
        config = function.body["logging_config"]
        assert (config["application_log_level"], config["system_log_level"]) == (application, system)


def test_no_function_has_a_function_level_dead_letter_target(pipeline_stacks: dict[str, StackJson]) -> None:
    for env, stack in pipeline_stacks.items():
        for function in stack.resources("aws_lambda_function"):
            assert "dead_letter_config" not in function.body, f"{env}: {function.address}"
