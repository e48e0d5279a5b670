"""The environments file: its structure and types checked up front, its layers merged in order, every problem
named by the file and the key (or the environment variable) it came from. Each test writes its own small file."""

from __future__ import annotations

from pathlib import Path

import pytest

from modules.environments_file import EnvironmentsFile
from modules.settings import BillingMode, SettingsError

BASE = """
[defaults]
region = "eu-west-1"
backend.kind = "s3"
monitoring.require_subscriber = false

[defaults.tags]
Project = "orders"
CostCenter = "cc-7"
Owner = "team-orders"
ManagedBy = "cdktf"
"""
ACCOUNT = {"TAP_AWS_ACCOUNT_ID": "111122223333"}


def written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "environments.toml"
    path.write_text(text)
    return path


def read(tmp_path: Path, text: str) -> EnvironmentsFile:
    return EnvironmentsFile.read(written(tmp_path, text))


def problems(tmp_path: Path, text: str) -> tuple[str, ...]:
    with pytest.raises(SettingsError) as error:
        EnvironmentsFile.read(written(tmp_path, text))
    return error.value.problems


def label(tmp_path: Path) -> str:
    return str(tmp_path / "environments.toml")


# ------------------------------------------------------------------------------------------------ structure
def test_an_unknown_key_is_named_with_its_table_and_the_closest_known_key(tmp_path: Path) -> None:
    [problem] = problems(tmp_path, BASE + "[environments.qa]\nlog_retension_days = 30\n")
    assert problem.startswith(f"{label(tmp_path)}: environments.qa.log_retension_days=30 is invalid: allowed one of "
                              "the keys region, tags, functions, ")
    assert problem.endswith("(did you mean log_retention_days?)")


@pytest.mark.parametrize(("line", "key", "value", "kind"), [
    ('log_retention_days = "30"', "log_retention_days", "'30'", "an integer"),
    ("prevent_destroy = 1", "prevent_destroy", "1", "a boolean"),
    ("log_retention_days = true", "log_retention_days", "True", "an integer"),
    ("functions.processor.reserved_concurrency = true", "functions.processor.reserved_concurrency", "True",
     "an integer or false"),
    ("table.read_autoscaling.target_utilization = \"70\"", "table.read_autoscaling.target_utilization", "'70'",
     "a number"),
    ("tags.Owner = 7", "tags.Owner", "7", "a string"),
    ("table = 3", "table", "3", "a table"),
])
def test_a_value_of_the_wrong_type_is_named_with_the_type_the_key_takes(
        tmp_path: Path, line: str, key: str, value: str, kind: str) -> None:
    assert problems(tmp_path, BASE + f"[environments.qa]\n{line}\n") == (
        f"{label(tmp_path)}: environments.qa.{key}={value} is invalid: allowed {kind}",)


def test_a_stage_that_does_not_exist_is_an_unknown_key(tmp_path: Path) -> None:
    [problem] = problems(tmp_path, BASE + "[environments.qa.functions.loader]\nmemory_mb = 256\n")
    assert problem.startswith(f"{label(tmp_path)}: environments.qa.functions.loader={{'memory_mb': 256}} is "
                              "invalid: allowed one of the keys validator, enricher, processor")


def test_the_backend_location_is_not_an_environment_key(tmp_path: Path) -> None:
    [problem] = problems(tmp_path, BASE + '[environments.qa]\nbackend.bucket = "b"\n')
    assert problem == f"{label(tmp_path)}: environments.qa.backend.bucket='b' is invalid: allowed one of the keys kind"


def test_an_environment_name_must_be_a_resource_name_part(tmp_path: Path) -> None:
    assert problems(tmp_path, BASE + "[environments.Prod_EU]\n") == (
        f"{label(tmp_path)}: environments='Prod_EU' is invalid: allowed environment names of 1-20 of lowercase "
        "letters, digits and hyphens, starting with a letter or digit",)


