"""The one construct every pipeline stage's Lambda function is made of."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf import AssetType, Fn, TerraformAsset, TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocument
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.lambda_alias import LambdaAlias
from cdktf_cdktf_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionEnvironment,
    LambdaFunctionLoggingConfig,
    LambdaFunctionTracingConfig,
)
from cdktf_cdktf_provider_aws.lambda_provisioned_concurrency_config import LambdaProvisionedConcurrencyConfig
from constructs import Construct

from . import naming, permissions
from .function_code import FunctionArchive
from .log_levels import LambdaLogLevels
from .monitoring import AlarmProps, AlarmSpec, metric_alarm
from .tagging import component_tags
from .terraform_values import choose, instances, is_expression, is_positive, text, times

ALIAS_NAME = naming.ALIAS_NAME


@dataclass(frozen=True)
class FunctionProps:
    """What one function is: its name, runtime, sizing, environment variables and alarm threshold.

    ``reserved_concurrency=None`` leaves it on the account's unreserved pool;
    ``provisioned_concurrency=0`` means no warm instances; ``layers`` empty means none;
    ``kms_key_arn`` None leaves the log group and environment variables on AWS-managed keys;
    ``codedeploy_owns_alias`` leaves the alias's version to CodeDeploy (:mod:`.release`).
    """

    name: str
    component: str
    description: str
    runtime: str
    architecture: str
    memory_mb: int
    timeout_s: int
    reserved_concurrency: int | None
    provisioned_concurrency: int
    log_retention_days: int
    environment: Mapping[str, str]
    duration_alarm_fraction: float
    log_levels: LambdaLogLevels
    layers: Sequence[str] = ()
    kms_key_arn: str | None = None
    codedeploy_owns_alias: bool = False


class PipelineFunction(Construct):
    """A Lambda function with everything it needs to run safely.

    Creates its own IAM role whose policy allows exactly: the ``inbound`` grants
    (what feeds it), writing its log streams, uploading X-Ray traces, then the
    ``outbound`` grants (where it writes), each scoped to one ARN.  The log
    group, with retention, exists before the function, so Lambda never creates
    an unmanaged one.  The function (arm64, current Python, small memory, active
    tracing, JSON logs) is published and reached through the alias ``live``;
    provisioned concurrency, when asked for, sits on that alias.  Alarms watch errors, throttles and p99
    duration against the timeout.  What feeds it is wired by
    :class:`modules.queue_to_function.QueueToFunction`.
    """

    def __init__(
        self, scope: Construct, id_: str, *,
        props: FunctionProps,
        archive: FunctionArchive,
        inbound: Sequence[permissions.Statement],
        outbound: Sequence[permissions.Statement],
        alarms: AlarmProps,
    ) -> None:
        super().__init__(scope, id_)
        self.function_name = props.name
        tags = component_tags(props.component)

        self.log_group = CloudwatchLogGroup(
            self, "log-group",
            name=f"/aws/lambda/{self.function_name}",
            retention_in_days=props.log_retention_days,
            kms_key_id=props.kms_key_arn,
            tags=tags,
        )

        self.statements: tuple[permissions.Statement, ...] = (
            *inbound,
            permissions.write_logs("WriteOwnLogStreams", self.log_group.arn),
            permissions.upload_traces("UploadTraces"),
            *outbound,
        )
        assume = DataAwsIamPolicyDocument(
            self, "assume-role-document",
            statement=[permissions.service_principal_statement("LambdaAssumeRole", "lambda.amazonaws.com")],
        )
        self.role = IamRole(
            self, "role",
            name=f"{self.function_name}-role",
            assume_role_policy=assume.json,
            tags=tags,
        )
        granted = [s for s in self.statements if not is_expression(s.when) and s.when]
        policy_document = DataAwsIamPolicyDocument(
            self, "policy-document",
            statement=[s.to_document_statement() for s in granted],
            source_policy_documents=self._conditional_documents(),
        )
        self.role_policy = IamRolePolicy(
            self, "role-policy",
            name=f"{self.function_name}-least-privilege",
            role=self.role.id,
            policy=policy_document.json,
        )

        code = TerraformAsset(self, "code", path=str(archive.path), type=AssetType.FILE)
        self.function = LambdaFunction(
            self, "function",
            function_name=self.function_name,
            description=props.description,
            role=self.role.arn,
            handler=archive.handler,
            runtime=props.runtime,
            architectures=[props.architecture],
            # A local archive: the provider creates functions given by `filename` one at a time (a global
            # lock held through its 5 s wait for the Active state, hashicorp/terraform#9364), so three
            # functions finish 5, 10 and 15 s after they start. Code in S3 (s3_bucket/s3_key) would lift
            # the lock, at the cost of a code bucket in every environment.
            filename=code.path,
            source_code_hash=archive.sha256_base64,
            memory_size=props.memory_mb,
            timeout=props.timeout_s,
            reserved_concurrent_executions=props.reserved_concurrency,
            publish=True,
            layers=list(props.layers) or None,
            environment=LambdaFunctionEnvironment(variables=dict(props.environment)),
            kms_key_arn=props.kms_key_arn,
            tracing_config=LambdaFunctionTracingConfig(mode="Active"),
            # Lambda sets AWS_LAMBDA_LOG_LEVEL from application_log_level, and Powertools prefers it to
            # POWERTOOLS_LOG_LEVEL: https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html
            logging_config=LambdaFunctionLoggingConfig(
                log_format="JSON", log_group=self.log_group.name,
                application_log_level=props.log_levels.application, system_log_level=props.log_levels.system,
            ),
            # The log group must exist first, or Lambda creates one without retention
            # (terraform-aws-modules/terraform-aws-lambda#342); the policy first, or the first
            # invocation has no rights.
            depends_on=[self.log_group, self.role_policy],
            tags=tags,
        )
        # While provisioned concurrency warms a new version, AWS shifts the alias gradually and stores
        # transient routing weights on it, which provider 5.100 reads back as drift on the next plan
        # (fixed upstream only in hashicorp/terraform-provider-aws#48116, a later provider). The
        # project never sets weights, so Terraform has nothing to own in routing_config.
        ignored = ["routing_config"]
        if props.codedeploy_owns_alias:
            # CodeDeploy moves the alias (python -m tools release): Terraform still publishes each new version
            # (the plan shows it) but never points the alias at it, or an apply would undo a release in
            # progress and send every record to code no alarm has watched yet.
            ignored.append("function_version")
        self.alias = LambdaAlias(
            self, "alias",
            name=ALIAS_NAME,
            function_name=self.function.function_name,
            function_version=self.function.version,
            lifecycle=TerraformResourceLifecycle(ignore_changes=ignored),
        )
        self.provisioned_concurrency = None
        warm, count = instances(is_positive(props.provisioned_concurrency))
        if warm:
            # Provisioned concurrency needs a published version or alias
            # (hashicorp/terraform-provider-aws#12120); invocations must reach that alias to use it.
            # It stays on the alias through a CodeDeploy release: while the alias routes by weight, Lambda
            # splits the warm instances between the two versions by weight, and AWS advises more of them
            # for that time to avoid spillover to cold ones ("If your function uses provisioned concurrency,
            # you can avoid spillover invocations by configuring a higher number of provisioned concurrency
            # instances during the time that alias routing is active":
            # https://docs.aws.amazon.com/lambda/latest/dg/configuring-alias-routing.html, and
            # https://docs.aws.amazon.com/lambda/latest/dg/provisioned-concurrency.html). CodeDeploy reads
            # the allocation (lambda:GetProvisionedConcurrencyConfig) to wait until the new version is warm.
            self.provisioned_concurrency = LambdaProvisionedConcurrencyConfig(
                self, "provisioned-concurrency",
                function_name=self.function.function_name,
                qualifier=self.alias.name,
                provisioned_concurrent_executions=props.provisioned_concurrency,
                count=count,
            )
        self._alarms(props, alarms)

    def _conditional_documents(self) -> list[str] | None:
        """One document per statement granted under a Terraform expression, merged into the role's policy
        document (``source_policy_documents``) only when that expression holds (None: there is none)."""
        documents = []
        for statement in self.statements:
            if not is_expression(statement.when):
                continue
            document = DataAwsIamPolicyDocument(
                self, f"policy-document-{statement.sid}", statement=[statement.to_document_statement()])
            documents.append(choose(statement.when, [document.json], []))
        if not documents:
            return None
        return documents[0] if len(documents) == 1 else Token.as_list(Fn.concat(documents))

    def _alarms(self, props: FunctionProps, alarms: AlarmProps) -> None:
        dimensions = {"FunctionName": self.function_name}
        duration_limit_ms = times(times(props.timeout_s, 1000), props.duration_alarm_fraction)
        specs = {
            "errors-alarm": AlarmSpec(
                name=f"{self.function_name}-errors",
                description=f"{self.function_name} raised errors: whole batches are being retried.",
                runbook_entry="function-errors",
                namespace="AWS/Lambda", metric="Errors", dimensions=dimensions, threshold=0,
            ),
            "throttles-alarm": AlarmSpec(
                name=f"{self.function_name}-throttles",
                description=f"{self.function_name} was throttled: raise reserved concurrency or lower the "
                            "event source's maximum concurrency.",
                runbook_entry="function-throttles",
                namespace="AWS/Lambda", metric="Throttles", dimensions=dimensions, threshold=0,
            ),
            "duration-alarm": AlarmSpec(
                name=f"{self.function_name}-p99-duration",
                description=f"{self.function_name} p99 duration is above "
                            f"{props.duration_alarm_fraction:.0%} of its {text(props.timeout_s)} s timeout.",
                runbook_entry="function-p99-duration",
                namespace="AWS/Lambda", metric="Duration", dimensions=dimensions,
                threshold=duration_limit_ms, statistic=None, extended_statistic="p99", evaluation_periods=3,
            ),
        }
        #: Each alarm by construct id (``errors-alarm``, ``throttles-alarm``, ``duration-alarm``).
        self.alarms = {id_: metric_alarm(self, id_, spec, alarms=alarms, component=props.component)
                       for id_, spec in specs.items()}

    @property
    def arn(self) -> str:
        return self.function.arn
