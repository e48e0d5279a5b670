"""One test per settings validation rule, each naming the rule; both sides of every range; a registry that
fails when a rule is added to ``modules/settings.py`` or ``modules/environments_file.py`` without a test; the
tests' own environments file (tests/fixtures/environments.toml) against the values written out for it.

Messages are pinned whole: ``<setting>=<value> is invalid: allowed <what>``.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import pytest

from modules import environments_file as environments_file_module
from modules import settings as settings_module
from modules.environments_file import with_account_for_reading
from modules.rules import Rule
from modules.settings import (
    AutoscalingSettings,
    BackendSettings,
    BillingMode,
    EnvironmentSettings,
    FunctionSettings,
    MonitoringSettings,
    SettingsError,
    TableSettings,
)
from tests.support import fixture_values
from tests.support.environments import (
    FIXTURE,
    load_environment,
    preview_environment,
    selected_environments,
    state_backend_settings,
)
from tests.unit import test_environments_file, test_environments_file_ci, test_release_construct, test_settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = {"TAP_AWS_ACCOUNT_ID": "111122223333", "TAP_ALARM_EMAIL": "oncall@example.com"}


def fn(**overrides: object) -> FunctionSettings:
    return FunctionSettings(**{"name": "processor", **overrides})  # type: ignore[arg-type]


def dev(**changes: object) -> EnvironmentSettings:
    return replace(load_environment("dev", ACCOUNT), **changes)


def local(**changes: object) -> EnvironmentSettings:
    return replace(load_environment("local", {}), **changes)


def s3(**fields: object) -> BackendSettings:
    """A valid S3 backend but for ``fields``: the rules below check one field at a time."""
    values = {"kind": "s3", "bucket": "tap-pipeline-tfstate-111122223333-us-east-1", "account_id": "111122223333",
              **fields}
    return BackendSettings(**values)  # type: ignore[arg-type]


def problems_of(build: Callable[[], object]) -> tuple[str, ...]:
    """The problems building raises (empty when it is valid)."""
    try:
        build()
    except SettingsError as error:
        return error.problems
    return ()


def invalid(setting: str, value: object, allowed: str) -> str:
    return f"{setting}={value!r} is invalid: allowed {allowed}"


# ------------------------------------------------------------------------------------------------ ranges
# (rule id, setting, build(value), low, high, step): accepted at low and high, rejected one step outside.
RANGES = [
    ("memory_mb", "functions.processor.memory_mb", lambda v: fn(memory_mb=v), 128, 10240, 1),
    ("timeout_s", "functions.processor.timeout_s", lambda v: fn(timeout_s=v), 1, 900, 1),
    ("batch_size", "functions.processor.batch_size", lambda v: fn(batch_size=v, batching_window_s=5), 1, 10000, 1),
    ("batching_window_s", "functions.processor.batching_window_s", lambda v: fn(batching_window_s=v), 0, 300, 1),
    ("max_concurrency", "functions.processor.max_concurrency",
     lambda v: fn(max_concurrency=v, reserved_concurrency=None), 2, 1000, 1),
    ("max_receive_count", "functions.processor.max_receive_count", lambda v: fn(max_receive_count=v), 1, 1000, 1),
    ("target_utilization", "table.read_autoscaling.target_utilization",
     lambda v: TableSettings(read_autoscaling=AutoscalingSettings(target_utilization=v)), 10, 90, 0.5),
    ("oldest_message_age_threshold_s", "monitoring.oldest_message_age_threshold_s",
     lambda v: MonitoringSettings(oldest_message_age_threshold_s=v), 60, 1209600, 1),
    ("duration_alarm_fraction", "monitoring.duration_alarm_fraction",
     lambda v: MonitoringSettings(duration_alarm_fraction=v), 0.1, 1.0, 0.05),
    ("queue_retention_s", "queue_retention_s", lambda v: dev(queue_retention_s=v, dlq_retention_s=1209600),
     60, 1209600, 1),
    ("dlq_retention_s", "dlq_retention_s", lambda v: dev(dlq_retention_s=v, queue_retention_s=60), 60, 1209600, 1),
]


@pytest.mark.parametrize(("rule", "setting", "build", "low", "high", "step"), RANGES, ids=[r[0] for r in RANGES])
def test_range_rule_accepts_both_ends_and_rejects_one_step_outside(
        rule: str, setting: str, build: Callable[[object], object], low: float, high: float, step: float) -> None:
    for value in (low, high):
        assert invalid(setting, value, f"{low}..{high}") not in problems_of(lambda v=value: build(v)), (rule, value)
    for value in (low - step, high + step):
        assert invalid(setting, value, f"{low}..{high}") in problems_of(lambda v=value: build(v)), (rule, value)


# ------------------------------------------------------------------------------------------------ functions
def test_rule_function_name_is_a_stage() -> None:
    assert problems_of(lambda: fn(name="loader")) == (
        invalid("functions.loader.name", "loader", "one of validator, enricher, processor"),)


def test_rule_batch_size_up_to_10_needs_no_batching_window() -> None:
    assert problems_of(lambda: fn(batch_size=10, batching_window_s=0)) == ()
    assert problems_of(lambda: fn(batch_size=11, batching_window_s=1)) == ()
    assert problems_of(lambda: fn(batch_size=11, batching_window_s=0)) == (invalid(
        "functions.processor.batch_size", 11,
        "at most 10 without a batching window (SQS needs batching_window_s >= 1 for larger batches)"),)


def test_rule_reserved_concurrency_at_least_max_concurrency() -> None:
    assert problems_of(lambda: fn(reserved_concurrency=5, max_concurrency=5)) == ()
    assert problems_of(lambda: fn(reserved_concurrency=None, max_concurrency=50)) == ()
    assert problems_of(lambda: fn(reserved_concurrency=4, max_concurrency=5)) == (invalid(
        "functions.processor.reserved_concurrency", 4,
        ">= max_concurrency (5), or the event source is throttled and messages go to the DLQ; "
        "raise it or lower max_concurrency"),)


def test_rule_provisioned_concurrency_not_negative() -> None:
    assert problems_of(lambda: fn(provisioned_concurrency=0)) == ()
    assert problems_of(lambda: fn(provisioned_concurrency=-1)) == (
        invalid("functions.processor.provisioned_concurrency", -1, ">= 0 (0 turns it off)"),)


def test_rule_provisioned_concurrency_at_most_reserved() -> None:
    assert problems_of(lambda: fn(reserved_concurrency=10, provisioned_concurrency=10)) == ()
    assert problems_of(lambda: fn(reserved_concurrency=None, provisioned_concurrency=500)) == ()
    assert problems_of(lambda: fn(reserved_concurrency=10, provisioned_concurrency=11)) == (
        invalid("functions.processor.provisioned_concurrency", 11, "<= reserved_concurrency (10)"),)


def test_visibility_timeout_is_six_function_timeouts_plus_the_window() -> None:
    assert fn(timeout_s=7, batching_window_s=3).visibility_timeout_s == 45
    assert settings_module.visibility_timeout_s(900, 300) == 5700


# ------------------------------------------------------------------------------------------------ table
def test_rule_autoscaling_minimum_at_least_1() -> None:
    assert problems_of(lambda: TableSettings(write_autoscaling=AutoscalingSettings(min_capacity=1))) == ()
    assert problems_of(lambda: TableSettings(write_autoscaling=AutoscalingSettings(min_capacity=0))) == (
        invalid("table.write_autoscaling.min_capacity", 0, ">= 1"),)


def test_rule_autoscaling_minimum_at_most_maximum() -> None:
    assert problems_of(lambda: TableSettings(read_autoscaling=AutoscalingSettings(5, 5))) == ()
    assert problems_of(lambda: TableSettings(read_autoscaling=AutoscalingSettings(6, 5))) == (
        invalid("table.read_autoscaling.min_capacity", 6, "<= max_capacity (5)"),)


def test_rule_billing_mode_is_known_and_becomes_the_enum() -> None:
    assert TableSettings(billing_mode="PROVISIONED").billing_mode is BillingMode.PROVISIONED
    assert problems_of(lambda: TableSettings(billing_mode="ON_DEMAND")) == (
        invalid("table.billing_mode", "ON_DEMAND", "PAY_PER_REQUEST, PROVISIONED"),)


# ------------------------------------------------------------------------------------------------ monitoring
def test_rule_alarm_email_is_an_address() -> None:
    assert problems_of(lambda: MonitoringSettings(alarm_email="ops@example.com")) == ()
    assert problems_of(lambda: MonitoringSettings(alarm_email="ops.example.com")) == (
        invalid("monitoring.alarm_email", "ops.example.com", "an e-mail address such as oncall@example.com"),)


@pytest.mark.parametrize(("period", "valid"), [(10, True), (30, True), (60, True), (120, True), (0, False),
                                               (20, False), (59, False), (90, False), (-60, False)])
def test_rule_alarm_period_is_10_30_or_a_multiple_of_60(period: int, valid: bool) -> None:
    expected = () if valid else (invalid("monitoring.alarm_period_s", period, "10, 30 or a multiple of 60"),)
    assert problems_of(lambda: MonitoringSettings(alarm_period_s=period)) == expected


@pytest.mark.parametrize(("ceiling", "valid"), [(None, True), (0.01, True), (60.0, True), (0.0, False),
                                                (-1.0, False), (float("inf"), False), (float("nan"), False)])
def test_rule_cost_ceiling_is_a_positive_number_of_usd_or_none(ceiling: float | None, valid: bool) -> None:
    from modules.settings import ReviewSettings

    expected = () if valid else (invalid("review.monthly_cost_ceiling_usd", ceiling,
                                         "a number of USD > 0, or false (no ceiling)"),)
    assert problems_of(lambda: ReviewSettings(monthly_cost_ceiling_usd=ceiling)) == expected


# ------------------------------------------------------------------------------------------------ backend
def test_rule_backend_kind_is_s3_or_local() -> None:
    assert problems_of(lambda: BackendSettings(kind="local")) == ()
    assert problems_of(lambda: BackendSettings(kind="gcs")) == (invalid("backend.kind", "gcs", "'s3' or 'local'"),)


@pytest.mark.parametrize(("bucket", "valid"), [("abc", True), ("a" * 63, True), ("ab", False), ("a" * 64, False),
                                               ("Abc", False), ("abc-", False)])
def test_rule_backend_bucket_is_an_s3_bucket_name(bucket: str, valid: bool) -> None:
    expected = () if valid else (
        invalid("backend.bucket", bucket, "an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)"),)
    assert problems_of(lambda: s3(bucket=bucket)) == expected


@pytest.mark.parametrize(("table", "valid"), [("abc", True), ("A_b.c-" + "x" * 249, True), ("ab", False),
                                              ("x" * 256, False), ("a b c", False)])
def test_rule_backend_lock_table_is_a_dynamodb_table_name(table: str, valid: bool) -> None:
    expected = () if valid else (
        invalid("backend.lock_table", table, "a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)"),)
    assert problems_of(lambda: s3(lock_table=table)) == expected


@pytest.mark.parametrize(("region", "valid"), [("eu-west-1", True), ("us-gov-west-1", True), ("moon", False),
                                               ("us-east", False), ("US-EAST-1", False)])
def test_rule_backend_region_is_an_aws_region(region: str, valid: bool) -> None:
    expected = () if valid else (invalid("backend.region", region, "an AWS region such as us-east-1"),)
    assert problems_of(lambda: s3(region=region)) == expected


# ------------------------------------------------------------------------------------------------ environment
@pytest.mark.parametrize(("suffix", "valid"), [("a", True), ("pr-7", True), ("a" * 20, True), ("", False),
                                               ("-pr", False), ("a" * 21, False), ("Pr7", False)])
def test_rule_suffix_is_a_resource_name_part(suffix: str, valid: bool) -> None:
    allowed = "1-20 of lowercase letters, digits and hyphens, starting with a letter or digit"
    expected = () if valid else (invalid("suffix", suffix, allowed),)
    assert problems_of(lambda: dev(suffix=suffix)) == expected


@pytest.mark.parametrize(("region", "valid"), [("eu-central-1", True), ("us-east", False), ("useast1", False)])
def test_rule_region_is_an_aws_region(region: str, valid: bool) -> None:
    expected = () if valid else (invalid("region", region, "an AWS region such as us-east-1"),)
    assert problems_of(lambda: dev(region=region)) == expected


@pytest.mark.parametrize(("architecture", "valid"), [("arm64", True), ("x86_64", True), ("arm", False)])
def test_rule_architecture_is_arm64_or_x86_64(architecture: str, valid: bool) -> None:
    expected = () if valid else (invalid("architecture", architecture, "arm64 or x86_64"),)
    assert problems_of(lambda: dev(architecture=architecture)) == expected


@pytest.mark.parametrize(("runtime", "valid"), [("python3.12", True), ("python3.13", True), ("python3.11", False)])
def test_rule_python_runtime_is_3_12_or_3_13(runtime: str, valid: bool) -> None:
    expected = () if valid else (invalid("python_runtime", runtime, "python3.12 or python3.13"),)
    assert problems_of(lambda: dev(python_runtime=runtime)) == expected


@pytest.mark.parametrize(("level", "valid"), [("DEBUG", True), ("ERROR", True), ("TRACE", False), ("info", False)])
def test_rule_log_level_is_a_logging_level(level: str, valid: bool) -> None:
    expected = () if valid else (invalid("log_level", level, "DEBUG, INFO, WARNING or ERROR"),)
    assert problems_of(lambda: dev(log_level=level)) == expected


@pytest.mark.parametrize(("days", "valid"), [(1, True), (3653, True), (0, False), (2, False), (3654, False)])
def test_rule_log_retention_is_a_cloudwatch_value(days: int, valid: bool) -> None:
    allowed = ("one of CloudWatch's values (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, "
               "1827, 2192, 2557, 2922, 3288, 3653)")
    expected = () if valid else (invalid("log_retention_days", days, allowed),)
    assert problems_of(lambda: dev(log_retention_days=days)) == expected


def test_rule_dlq_keeps_messages_longer_than_its_queue() -> None:
    assert problems_of(lambda: dev(queue_retention_s=3600, dlq_retention_s=3601)) == ()
    assert problems_of(lambda: dev(queue_retention_s=3600, dlq_retention_s=3600)) == (invalid(
        "dlq_retention_s", 3600,
        "> queue_retention_s (3600), or a redriven message expires in the DLQ before anyone sees it"),)


def test_rule_functions_are_exactly_the_stages() -> None:
    functions = dict(load_environment("dev", ACCOUNT).functions)
    del functions["enricher"]
    assert problems_of(lambda: dev(functions=functions)) == (
        invalid("functions", ["processor", "validator"], "exactly the stages validator, enricher, processor"),)


def test_rule_each_function_is_filed_under_its_own_stage() -> None:
    functions = {**load_environment("dev", ACCOUNT).functions, "processor": fn(name="enricher")}
    assert problems_of(lambda: dev(functions=functions)) == (
        invalid("functions.processor.name", "enricher", "processor"),)


def test_rule_visibility_timeout_fits_sqs_limit_with_the_largest_valid_function() -> None:
    # 6 x 900 s + 300 s = 5700 s: the function ranges keep it under SQS's 43200 s, so this rule cannot fail
    # on settings that passed FunctionSettings' own rules (kept as a guard should those ranges grow).
    largest = fn(timeout_s=900, batching_window_s=300)
    functions = {**load_environment("dev", ACCOUNT).functions, "processor": largest}
    assert largest.visibility_timeout_s == 5700
    assert problems_of(lambda: dev(functions=functions)) == ()


def test_rule_emulator_has_no_provisioned_concurrency() -> None:
    functions = {**load_environment("local", {}).functions,
                 "enricher": FunctionSettings(name="enricher", provisioned_concurrency=1)}
    assert problems_of(lambda: local(functions=functions)) == (invalid(
        "functions.enricher.provisioned_concurrency", 1, "0 on the emulator, which does not implement it"),)


def test_rule_emulator_table_is_on_demand() -> None:
    table = TableSettings(billing_mode=BillingMode.PROVISIONED, deletion_protection=False)
    assert problems_of(lambda: local(table=table)) == (invalid(
        "table.billing_mode", "PROVISIONED", "PAY_PER_REQUEST on the emulator (no autoscaling there)"),)


def test_rule_emulator_has_no_powertools_layer() -> None:
    assert problems_of(lambda: local(powertools_layer=True)) == (invalid(
        "powertools_layer", True, "False on the emulator, which rejects layers it does not hold"),)


def test_rule_emulator_keeps_state_on_local_disk() -> None:
    assert problems_of(lambda: local(backend=s3())) == (
        invalid("backend.kind", "s3", "'local' on the emulator"),)


def test_emulator_rules_apply_only_on_the_emulator() -> None:
    assert problems_of(lambda: dev(powertools_layer=True, backend=dev().backend)) == ()


def test_rule_preview_suffix_is_not_an_environment_name() -> None:
    allowed = "a name other than local, dev, staging, prod, which are environments already"
    assert problems_of(lambda: preview_environment("staging", ACCOUNT)) == (
        invalid("ENVIRONMENT_SUFFIX", "staging", allowed),)


def test_rule_tap_stacks_names_environments_preview_or_ci() -> None:
    assert problems_of(lambda: selected_environments({"TAP_STACKS": " dev , ,local,ci", **ACCOUNT})) == ()
    assert problems_of(lambda: selected_environments({"TAP_STACKS": "dev,qa", **ACCOUNT})) == (
        invalid("TAP_STACKS", "qa", f"a comma list of local, dev, staging, prod (the environments of {FIXTURE.label}), "
                "preview or ci"),)


def test_rule_preview_needs_a_suffix() -> None:
    assert [s.suffix for s in selected_environments({"TAP_STACKS": "preview", "ENVIRONMENT_SUFFIX": "pr1",
                                                     **ACCOUNT})] == ["pr1"]
    assert problems_of(lambda: selected_environments({"TAP_STACKS": "preview", **ACCOUNT})) == (
        invalid("ENVIRONMENT_SUFFIX", "", "a non-empty suffix, since TAP_STACKS names 'preview'"),)


def test_rule_alarm_https_endpoint_is_an_https_url() -> None:
    allowed = "an https:// URL (SNS delivers alarms to HTTPS endpoints only over TLS here)"
    assert problems_of(lambda: MonitoringSettings(alarm_https_endpoint="https://hooks.example.com/x")) == ()
    assert problems_of(lambda: MonitoringSettings(alarm_https_endpoint="http://hooks.example.com/x")) == (
        invalid("monitoring.alarm_https_endpoint", "http://hooks.example.com/x", allowed),)


def test_rule_state_key_alias_is_an_alias_name_without_its_prefix() -> None:
    good = s3(kms_key_alias="tap-pipeline-tfstate")
    assert good.kms_key_alias == "tap-pipeline-tfstate"
    assert problems_of(lambda: s3(kms_key_alias="Tap/State_2")) == (), "KMS alias names may hold capitals"
    assert problems_of(lambda: s3(kms_key_alias="alias:tap state")) == (
        invalid("backend.kms_key_alias", "alias:tap state", "a KMS alias name without the alias/ prefix"),)


def test_rule_the_state_is_held_by_a_12_digit_account() -> None:
    assert problems_of(lambda: s3(account_id="111122223333")) == ()
    assert problems_of(lambda: s3(account_id="11112222333")) == (invalid(
        "backend.account_id", "11112222333", "the 12-digit id of the AWS account that holds the state"),)
    assert problems_of(lambda: BackendSettings(kind="local")) == (), "local disk needs no account"


def test_the_bootstrap_stack_needs_the_account_that_holds_the_state() -> None:
    assert problems_of(lambda: state_backend_settings({})) == (
        "the Terraform state: no AWS account: set TAP_AWS_ACCOUNT_ID to the 12-digit id of the AWS account that "
        f"holds the state (or account_id in [state] of {FIXTURE.label})",)
    assert problems_of(lambda: state_backend_settings(ACCOUNT)) == ()


PROJECT_ALLOWED = "2-10 lowercase letters or digits, starting with a letter (it prefixes every resource name)"


@pytest.mark.parametrize(("project", "valid"), [("ab", True), ("abcdefghij", True), ("t", False),
                                                ("abcdefghijk", False), ("Tap", False), ("1tap", False)])
def test_rule_project_prefix_is_2_to_10_lowercase_letters_or_digits(project: str, valid: bool) -> None:
    expected = () if valid else (invalid("project", project, PROJECT_ALLOWED),)
    assert problems_of(lambda: dev(project=project)) == expected


def clash(suffix: str, names: str, other: str) -> str:
    return invalid("ENVIRONMENT_SUFFIX", suffix,
                   f"a suffix whose resource names no environment uses, but it would name {names}, which the "
                   f"{other} environment uses already; pick a suffix without '{other}' as one of its "
                   "hyphen-separated words")


@pytest.mark.parametrize(("suffix", "names", "other"), [
    # The preview's three queues would be prod's three DLQs: every shared name is shown.
    ("prod-dlq", "tap-enrich-prod-dlq, tap-ingest-prod-dlq, tap-process-prod-dlq", "prod"),
    ("alarms-dev", "tap-pipeline-alarms-dev", "dev"),  # the preview's dashboard = dev's alarm topic
])
def test_rule_preview_suffix_names_no_other_environments_resource(suffix: str, names: str, other: str) -> None:
    assert problems_of(lambda: preview_environment(suffix, ACCOUNT)) == (clash(suffix, names, other),)


def test_preview_clash_names_carry_the_project_prefix() -> None:
    assert problems_of(lambda: preview_environment("alarms-prod", {**ACCOUNT, "TAP_PROJECT": "acme"})) == (
        clash("alarms-prod", "acme-pipeline-alarms-prod", "prod"),)


def test_a_preview_suffix_that_is_no_resource_name_part_gets_that_problem_only() -> None:
    # 21 characters: one too many, though its names would also be staging's DLQ alarms.
    suffix = "staging-dlq-not-empty"
    allowed = "1-20 of lowercase letters, digits and hyphens, starting with a letter or digit"
    assert problems_of(lambda: preview_environment(suffix, ACCOUNT)) == (
        invalid("ENVIRONMENT_SUFFIX", suffix, allowed),)


BOOTSTRAP_ALLOWED = ("'s3' (the default: the bootstrap stack's state is in its bucket) or 'local' (only for the "
                     "first `make bootstrap`, before the bucket exists)")


@pytest.mark.parametrize(("value", "own_state"), [(None, "s3"), ("s3", "s3"), (" local ", "local")])
def test_rule_bootstrap_state_is_s3_by_default_or_local(value: str | None, own_state: str) -> None:
    env = ACCOUNT if value is None else {**ACCOUNT, "TAP_BOOTSTRAP_STATE": value}
    assert state_backend_settings(env).own_state == own_state


def test_rule_bootstrap_state_rejects_any_other_value() -> None:
    env = {**ACCOUNT, "TAP_BOOTSTRAP_STATE": "bucket"}
    assert problems_of(lambda: state_backend_settings(env)) == (
        invalid("TAP_BOOTSTRAP_STATE", "bucket", BOOTSTRAP_ALLOWED),)


# ------------------------------------------------------------------------------------------------ registry
RANGE_TEST = test_range_rule_accepts_both_ends_and_rejects_one_step_outside
# Every _require / _require_range call of modules/settings.py, named "<function>: <setting as written>" (with
# "#2" for the second call naming the same setting in one function), every rule of its rule tables, named
# "<table>: <setting>" (modules/rules.py; their Terraform side: tests/module/test_module_validation.py), and
# the test that covers it.
TESTED_RULES = {
    "FunctionSettings._validate: f'{prefix}.name'": test_rule_function_name_is_a_stage,
    "FUNCTION_RULES: memory_mb": RANGE_TEST,
    "FUNCTION_RULES: timeout_s": RANGE_TEST,
    "FUNCTION_RULES: batch_size": RANGE_TEST,
    "FUNCTION_RULES: batching_window_s": RANGE_TEST,
    "FUNCTION_RULES: batch_size #2": test_rule_batch_size_up_to_10_needs_no_batching_window,
    "FUNCTION_RULES: max_concurrency": RANGE_TEST,
    "FUNCTION_RULES: max_receive_count": RANGE_TEST,
    "FUNCTION_RULES: reserved_concurrency": test_rule_reserved_concurrency_at_least_max_concurrency,
    "FUNCTION_RULES: provisioned_concurrency": test_rule_provisioned_concurrency_not_negative,
    "FUNCTION_RULES: provisioned_concurrency #2": test_rule_provisioned_concurrency_at_most_reserved,
    "AUTOSCALING_RULES: min_capacity": test_rule_autoscaling_minimum_at_least_1,
    "AUTOSCALING_RULES: min_capacity #2": test_rule_autoscaling_minimum_at_most_maximum,
    "AUTOSCALING_RULES: target_utilization": RANGE_TEST,
    "TABLE_RULES: billing_mode": test_rule_billing_mode_is_known_and_becomes_the_enum,
    "MONITORING_RULES: alarm_email": test_rule_alarm_email_is_an_address,
    "MonitoringSettings._validate: 'monitoring.oldest_message_age_threshold_s'":
        test_range_rule_accepts_both_ends_and_rejects_one_step_outside,
    "MonitoringSettings._validate: 'monitoring.alarm_period_s'": test_rule_alarm_period_is_10_30_or_a_multiple_of_60,
    "MonitoringSettings._validate: 'monitoring.duration_alarm_fraction'":
        test_range_rule_accepts_both_ends_and_rejects_one_step_outside,
    "BackendSettings._validate: 'backend.kind'": test_rule_backend_kind_is_s3_or_local,
    "BackendSettings._validate: 'backend.bucket'": test_rule_backend_bucket_is_an_s3_bucket_name,
    "BackendSettings._validate: 'backend.lock_table'": test_rule_backend_lock_table_is_a_dynamodb_table_name,
    "BackendSettings._validate: 'backend.region'": test_rule_backend_region_is_an_aws_region,
    "BackendSettings._validate: 'backend.account_id'": test_rule_the_state_is_held_by_a_12_digit_account,
    "ENVIRONMENT_RULES: suffix": test_rule_suffix_is_a_resource_name_part,
    "ENVIRONMENT_RULES: region": test_rule_region_is_an_aws_region,
    "ENVIRONMENT_RULES: account_id":
        test_settings.test_an_s3_backed_environment_without_an_account_id_stops_naming_the_keys_and_the_variable_to_set,
    "ENVIRONMENT_RULES: log_retention_days": test_rule_log_retention_is_a_cloudwatch_value,
    "EnvironmentSettings._validate: 'architecture'": test_rule_architecture_is_arm64_or_x86_64,
    "EnvironmentSettings._validate: 'python_runtime'": test_rule_python_runtime_is_3_12_or_3_13,
    "EnvironmentSettings._validate: 'log_level'": test_rule_log_level_is_a_logging_level,
    "EnvironmentSettings._validate: 'queue_retention_s'": RANGE_TEST,
    "EnvironmentSettings._validate: 'dlq_retention_s'": RANGE_TEST,
    "EnvironmentSettings._validate: 'dlq_retention_s' #2": test_rule_dlq_keeps_messages_longer_than_its_queue,
    **{f"TAG_RULES: tags.{tag}": test_settings.test_empty_required_tag_is_rejected
       for tag in settings_module.REQUIRED_TAGS},
    "EnvironmentSettings._validate: 'functions'": test_rule_functions_are_exactly_the_stages,
    "EnvironmentSettings._validate: f'functions.{stage}.name'": test_rule_each_function_is_filed_under_its_own_stage,
    "EnvironmentSettings._validate: f'functions.{stage}.timeout_s'":
        test_rule_visibility_timeout_fits_sqs_limit_with_the_largest_valid_function,
    "EnvironmentSettings._validate: f'functions.{stage}.provisioned_concurrency'":
        test_rule_emulator_has_no_provisioned_concurrency,
    "EnvironmentSettings._validate: 'table.billing_mode'": test_rule_emulator_table_is_on_demand,
    "EnvironmentSettings._validate: 'powertools_layer'": test_rule_emulator_has_no_powertools_layer,
    "EnvironmentSettings._validate: 'backend.kind'": test_rule_emulator_keeps_state_on_local_disk,
    "MONITORING_RULES: alarm_https_endpoint": test_rule_alarm_https_endpoint_is_an_https_url,
    "BackendSettings._validate: 'backend.kms_key_alias'": test_rule_state_key_alias_is_an_alias_name_without_its_prefix,
    "ENVIRONMENT_RULES: project": test_rule_project_prefix_is_2_to_10_lowercase_letters_or_digits,
    "EnvironmentSettings._validate: 'kms_deletion_window_days'":
        test_settings.test_kms_deletion_window_outside_7_to_30_days_is_rejected,
    "SUBSCRIBER_RULES: monitoring.alarm_email":
        test_settings.test_staging_and_prod_without_an_alarm_subscriber_stop_naming_the_environment_and_the_variables,
    "StateBootstrapSettings.__post_init__: 'own_state'": test_rule_bootstrap_state_rejects_any_other_value,
    "ReviewSettings.__post_init__: 'review.monthly_cost_ceiling_usd'":
        test_rule_cost_ceiling_is_a_positive_number_of_usd_or_none,
    "ReleaseSettings.__post_init__: 'release.deployment_config'":
        test_release_construct.test_a_deployment_config_that_is_not_for_lambda_is_refused,
    "ReleaseSettings.__post_init__: 'release.traffic_percent'": test_release_construct.test_custom_shift_bounds,
    "ReleaseSettings.__post_init__: 'release.interval_minutes'": test_release_construct.test_custom_shift_bounds,
    # modules/environments_file.py
    "EnvironmentsFile.preview: SUFFIX_VARIABLE": test_rule_preview_suffix_is_not_an_environment_name,
    "EnvironmentsFile.preview: SUFFIX_VARIABLE #2": test_rule_preview_suffix_names_no_other_environments_resource,
    "EnvironmentsFile.preview: SUFFIX_VARIABLE #3": test_environments_file_ci.test_ci_is_no_preview_suffix,
    "EnvironmentsFile.ci: f'{self.label}: environments.<name>.tags.Project'":
        test_environments_file_ci.test_environments_with_different_project_tags_are_refused,
    "EnvironmentsFile.ci: f'{self.label}: {region.key}'":
        test_environments_file_ci.test_a_bad_region_is_named_by_the_environment_that_sets_it_once,
    "EnvironmentsFile.ci: where":
        test_environments_file_ci.test_an_environment_in_another_account_cannot_be_deployed_by_the_ci_roles,
    "EnvironmentsFile.selected: STACKS_VARIABLE": test_rule_tap_stacks_names_environments_preview_or_ci,
    "EnvironmentsFile.selected: SUFFIX_VARIABLE": test_rule_preview_needs_a_suffix,
    "_check_structure: f'{label}: environments'": test_environments_file.test_a_file_without_environments_is_refused,
    "_check_structure: f'{label}: environments' #2":
        test_environments_file.test_an_environment_name_must_be_a_resource_name_part,
    "_check_structure: f'{label}: environments' #3":
        test_environments_file_ci.test_the_names_of_stacks_of_their_own_are_no_environment_names,
    "_check_structure: f'{label}: environments' #4":
        test_environments_file.test_two_environments_whose_resource_names_clash_are_refused,
    "_check_structure: f'{label}: environments.{name}'": test_environments_file.test_an_environment_must_be_a_table,
    "_check_structure: f'{label}: preview_from'":
        test_environments_file.test_previews_must_come_from_a_declared_environment,
    "_check_table: f'{label}: {key}'":
        test_environments_file.test_a_value_of_the_wrong_type_is_named_with_the_type_the_key_takes,
    "_check_table: f'{label}: {key}' #2":
        test_environments_file.test_an_unknown_key_is_named_with_its_table_and_the_closest_known_key,
    "_check_table: f'{label}: {key}' #3":
        test_environments_file.test_a_value_of_the_wrong_type_is_named_with_the_type_the_key_takes,
    "_check_table: f'{label}: {key}' #4":
        test_environments_file.test_a_value_of_the_wrong_type_is_named_with_the_type_the_key_takes,
}
RULE_MODULES = (settings_module, environments_file_module)


def rules_in_source(module: ModuleType) -> list[str]:
    """Every validation call of ``module`` as "<function>: <setting as written>[ #n]"."""
    tree = ast.parse(inspect.getsource(module))
    found: list[str] = []

    def visit(node: ast.AST, scope: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef | ast.FunctionDef):
                visit(child, f"{scope}.{child.name}" if scope else child.name)
                continue
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Name) and child.func.id in (
                    "_require", "_require_range") and scope.rsplit(".", 1)[-1] not in ("_require_range",
                                                                                      "_check_rules"):
                setting = child.args[1] if child.func.id == "_require" else child.args[0]
                name = f"{scope}: {ast.unparse(setting)}"
                count = sum(1 for f in found if f == name or f.startswith(f"{name} #"))
                found.append(name if count == 0 else f"{name} #{count + 1}")
            visit(child, scope)

    visit(tree, "")
    return found + table_rules(module)


def table_rules(module: ModuleType) -> list[str]:
    """Every rule of ``module``'s rule tables as "<table>: <setting>[ #n]"."""
    found: list[str] = []
    for table, rules in vars(module).items():
        if not (isinstance(rules, tuple) and rules and all(isinstance(rule, Rule) for rule in rules)):
            continue
        for rule in rules:
            name = f"{table}: {rule.label or rule.field}"
            count = sum(1 for f in found if f == name or f.startswith(f"{name} #"))
            found.append(name if count == 0 else f"{name} #{count + 1}")
    return found