def test_two_environments_whose_resource_names_clash_are_refused(tmp_path: Path) -> None:
    assert problems(tmp_path, BASE + "[environments.prod]\n[environments.prod-dlq]\n") == (
        f"{label(tmp_path)}: environments='prod-dlq' is invalid: allowed a name whose resource names no other "
        "environment uses, but it would name tap-enrich-prod-dlq, tap-ingest-prod-dlq, tap-process-prod-dlq, which "
        "the prod environment uses already",)


def test_a_file_without_environments_is_refused(tmp_path: Path) -> None:
    assert problems(tmp_path, BASE) == (
        f"{label(tmp_path)}: environments={{}} is invalid: allowed at least one [environments.<name>] table",)


def test_an_environment_must_be_a_table(tmp_path: Path) -> None:
    assert problems(tmp_path, BASE + "[environments]\nqa = 1\n") == (
        f"{label(tmp_path)}: environments.qa=1 is invalid: allowed a table of settings",)


def test_previews_must_come_from_a_declared_environment(tmp_path: Path) -> None:
    assert problems(tmp_path, 'preview_from = "dev"\n' + BASE + "[environments.qa]\n") == (
        f"{label(tmp_path)}: preview_from='dev' is invalid: allowed one of the environments: qa",)


def test_every_structural_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = 'project = 7\n' + BASE + '[state]\nbuckett = "x"\n[environments.qa]\nemulator = "no"\n'
    assert [p.split("=", 1)[0] for p in problems(tmp_path, text)] == [
        f"{label(tmp_path)}: {key}" for key in ("project", "state.buckett", "environments.qa.emulator")]


def test_a_file_that_is_not_toml_says_where(tmp_path: Path) -> None:
    [problem] = problems(tmp_path, "[environments.qa\n")
    assert problem.startswith(f"{label(tmp_path)}: not valid TOML: ") and "line 1" in problem


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as error:
        EnvironmentsFile.read(tmp_path / "nowhere.toml")
    assert error.value.problems == (
        f"{tmp_path / 'nowhere.toml'}: cannot read the environments file: No such file or directory",)


# ------------------------------------------------------------------------------------------------ layers
def test_library_defaults_then_defaults_then_the_environment(tmp_path: Path) -> None:
    environments = read(tmp_path, BASE.replace("[defaults]\n", "[defaults]\nlog_retention_days = 60\n") +
                        "[environments.qa]\n[environments.uat]\nlog_retention_days = 90\n")
    qa, uat = environments.environment("qa", ACCOUNT), environments.environment("uat", ACCOUNT)
    assert (qa.log_retention_days, uat.log_retention_days) == (60, 90)
    assert qa.python_runtime == "python3.13" and qa.kms_deletion_window_days == 30, "the library's defaults"


def test_a_stage_keeps_the_librarys_stage_defaults_under_what_the_file_changes(tmp_path: Path) -> None:
    qa = read(tmp_path, BASE + "[environments.qa.functions.processor]\nbatch_size = 5\n").environment("qa", ACCOUNT)
    processor = qa.functions["processor"]
    assert (processor.batch_size, processor.memory_mb, processor.timeout_s) == (5, 256, 60)
    assert qa.functions["validator"].memory_mb == 128


def test_false_turns_an_optional_setting_off(tmp_path: Path) -> None:
    qa = read(tmp_path, BASE + "[environments.qa]\nfunctions.enricher.reserved_concurrency = false\n"
                               ).environment("qa", ACCOUNT)
    assert qa.functions["enricher"].reserved_concurrency is None
    assert qa.functions["validator"].reserved_concurrency == 10


def test_a_number_setting_takes_an_integer_and_the_billing_mode_becomes_the_enum(tmp_path: Path) -> None:
    qa = read(tmp_path, BASE + '[environments.qa.table]\nbilling_mode = "PROVISIONED"\n'
                               "read_autoscaling = { min_capacity = 2, target_utilization = 50 }\n"
              ).environment("qa", ACCOUNT)
    assert qa.table.billing_mode is BillingMode.PROVISIONED
    assert (qa.table.read_autoscaling.min_capacity, qa.table.read_autoscaling.target_utilization) == (2, 50.0)


