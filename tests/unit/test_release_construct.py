"""CodeDeploy owns the alias where the settings ask for it: the application, one deployment group per released
function with its alarms and rollback, a scoped service role, and the alias ignoring only what CodeDeploy owns.

The shipped fixture's prod releases every stage through CodeDeploy; dev, staging, local and the preview do not.
A synth of its own covers the environment's own deployment configuration and a stage left to Terraform.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from modules.pipeline import TapPipeline
from modules.settings import ReleaseSettings, SettingsError, TrafficShift, stage_function
from tests.conftest import PIPELINE_ENVIRONMENTS
from tests.support.environments import load_environment
from tests.support.synth import synth_scope
from tools.policy.stack_json import StackJson, reference

ACCOUNT = {"TAP_AWS_ACCOUNT_ID": "111122223333", "TAP_ALARM_EMAIL": "oncall@example.com"}
STAGES = ("validator", "enricher", "processor")
SOURCE_QUEUES = {"validator": "ingest", "enricher": "enrich", "processor": "process"}
CODEDEPLOY_TYPES = ("aws_codedeploy_app", "aws_codedeploy_deployment_group", "aws_codedeploy_deployment_config")


def groups(stack: StackJson) -> dict[str, Any]:
    """Each deployment group's body by its name."""
    return {g.body["deployment_group_name"]: g.body for g in stack.resources("aws_codedeploy_deployment_group")}


def alarm_names(stack: StackJson, group: dict[str, Any]) -> list[str]:
    return [stack.referenced(a).body["alarm_name"] for a in group["alarm_configuration"]["alarms"]]


def alias_of(stack: StackJson, stage: str) -> dict[str, Any]:
    [alias] = [a.body for a in stack.resources("aws_lambda_alias") if a.name.startswith(f"{stage}_alias_")]
    return alias


def role_policy_statements(stack: StackJson) -> list[dict[str, Any]]:
    [policy] = [p for p in stack.resources("aws_iam_role_policy") if p.body["name"].startswith("tap-releases-")]
    return stack.referenced(policy.body["policy"]).body["statement"]


@pytest.fixture(scope="module")
def custom() -> StackJson:
    """dev with CodeDeploy releases on a linear shift of its own, 20 % every 3 minutes, the processor left to
    Terraform."""
    dev = load_environment("dev", ACCOUNT)
    settings = replace(
        dev, release=ReleaseSettings(codedeploy=True, deployment_config="linear", traffic_percent=20,
                                     interval_minutes=3),
        functions={**dev.functions, "processor": stage_function("processor", codedeploy_release=False)})
    return synth_scope(lambda stack: TapPipeline(stack, "Default", settings=settings))


# --- Where CodeDeploy owns the alias ----------------------------------------------------------------------------

def test_prod_has_a_codedeploy_application_for_lambda(pipeline_stacks: dict[str, StackJson]) -> None:
    [application] = pipeline_stacks["prod"].resources("aws_codedeploy_app")
    assert (application.body["name"], application.body["compute_platform"]) == ("tap-releases-prod", "Lambda")


@pytest.mark.parametrize("env", [e for e in PIPELINE_ENVIRONMENTS if e != "prod"])
def test_environments_that_do_not_ask_have_no_codedeploy_resources(pipeline_stacks: dict[str, StackJson],
                                                                   env: str) -> None:
    stack = pipeline_stacks[env]
    assert [r.address for t in CODEDEPLOY_TYPES for r in stack.resources(t)] == []
    assert not [r for r in stack.resources("aws_iam_role") if "releases" in r.body["name"]]


def test_prod_has_one_deployment_group_per_function(pipeline_stacks: dict[str, StackJson]) -> None:
    stack = pipeline_stacks["prod"]
    assert sorted(groups(stack)) == ["tap-enricher-prod", "tap-processor-prod", "tap-validator-prod"]
    for group in groups(stack).values():
        assert reference(group["app_name"])[0] == "aws_codedeploy_app"
        assert group["deployment_config_name"] == "CodeDeployDefault.LambdaCanary10Percent5Minutes"
        assert group["deployment_style"] == {"deployment_option": "WITH_TRAFFIC_CONTROL",
                                             "deployment_type": "BLUE_GREEN"}


@pytest.mark.parametrize("stage", STAGES)
def test_each_group_watches_its_stages_errors_throttles_and_dead_letter_arrivals(
        pipeline_stacks: dict[str, StackJson], stage: str) -> None:
    stack = pipeline_stacks["prod"]
    group = groups(stack)[f"tap-{stage}-prod"]
    assert alarm_names(stack, group) == [f"tap-{stage}-prod-errors", f"tap-{stage}-prod-throttles",
                                         f"tap-{SOURCE_QUEUES[stage]}-prod-dlq-arrivals"]
    assert group["alarm_configuration"]["enabled"] is True
    assert group["alarm_configuration"]["ignore_poll_alarm_failure"] is False