def test_every_validation_rule_has_its_own_test() -> None:
    rules = [rule for module in RULE_MODULES for rule in rules_in_source(module)]
    assert len(rules) == len(set(rules))
    untested = sorted(set(rules) - set(TESTED_RULES))
    stale = sorted(set(TESTED_RULES) - set(rules))
    assert not untested, f"rules without a test (add one and list it in TESTED_RULES): {untested}"
    assert not stale, f"TESTED_RULES lists rules the settings modules no longer have: {stale}"


@pytest.mark.parametrize("module", RULE_MODULES, ids=lambda m: m.__name__)
def test_the_rule_registry_sees_every_call(module: ModuleType) -> None:
    # The AST walk must find as many calls as a plain text search, so a rule cannot hide from it.
    source = inspect.getsource(module)
    calls = len(re.findall(r"\b_require(?:_range)?\(", source))
    calls -= len(re.findall(r"^def _require(?:_range)?\(", source, flags=re.MULTILINE))  # the definitions
    calls -= source.count("_require(low <= value <= high")  # _require_range's own call
    calls -= source.count("_require(verdict.holds")  # _check_rules' own call
    assert len(rules_in_source(module)) - len(table_rules(module)) == calls


# ------------------------------------------------------------------------------------------------ the fixture's values
@pytest.mark.parametrize("name", fixture_values.ENVIRONMENTS)
def test_the_fixture_environment_loads_to_the_values_written_out(name: str) -> None:
    env = load_environment(name, ACCOUNT)
    assert env.log_retention_days == fixture_values.LOG_RETENTION_DAYS[name]
    assert {s: (f.reserved_concurrency, f.max_concurrency) for s, f in env.functions.items()} == {
        s: fixture_values.CONCURRENCY[name] for s in fixture_values.STAGES}
    assert {s: f.provisioned_concurrency for s, f in env.functions.items() if f.provisioned_concurrency} == (
        fixture_values.PROVISIONED[name])
    assert {s: f.memory_mb for s, f in env.functions.items()} == fixture_values.MEMORY_MB
    assert {f.max_receive_count for f in env.functions.values()} == {fixture_values.MAX_RECEIVE_COUNT}
    assert env.dlq_retention_s == fixture_values.DLQ_RETENTION_S
    assert env.table.deletion_protection is fixture_values.DELETION_PROTECTION[name]
    assert env.backend.kind == fixture_values.STATE_BACKEND[name]
    assert env.emulator is (name == "local")
    if name in fixture_values.PROVISIONED_TABLE:
        assert env.table.billing_mode is BillingMode.PROVISIONED
        scaling = {"read": env.table.read_autoscaling, "write": env.table.write_autoscaling}
        assert {k: (a.min_capacity, a.max_capacity, a.target_utilization) for k, a in scaling.items()} == (
            fixture_values.PROVISIONED_TABLE[name])
    else:
        assert env.table.billing_mode is BillingMode.PAY_PER_REQUEST


