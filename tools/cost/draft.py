"""The first draft's configuration (the Pulumi stack this project replaces), as the cost model reads it."""

from __future__ import annotations

from tools.cost.config import FunctionConfig, PipelineConfig, TableConfig
from tools.cost.usage import STAGES

DRAFT_MEMORY_MB = 3008
DRAFT_TABLE_CAPACITY = 5
DRAFT_NAME = "draft"


def draft_config() -> PipelineConfig:
    """Three x86_64 functions of 3008 MB invoked once per record (no queues between stages), a provisioned
    5/5 table without autoscaling or point-in-time recovery, log groups Lambda creates itself (never
    expiring), no alarms, no dashboard, no KMS key; its handlers log nothing of their own."""
    return PipelineConfig(
        name=DRAFT_NAME,
        functions={
            stage: FunctionConfig(stage=stage, memory_mb=DRAFT_MEMORY_MB, architecture="x86_64", batch_size=1,
                                  queue_fed=False, log_retention_days=None)
            for stage in STAGES
        },
        table=TableConfig(billing_mode="PROVISIONED", read_capacity=DRAFT_TABLE_CAPACITY,
                          write_capacity=DRAFT_TABLE_CAPACITY),
        handler_logging=False,
    )
