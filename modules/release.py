"""Gradual releases: AWS CodeDeploy moves each function's alias ``live`` to a new version, and moves it back by
itself when the stage's alarms fire.

Terraform keeps publishing a version on every code change; in an environment whose ``release.codedeploy`` is
on it no longer points the alias at it (:class:`.function.PipelineFunction` ignores ``function_version``).
``python -m tools release`` then asks CodeDeploy for one deployment per changed function (tools/release.py),
which shifts traffic by the deployment configuration of the settings and rolls back on alarm or failure.
Weighted alias routing applies to every invocation of the alias, the SQS event source mapping's included:
https://docs.aws.amazon.com/lambda/latest/dg/configuring-alias-routing.html
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.codedeploy_app import CodedeployApp
from cdktf_cdktf_provider_aws.codedeploy_deployment_config import (
    CodedeployDeploymentConfig,
    CodedeployDeploymentConfigTrafficRoutingConfig,
    CodedeployDeploymentConfigTrafficRoutingConfigTimeBasedCanary,
    CodedeployDeploymentConfigTrafficRoutingConfigTimeBasedLinear,
)
from cdktf_cdktf_provider_aws.codedeploy_deployment_group import (
    CodedeployDeploymentGroup,
    CodedeployDeploymentGroupAlarmConfiguration,
    CodedeployDeploymentGroupAutoRollbackConfiguration,
    CodedeployDeploymentGroupDeploymentStyle,
)
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocument
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from . import permissions
from .function import ALIAS_NAME, PipelineFunction
from .queue_arn import service_arn
from .settings import ReleaseSettings
from .tagging import component_tags

COMPONENT = "releases"
#: What makes CodeDeploy stop a release and move the alias back to the version it came from.
ROLLBACK_EVENTS = ("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM")
#: The alias actions CodeDeploy calls on each function. Lambda authorizes alias actions on the function's ARN
#: and provisioned concurrency on the qualified one (the alias's):
#: https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html
ALIAS_ACTIONS = ("lambda:GetAlias", "lambda:UpdateAlias", "lambda:GetProvisionedConcurrencyConfig")


@dataclass(frozen=True)
class ReleaseProps:
    """The CodeDeploy application's name (``<project>-releases-<suffix>``; its service role adds ``-role``), the
    environment's release settings, and its account (the service role's policy names ARNs in it)."""

    name: str
    settings: ReleaseSettings
    account_id: str


@dataclass(frozen=True)
class ReleasedFunction:
    """One stage released by CodeDeploy: its function, and the alarms that roll a release back."""

    stage: str
    function: PipelineFunction
    alarms: Sequence[CloudwatchMetricAlarm]


class CodeDeployReleases(Construct):
    """A CodeDeploy application (compute platform Lambda) with one deployment group per released function.

    Each group shifts traffic on the function's alias ``live`` by the settings' deployment configuration (AWS's
    predefined one, or the environment's own ``canary`` / ``linear``), watches that stage's alarms (its errors,
    its throttles, and new arrivals in its dead-letter queue), and rolls back on alarm and on failure. Its
    service role may read and move those aliases and read those alarms, nothing else: a scoped inline policy
    instead of AWS's managed ``AWSCodeDeployRoleForLambda``, which allows ``lambda:UpdateAlias`` and
    ``cloudwatch:DescribeAlarms`` on every resource, ``sns:Publish`` anywhere, and S3 reads and hook invocations
    this pipeline never uses
    (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSCodeDeployRoleForLambda.html).
    """

    def __init__(self, scope: Construct, id_: str, *, props: ReleaseProps,
                 functions: Sequence[ReleasedFunction]) -> None:
        super().__init__(scope, id_)
        if not functions:
            raise ValueError("CodeDeployReleases needs at least one function to release")
        tags = component_tags(COMPONENT)
        self.application = CodedeployApp(self, "application", name=props.name, compute_platform="Lambda",
                                         tags=tags)
        self.deployment_config_name = self._deployment_config(props)
        assume = DataAwsIamPolicyDocument(
            self, "assume-role-document",
            statement=[permissions.service_principal_statement("CodeDeployAssumeRole", "codedeploy.amazonaws.com")],
        )
        self.role = IamRole(self, "role", name=f"{props.name}-role", assume_role_policy=assume.json, tags=tags)
        self.statements = self.service_statements(self, functions, props.account_id)
        policy = DataAwsIamPolicyDocument(
            self, "policy-document", statement=[s.to_document_statement() for s in self.statements])
        self.role_policy = IamRolePolicy(self, "role-policy", name=f"{props.name}-least-privilege",
                                         role=self.role.id, policy=policy.json)
        self.groups = {
            released.stage: CodedeployDeploymentGroup(
                self, f"{released.stage}-group",
                app_name=self.application.name,
                deployment_group_name=released.function.function_name,
                service_role_arn=self.role.arn,
                deployment_config_name=self.deployment_config_name,
                # Lambda deployments are always blue/green with traffic control: the alias shifts between two
                # versions (https://docs.aws.amazon.com/codedeploy/latest/userguide/deployment-steps-lambda.html).
                deployment_style=CodedeployDeploymentGroupDeploymentStyle(
                    deployment_type="BLUE_GREEN", deployment_option="WITH_TRAFFIC_CONTROL"),
                alarm_configuration=CodedeployDeploymentGroupAlarmConfiguration(
                    enabled=True, alarms=[alarm.alarm_name for alarm in released.alarms],
                    # An alarm whose state CodeDeploy cannot read stops the release rather than letting it pass.
                    ignore_poll_alarm_failure=False),
                auto_rollback_configuration=CodedeployDeploymentGroupAutoRollbackConfiguration(
                    enabled=True, events=list(ROLLBACK_EVENTS)),
                # CodeDeploy checks that it may use the role when the group is created.
                depends_on=[self.role_policy],
                tags=component_tags(released.stage),
            )
            for released in functions
        }

    def _deployment_config(self, props: ReleaseProps) -> str:
        """The name of the deployment configuration: AWS's predefined one, or the environment's own (a new
        name for every change, since CodeDeploy cannot update one, and made before the old one goes, since a
        group in use keeps it)."""
        shift = props.settings.shift
        if not props.settings.custom or shift is None:
            return props.settings.deployment_config
        if shift.kind == "canary":
            routing = CodedeployDeploymentConfigTrafficRoutingConfig(
                type="TimeBasedCanary", time_based_canary=CodedeployDeploymentConfigTrafficRoutingConfigTimeBasedCanary(
                    interval=shift.interval_minutes, percentage=shift.percent))
        else:
            routing = CodedeployDeploymentConfigTrafficRoutingConfig(
                type="TimeBasedLinear", time_based_linear=CodedeployDeploymentConfigTrafficRoutingConfigTimeBasedLinear(
                    interval=shift.interval_minutes, percentage=shift.percent))
        config = CodedeployDeploymentConfig(
            self, "deployment-config",
            deployment_config_name=f"{props.name}-{shift.kind}-{shift.percent}pct-{shift.interval_minutes}min",
            compute_platform="Lambda",
            traffic_routing_config=routing,
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        return config.deployment_config_name

    @staticmethod
    def service_statements(scope: Construct, functions: Sequence[ReleasedFunction],
                           account_id: str) -> tuple[permissions.Statement, ...]:
        """What CodeDeploy does during a Lambda release, on these functions and alarms only: read and move each
        alias, read its provisioned concurrency (it waits for the new version to be warm), and read the alarms
        (https://docs.aws.amazon.com/codedeploy/latest/userguide/getting-started-create-service-role.html).

        ARNs built from names, not references: a code change updates the function, and a policy document that
        referenced it would be unknown in that plan, so the review could not judge the policy.
        """
        aliases = []
        for released in functions:
            function = service_arn(scope, "lambda", account_id, f"function:{released.function.function_name}")
            aliases += [function, f"{function}:{ALIAS_NAME}"]
        alarms = [service_arn(scope, "cloudwatch", account_id, f"alarm:{alarm.alarm_name_input}")
                  for released in functions for alarm in released.alarms]
        return (
            permissions.Statement("ShiftAliasTraffic", ALIAS_ACTIONS, aliases),
            permissions.Statement("ReadReleaseAlarms", ("cloudwatch:DescribeAlarms",), alarms),
        )

    def group_name(self, stage: str) -> str:
        return self.groups[stage].deployment_group_name