# ------------------------------------------------------------------------------------------------ the rest
def test_a_synth_only_read_gets_the_example_account_unless_one_is_named() -> None:
    assert with_account_for_reading({"X": "1"}) == {
        "TAP_AWS_ACCOUNT_ID": "111122223333", "TAP_ALARM_EMAIL": "alarms@example.com", "X": "1"}
    assert with_account_for_reading({"TAP_AWS_ACCOUNT_ID": "000011112222"}) == {
        "TAP_AWS_ACCOUNT_ID": "000011112222", "TAP_ALARM_EMAIL": "alarms@example.com"}
    assert with_account_for_reading({"TAP_ALARM_HTTPS_ENDPOINT": "https://h.example.com"}) == {
        "TAP_AWS_ACCOUNT_ID": "111122223333", "TAP_ALARM_HTTPS_ENDPOINT": "https://h.example.com"}


def test_stack_and_resource_names_carry_the_suffix() -> None:
    preview = preview_environment("pr7", ACCOUNT)
    assert (preview.stack_name, preview.resource_name("ingest")) == ("tap-pipeline-pr7", "tap-ingest-pr7")


def test_state_backend_is_the_shared_one_with_shared_tags() -> None:
    state = state_backend_settings({"TAP_STATE_LOCK_TABLE": "locks", **ACCOUNT})
    assert state.backend == s3(lock_table="locks", kms_key_alias="tap-pipeline-tfstate")
    assert state.tags == {"Project": "tap-pipeline", "Environment": "shared", "CostCenter": "data-platform",
                          "Owner": "platform-team", "ManagedBy": "cdktf"}


