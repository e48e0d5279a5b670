"""Bad configuration stops before synthesis, with a message naming the setting, the value and the allowed range."""

from __future__ import annotations

from dataclasses import replace

import pytest

from modules.settings import (
    STAGES,
    AutoscalingSettings,
    BillingMode,
    EnvironmentSettings,
    FunctionSettings,
    MonitoringSettings,
    SettingsError,
    TableSettings,
)
from tests.support.environments import FIXTURE, load_environment, preview_environment, selected_environments

ACCOUNT = {"TAP_AWS_ACCOUNT_ID": "111122223333"}  # pinned here, not read from the module under test
SUBSCRIBER = {"TAP_ALARM_EMAIL": "oncall@example.com"}


def fn(**overrides: object) -> FunctionSettings:
    return FunctionSettings(**{"name": "processor", **overrides})  # type: ignore[arg-type]


def assert_error_names(error: pytest.ExceptionInfo[SettingsError], *parts: str) -> None:
    message = str(error.value)
    for part in parts:
        assert part in message, f"error {message!r} should name {part!r}"


@pytest.mark.parametrize("memory", [127, 10241])
def test_memory_outside_128_to_10240_mb_is_rejected(memory: int) -> None:
    with pytest.raises(SettingsError) as error:
        fn(memory_mb=memory)
    assert_error_names(error, "functions.processor.memory_mb", str(memory), "128..10240")


@pytest.mark.parametrize("timeout", [0, 901])
def test_timeout_outside_1_to_900_s_is_rejected(timeout: int) -> None:
    with pytest.raises(SettingsError) as error:
        fn(timeout_s=timeout)
    assert_error_names(error, "functions.processor.timeout_s", str(timeout), "1..900")


def test_log_retention_not_allowed_by_cloudwatch_is_rejected() -> None:
    with pytest.raises(SettingsError) as error:
        replace(load_environment("dev"), log_retention_days=10)
    assert_error_names(error, "log_retention_days", "10", "365")


def test_reserved_concurrency_below_event_source_maximum_is_rejected() -> None:
    with pytest.raises(SettingsError) as error:
        fn(reserved_concurrency=4, max_concurrency=5)
    assert_error_names(error, "functions.processor.reserved_concurrency", "4", "max_concurrency (5)")


def test_provisioned_concurrency_above_reserved_is_rejected() -> None:
    with pytest.raises(SettingsError) as error:
        fn(reserved_concurrency=10, provisioned_concurrency=11)
    assert_error_names(error, "functions.processor.provisioned_concurrency", "11", "reserved_concurrency (10)")


def test_autoscaling_min_above_max_is_rejected() -> None:
    with pytest.raises(SettingsError) as error:
        TableSettings(billing_mode="PROVISIONED",
                      write_autoscaling=AutoscalingSettings(min_capacity=50, max_capacity=10))
    assert_error_names(error, "table.write_autoscaling.min_capacity", "50", "max_capacity (10)")


@pytest.mark.parametrize("target", [9.0, 91.0])
def test_autoscaling_target_outside_10_to_90_percent_is_rejected(target: float) -> None:
    with pytest.raises(SettingsError) as error:
        TableSettings(read_autoscaling=AutoscalingSettings(target_utilization=target))
    assert_error_names(error, "table.read_autoscaling.target_utilization", str(target), "10..90")


def test_unknown_billing_mode_is_rejected() -> None:
    with pytest.raises(SettingsError) as error:
        TableSettings(billing_mode="ON_DEMAND")
    assert_error_names(error, "table.billing_mode", "ON_DEMAND", "PAY_PER_REQUEST, PROVISIONED")


@pytest.mark.parametrize("batch_size", [0, 10001])
def test_batch_size_outside_1_to_10000_is_rejected(batch_size: int) -> None:
    with pytest.raises(SettingsError) as error:
        fn(batch_size=batch_size, batching_window_s=5)
    assert_error_names(error, "functions.processor.batch_size", str(batch_size), "1..10000")


def test_batch_size_above_10_without_batching_window_is_rejected() -> None:
    with pytest.raises(SettingsError) as error:
        fn(batch_size=11, batching_window_s=0)
    assert_error_names(error, "functions.processor.batch_size", "11", "batching_window_s >= 1")


def test_batch_size_above_10_with_batching_window_is_accepted() -> None:
    assert fn(batch_size=100, batching_window_s=5).batch_size == 100


def test_unknown_environment_name_is_rejected() -> None:
    with pytest.raises(SettingsError) as error:
        load_environment("production")
    assert_error_names(error, "environment", "production", "local, dev, staging, prod")


@pytest.mark.parametrize("tag", ["Project", "Environment", "CostCenter", "Owner", "ManagedBy"])
def test_empty_required_tag_is_rejected(tag: str) -> None:
    dev = load_environment("dev")
    with pytest.raises(SettingsError) as error:
        replace(dev, tags={**dev.tags, tag: "  "})
    assert_error_names(error, f"tags.{tag}", "non-empty")