def test_each_group_rolls_back_on_alarm_and_on_failure(pipeline_stacks: dict[str, StackJson]) -> None:
    for group in groups(pipeline_stacks["prod"]).values():
        assert group["auto_rollback_configuration"] == {
            "enabled": True, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]}


def test_the_groups_use_a_service_role_only_codedeploy_may_assume(pipeline_stacks: dict[str, StackJson]) -> None:
    stack = pipeline_stacks["prod"]
    [role] = [r for r in stack.resources("aws_iam_role") if r.body["name"] == "tap-releases-prod-role"]
    [statement] = stack.referenced(role.body["assume_role_policy"]).body["statement"]
    assert statement["principals"] == [{"identifiers": ["codedeploy.amazonaws.com"], "type": "Service"}]
    assert statement["actions"] == ["sts:AssumeRole"]
    for group in groups(stack).values():
        assert stack.referenced(group["service_role_arn"]).address == role.address


ARN_PREFIX = ("arn:${data.aws_partition.aws-partition.partition}:{service}:${data.aws_region.aws-region.name}:"
              "111122223333:")


def test_the_service_role_may_move_and_read_only_the_released_aliases(pipeline_stacks: dict[str, StackJson]) -> None:
    statements = {s["sid"]: s for s in role_policy_statements(pipeline_stacks["prod"])}
    assert sorted(statements) == ["ReadReleaseAlarms", "ShiftAliasTraffic"]
    shift = statements["ShiftAliasTraffic"]
    assert shift["actions"] == ["lambda:GetAlias", "lambda:UpdateAlias", "lambda:GetProvisionedConcurrencyConfig"]
    prefix = ARN_PREFIX.replace("{service}", "lambda")
    assert shift["resources"] == [f"{prefix}function:tap-{stage}-prod{qualifier}"
                                  for stage in STAGES for qualifier in ("", ":live")]


def test_the_service_role_reads_only_the_groups_alarms(pipeline_stacks: dict[str, StackJson]) -> None:
    stack = pipeline_stacks["prod"]
    [alarms] = [s for s in role_policy_statements(stack) if s["sid"] == "ReadReleaseAlarms"]
    assert alarms["actions"] == ["cloudwatch:DescribeAlarms"]
    prefix = ARN_PREFIX.replace("{service}", "cloudwatch") + "alarm:"
    assert all(a.startswith(prefix) for a in alarms["resources"])
    read = sorted(a.removeprefix(prefix) for a in alarms["resources"])
    assert read == sorted(n for g in groups(stack).values() for n in alarm_names(stack, g))
    assert len(read) == 9


def test_the_service_roles_policy_waits_for_no_function_or_alarm(pipeline_stacks: dict[str, StackJson]) -> None:
    # A policy document that referenced a function would be read only during an apply that changes its code:
    # every prod code change would show the policy as unknown, which the review cannot judge.
    stack = pipeline_stacks["prod"]
    [document] = [d for d in stack.data("aws_iam_policy_document") if d.name.startswith("releases_policy-document")]
    assert "aws_lambda_function" not in str(document.body) and "aws_cloudwatch_metric_alarm" not in str(document.body)


def test_the_groups_wait_for_the_service_roles_policy(pipeline_stacks: dict[str, StackJson]) -> None:
    stack = pipeline_stacks["prod"]
    [policy] = [p for p in stack.resources("aws_iam_role_policy")
                if p.body["name"] == "tap-releases-prod-least-privilege"]
    for group in groups(stack).values():
        assert group["depends_on"] == [policy.address]


# --- The alias: what Terraform ignores ----------------------------------------------------------------------------

@pytest.mark.parametrize("stage", STAGES)
def test_where_codedeploy_owns_the_alias_terraform_ignores_its_version(pipeline_stacks: dict[str, StackJson],
                                                                       stage: str) -> None:
    alias = alias_of(pipeline_stacks["prod"], stage)
    assert alias["lifecycle"] == {"ignore_changes": ["routing_config", "function_version"]}
    assert reference(alias["function_version"])[2] == "version", "Terraform still names the published version"


@pytest.mark.parametrize("env", [e for e in PIPELINE_ENVIRONMENTS if e != "prod"])
def test_elsewhere_terraform_points_the_alias_at_each_new_version(pipeline_stacks: dict[str, StackJson],
                                                                  env: str) -> None:
    for stage in STAGES:
        assert alias_of(pipeline_stacks[env], stage)["lifecycle"] == {"ignore_changes": ["routing_config"]}