def test_state_backend_defaults_and_every_variable() -> None:
    assert load_environment("prod", ACCOUNT).backend == s3(
        bucket="tap-pipeline-tfstate-111122223333-us-east-1", lock_table="tap-pipeline-terraform-locks")
    env = {"TAP_STATE_BUCKET": "b-1", "TAP_STATE_LOCK_TABLE": "t_1", "TAP_STATE_REGION": "eu-north-1", **ACCOUNT}
    assert load_environment("dev", env).backend == s3(bucket="b-1", lock_table="t_1", region="eu-north-1")
    assert load_environment("local", env).backend == BackendSettings(kind="local"), "local disk ignores them"


def test_fixture_environments_carry_their_names_tags_and_region() -> None:
    for name in fixture_values.ENVIRONMENTS:
        env = load_environment(name, ACCOUNT)
        assert (env.name, env.suffix, env.region) == (name, name, "us-east-1")
        assert dict(env.tags) == {"Project": "tap-pipeline", "Environment": name, "CostCenter": "data-platform",
                                  "Owner": "platform-team", "ManagedBy": "cdktf"}
        assert env.powertools_layer is (name != "local")
        assert env.log_level == ("WARNING" if name == "local" else "INFO")
        assert {s: f.timeout_s for s, f in env.functions.items()} == {"validator": 30, "enricher": 30,
                                                                      "processor": 60}


