"""``python -m tools release`` against moto: one deployment per changed function and none for the others, the
AppSpec it sends, progress to success, a rollback on alarm and a failure with their exit codes, and the
emulator's direct pointing.

moto implements CodeDeploy's API but never moves a deployment on, and answers with no alarm configuration: each
test sets the deployment's status in moto's backend while the command waits (its ``sleep``), the way CodeDeploy
would move it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from moto import mock_aws
from moto.codedeploy.models import codedeploy_backends

from tests.support.environments import load_environment
from tools import __main__ as tools_cli
from tools.release import (
    EXIT_CANNOT_START,
    EXIT_RELEASED,
    EXIT_ROLLED_BACK,
    EXIT_TIMED_OUT,
    Clients,
    Outcome,
    Release,
    ReleaseError,
    ReleasePlan,
    StageRelease,
    plan_of,
)

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's
APP = "tap-releases-prod"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/tap-releases-prod-role"
STAGES = ("validator", "enricher", "processor")


def stage(name: str, *, released: bool = True) -> StageRelease:
    function = f"tap-{name}-prod"
    queue = {"validator": "ingest", "enricher": "enrich", "processor": "process"}[name]
    return StageRelease(name, function, APP if released else None, function if released else None,
                        (f"{function}-errors", f"{function}-throttles", f"tap-{queue}-prod-dlq-arrivals"))


PLAN = ReleasePlan("prod", "CodeDeployDefault.LambdaCanary10Percent5Minutes", 25, False,
                   tuple(stage(s) for s in STAGES))


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clients]:
    """prod's three functions at version 1 behind their alias ``live``, and a deployment group for each."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        import boto3

        clients = Clients(boto3.client("lambda", region_name=REGION), boto3.client("codedeploy", region_name=REGION),
                          boto3.client("cloudwatch", region_name=REGION))
        iam = boto3.client("iam", region_name=REGION)
        role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        clients.codedeploy.create_application(applicationName=APP, computePlatform="Lambda")
        for name in STAGES:
            function = f"tap-{name}-prod"
            clients.lambda_.create_function(FunctionName=function, Runtime="python3.13", Role=role, Handler="a.h",
                                            Code={"ZipFile": b"v1"}, Publish=True)
            clients.lambda_.create_alias(FunctionName=function, Name="live", FunctionVersion="1")
            clients.codedeploy.create_deployment_group(
                applicationName=APP, deploymentGroupName=function, serviceRoleArn=ROLE,
                deploymentConfigName=PLAN.deployment_config,
                deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
                alarmConfiguration={"enabled": True, "alarms": [{"name": a} for a in stage(name).alarms]},
                autoRollbackConfiguration={"enabled": True,
                                           "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]})
            for alarm in stage(name).alarms:
                clients.cloudwatch.put_metric_alarm(
                    AlarmName=alarm, MetricName="Errors", Namespace="AWS/Lambda", Statistic="Sum", Period=60,
                    EvaluationPeriods=1, Threshold=0, ComparisonOperator="GreaterThanThreshold")
        yield clients


def publish_new_code(clients: Clients, name: str) -> str:
    """What an apply does to a function whose code changed: new code, a new published version."""
    function = f"tap-{name}-prod"
    clients.lambda_.update_function_code(FunctionName=function, ZipFile=b"v2")
    return clients.lambda_.publish_version(FunctionName=function)["Version"]


def deployments() -> dict[str, Any]:
    return codedeploy_backends[ACCOUNT][REGION].deployments


def appspec_of(deployment: Any) -> dict[str, Any]:
    return json.loads(deployment.revision["appSpecContent"]["content"])


class CodeDeployMoves:
    """A ``sleep`` that moves every deployment in moto to ``status`` (and, on success, the alias, as CodeDeploy
    does), with ``alarm`` in ALARM first when given."""

    def __init__(self, clients: Clients, status: str, alarm: str | None = None) -> None:
        self.clients, self.status, self.alarm, self.calls, self.now = clients, status, alarm, 0, 0.0

    def __call__(self, seconds: float) -> None:
        self.calls += 1
        self.now += seconds
        if self.alarm:
            self.clients.cloudwatch.set_alarm_state(AlarmName=self.alarm, StateValue="ALARM", StateReason="test")
        for deployment in deployments().values():
            deployment.status = self.status
            if self.status == "Succeeded":
                target = appspec_of(deployment)["Resources"][0]
                properties = next(iter(target.values()))["Properties"]
                self.clients.lambda_.update_alias(FunctionName=properties["Name"], Name="live",
                                                  FunctionVersion=properties["TargetVersion"])


def release(clients: Clients, plan: ReleasePlan = PLAN, sleep: CodeDeployMoves | None = None
            ) -> tuple[Release, io.StringIO]:
    """A release of ``plan`` whose waits are ``sleep``'s (its clock advances only by them)."""
    out = io.StringIO()
    sleep = sleep or CodeDeployMoves(clients, "Created")
    return Release(plan, clients, out=out, sleep=sleep, clock=lambda: sleep.now), out


def test_one_deployment_per_changed_function_and_none_for_the_unchanged(aws: Clients) -> None:
    publish_new_code(aws, "validator")
    publish_new_code(aws, "processor")
    run, _ = release(aws, sleep=CodeDeployMoves(aws, "Succeeded"))
    assert run.run() == EXIT_RELEASED
    assert sorted(d.deployment_group_name for d in deployments().values()) == ["tap-processor-prod",
                                                                               "tap-validator-prod"]
    assert {o.stage: o.state for o in run.outcomes} == {
        "validator": "released", "enricher": "unchanged", "processor": "released"}


def test_the_appspec_names_the_alias_the_current_and_the_target_version(aws: Clients) -> None:
    publish_new_code(aws, "enricher")
    run, _ = release(aws, sleep=CodeDeployMoves(aws, "Succeeded"))
    run.run()
    [deployment] = deployments().values()
    assert appspec_of(deployment) == {"version": 0.0, "Resources": [{"tap-enricher-prod": {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Name": "tap-enricher-prod", "Alias": "live", "CurrentVersion": "1", "TargetVersion": "2"}}}]}
    assert deployment.revision["revisionType"] == "AppSpecContent"
    assert deployment.application_name == APP and deployment.deployment_config_name == PLAN.deployment_config


def test_a_successful_release_reports_progress_and_the_new_version(aws: Clients) -> None:
    publish_new_code(aws, "validator")
    run, out = release(aws, sleep=CodeDeployMoves(aws, "Succeeded"))
    assert run.run() == EXIT_RELEASED
    lines = out.getvalue().splitlines()
    assert "validator: Created: live on version 1" in lines
    assert "validator: Succeeded: live on version 2" in lines
    assert "validator: released: live is at version 2" in lines
    assert lines[-1] == "release prod: done"


def test_traffic_on_the_new_version_is_shown_while_the_alias_routes_by_weight(aws: Clients) -> None:
    publish_new_code(aws, "validator")
    aws.lambda_.update_alias(FunctionName="tap-validator-prod", Name="live",
                             RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}})
    run, _ = release(aws)
    shifting = Outcome("validator", "tap-validator-prod", "in-progress", "1", "2")
    assert run._traffic(shifting) == ": 10% of traffic on version 2"


def test_an_alias_already_routing_two_versions_stops_the_release_before_any_deployment(aws: Clients) -> None:
    publish_new_code(aws, "validator")
    aws.lambda_.update_alias(FunctionName="tap-validator-prod", Name="live",
                             RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}})
    run, _ = release(aws)
    with pytest.raises(ReleaseError, match="a release is in progress"):
        run.run()
    assert deployments() == {}


def test_a_rollback_on_alarm_exits_1_naming_the_alarm(aws: Clients) -> None:
    publish_new_code(aws, "validator")
    run, out = release(aws, sleep=CodeDeployMoves(aws, "Stopped", alarm="tap-validator-prod-errors"))
    assert run.run() == EXIT_ROLLED_BACK
    [outcome] = [o for o in run.outcomes if o.stage == "validator"]
    assert outcome.state == "rolled-back" and outcome.fired == ("tap-validator-prod-errors",)
    assert ("validator: rolled-back: stopped; alarm tap-validator-prod-errors fired; live is on version 1"
            in out.getvalue().splitlines())
    assert out.getvalue().splitlines()[-1] == "release prod: FAILED"


def test_an_alarm_of_another_stage_is_not_blamed(aws: Clients) -> None:
    publish_new_code(aws, "validator")
    run, _ = release(aws, sleep=CodeDeployMoves(aws, "Stopped", alarm="tap-processor-prod-errors"))
    assert run.run() == EXIT_ROLLED_BACK
    assert run.outcomes[0].fired == ()


def test_a_failed_deployment_without_an_alarm_exits_1_as_failed(aws: Clients) -> None:
    publish_new_code(aws, "enricher")
    run, out = release(aws, sleep=CodeDeployMoves(aws, "Failed"))
    assert run.run() == EXIT_ROLLED_BACK
    assert "enricher: failed: failed; live is on version 1" in out.getvalue().splitlines()


def test_a_release_still_shifting_when_the_timeout_ends_exits_3(aws: Clients) -> None:
    publish_new_code(aws, "validator")
    waits = CodeDeployMoves(aws, "InProgress")
    run, out = release(aws, sleep=waits)
    assert run.run(timeout_minutes=1) == EXIT_TIMED_OUT
    assert waits.calls == 4 and waits.now == 60  # polls at 0, 15, 30, 45 and 60 s: then the minute is over
    assert "still in progress after 1 minutes" in out.getvalue()


def test_a_dry_run_shows_the_appspec_and_creates_nothing(aws: Clients) -> None:
    publish_new_code(aws, "validator")
    run, out = release(aws)
    assert run.run(dry_run=True) == EXIT_RELEASED
    assert deployments() == {}
    assert '"TargetVersion": "2"' in out.getvalue()
    assert aws.lambda_.get_alias(FunctionName="tap-validator-prod", Name="live")["FunctionVersion"] == "1"


def test_a_stage_terraform_owns_is_left_to_terraform(aws: Clients) -> None:
    publish_new_code(aws, "processor")
    plan = replace(PLAN, stages=(stage("validator"), stage("enricher"), stage("processor", released=False)))
    run, out = release(aws, plan)
    assert run.run() == EXIT_RELEASED
    assert deployments() == {}
    assert "Terraform owns this alias in prod" in out.getvalue()


def test_without_a_deployment_group_the_release_says_to_apply_first(aws: Clients) -> None:
    publish_new_code(aws, "validator")
    plan = replace(PLAN, stages=(replace(stage("validator"), group="tap-validator-nowhere"),))
    run, _ = release(aws, plan)
    with pytest.raises(ReleaseError, match="no CodeDeploy deployment group tap-validator-nowhere .* apply prod"):
        run.run()


def test_on_the_emulator_the_deployment_is_recorded_and_the_alias_pointed_directly(aws: Clients) -> None:
    publish_new_code(aws, "validator")
    waits = CodeDeployMoves(aws, "Succeeded")
    run, out = release(aws, replace(PLAN, emulator=True), sleep=waits)
    assert run.run() == EXIT_RELEASED
    assert waits.calls == 0, "nothing to wait for: moto never moves a deployment"
    assert aws.lambda_.get_alias(FunctionName="tap-validator-prod", Name="live")["FunctionVersion"] == "2"
    [deployment] = deployments().values()
    assert appspec_of(deployment)["Resources"][0]["tap-validator-prod"]["Properties"]["TargetVersion"] == "2"
    assert "live pointed at version 2 directly" in out.getvalue()
    assert run.record()["traffic"] == "pointed directly (emulator)"
    assert run.record()["stages"][0]["state"] == "pointed"


def test_the_deployment_group_in_moto_keeps_the_alarms_and_rollback_the_release_relies_on(aws: Clients) -> None:
    group = codedeploy_backends[ACCOUNT][REGION].deployment_groups[APP]["tap-validator-prod"]
    assert [a["name"] for a in group.alarm_configuration["alarms"]] == list(stage("validator").alarms)
    answered = aws.codedeploy.get_deployment_group(applicationName=APP, deploymentGroupName="tap-validator-prod")
    assert answered["deploymentGroupInfo"]["autoRollbackConfiguration"] == {
        "enabled": True, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]}


def test_the_plan_of_prod_releases_every_stage_through_its_group() -> None:
    plan = plan_of(load_environment("prod"))
    assert [(s.application, s.group) for s in plan.stages] == [
        ("tap-releases-prod", "tap-validator-prod"), ("tap-releases-prod", "tap-enricher-prod"),
        ("tap-releases-prod", "tap-processor-prod")]
    assert plan.stages[1].alarms == ("tap-enricher-prod-errors", "tap-enricher-prod-throttles",
                                     "tap-enrich-prod-dlq-arrivals")
    assert plan.timeout_minutes == 5 + 20 and not plan.emulator


def test_the_plan_of_dev_leaves_every_alias_to_terraform() -> None:
    plan = plan_of(load_environment("dev"))
    assert [s.group for s in plan.stages] == [None, None, None]


def test_the_command_exits_2_when_the_environment_does_not_exist(capsys: pytest.CaptureFixture[str]) -> None:
    assert tools_cli.main(["release", "--env", "Not_An_Environment"]) == EXIT_CANNOT_START
    assert capsys.readouterr().err.startswith("release: ")