def test_a_stage_left_to_terraform_keeps_its_alias_and_has_no_group(custom: StackJson) -> None:
    assert sorted(groups(custom)) == ["tap-enricher-dev", "tap-validator-dev"]
    assert alias_of(custom, "processor")["lifecycle"] == {"ignore_changes": ["routing_config"]}
    assert alias_of(custom, "enricher")["lifecycle"] == {"ignore_changes": ["routing_config", "function_version"]}


# --- The deployment configuration -------------------------------------------------------------------------------

def test_an_environments_own_shift_is_a_deployment_config_the_groups_use(custom: StackJson) -> None:
    [config] = custom.resources("aws_codedeploy_deployment_config")
    assert config.body["compute_platform"] == "Lambda"
    assert config.body["traffic_routing_config"] == {
        "type": "TimeBasedLinear", "time_based_linear": {"interval": 3, "percentage": 20}}
    assert config.body["deployment_config_name"] == "tap-releases-dev-linear-20pct-3min"
    assert config.body["lifecycle"] == {"create_before_destroy": True}
    for group in groups(custom).values():
        assert custom.referenced(group["deployment_config_name"]).address == config.address


def test_a_predefined_configuration_makes_no_deployment_config(pipeline_stacks: dict[str, StackJson]) -> None:
    assert pipeline_stacks["prod"].resources("aws_codedeploy_deployment_config") == []


# --- The settings -----------------------------------------------------------------------------------------------

def test_codedeploy_releases_are_off_by_default_and_on_in_prod() -> None:
    assert ReleaseSettings().codedeploy is False
    assert load_environment("prod").codedeploy_stages == STAGES
    assert load_environment("dev").codedeploy_stages == ()
    assert load_environment("local", {}).codedeploy_stages == ()


def test_a_stage_can_leave_its_alias_to_terraform_in_an_environment_that_releases() -> None:
    prod = load_environment("prod")
    settings = replace(prod, functions={**prod.functions,
                                        "enricher": stage_function("enricher", codedeploy_release=False)})
    assert settings.codedeploy_stages == ("validator", "processor")


@pytest.mark.parametrize("config", ["CodeDeployDefault.AllAtOnce", "CodeDeployDefault.ECSCanary10Percent5Minutes",
                                    "Canary", ""])
def test_a_deployment_config_that_is_not_for_lambda_is_refused(config: str) -> None:
    with pytest.raises(SettingsError, match=r"release.deployment_config=.* AWS's predefined Lambda"):
        ReleaseSettings(deployment_config=config)


@pytest.mark.parametrize(("setting", "bad", "good"), [
    ("traffic_percent", 0, 1), ("traffic_percent", 100, 99), ("interval_minutes", 0, 1),
    ("interval_minutes", 2881, 2880)])
def test_custom_shift_bounds(setting: str, bad: int, good: int) -> None:
    with pytest.raises(SettingsError, match=f"release.{setting}={bad} is invalid"):
        ReleaseSettings(**{setting: bad})
    assert getattr(ReleaseSettings(**{setting: good}), setting) == good


def test_the_shift_of_a_predefined_and_of_a_custom_configuration() -> None:
    assert ReleaseSettings().shift == TrafficShift("canary", 10, 5)
    assert ReleaseSettings(deployment_config="CodeDeployDefault.LambdaAllAtOnce").shift is None
    assert ReleaseSettings(deployment_config="linear", traffic_percent=30, interval_minutes=2).shift == TrafficShift(
        "linear", 30, 2)


@pytest.mark.parametrize(("shift", "minutes"), [
    (TrafficShift("canary", 10, 5), 5), (TrafficShift("linear", 10, 1), 10), (TrafficShift("linear", 30, 2), 8),
    (TrafficShift("linear", 50, 3), 6)])
def test_how_long_a_shift_takes_at_most(shift: TrafficShift, minutes: int) -> None:
    assert shift.minutes == minutes


def test_release_settings_come_from_the_environments_file(tmp_path) -> None:
    from modules.environments_file import EnvironmentsFile
    from tests.support.environments import FIXTURE_FILE

    text = FIXTURE_FILE.read_text().replace("[environments.dev]\n", '[environments.dev]\nrelease.codedeploy = true\n'
                                            'release.deployment_config = "canary"\nrelease.traffic_percent = 25\n'
                                            'functions.processor.codedeploy_release = false\n', 1)
    (tmp_path / "environments.toml").write_text(text)
    dev = EnvironmentsFile.read(tmp_path / "environments.toml").environment("dev", ACCOUNT)
    assert dev.release.shift == TrafficShift("canary", 25, 5)
    assert dev.codedeploy_stages == ("validator", "enricher")