def test_environment_variable_defaults_to_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAP_AWS_ACCOUNT_ID", "000011112222")
    monkeypatch.setenv("TAP_STACKS", "staging")
    monkeypatch.delenv("ENVIRONMENT_SUFFIX", raising=False)
    assert load_environment("dev").account_id == "000011112222"
    assert [s.suffix for s in selected_environments()] == ["staging"]


def test_every_problem_is_listed_once_in_order() -> None:
    error = SettingsError("b", "a", "b")
    assert (error.problems, str(error)) == (("b", "a"), "b\na")


def test_without_tap_stacks_every_environment_is_selected_and_the_preview_reads_the_same_variables() -> None:
    env = {"TAP_AWS_ACCOUNT_ID": "000011112222", "TAP_STATE_BUCKET": "other-state", "TAP_ALARM_EMAIL": "o@example.com"}
    assert [s.suffix for s in selected_environments(env)] == ["local", "dev", "staging", "prod"]
    *_, preview = selected_environments({**env, "ENVIRONMENT_SUFFIX": " pr9 "})
    assert (preview.suffix, preview.account_id, preview.backend.bucket) == ("pr9", "000011112222", "other-state")
    direct = preview_environment("pr9", env)
    assert (direct.account_id, direct.backend.bucket) == ("000011112222", "other-state")