def test_the_environment_tag_is_the_name_unless_the_environment_sets_it(tmp_path: Path) -> None:
    environments = read(tmp_path, BASE + '[environments.qa]\n[environments.uat]\ntags.Environment = "acceptance"\n')
    assert environments.environment("qa", ACCOUNT).tags == {
        "Environment": "qa", "Project": "orders", "CostCenter": "cc-7", "Owner": "team-orders", "ManagedBy": "cdktf"}
    assert environments.environment("uat", ACCOUNT).tags["Environment"] == "acceptance"


def test_each_environment_has_its_own_region_and_account(tmp_path: Path) -> None:
    environments = read(tmp_path, BASE + '[environments.qa]\n[environments.eu-prod]\nregion = "eu-central-1"\n'
                                         'account_id = "444455556666"\n')
    qa, eu_prod = environments.environment("qa", ACCOUNT), environments.environment("eu-prod", ACCOUNT)
    assert (qa.region, qa.account_id) == ("eu-west-1", "111122223333")
    assert (eu_prod.region, eu_prod.account_id) == ("eu-central-1", "444455556666"), "a pinned account stays pinned"


def test_tap_stacks_takes_any_declared_environment_in_the_files_order(tmp_path: Path) -> None:
    environments = read(tmp_path, BASE + "[environments.qa]\n[environments.uat]\n[environments.live]\n")
    assert [s.name for s in environments.selected(ACCOUNT)] == ["qa", "uat", "live"]
    assert [s.name for s in environments.selected({**ACCOUNT, "TAP_STACKS": "live,qa"})] == ["live", "qa"]


