"""The one construct every pipeline stage's Lambda function is made of."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cdktf import AssetType, TerraformAsset, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocument
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.lambda_alias import LambdaAlias
from cdktf_cdktf_provider_aws.lambda_event_source_mapping import (
    LambdaEventSourceMapping,
    LambdaEventSourceMappingScalingConfig,
)
from cdktf_cdktf_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionDeadLetterConfig,
    LambdaFunctionEnvironment,
    LambdaFunctionLoggingConfig,
    LambdaFunctionTracingConfig,
)
from cdktf_cdktf_provider_aws.lambda_provisioned_concurrency_config import LambdaProvisionedConcurrencyConfig
from constructs import Construct

from modules import permissions
from modules.function_code import FunctionArchive
from modules.monitoring import AlarmSpec, metric_alarm
from modules.queue import QueueWithDeadLetter
from modules.settings import METRICS_NAMESPACE, EnvironmentSettings, FunctionSettings
from modules.tagging import component_tags

ALIAS_NAME = "live"


class PipelineFunction(Construct):
    """A queue-fed Lambda function with everything it needs to run safely.

    Creates its own IAM role whose policy allows exactly: consuming its source
    queue, writing its log streams, sending to its own DLQ (for asynchronous
    invocations), uploading X-Ray traces, plus the ``statements`` the caller
    grants (each scoped to one ARN).  The log group, with retention, exists
    before the function, so Lambda never creates an unmanaged one.  The function
    (arm64, current Python, small memory, active tracing, JSON logs) is
    published and reached through the alias ``live``; provisioned concurrency,
    when asked for, sits on that alias, and so does the event source mapping,
    which reports partial batch failures.  Alarms watch errors, throttles and
    p99 duration against the timeout.
    """

    def __init__(
        self, scope: Construct, id_: str, *,
        settings: EnvironmentSettings,
        function: FunctionSettings,
        archive: FunctionArchive,
        source: QueueWithDeadLetter,
        environment: Mapping[str, str],
        statements: Sequence[permissions.Statement],
        alarm_topic_arn: str,
    ) -> None:
        super().__init__(scope, id_)
        if source.consumer != function:
            raise ValueError(
                f"{function.name}: its source queue {source.name} was sized for {source.consumer.name}'s settings; "
                "build the queue with consumer=<this function's settings>"
            )
        stage = function.name
        self.function_name = settings.resource_name(stage)
        tags = component_tags(stage)

        self.log_group = CloudwatchLogGroup(
            self, "log-group",
            name=f"/aws/lambda/{self.function_name}",
            retention_in_days=settings.log_retention_days,
            tags=tags,
        )

        self.statements: tuple[permissions.Statement, ...] = (
            permissions.consume_queue("ConsumeSourceQueue", source.arn),
            permissions.send_to_queue("SendToOwnDeadLetterQueue", source.dlq.arn),
            permissions.write_logs("WriteOwnLogStreams", self.log_group.arn),
            permissions.upload_traces("UploadTraces"),
            *statements,
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
        policy_document = DataAwsIamPolicyDocument(
            self, "policy-document",
            statement=[s.to_document_statement() for s in self.statements],
        )
        self.role_policy = IamRolePolicy(
            self, "role-policy",
            name=f"{self.function_name}-least-privilege",
            role=self.role.id,
            policy=policy_document.json,
        )

        code = TerraformAsset(self, "code", path=str(archive.path), type=AssetType.FILE)
        layer = settings.powertools_layer
        self.function = LambdaFunction(
            self, "function",
            function_name=self.function_name,
            description=f"tap-pipeline {stage} stage ({settings.suffix})",
            role=self.role.arn,
            handler=archive.handler,
            runtime=settings.python_runtime,
            architectures=[settings.architecture],
            filename=code.path,
            source_code_hash=archive.sha256_base64,
            memory_size=function.memory_mb,
            timeout=function.timeout_s,
            reserved_concurrent_executions=function.reserved_concurrency,
            publish=True,
            layers=[layer.arn(settings.region, settings.python_runtime, settings.architecture)] if layer else None,
            environment=LambdaFunctionEnvironment(variables={
                "ENVIRONMENT": settings.suffix,
                "PIPELINE_VERSION": settings.pipeline_version,
                "POWERTOOLS_SERVICE_NAME": stage,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": settings.log_level,
                **environment,
            }),
            tracing_config=LambdaFunctionTracingConfig(mode="Active"),
            logging_config=LambdaFunctionLoggingConfig(log_format="JSON", log_group=self.log_group.name),
            dead_letter_config=LambdaFunctionDeadLetterConfig(target_arn=source.dlq.arn),
            # The log group must exist first, or Lambda creates one without retention
            # (DESIGN pitfall 9); the policy first, or the first invocation has no rights.
            depends_on=[self.log_group, self.role_policy],
            # The emulator stores neither block and would show a change (and a new version) on every plan.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["logging_config", "dead_letter_config"])
            if settings.emulator else None,
            tags=tags,
        )
        self.alias = LambdaAlias(
            self, "alias",
            name=ALIAS_NAME,
            function_name=self.function.function_name,
            function_version=self.function.version,
        )
        self.provisioned_concurrency = None
        if function.provisioned_concurrency:
            self.provisioned_concurrency = LambdaProvisionedConcurrencyConfig(
                self, "provisioned-concurrency",
                function_name=self.function.function_name,
                qualifier=self.alias.name,
                provisioned_concurrent_executions=function.provisioned_concurrency,
            )
        self.event_source = LambdaEventSourceMapping(
            self, "event-source",
            event_source_arn=source.arn,
            function_name=self.alias.arn,
            batch_size=function.batch_size,
            maximum_batching_window_in_seconds=function.batching_window_s,
            function_response_types=["ReportBatchItemFailures"],
            scaling_config=LambdaEventSourceMappingScalingConfig(maximum_concurrency=function.max_concurrency),
            enabled=settings.event_sources_enabled,
            # AWS checks the role's SQS rights when the mapping is created (DESIGN pitfall 9b).
            depends_on=[self.role_policy],
            # The emulator reports the version ARN behind the alias instead of the alias ARN.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["function_name"]) if settings.emulator else None,
            tags=tags,
        )
        self._alarms(settings, function, stage, alarm_topic_arn)

    def _alarms(self, settings: EnvironmentSettings, function: FunctionSettings, stage: str, topic_arn: str) -> None:
        dimensions = {"FunctionName": self.function_name}
        duration_limit_ms = function.timeout_s * 1000 * settings.monitoring.duration_alarm_fraction
        specs = {
            "errors-alarm": AlarmSpec(
                name=f"{self.function_name}-errors",
                description=f"{self.function_name} raised errors: whole batches are being retried.",
                namespace="AWS/Lambda", metric="Errors", dimensions=dimensions, threshold=0,
            ),
            "throttles-alarm": AlarmSpec(
                name=f"{self.function_name}-throttles",
                description=f"{self.function_name} was throttled: raise reserved concurrency or lower the "
                            "event source's maximum concurrency.",
                namespace="AWS/Lambda", metric="Throttles", dimensions=dimensions, threshold=0,
            ),
            "duration-alarm": AlarmSpec(
                name=f"{self.function_name}-p99-duration",
                description=f"{self.function_name} p99 duration is above "
                            f"{settings.monitoring.duration_alarm_fraction:.0%} of its {function.timeout_s} s timeout.",
                namespace="AWS/Lambda", metric="Duration", dimensions=dimensions,
                threshold=duration_limit_ms, statistic=None, extended_statistic="p99", evaluation_periods=3,
            ),
        }
        for id_, spec in specs.items():
            metric_alarm(self, id_, spec, topic_arn=topic_arn, period_s=settings.monitoring.alarm_period_s,
                         component=stage)

    @property
    def arn(self) -> str:
        return self.function.arn