@pytest.mark.parametrize(("tags", "value"), [({"Owner": " "}, " "), ({}, "")])
def test_rule_each_cost_tag_is_set_and_not_blank(tags: dict[str, str], value: str) -> None:
    fixture_tags = {k: v for k, v in load_environment("dev", ACCOUNT).tags.items() if k != "Owner"}
    assert problems_of(lambda: dev(tags={**fixture_tags, **tags})) == (
        invalid("tags.Owner", value, "a non-empty string"),)


def test_a_rule_checked_outside_a_validation_block_raises_at_once() -> None:
    with pytest.raises(SettingsError) as error:
        settings_module._require(False, "x", 1, "2..3")
    assert error.value.problems == ("x=1 is invalid: allowed 2..3",)
    settings_module._require(True, "x", 1, "2..3")  # a condition that holds adds nothing, raises nothing


@pytest.mark.parametrize("name", fixture_values.ENVIRONMENTS)
def test_staging_and_prod_prevent_destroying_their_data(name: str) -> None:
    assert load_environment(name, ACCOUNT).prevent_destroy is (name in ("staging", "prod"))


@pytest.mark.parametrize("name", fixture_values.ENVIRONMENTS)
def test_prod_batches_every_stage_for_10_s_and_the_others_do_not_wait(name: str) -> None:
    windows = {s: f.batching_window_s for s, f in load_environment(name, ACCOUNT).functions.items()}
    assert windows == dict.fromkeys(fixture_values.STAGES, 10 if name == "prod" else 0)


