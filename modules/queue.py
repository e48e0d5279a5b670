"""SQS queues: a consumed queue with its dead-letter queue, and terminal queues (DLQs, rejects)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktf import TerraformResource, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocument
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from cdktf_cdktf_provider_aws.sqs_queue_policy import SqsQueuePolicy
from cdktf_cdktf_provider_aws.sqs_queue_redrive_allow_policy import SqsQueueRedriveAllowPolicy
from cdktf_cdktf_provider_aws.sqs_queue_redrive_policy import SqsQueueRedrivePolicy
from constructs import Construct

from modules.monitoring import AlarmProps, AlarmSpec, metric_alarm
from modules.permissions import deny_insecure_transport
from modules.tagging import component_tags

# SQS long polling: the longest wait a receive may ask for, which keeps empty receives (and their cost) down.
RECEIVE_WAIT_TIME_S = 20


@dataclass(frozen=True)
class TerminalQueueProps:
    """A queue nobody consumes: its name, owner, retention and why a person should look at it."""

    name: str
    component: str
    retention_s: int
    purpose: str
    kms_key_arn: str | None = None


def _encryption(kms_key_arn: str | None) -> dict[str, object]:
    """SSE with the given customer-managed key, else SQS-managed SSE (the two attributes exclude each other)."""
    if kms_key_arn:
        return {"kms_master_key_id": kms_key_arn}
    return {"sqs_managed_sse_enabled": True}


@dataclass(frozen=True)
class QueueProps:
    """A consumed queue and its dead-letter queue.

    ``visibility_timeout_s`` comes from the consumer (see
    :func:`modules.queue_to_function.visibility_timeout_s`); ``consumer`` names it in alarm texts.
    """

    name: str
    component: str
    consumer: str
    visibility_timeout_s: int
    retention_s: int
    dlq_retention_s: int
    max_receive_count: int
    oldest_message_age_threshold_s: int
    kms_key_arn: str | None = None


def _tls_only_policy(scope: Construct, queue: SqsQueue) -> SqsQueuePolicy:
    document = DataAwsIamPolicyDocument(
        scope, "tls-only-document",
        statement=[deny_insecure_transport("DenyInsecureTransport", ["sqs:*"], [queue.arn])],
    )
    return SqsQueuePolicy(scope, "tls-only-policy", queue_url=queue.url, policy=document.json)


def _after(resource: TerraformResource, *dependencies: TerraformResource) -> None:
    """Make ``resource`` depend on resources created after it in the construct tree."""
    resource.add_override("depends_on", [f"{d.terraform_resource_type}.{d.friendly_unique_id}" for d in dependencies])


def _compact_json(value: object) -> str:
    # SQS hands policies back compacted: writing them so keeps plans free of whitespace-only diffs.
    return json.dumps(value, separators=(",", ":"))


def _queue_alarm(scope: Construct, id_: str, *, alarms: AlarmProps, queue_name: str, component: str,
                 alarm_name: str, metric: str, threshold: float, description: str,
                 evaluation_periods: int = 1) -> CloudwatchMetricAlarm:
    """An alarm on one queue's maximum of ``metric`` over the alarm period."""
    return metric_alarm(
        scope, id_,
        AlarmSpec(name=alarm_name, description=description, namespace="AWS/SQS", metric=metric,
                  dimensions={"QueueName": queue_name}, statistic="Maximum", threshold=threshold,
                  evaluation_periods=evaluation_periods),
        alarms=alarms, component=component,
    )