def test_unknown_stack_in_tap_stacks_is_rejected_before_synth() -> None:
    with pytest.raises(SettingsError) as error:
        selected_environments({"TAP_STACKS": "dev,qa"})
    assert_error_names(error, "TAP_STACKS", "qa")


def test_preview_suffix_must_be_a_valid_resource_name() -> None:
    with pytest.raises(SettingsError) as error:
        preview_environment("Feature_X")
    assert_error_names(error, "ENVIRONMENT_SUFFIX", "Feature_X", "lowercase")


def test_preview_suffix_cannot_reuse_an_environment_name() -> None:
    with pytest.raises(SettingsError) as error:
        preview_environment("prod")
    assert_error_names(error, "ENVIRONMENT_SUFFIX", "prod")


def test_preview_environment_takes_dev_settings_under_its_own_suffix() -> None:
    preview = preview_environment("pr7")
    dev = load_environment("dev")
    assert (preview.suffix, preview.tags["Environment"]) == ("pr7", "pr7")
    assert preview.functions == dev.functions and preview.table == dev.table, "a preview must run on dev's settings"


def test_environment_suffix_adds_a_preview_to_the_selected_environments() -> None:
    names = [s.suffix for s in selected_environments({"TAP_STACKS": "dev", "ENVIRONMENT_SUFFIX": "pr7", **ACCOUNT})]
    assert names == ["dev", "pr7"]


def test_emulator_environment_refuses_provisioned_concurrency() -> None:
    local = load_environment("local")
    functions = {**local.functions, "processor": fn(reserved_concurrency=None, provisioned_concurrency=1)}
    with pytest.raises(SettingsError) as error:
        replace(local, functions=functions)
    assert_error_names(error, "functions.processor.provisioned_concurrency", "emulator")


def test_state_backend_location_comes_from_environment_variables() -> None:
    settings = load_environment("staging",
                                {"TAP_STATE_BUCKET": "acme-tf-state", "TAP_STATE_REGION": "eu-west-1", **ACCOUNT,
                                 **SUBSCRIBER})
    assert (settings.backend.bucket, settings.backend.region) == ("acme-tf-state", "eu-west-1")


def test_bad_state_bucket_name_is_rejected_naming_the_variable_it_came_from() -> None:
    with pytest.raises(SettingsError) as error:
        load_environment("dev", {"TAP_STATE_BUCKET": "Bad_Bucket", **ACCOUNT})
    assert error.value.problems == (
        "TAP_STATE_BUCKET='Bad_Bucket' is invalid: allowed an S3 bucket name (3-63 lowercase letters, digits, dots, "
        "hyphens)",)


@pytest.mark.parametrize("name", ["dev", "staging", "prod", "local"])
def test_every_shipped_environment_is_valid_and_complete(name: str) -> None:
    settings = load_environment(name)
    assert set(settings.functions) == set(STAGES)


def test_prod_uses_provisioned_capacity_with_autoscaling_and_a_warm_processor() -> None:
    prod = load_environment("prod")
    assert prod.table.billing_mode is BillingMode.PROVISIONED
    assert prod.functions["processor"].provisioned_concurrency > 0


def test_visibility_timeout_is_six_timeouts_plus_the_batching_window() -> None:
    assert fn(timeout_s=30, batching_window_s=5, batch_size=10).visibility_timeout_s == 185


def test_every_invalid_value_is_reported_at_once_each_on_its_own_line() -> None:
    dev = load_environment("dev")
    with pytest.raises(SettingsError) as error:
        replace(dev, log_retention_days=10, queue_retention_s=1209600, dlq_retention_s=1209600, log_level="LOUD")
    lines = str(error.value).splitlines()
    assert len(lines) == 3, lines
    assert [line.split("=", 1)[0] for line in lines] == ["log_retention_days", "log_level", "dlq_retention_s"]


def test_invalid_values_of_nested_settings_and_environment_variables_are_reported_together() -> None:
    with pytest.raises(SettingsError) as error:
        selected_environments({"TAP_STACKS": "dev,qa", "TAP_STATE_BUCKET": "Bad_Bucket", "TAP_STATE_REGION": "moon",
                               **ACCOUNT})
    problems = error.value.problems
    assert [p.split("=", 1)[0] for p in problems] == ["TAP_STACKS", "TAP_STATE_BUCKET", "TAP_STATE_REGION"], problems


def test_an_s3_backed_environment_without_an_account_id_stops_naming_the_keys_and_the_variable_to_set() -> None:
    with pytest.raises(SettingsError) as error:
        load_environment("dev", {})
    assert error.value.problems == (
        "the Terraform state: no AWS account: set TAP_AWS_ACCOUNT_ID to the 12-digit id of the AWS account that holds "
        f"the state (or account_id in [state] of {FIXTURE.label})",
        "dev: no AWS account: set TAP_AWS_ACCOUNT_ID to the 12-digit id of the AWS account dev deploys to (or "
        f"account_id in [environments.dev] of {FIXTURE.label})",
    )


