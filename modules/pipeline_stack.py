"""One environment's pipeline: queues, functions, table and monitoring, wired as in DESIGN.md."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cdktf import TerraformOutput, TerraformStack
from constructs import Construct

from modules import permissions
from modules.function import PipelineFunction
from modules.function_code import build_archive
from modules.monitoring import AlarmTopic, PipelineDashboard, StageView
from modules.provider import aws_provider
from modules.queue import QueueWithDeadLetter, TerminalQueue
from modules.settings import EnvironmentSettings
from modules.state_backend import configure_backend
from modules.table import DataTable


@dataclass(frozen=True)
class _StageWiring:
    stage: str
    source_queue: str
    output_queue: str | None


# ingest -> validator -> enrich -> enricher -> process -> processor -> table
_STAGES = (
    _StageWiring("validator", "ingest", "enrich"),
    _StageWiring("enricher", "enrich", "process"),
    _StageWiring("processor", "process", None),
)


class PipelineStack(TerraformStack):
    """validator -> enricher -> processor, each fed by its own queue with a DLQ, storing into the table.

    State lives in the S3 backend (local disk on the emulator); every alarm
    notifies one encrypted SNS topic; one dashboard shows the environment.
    """

    def __init__(self, scope: Construct, id_: str, *, settings: EnvironmentSettings, local_state_dir: Path) -> None:
        super().__init__(scope, id_)
        self.settings = settings
        configure_backend(self, settings, local_state_dir)
        aws_provider(self, region=settings.region, tags=settings.tags, emulator=settings.emulator)

        self.alarm_topic = AlarmTopic(self, "alarm-topic", settings=settings)
        topic_arn = self.alarm_topic.arn
        self.queues = {
            wiring.source_queue: QueueWithDeadLetter(
                self, f"{wiring.source_queue}-queue",
                settings=settings,
                name=settings.resource_name(wiring.source_queue),
                consumer=settings.functions[wiring.stage],
                component=wiring.stage,
                alarm_topic_arn=topic_arn,
            )
            for wiring in _STAGES
        }
        self.rejects = TerminalQueue(
            self, "rejects-queue",
            settings=settings,
            name=settings.resource_name("rejects"),
            component="validator",
            alarm_topic_arn=topic_arn,
            purpose="records that failed validation, each with its reason in message attributes",
        )
        self.table = DataTable(self, "data-table", settings=settings, alarm_topic_arn=topic_arn)

        self.functions: dict[str, PipelineFunction] = {}
        for wiring in _STAGES:
            environment, statements = self._outputs_of(wiring)
            self.functions[wiring.stage] = PipelineFunction(
                self, wiring.stage,
                settings=settings,
                function=settings.functions[wiring.stage],
                archive=build_archive(wiring.stage),
                source=self.queues[wiring.source_queue],
                environment=environment,
                statements=statements,
                alarm_topic_arn=topic_arn,
            )

        PipelineDashboard(
            self, "dashboard",
            settings=settings,
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
        )
        self._outputs()

    def _outputs_of(self, wiring: _StageWiring) -> tuple[dict[str, str], list[permissions.Statement]]:
        """Where a stage sends its results, as environment variables and the grants that go with them."""
        if wiring.output_queue is None:
            return (
                {"TABLE_NAME": self.table.table.name},
                [permissions.write_table("WriteRecordsTable", self.table.arn)],
            )
        output = self.queues[wiring.output_queue]
        environment = {"OUTPUT_QUEUE_URL": output.url}
        statements = [permissions.send_to_queue("SendToOutputQueue", output.arn)]
        if wiring.stage == "validator":
            environment["REJECTS_QUEUE_URL"] = self.rejects.url
            statements.append(permissions.send_to_queue("SendToRejectsQueue", self.rejects.arn))
        return environment, statements

    def _outputs(self) -> None:
        TerraformOutput(self, "table_name", value=self.table.name)
        for stage, function in self.functions.items():
            TerraformOutput(self, f"{stage}_function_arn", value=function.arn)
        TerraformOutput(self, "ingest_queue_url", value=self.queues["ingest"].url)
        TerraformOutput(self, "rejects_queue_url", value=self.rejects.url)
        TerraformOutput(self, "alarm_topic_arn", value=self.alarm_topic.arn)
