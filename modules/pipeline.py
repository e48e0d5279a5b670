"""One environment's pipeline as one construct: queues, functions, table, key and monitoring, wired stage by stage.

:class:`TapPipeline` fits into any stack: it creates no provider and no backend, which stay the stack's.
:class:`PipelineResources` is its body, so that this repository's own stacks
(:class:`.pipeline_stack.PipelineStack`) build exactly the same resources directly under the stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import jsii
from cdktf import Aspects, TerraformStack, Token
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct, IValidation

from . import naming, permissions
from .emulator_compat import EmulatorCompatibility
from .encryption import KeyProps, PipelineKey
from .function import FunctionProps, PipelineFunction
from .function_code import build_archive, handler_constant
from .log_levels import lambda_log_levels
from .monitoring import AlarmProps, AlarmTopic, AlarmTopicProps, DashboardProps, PipelineDashboard, StageView
from .powertools_layer import PowertoolsLayer
from .queue import QueueWithDeadLetter, TerminalQueue, TerminalQueueProps
from .queue_to_function import EventSourceProps, QueueToFunction
from .release import CodeDeployReleases, ReleasedFunction, ReleaseProps
from .settings import EnvironmentSettings
from .table import DataTable, TableProps
from .tagging import ResourceTags
from .terraform_values import choose, is_expression

# The handlers fall back to this namespace when the variable is missing; the pipeline sets the same one.
METRICS_NAMESPACE = handler_constant("DEFAULT_METRICS_NAMESPACE")


@dataclass(frozen=True)
class _StageWiring:
    stage: str
    source_queue: str
    output_queue: str | None


# ingest -> validator -> enrich -> enricher -> process -> processor -> table
_STAGES = (
    _StageWiring("validator", naming.SOURCE_QUEUES["validator"], naming.SOURCE_QUEUES["enricher"]),
    _StageWiring("enricher", naming.SOURCE_QUEUES["enricher"], naming.SOURCE_QUEUES["processor"]),
    _StageWiring("processor", naming.SOURCE_QUEUES["processor"], None),
)


class PipelineResources:
    """The resources of one environment's pipeline, created as children of ``self`` (a construct or a stack).

    validator -> enricher -> processor, each fed by its own queue with a DLQ, storing into the table; every
    alarm notifies one SNS topic encrypted with the environment's customer-managed key, which with
    ``customer_managed_encryption`` also encrypts the table, the queues, the log groups and the functions'
    environment; one dashboard shows the environment. With ``prevent_destroy`` Terraform refuses any plan
    that deletes a resource holding data; with ``emulator`` :class:`.EmulatorCompatibility` adapts every
    resource below ``self`` (and the provider, when ``self`` is the stack).
    """

    settings: EnvironmentSettings
    key: PipelineKey
    alarm_topic: AlarmTopic
    rejects: TerminalQueue
    table: DataTable
    dashboard: PipelineDashboard
    #: The queue that feeds each stage, by queue name (``ingest``, ``enrich``, ``process``), in pipeline order.
    queues: dict[str, QueueWithDeadLetter]
    #: Each stage's function, by stage (``validator``, ``enricher``, ``processor``), in pipeline order.
    functions: dict[str, PipelineFunction]
    #: CodeDeploy's application and deployment groups, where ``settings.release.codedeploy`` asks for them.
    releases: CodeDeployReleases | None

    def _build_pipeline(self, settings: EnvironmentSettings) -> None:
        scope: Construct = self  # type: ignore[assignment]  # the mixin is only used on constructs
        self.settings = settings
        if settings.emulator:
            Aspects.of(scope).add(EmulatorCompatibility())

        encrypt_data = settings.customer_managed_encryption
        self.key = PipelineKey(scope, "key", props=KeyProps(
            name=settings.resource_name(naming.KEY),
            account_id=settings.account_id,
            region=settings.region,
            deletion_window_days=settings.kms_deletion_window_days,
            log_group_names=[f"/aws/lambda/{settings.resource_name(w.stage)}" for w in _STAGES],
            logs_encrypted=encrypt_data,
        ))
        # The key for data at rest (None: each service's AWS-managed or AWS-owned key). In the generated module
        # the choice is a variable's: then both are Terraform expressions, the ARN null where it is off.
        self.data_key_arn = choose(encrypt_data, self.key.arn, None)
        self.data_key_enabled = encrypt_data if is_expression(encrypt_data) else None
        self.layers = (PowertoolsLayer(scope, "powertools-layer", runtime=settings.python_runtime,
                                       architecture=settings.architecture).arn,) if settings.powertools_layer else ()
        self.alarm_topic = AlarmTopic(scope, "alarm-topic", props=AlarmTopicProps(
            name=settings.resource_name(naming.ALARM_TOPIC),
            kms_key_arn=self.key.arn,
            email=settings.monitoring.alarm_email,
            https_endpoint=settings.monitoring.alarm_https_endpoint,
        ))
        alarms = AlarmProps(topic_arn=self.alarm_topic.arn, period_s=settings.monitoring.alarm_period_s)
        self.rejects = TerminalQueue(scope, "rejects-queue", props=TerminalQueueProps(
            name=settings.resource_name(naming.REJECTS_QUEUE),
            component="validator",
            retention_s=settings.dlq_retention_s,
            purpose="records that failed validation, each with its reason in message attributes",
            account_id=settings.account_id,
            kms_key_arn=self.data_key_arn,
            kms_key_enabled=self.data_key_enabled,
        ), alarms=alarms)
        table = settings.table
        self.table = DataTable(scope, "data-table", props=TableProps(
            name=settings.resource_name(naming.TABLE),
            billing_mode=table.billing_mode,
            read_autoscaling=table.read_autoscaling,
            write_autoscaling=table.write_autoscaling,
            deletion_protection=table.deletion_protection,
            point_in_time_recovery=table.point_in_time_recovery,
            kms_key_arn=self.data_key_arn,
        ), alarms=alarms)

        # Built from the table backwards, so that each stage's output queue exists before its producer.
        self.queues = {}
        self.functions = {}
        for wiring in reversed(_STAGES):
            environment, outbound = self._outputs_of(wiring)
            pattern = QueueToFunction(
                scope,
                queue_id=f"{wiring.source_queue}-queue",
                queue_name=settings.resource_name(wiring.source_queue),
                function_id=wiring.stage,
                function=self._function_props(wiring.stage, environment),
                event_source=self._event_source_props(wiring.stage),
                archive=build_archive(wiring.stage),
                outbound=outbound,
                alarms=alarms,
                account_id=settings.account_id,
                kms_key_arn=self.data_key_arn,
                kms_key_enabled=self.data_key_enabled,
            )
            self.queues[wiring.source_queue] = pattern.queue
            self.functions[wiring.stage] = pattern.function
        self.queues = {w.source_queue: self.queues[w.source_queue] for w in _STAGES}
        self.functions = {w.stage: self.functions[w.stage] for w in _STAGES}
        self.releases = self._releases()

        self.dashboard = PipelineDashboard(scope, "dashboard", props=DashboardProps(
            name=settings.resource_name(naming.DASHBOARD),
            region=settings.region,
            stages=[
                StageView(
                    stage=w.stage,
                    function_name=self.functions[w.stage].function_name,
                    queue_name=self.queues[w.source_queue].name,
                    dlq_name=self.queues[w.source_queue].dlq.name,
                )
                for w in _STAGES
            ],
            table_name=self.table.name,
            rejects_queue=self.rejects.name,
        ))
        if settings.prevent_destroy:
            self._prevent_destroy()

    def _releases(self) -> CodeDeployReleases | None:
        """CodeDeploy's deployment group for every stage it releases, each rolled back by the function's error and
        throttle alarms and by new arrivals in the stage's dead-letter queue (the depth alarm would not do: it
        stays in ALARM while old records wait there, and would stop every release)."""
        released = [
            ReleasedFunction(w.stage, self.functions[w.stage], (
                self.functions[w.stage].alarms["errors-alarm"],
                self.functions[w.stage].alarms["throttles-alarm"],
                self.queues[w.source_queue].dlq.arrivals_alarm,
            ))
            for w in _STAGES if self.settings.released_by_codedeploy(w.stage)
        ]
        if not released:
            return None
        scope: Construct = self  # type: ignore[assignment]
        return CodeDeployReleases(scope, "releases", props=ReleaseProps(
            name=self.settings.resource_name(naming.RELEASES), settings=self.settings.release,
            account_id=self.settings.account_id), functions=released)

    def _prevent_destroy(self) -> None:
        """Make Terraform refuse any plan that deletes a resource holding data, before it deletes anything.

        Deletion protection on the table alone stops a destroy half-way, after the queues and their
        messages are gone; a plan that would destroy a resource with ``prevent_destroy`` fails as a whole.
        https://developer.hashicorp.com/terraform/language/meta-arguments/lifecycle#prevent_destroy
        """
        holding_data = [self.table.table, self.rejects.queue, *(q.dlq.queue for q in self.queues.values())]
        for resource in holding_data:
            resource.add_override("lifecycle.prevent_destroy", True)

    def _function_props(self, stage: str, environment: dict[str, str]) -> FunctionProps:
        settings = self.settings
        function = settings.functions[stage]
        return FunctionProps(
            name=settings.resource_name(stage),
            component=stage,
            description=f"tap-pipeline {stage} stage ({settings.suffix})",
            runtime=settings.python_runtime,
            architecture=settings.architecture,
            memory_mb=function.memory_mb,
            timeout_s=function.timeout_s,
            reserved_concurrency=function.reserved_concurrency,
            provisioned_concurrency=function.provisioned_concurrency,
            log_retention_days=settings.log_retention_days,
            environment={
                "ENVIRONMENT": settings.suffix,
                "PIPELINE_VERSION": settings.pipeline_version,
                "POWERTOOLS_SERVICE_NAME": stage,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": settings.log_level,
                **environment,
            },
            duration_alarm_fraction=settings.monitoring.duration_alarm_fraction,
            log_levels=lambda_log_levels(settings.log_level),
            layers=self.layers,
            kms_key_arn=self.data_key_arn,
            codedeploy_owns_alias=settings.released_by_codedeploy(stage),
        )

    def _event_source_props(self, stage: str) -> EventSourceProps:
        settings = self.settings
        function = settings.functions[stage]
        return EventSourceProps(
            batch_size=function.batch_size,
            batching_window_s=function.batching_window_s,
            max_concurrency=function.max_concurrency,
            max_receive_count=function.max_receive_count,
            retention_s=settings.queue_retention_s,
            dlq_retention_s=settings.dlq_retention_s,
            oldest_message_age_threshold_s=settings.monitoring.oldest_message_age_threshold_s,
        )

    def _outputs_of(self, wiring: _StageWiring) -> tuple[dict[str, str], list[permissions.Statement]]:
        """Where a stage sends its results, as environment variables and the grants that go with them.

        With customer-managed encryption every stage also reads its queue and writes its output through
        the key, so each role may use that one key.
        """
        if self.data_key_enabled is not None:
            key_use = [self.key.use_statement("UseDataKey", when=self.data_key_enabled)]
        else:
            key_use = [self.key.use_statement("UseDataKey")] if self.data_key_arn else []
        if wiring.output_queue is None:
            return (
                {"TABLE_NAME": self.table.table.name},
                [permissions.write_table("WriteRecordsTable", self.table.arn), *key_use],
            )
        output = self.queues[wiring.output_queue]
        environment = {"OUTPUT_QUEUE_URL": output.url}
        statements = [permissions.send_to_queue("SendToOutputQueue", output.arn)]
        if wiring.stage == "validator":
            environment["REJECTS_QUEUE_URL"] = self.rejects.url
            statements.append(permissions.send_to_queue("SendToRejectsQueue", self.rejects.arn))
        return environment, [*statements, *key_use]

    # ------------------------------------------------------------------------------------------- attributes
    @property
    def table_name(self) -> str:
        return self.table.name

    @property
    def table_arn(self) -> str:
        return self.table.arn

    @property
    def ingest_queue_url(self) -> str:
        """Where producers send records (``SendMessage``)."""
        return self.queues[naming.SOURCE_QUEUES["validator"]].url

    @property
    def ingest_queue_arn(self) -> str:
        return self.queues[naming.SOURCE_QUEUES["validator"]].arn

    @property
    def alarm_topic_arn(self) -> str:
        return self.alarm_topic.arn

    @property
    def key_arn(self) -> str:
        """The environment's customer-managed KMS key (alarm topic; data at rest with customer_managed_encryption)."""
        return self.key.arn

    @property
    def dashboard_name(self) -> str:
        return self.dashboard.dashboard.dashboard_name

    def output_values(self) -> Mapping[str, str]:
        """Every attribute worth an output, named ``<thing>_<attribute>`` as terraform-aws-modules name theirs.

        In pipeline order: the table, each stage's function (its unqualified ARN, name, and the ARN of the
        alias ``live`` that its queue invokes), each stage's queue and dead-letter queue, the rejects queue,
        the alarm topic, the key and the dashboard.
        """
        values: dict[str, str] = {"table_name": self.table_name, "table_arn": self.table_arn}
        for stage, function in self.functions.items():
            values[f"{stage}_function_arn"] = function.arn
            values[f"{stage}_function_name"] = function.function.function_name
            values[f"{stage}_alias_arn"] = function.alias.arn
        for name, queue in self.queues.items():
            values[f"{name}_queue_url"] = queue.url
            values[f"{name}_queue_arn"] = queue.arn
            values[f"{name}_dlq_url"] = queue.dlq.url
            values[f"{name}_dlq_arn"] = queue.dlq.arn
        values["rejects_queue_url"] = self.rejects.url
        values["rejects_queue_arn"] = self.rejects.arn
        values["alarm_topic_arn"] = self.alarm_topic_arn
        values["key_arn"] = self.key_arn
        values["dashboard_name"] = self.dashboard_name
        return values


