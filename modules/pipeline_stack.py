"""One environment's pipeline: queues, functions, table and monitoring, wired stage by stage."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cdktf import Aspects, TerraformOutput, TerraformStack
from constructs import Construct

from . import naming, permissions
from .emulator_compat import EmulatorCompatibility
from .encryption import KeyProps, PipelineKey
from .function import FunctionProps, PipelineFunction
from .function_code import build_archive, handler_constant
from .log_levels import lambda_log_levels
from .monitoring import AlarmProps, AlarmTopic, AlarmTopicProps, DashboardProps, PipelineDashboard, StageView
from .powertools_layer import PowertoolsLayer
from .provider import aws_provider
from .queue import QueueWithDeadLetter, TerminalQueue, TerminalQueueProps
from .queue_to_function import EventSourceProps, QueueToFunction
from .settings import EnvironmentSettings
from .state_backend import configure_backend
from .table import DataTable, TableProps

# The handlers fall back to this namespace when the variable is missing; the stack sets the same one.
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


class PipelineStack(TerraformStack):
    """validator -> enricher -> processor, each fed by its own queue with a DLQ, storing into the table.

    State lives in the S3 backend (local disk on the emulator); every alarm
    notifies one SNS topic encrypted with the environment's customer-managed key,
    which with ``customer_managed_encryption`` also encrypts the table, the queues,
    the log groups and the functions' environment; one dashboard shows the environment.
    On the emulator, :class:`EmulatorCompatibility` adapts the finished stack.
    """

    def __init__(self, scope: Construct, id_: str, *, settings: EnvironmentSettings, local_state_dir: Path) -> None:
        super().__init__(scope, id_)
        self.settings = settings
        configure_backend(self, settings, local_state_dir)
        s3_backed = settings.backend.kind == "s3"
        aws_provider(self, region=settings.region, tags=settings.tags,
                     allowed_account_ids=[settings.account_id] if s3_backed else None)
        if settings.emulator:
            Aspects.of(self).add(EmulatorCompatibility())

        encrypt_data = settings.customer_managed_encryption
        self.key = PipelineKey(self, "key", props=KeyProps(
            name=settings.resource_name(naming.KEY),
            account_id=settings.account_id,
            region=settings.region,
            deletion_window_days=settings.kms_deletion_window_days,
            log_group_names=[f"/aws/lambda/{settings.resource_name(w.stage)}" for w in _STAGES] if encrypt_data
            else (),
        ))
        # The key for data at rest (None: each service's AWS-managed or AWS-owned key).
        self.data_key_arn = self.key.arn if encrypt_data else None
        self.layers = (PowertoolsLayer(self, "powertools-layer", runtime=settings.python_runtime,
                                       architecture=settings.architecture).arn,) if settings.powertools_layer else ()
        self.alarm_topic = AlarmTopic(self, "alarm-topic", props=AlarmTopicProps(
            name=settings.resource_name(naming.ALARM_TOPIC),
            kms_key_arn=self.key.arn,
            email=settings.monitoring.alarm_email,
            https_endpoint=settings.monitoring.alarm_https_endpoint,
        ))
        alarms = AlarmProps(topic_arn=self.alarm_topic.arn, period_s=settings.monitoring.alarm_period_s)
        self.rejects = TerminalQueue(self, "rejects-queue", props=TerminalQueueProps(
            name=settings.resource_name(naming.REJECTS_QUEUE),
            component="validator",
            retention_s=settings.dlq_retention_s,
            purpose="records that failed validation, each with its reason in message attributes",
            account_id=settings.account_id,
            kms_key_arn=self.data_key_arn,
        ), alarms=alarms)
        table = settings.table
        self.table = DataTable(self, "data-table", props=TableProps(
            name=settings.resource_name(naming.TABLE),
            billing_mode=table.billing_mode,
            read_autoscaling=table.read_autoscaling,
            write_autoscaling=table.write_autoscaling,
            deletion_protection=table.deletion_protection,
            point_in_time_recovery=table.point_in_time_recovery,
            kms_key_arn=self.data_key_arn,
        ), alarms=alarms)

        # Built from the table backwards, so that each stage's output queue exists before its producer.
        self.queues: dict[str, QueueWithDeadLetter] = {}
        self.functions: dict[str, PipelineFunction] = {}
        for wiring in reversed(_STAGES):
            environment, outbound = self._outputs_of(wiring)
            pattern = QueueToFunction(
                self,
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
            )
            self.queues[wiring.source_queue] = pattern.queue
            self.functions[wiring.stage] = pattern.function
        self.queues = {w.source_queue: self.queues[w.source_queue] for w in _STAGES}
        self.functions = {w.stage: self.functions[w.stage] for w in _STAGES}

        PipelineDashboard(self, "dashboard", props=DashboardProps(
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
        self._outputs()

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

    def _outputs(self) -> None:
        TerraformOutput(self, "table_name", value=self.table.name)
        for stage, function in self.functions.items():
            TerraformOutput(self, f"{stage}_function_arn", value=function.arn)
        TerraformOutput(self, "ingest_queue_url", value=self.queues["ingest"].url)
        TerraformOutput(self, "rejects_queue_url", value=self.rejects.url)
        TerraformOutput(self, "alarm_topic_arn", value=self.alarm_topic.arn)