@pytest.mark.parametrize("account", ["11112222333", "1111222233334", "11112222333a"])
def test_an_account_id_that_is_not_12_digits_is_rejected(account: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_environment("prod", {"TAP_AWS_ACCOUNT_ID": account, **SUBSCRIBER})
    assert error.value.problems == (
        f"TAP_AWS_ACCOUNT_ID={account!r} is invalid: allowed the 12-digit id of the AWS account that holds the state",
        f"TAP_AWS_ACCOUNT_ID={account!r} is invalid: allowed the 12-digit id of the AWS account prod deploys to")


def test_a_12_digit_account_id_is_taken_from_the_environment() -> None:
    settings = load_environment("staging", {"TAP_AWS_ACCOUNT_ID": "000011112222", **SUBSCRIBER})
    assert settings.account_id == "000011112222"


def test_local_runs_in_the_emulators_account_whatever_the_variable_says() -> None:
    assert load_environment("local", {"TAP_AWS_ACCOUNT_ID": "000011112222"}).account_id == "123456789012"


def test_a_single_invalid_value_gives_a_single_line() -> None:
    with pytest.raises(SettingsError) as error:
        fn(memory_mb=64)
    assert error.value.problems == ("functions.processor.memory_mb=64 is invalid: allowed 128..10240",)


def test_preview_without_a_suffix_is_reported() -> None:
    with pytest.raises(SettingsError) as error:
        selected_environments({"TAP_STACKS": "preview"})
    assert_error_names(error, "ENVIRONMENT_SUFFIX", "TAP_STACKS names 'preview'")


@pytest.mark.parametrize("name", ["staging", "prod"])
def test_staging_and_prod_without_an_alarm_subscriber_stop_naming_the_environment_and_the_variables(
        name: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_environment(name, {**ACCOUNT, "TAP_ALARM_EMAIL": " "})
    assert error.value.problems == (
        f"{name}: no alarm subscriber, and {name}'s alarms must reach someone: set TAP_ALARM_EMAIL (an e-mail "
        "address) or TAP_ALARM_HTTPS_ENDPOINT (an HTTPS endpoint, e.g. AWS Chatbot's), or alarm_email or "
        f"alarm_https_endpoint in [environments.{name}.monitoring] of {FIXTURE.label} (or turn require_subscriber "
        "off there)",
    )


@pytest.mark.parametrize(("variables", "email", "endpoint"), [
    ({"TAP_ALARM_EMAIL": "oncall@example.com"}, "oncall@example.com", None),
    ({"TAP_ALARM_HTTPS_ENDPOINT": "https://global.sns-api.chatbot.amazonaws.com"}, None,
     "https://global.sns-api.chatbot.amazonaws.com"),
])
def test_either_subscriber_is_enough_for_prod(variables: dict[str, str], email: str | None,
                                              endpoint: str | None) -> None:
    monitoring = load_environment("prod", {**ACCOUNT, **variables}).monitoring
    assert (monitoring.alarm_email, monitoring.alarm_https_endpoint) == (email, endpoint)


@pytest.mark.parametrize("name", ["local", "dev"])
def test_local_and_dev_need_no_subscriber_and_ignore_the_variables(name: str) -> None:
    settings = load_environment(name, {**ACCOUNT, **SUBSCRIBER})
    assert (settings.monitoring.alarm_email, settings.monitoring.alarm_https_endpoint) == (None, None)


def test_customer_managed_encryption_is_on_in_prod_only() -> None:
    on = {name: load_environment(name, {**ACCOUNT, **SUBSCRIBER}).customer_managed_encryption
          for name in ("local", "dev", "staging", "prod")}
    assert on == {"local": False, "dev": False, "staging": False, "prod": True}


@pytest.mark.parametrize("days", [6, 31])
def test_kms_deletion_window_outside_7_to_30_days_is_rejected(days: int) -> None:
    dev = load_environment("dev", ACCOUNT)
    with pytest.raises(SettingsError) as error:
        replace(dev, kms_deletion_window_days=days)
    assert error.value.problems == (f"kms_deletion_window_days={days} is invalid: allowed 7..30",)


@pytest.mark.parametrize("days", [7, 30])
def test_kms_deletion_window_of_7_and_30_days_is_accepted(days: int) -> None:
    assert replace(load_environment("dev", ACCOUNT), kms_deletion_window_days=days).kms_deletion_window_days == days


def test_no_powertools_layer_version_is_pinned_in_settings() -> None:
    # The version comes from Pipfile.lock at synthesis; settings only switch the layer on or off.
    prod = load_environment("prod", {**ACCOUNT, **SUBSCRIBER})
    assert prod.powertools_layer is True
    assert load_environment("local", {}).powertools_layer is False


def test_an_environment_built_without_functions_gets_every_stage_with_the_librarys_settings() -> None:
    environment = EnvironmentSettings(name="qa", suffix="qa", region="eu-west-1", account_id="111122223333",
                                      tags=dict.fromkeys(("Project", "Environment", "CostCenter", "Owner",
                                                          "ManagedBy"), "x"),
                                      monitoring=MonitoringSettings(require_subscriber=False))
    assert {stage: (f.name, f.memory_mb, f.timeout_s) for stage, f in environment.functions.items()} == {
        "validator": ("validator", 128, 30), "enricher": ("enricher", 128, 30), "processor": ("processor", 256, 60)}