class TerminalQueue(Construct):
    """A queue nobody consumes: a dead-letter queue or the rejects queue.

    Keeps messages for ``props.retention_s`` (14 days, SQS's longest, in every
    environment), encrypts them with ``props.kms_key_arn`` or else SQS-managed keys, refuses non-TLS access,
    and alarms as soon as it holds anything, because every message here needs a person.
    """

    def __init__(self, scope: Construct, id_: str, *, props: TerminalQueueProps, alarms: AlarmProps) -> None:
        super().__init__(scope, id_)
        self.name = props.name
        self.queue = SqsQueue(
            self, "queue",
            name=props.name,
            message_retention_seconds=props.retention_s,
            **_encryption(props.kms_key_arn),
            # The source queue's redrive-allow resource owns this attribute.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["redrive_allow_policy"]),
            tags=component_tags(props.component),
        )
        self.policy = _tls_only_policy(self, self.queue)
        self.depth_alarm = _queue_alarm(
            self, "depth-alarm", alarms=alarms, queue_name=props.name, component=props.component,
            alarm_name=f"{props.name}-not-empty", metric="ApproximateNumberOfMessagesVisible", threshold=0,
            description=f"{props.name} holds messages: {props.purpose}. Inspect them, fix the cause, then redrive.",
        )

    @property
    def arn(self) -> str:
        return self.queue.arn

    @property
    def url(self) -> str:
        return self.queue.url


class QueueWithDeadLetter(Construct):
    """A queue feeding one consumer, with a dead-letter queue named ``<name>-dlq``.

    After ``max_receive_count`` receives a message moves to the DLQ, which only
    this queue may redrive into.  The redrive policy is its own resource, which
    keeps the two queues free of dependency cycles (as terraform-aws-modules/sqs does).
    """

    def __init__(self, scope: Construct, id_: str, *, props: QueueProps, alarms: AlarmProps) -> None:
        super().__init__(scope, id_)
        self.name = props.name
        self.dlq = TerminalQueue(
            self, "dlq",
            props=TerminalQueueProps(
                name=f"{props.name}-dlq", component=props.component, retention_s=props.dlq_retention_s,
                purpose=f"records that failed {props.max_receive_count} times in {props.consumer}",
                kms_key_arn=props.kms_key_arn,
            ),
            alarms=alarms,
        )
        self.queue = SqsQueue(
            self, "queue",
            name=props.name,
            visibility_timeout_seconds=props.visibility_timeout_s,
            message_retention_seconds=props.retention_s,
            receive_wait_time_seconds=RECEIVE_WAIT_TIME_S,
            **_encryption(props.kms_key_arn),
            # The redrive policy is its own resource (no dependency cycle between the two queues).
            lifecycle=TerraformResourceLifecycle(ignore_changes=["redrive_policy"]),
            tags=component_tags(props.component),
        )
        redrive = SqsQueueRedrivePolicy(
            self, "redrive",
            queue_url=self.queue.url,
            redrive_policy=_compact_json({
                "deadLetterTargetArn": self.dlq.arn,
                "maxReceiveCount": props.max_receive_count,
            }),
        )
        # Each queue's policy is set after its other attributes: the emulator (moto) clears a queue's
        # Policy on any SetQueueAttributes call that does not name it. On AWS the order costs nothing,
        # so it is kept in every stack rather than made an emulator difference.
        self.policy = _tls_only_policy(self, self.queue)
        _after(self.policy, redrive)
        self.redrive_allow = SqsQueueRedriveAllowPolicy(
            self, "dlq-redrive-allow",
            queue_url=self.dlq.url,
            redrive_allow_policy=_compact_json({
                "redrivePermission": "byQueue",
                "sourceQueueArns": [self.queue.arn],
            }),
        )
        _after(self.dlq.policy, self.redrive_allow)
        threshold = props.oldest_message_age_threshold_s
        self.age_alarm = _queue_alarm(
            self, "age-alarm", alarms=alarms, queue_name=props.name, component=props.component,
            alarm_name=f"{props.name}-oldest-message-age", metric="ApproximateAgeOfOldestMessage",
            threshold=threshold,
            description=f"{props.name}'s oldest message is older than {threshold} s: {props.consumer} is falling "
                        "behind or failing.",
            evaluation_periods=3,
        )

    @property
    def arn(self) -> str:
        return self.queue.arn

    @property
    def url(self) -> str:
        return self.queue.url
