"""The queue -> function pattern: one queue with its DLQ feeding one Lambda function through its alias."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_aws.lambda_event_source_mapping import (
    LambdaEventSourceMapping,
    LambdaEventSourceMappingScalingConfig,
)
from constructs import Construct

from . import permissions
from .function import FunctionProps, PipelineFunction
from .function_code import FunctionArchive
from .monitoring import AlarmProps
from .queue import QueueProps, QueueWithDeadLetter
from .settings import visibility_timeout_s
from .tagging import component_tags


@dataclass(frozen=True)
class EventSourceProps:
    """How the queue feeds the function: batching, concurrency, retries, queue retention and age alarm."""

    batch_size: int
    batching_window_s: int
    max_concurrency: int
    max_receive_count: int
    retention_s: int
    dlq_retention_s: int
    oldest_message_age_threshold_s: int


class QueueToFunction:
    """A queue with its dead-letter queue, the function it feeds, and everything that ties them.

    It owns the wiring, as aws-solutions-constructs' ``SqsToLambda`` does: the
    queue's visibility timeout is computed from the function's timeout and the
    batching window, so it always fits the consumer; the function may consume
    that queue, nothing more on it; the event source mapping invokes the alias
    ``live`` with ``ReportBatchItemFailures`` and waits for the role's policy.
    Failed records reach the DLQ through the queue's redrive policy: an event
    source mapping invokes synchronously, so a function-level (asynchronous)
    dead-letter target would never receive anything, and there is none.

    A pattern rather than a construct scope: the queue and the function are built
    as siblings under ``scope`` (``<queue_id>/…`` and ``<function_id>/…``), so each
    Terraform address names the construct that owns the resource.
    """

    def __init__(
        self, scope: Construct, *,
        queue_id: str,
        queue_name: str,
        function_id: str,
        function: FunctionProps,
        event_source: EventSourceProps,
        archive: FunctionArchive,
        outbound: Sequence[permissions.Statement],
        alarms: AlarmProps,
        account_id: str,
        kms_key_arn: str | None = None,
        kms_key_enabled: Any = None,
    ) -> None:
        self.queue = QueueWithDeadLetter(
            scope, queue_id,
            props=QueueProps(
                name=queue_name,
                component=function.component,
                consumer=function.component,
                visibility_timeout_s=visibility_timeout_s(function.timeout_s, event_source.batching_window_s),
                retention_s=event_source.retention_s,
                dlq_retention_s=event_source.dlq_retention_s,
                max_receive_count=event_source.max_receive_count,
                oldest_message_age_threshold_s=event_source.oldest_message_age_threshold_s,
                account_id=account_id,
                kms_key_arn=kms_key_arn,
                kms_key_enabled=kms_key_enabled,
            ),
            alarms=alarms,
        )
        self.function = PipelineFunction(
            scope, function_id,
            props=function,
            archive=archive,
            inbound=[permissions.consume_queue("ConsumeSourceQueue", self.queue.arn)],
            outbound=outbound,
            alarms=alarms,
        )
        self.event_source = LambdaEventSourceMapping(
            self.function, "event-source",
            event_source_arn=self.queue.arn,
            function_name=self.function.alias.arn,
            batch_size=event_source.batch_size,
            maximum_batching_window_in_seconds=event_source.batching_window_s,
            function_response_types=["ReportBatchItemFailures"],
            scaling_config=LambdaEventSourceMappingScalingConfig(maximum_concurrency=event_source.max_concurrency),
            enabled=True,
            # AWS checks the role's SQS permissions when the mapping is created, and no reference
            # orders the policy first (InvalidParameterValueException ... permissions to call ReceiveMessage).
            depends_on=[self.function.role_policy],
            tags=component_tags(function.component),
        )