def test_an_undeclared_environment_is_named_with_the_declared_ones(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as error:
        read(tmp_path, BASE + "[environments.qa]\n").environment("prod", ACCOUNT)
    assert error.value.problems == (f"{label(tmp_path)}: environments='prod' is invalid: allowed one of qa",)


def test_without_preview_from_a_suffix_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as error:
        read(tmp_path, BASE + "[environments.qa]\n").selected({**ACCOUNT, "ENVIRONMENT_SUFFIX": "pr1"})
    assert error.value.problems == (f"ENVIRONMENT_SUFFIX='pr1' is invalid: allowed unset, since {label(tmp_path)} "
                                    "names no preview_from environment",)


# ------------------------------------------------------------------------------------------------ variables
def test_variables_override_the_project_the_state_and_the_alarm_subscriber(tmp_path: Path) -> None:
    environments = read(tmp_path, 'project = "orders"\n' + BASE + '[state]\nregion = "eu-west-1"\n'
                        'bucket = "acme-state"\n[environments.qa]\nmonitoring.require_subscriber = true\n'
                        'monitoring.alarm_email = "file@example.com"\n')
    qa = environments.environment("qa", {**ACCOUNT, "TAP_PROJECT": "acme", "TAP_STATE_REGION": "eu-north-1",
                                         "TAP_ALARM_EMAIL": "var@example.com", "TAP_STATE_LOCK_TABLE": " "})
    assert qa.project == "acme" and qa.resource_name("ingest") == "acme-ingest-qa"
    assert (qa.backend.bucket, qa.backend.region, qa.backend.lock_table) == (
        "acme-state", "eu-north-1", "acme-pipeline-terraform-locks"), "an empty variable counts as unset"
    assert qa.monitoring.alarm_email == "var@example.com"


def test_the_project_prefix_is_the_files_unless_tap_project_names_one(tmp_path: Path) -> None:
    environments = read(tmp_path, 'project = "orders"\n' + BASE + "[environments.qa]\n")
    assert environments.project({}) == "orders"
    assert environments.project({"TAP_PROJECT": " acme "}) == "acme"
    assert environments.project({"TAP_PROJECT": " "}) == "orders", "an empty variable counts as unset"


def test_the_alarm_variables_reach_only_environments_that_require_a_subscriber(tmp_path: Path) -> None:
    environments = read(tmp_path, BASE + "[environments.qa]\n[environments.live]\n"
                                         "monitoring.require_subscriber = true\n")
    variables = {**ACCOUNT, "TAP_ALARM_HTTPS_ENDPOINT": "https://hooks.example.com/x"}
    assert environments.environment("qa", variables).monitoring.alarm_https_endpoint is None
    assert environments.environment("live", variables).monitoring.alarm_https_endpoint == "https://hooks.example.com/x"


def test_the_state_account_and_tags_come_from_state_or_the_defaults(tmp_path: Path) -> None:
    environments = read(tmp_path, BASE + '[state]\naccount_id = "999988887777"\n[environments.qa]\n')
    state = environments.state(ACCOUNT)
    assert (state.backend.account_id, state.backend.bucket) == (
        "999988887777", "tap-pipeline-tfstate-999988887777-us-east-1")
    assert state.tags == {"Project": "orders", "CostCenter": "cc-7", "Owner": "team-orders", "ManagedBy": "cdktf",
                          "Environment": "shared"}
    assert environments.environment("qa", ACCOUNT).backend.account_id == "999988887777"


# ------------------------------------------------------------------------------------------------ provenance
def test_a_bad_value_is_named_where_it_was_written(tmp_path: Path) -> None:
    environments = read(tmp_path, BASE.replace('region = "eu-west-1"', 'region = "europe"') +
                        "[environments.qa]\nlog_retention_days = 10\n[environments.qa.functions.processor]\n"
                        "memory_mb = 64\n")
    with pytest.raises(SettingsError) as error:
        environments.environment("qa", ACCOUNT)
    assert [p.split(" is invalid")[0] for p in error.value.problems] == [
        f"{label(tmp_path)}: environments.qa.functions.processor.memory_mb=64",
        f"{label(tmp_path)}: defaults.region='europe'",
        f"{label(tmp_path)}: environments.qa.log_retention_days=10",
    ]


def test_a_bad_value_from_a_variable_is_named_by_the_variable(tmp_path: Path) -> None:
    environments = read(tmp_path, BASE + "[environments.qa]\n")
    with pytest.raises(SettingsError) as error:
        environments.environment("qa", {"TAP_AWS_ACCOUNT_ID": "12", "TAP_PROJECT": "X"})
    assert error.value.problems == (
        "TAP_AWS_ACCOUNT_ID='12' is invalid: allowed the 12-digit id of the AWS account that holds the state",
        "TAP_PROJECT='X' is invalid: allowed 2-10 lowercase letters or digits, starting with a letter (it prefixes "
        "every resource name)",
        "TAP_AWS_ACCOUNT_ID='12' is invalid: allowed the 12-digit id of the AWS account qa deploys to",
    ), "a value that is set gets no hint of where to set it"


def test_the_same_problem_of_a_shared_value_is_reported_once(tmp_path: Path) -> None:
    environments = read(tmp_path, BASE.replace("[defaults]", "[defaults]\nlog_level = \"LOUD\"") +
                        "[environments.qa]\n[environments.uat]\n")
    with pytest.raises(SettingsError) as error:
        environments.selected(ACCOUNT)
    assert error.value.problems == (
        f"{label(tmp_path)}: defaults.log_level='LOUD' is invalid: allowed DEBUG, INFO, WARNING or ERROR",)


# ------------------------------------------------------------------------------------------------ more edges
def test_several_problems_in_one_table_are_each_reported(tmp_path: Path) -> None:
    text = BASE + "[environments.qa]\nretention = 1\ntable = 3\nemulator = \"no\"\ntags = { A = 1, B = 2 }\n"
    assert [p.split(" is invalid")[0] for p in problems(tmp_path, text)] == [
        f"{label(tmp_path)}: environments.qa.{key}" for key in ("retention=1", "table=3", "emulator='no'",
                                                               "tags.A=1", "tags.B=2")]


def test_an_unknown_key_in_defaults_is_reported(tmp_path: Path) -> None:
    text = BASE.replace("[defaults]\n", "[defaults]\nlog_retention = 14\n") + "[environments.qa]\n"
    [problem] = problems(tmp_path, text)
    assert problem.startswith(f"{label(tmp_path)}: defaults.log_retention=14 is invalid: allowed one of the keys ")


def test_a_clash_is_named_with_the_files_project(tmp_path: Path) -> None:
    [problem] = problems(tmp_path, 'project = "acme"\n' + BASE + "[environments.prod]\n[environments.prod-dlq]\n")
    assert "acme-enrich-prod-dlq, acme-ingest-prod-dlq, acme-process-prod-dlq" in problem


def test_an_unknown_preview_from_lists_every_environment(tmp_path: Path) -> None:
    assert problems(tmp_path, 'preview_from = "dev"\n' + BASE + "[environments.qa]\n[environments.uat]\n") == (
        f"{label(tmp_path)}: preview_from='dev' is invalid: allowed one of the environments: qa, uat",)


def test_a_file_needs_no_defaults_and_an_environment_without_a_backend_keeps_its_state_locally(tmp_path: Path) -> None:
    text = ('[environments.solo]\nregion = "eu-west-1"\nmonitoring.require_subscriber = false\n'
            '[environments.solo.tags]\nProject = "p"\nCostCenter = "c"\nOwner = "o"\nManagedBy = "m"\n')
    environments = read(tmp_path, text)
    solo = environments.environment("solo", ACCOUNT)
    assert environments.path == tmp_path / "environments.toml"
    assert (solo.backend.kind, solo.project, solo.resource_name("ingest")) == ("local", "tap", "tap-ingest-solo")


def test_the_files_project_prefixes_every_name_without_the_variable(tmp_path: Path) -> None:
    qa = read(tmp_path, 'project = "orders"\n' + BASE + "[environments.qa]\n").environment("qa", ACCOUNT)
    assert (qa.resource_name("ingest"), qa.backend.lock_table) == (
        "orders-ingest-qa", "orders-pipeline-terraform-locks")


def test_an_optional_number_takes_a_number_or_false_and_nothing_else(tmp_path: Path) -> None:
    text = BASE + "[environments.qa.functions.validator]\nreserved_concurrency = 20\n"
    assert read(tmp_path, text).environment("qa", ACCOUNT).functions["validator"].reserved_concurrency == 20
    assert problems(tmp_path, text.replace("= 20", '= "20"')) == (
        f"{label(tmp_path)}: environments.qa.functions.validator.reserved_concurrency='20' is invalid: allowed an "
        "integer or false",)


def test_a_number_setting_is_a_float_and_refuses_a_word(tmp_path: Path) -> None:
    text = BASE + "[environments.qa.table.write_autoscaling]\ntarget_utilization = 50\n"
    target = read(tmp_path, text).environment("qa", ACCOUNT).table.write_autoscaling.target_utilization
    assert (target, type(target)) == (50.0, float)
    assert problems(tmp_path, text.replace("= 50", '= "high"')) == (
        f"{label(tmp_path)}: environments.qa.table.write_autoscaling.target_utilization='high' is invalid: allowed "
        "a number",)


def test_a_problem_whose_rule_holds_an_equals_sign_is_still_named_where_it_was_written(tmp_path: Path) -> None:
    environments = read(tmp_path, BASE.replace("[defaults]\n", "[defaults]\nfunctions.processor.reserved_concurrency"
                                                               " = 4\n") + "[environments.qa]\n")
    with pytest.raises(SettingsError) as error:
        environments.environment("qa", ACCOUNT)
    assert error.value.problems == (
        f"{label(tmp_path)}: defaults.functions.processor.reserved_concurrency=4 is invalid: allowed >= "
        "max_concurrency (5), or the event source is throttled and messages go to the DLQ; raise it or lower "
        "max_concurrency",)


def test_a_blank_tag_is_named_where_it_was_written(tmp_path: Path) -> None:
    environments = read(tmp_path, BASE.replace('Owner = "team-orders"', 'Owner = " "') + "[environments.qa]\n")
    with pytest.raises(SettingsError) as error:
        environments.environment("qa", ACCOUNT)
    assert error.value.problems == (
        f"{label(tmp_path)}: defaults.tags.Owner=' ' is invalid: allowed a non-empty string",)


def test_a_bad_alarm_address_from_the_variable_is_named_by_it(tmp_path: Path) -> None:
    environments = read(tmp_path, BASE + "[environments.live]\nmonitoring.require_subscriber = true\n")
    with pytest.raises(SettingsError) as error:
        environments.environment("live", {**ACCOUNT, "TAP_ALARM_EMAIL": "oncall.example.com"})
    assert error.value.problems == (
        "TAP_ALARM_EMAIL='oncall.example.com' is invalid: allowed an e-mail address such as oncall@example.com",)


def test_a_bad_project_is_reported_once_not_again_by_the_state_names_derived_from_it(tmp_path: Path) -> None:
    environments = read(tmp_path, BASE + "[environments.qa]\n")
    with pytest.raises(SettingsError) as error:
        environments.environment("qa", {**ACCOUNT, "TAP_PROJECT": "a b"})
    assert [p.split(" is invalid")[0] for p in error.value.problems] == ["TAP_PROJECT='a b'"]


def test_the_state_alone_names_a_derived_name_that_a_bad_project_breaks(tmp_path: Path) -> None:
    environments = read(tmp_path, BASE + "[environments.qa]\n")
    with pytest.raises(SettingsError) as error:
        environments.state({**ACCOUNT, "TAP_PROJECT": "a b"})
    assert [p.split(" is invalid")[0] for p in error.value.problems] == [
        f"{label(tmp_path)}: state.{key} (derived from the project)='{value}'" for key, value in (
            ("bucket", "a b-pipeline-tfstate-111122223333-us-east-1"), ("lock_table", "a b-pipeline-terraform-locks"),
            ("kms_key_alias", "a b-pipeline-tfstate"))]


def test_the_state_takes_its_own_tags_and_key_alias(tmp_path: Path) -> None:
    environments = read(tmp_path, BASE + '[state]\nkms_key_alias = "orders-state"\n[state.tags]\nOwner = "infra"\n'
                                         "[environments.qa]\n")
    state = environments.state(ACCOUNT)
    assert (state.backend.kms_key_alias, state.tags["Owner"], state.tags["Project"]) == (
        "orders-state", "infra", "orders")


def test_a_preview_runs_on_preview_froms_settings_under_its_own_suffix(tmp_path: Path) -> None:
    environments = read(tmp_path, 'preview_from = "qa"\n' + BASE + "[environments.qa]\nlog_retention_days = 60\n"
                                                                   "[environments.live]\n")
    *_, preview = environments.selected({**ACCOUNT, "ENVIRONMENT_SUFFIX": "pr5"})
    assert (preview.name, preview.suffix, preview.log_retention_days, preview.tags["Environment"]) == (
        "qa", "pr5", 60, "pr5")


# ------------------------------------------------------------------------------------------------ review
def test_a_cost_ceiling_is_an_environments_review_setting_and_false_turns_it_off(tmp_path: Path) -> None:
    environments = read(tmp_path, BASE + "[defaults.review]\nmonthly_cost_ceiling_usd = 100\n"
                                         "[environments.qa]\n"
                                         "[environments.live]\nreview.monthly_cost_ceiling_usd = false\n")
    assert environments.environment("qa", ACCOUNT).review.monthly_cost_ceiling_usd == 100.0
    assert environments.environment("live", ACCOUNT).review.monthly_cost_ceiling_usd is None
    settings, origins = environments.review("qa")
    assert settings.monthly_cost_ceiling_usd == 100.0
    assert origins == {"monthly_cost_ceiling_usd": f"{label(tmp_path)}: defaults.review.monthly_cost_ceiling_usd"}


def test_a_cost_ceiling_that_is_no_number_is_refused_on_reading(tmp_path: Path) -> None:
    assert problems(tmp_path, BASE + '[environments.qa]\nreview.monthly_cost_ceiling_usd = "60"\n') == (
        f"{label(tmp_path)}: environments.qa.review.monthly_cost_ceiling_usd='60' is invalid: allowed a number or "
        "false",)