class TapPipeline(Construct, PipelineResources):
    """One environment's whole pipeline, for any stack: everything but the provider and the backend.

    ``settings`` are the typed, validated :class:`.settings.EnvironmentSettings` (their defaults are the
    library's secure, cheap choices; invalid settings never reach this point). The stack brings an AWS
    provider whose region and account are ``settings.region`` and ``settings.account_id`` (the key policy and
    the dashboard name them), and its own backend; ``settings.backend`` is not read here. Every taggable
    resource carries ``settings.tags`` (:class:`.tagging.ResourceTags`), whatever the provider's default tags;
    with ``prevent_destroy`` and ``emulator`` it guarantees what the repository's stacks get. Every AWS name is
    ``<project>-<thing>-<suffix>`` (:mod:`.naming`), so two pipelines share a stack only with different
    suffixes or projects. Attributes for outputs: :meth:`output_values`, or ``table_arn``, ``ingest_queue_url``
    and the others.

    The repository's own stacks build the same resources directly under the stack
    (:class:`.pipeline_stack.PipelineStack`); created with the id ``Default``, which cdktf leaves out of
    logical ids, this construct gives every resource the Terraform address it has there.
    """

    def __init__(self, scope: Construct, id_: str, *, settings: EnvironmentSettings) -> None:
        if not isinstance(settings, EnvironmentSettings):
            raise TypeError(f"settings must be an EnvironmentSettings, not {type(settings).__name__}")
        super().__init__(scope, id_)
        self._build_pipeline(settings)
        Aspects.of(self).add(ResourceTags(settings.tags))
        self.node.add_validation(_ProviderMatchesSettings(self, settings))


@jsii.implements(IValidation)
class _ProviderMatchesSettings:
    """At synthesis (cdktf validates every construct first): the stack's default AWS provider deploys where the
    settings say, since the key policy and the dashboard name ``settings.region`` and ``settings.account_id``."""

    def __init__(self, pipeline: Construct, settings: EnvironmentSettings) -> None:
        self.pipeline = pipeline
        self.settings = settings

    def validate(self) -> list[str]:
        problems = []
        stack = TerraformStack.of(self.pipeline)
        for provider in stack.node.find_all():
            if not isinstance(provider, AwsProvider) or provider.alias is not None:
                continue
            region, allowed = provider.region, provider.allowed_account_ids
            if isinstance(region, str) and not Token.is_unresolved(region) and region != self.settings.region:
                problems.append(f"the stack's AWS provider deploys to {region}, but settings.region is "
                                f"{self.settings.region}: set one to the other")
            if allowed and not Token.is_unresolved(allowed) and self.settings.account_id not in allowed:
                problems.append(f"the stack's AWS provider allows the accounts {', '.join(allowed)}, but "
                                f"settings.account_id is {self.settings.account_id}")
        return problems