def test_state_names_follow_the_project_prefix() -> None:
    assert load_environment("dev", {**ACCOUNT, "TAP_PROJECT": "acme"}).backend == s3(
        bucket="acme-pipeline-tfstate-111122223333-us-east-1", lock_table="acme-pipeline-terraform-locks",
        kms_key_alias="acme-pipeline-tfstate")


def test_an_empty_alarm_address_is_reported_as_given_by_both_rules() -> None:
    def build() -> None:
        with settings_module.collected_problems():  # as load_environment does: every problem at once
            replace(load_environment("staging", ACCOUNT), monitoring=MonitoringSettings(alarm_email=""))

    assert problems_of(build) == (
        invalid("monitoring.alarm_email", "", "an e-mail address such as oncall@example.com"),
        invalid("monitoring.alarm_email", "", "an alarm subscriber for staging, whose alarms must reach someone: "
                "alarm_email (an e-mail address) or alarm_https_endpoint (an HTTPS endpoint, e.g. AWS Chatbot's), "
                "or turn require_subscriber off"),
    )


def test_state_backend_settings_default_to_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAP_AWS_ACCOUNT_ID", "000011112222")
    monkeypatch.setenv("TAP_BOOTSTRAP_STATE", "local")
    state = state_backend_settings()
    assert (state.backend.account_id, state.own_state) == ("000011112222", "local")
