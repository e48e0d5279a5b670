"""One environment's stack: its backend, its AWS provider and its pipeline, with the outputs operators read."""

from __future__ import annotations

from pathlib import Path

from cdktf import TerraformOutput, TerraformStack
from constructs import Construct

from .pipeline import PipelineResources
from .provider import aws_provider
from .settings import EnvironmentSettings
from .state_backend import configure_backend

#: The stack's outputs, from :meth:`.pipeline.PipelineResources.output_values`: the draft's four, then the
#: three operators use (where producers send, where rejects land, who hears the alarms).
STACK_OUTPUTS = ("table_name", "validator_function_arn", "enricher_function_arn", "processor_function_arn",
                 "ingest_queue_url", "rejects_queue_url", "alarm_topic_arn")


class PipelineStack(TerraformStack, PipelineResources):
    """State in the S3 backend (local disk on the emulator), an AWS provider that refuses every account but
    the environment's, and the pipeline of :class:`.pipeline.TapPipeline`.

    The pipeline's resources sit directly under the stack rather than under a ``TapPipeline`` child: cdktf
    derives every Terraform address and each resource's recorded construct path from the construct path, and
    these stacks were deployed before the construct existed, so a level more would rename every resource (a
    destroy and re-create of the table and queues). Both run the same body, :class:`.pipeline.PipelineResources`.
    """

    def __init__(self, scope: Construct, id_: str, *, settings: EnvironmentSettings, local_state_dir: Path) -> None:
        super().__init__(scope, id_)
        configure_backend(self, settings, local_state_dir)
        s3_backed = settings.backend.kind == "s3"
        aws_provider(self, region=settings.region, tags=settings.tags,
                     allowed_account_ids=[settings.account_id] if s3_backed else None)
        self._build_pipeline(settings)
        values = self.output_values()
        for name in STACK_OUTPUTS:
            TerraformOutput(self, name, value=values[name])
