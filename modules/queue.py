"""SQS queues: a consumed queue with its dead-letter queue, and terminal queues (DLQs, rejects)."""

from __future__ import annotations

import json

from cdktf import TerraformResource, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocument
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from cdktf_cdktf_provider_aws.sqs_queue_policy import SqsQueuePolicy
from cdktf_cdktf_provider_aws.sqs_queue_redrive_allow_policy import SqsQueueRedriveAllowPolicy
from cdktf_cdktf_provider_aws.sqs_queue_redrive_policy import SqsQueueRedrivePolicy
from constructs import Construct

from modules.monitoring import AlarmSpec, metric_alarm
from modules.permissions import deny_insecure_transport
from modules.settings import EnvironmentSettings, FunctionSettings
from modules.tagging import component_tags


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


def _queue_alarm(scope: Construct, id_: str, *, settings: EnvironmentSettings, queue_name: str, component: str,
                 topic_arn: str, alarm_name: str, metric: str, threshold: float, description: str,
                 evaluation_periods: int = 1) -> CloudwatchMetricAlarm:
    """An alarm on one queue's maximum of ``metric`` over the environment's alarm period."""
    return metric_alarm(
        scope, id_,
        AlarmSpec(name=alarm_name, description=description, namespace="AWS/SQS", metric=metric,
                  dimensions={"QueueName": queue_name}, statistic="Maximum", threshold=threshold,
                  evaluation_periods=evaluation_periods),
        topic_arn=topic_arn, period_s=settings.monitoring.alarm_period_s, component=component,
    )


class TerminalQueue(Construct):
    """A queue nobody consumes: a dead-letter queue or the rejects queue.

    Keeps messages for the longest retention SQS allows (14 days by default),
    encrypts them with SQS-managed keys, refuses non-TLS access, and alarms as
    soon as it holds anything, because every message here needs a person.
    """

    def __init__(self, scope: Construct, id_: str, *, settings: EnvironmentSettings, name: str,
                 component: str, alarm_topic_arn: str, purpose: str) -> None:
        super().__init__(scope, id_)
        self.name = name
        self.queue = SqsQueue(
            self, "queue",
            name=name,
            message_retention_seconds=settings.dlq_retention_s,
            sqs_managed_sse_enabled=True,
            # The source queue's redrive-allow resource owns this attribute.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["redrive_allow_policy"]),
            tags=component_tags(component),
        )
        self.policy = _tls_only_policy(self, self.queue)
        self.depth_alarm = _queue_alarm(
            self, "depth-alarm", settings=settings, queue_name=name, component=component, topic_arn=alarm_topic_arn,
            alarm_name=f"{name}-not-empty", metric="ApproximateNumberOfMessagesVisible", threshold=0,
            description=f"{name} holds messages: {purpose}. Inspect them, fix the cause, then redrive.",
        )

    @property
    def arn(self) -> str:
        return self.queue.arn

    @property
    def url(self) -> str:
        return self.queue.url


class QueueWithDeadLetter(Construct):
    """A queue feeding one function, with a dead-letter queue named ``<name>-dlq``.

    The visibility timeout is computed from the consumer (6 x timeout + batching
    window, AWS's guidance), never hand-set, so SQS cannot redeliver a batch the
    function is still working on.  After ``max_receive_count`` receives a message
    moves to the DLQ, which only this queue may redrive into.  The redrive policy
    is its own resource, which keeps the two queues free of dependency cycles.
    """

    def __init__(self, scope: Construct, id_: str, *, settings: EnvironmentSettings, name: str,
                 consumer: FunctionSettings, component: str, alarm_topic_arn: str) -> None:
        super().__init__(scope, id_)
        self.name = name
        self.consumer = consumer
        self.dlq = TerminalQueue(
            self, "dlq", settings=settings, name=f"{name}-dlq", component=component,
            alarm_topic_arn=alarm_topic_arn,
            purpose=f"records that failed {consumer.max_receive_count} times in {consumer.name}",
        )
        self.queue = SqsQueue(
            self, "queue",
            name=name,
            visibility_timeout_seconds=consumer.visibility_timeout_s,
            message_retention_seconds=settings.queue_retention_s,
            receive_wait_time_seconds=20,
            sqs_managed_sse_enabled=True,
            # The redrive policy is its own resource (no dependency cycle between the two queues).
            lifecycle=TerraformResourceLifecycle(ignore_changes=["redrive_policy"]),
            tags=component_tags(component),
        )
        redrive = SqsQueueRedrivePolicy(
            self, "redrive",
            queue_url=self.queue.url,
            redrive_policy=_compact_json({
                "deadLetterTargetArn": self.dlq.arn,
                "maxReceiveCount": consumer.max_receive_count,
            }),
        )
        # Each queue's policy is set after the other attributes: the emulator (moto) clears a
        # queue's Policy on any SetQueueAttributes call that does not name it; AWS does not mind.
        policy = _tls_only_policy(self, self.queue)
        _after(policy, redrive)
        if not settings.emulator:
            # moto never returns RedriveAllowPolicy, so the provider would wait for it forever.
            allow = SqsQueueRedriveAllowPolicy(
                self, "dlq-redrive-allow",
                queue_url=self.dlq.url,
                redrive_allow_policy=_compact_json({
                    "redrivePermission": "byQueue",
                    "sourceQueueArns": [self.queue.arn],
                }),
            )
            _after(self.dlq.policy, allow)
        threshold = settings.monitoring.oldest_message_age_threshold_s
        self.age_alarm = _queue_alarm(
            self, "age-alarm", settings=settings, queue_name=name, component=component, topic_arn=alarm_topic_arn,
            alarm_name=f"{name}-oldest-message-age", metric="ApproximateAgeOfOldestMessage", threshold=threshold,
            description=f"{name}'s oldest message is older than {threshold} s: {consumer.name} is falling behind "
                        "or failing.",
            evaluation_periods=3,
        )

    @property
    def arn(self) -> str:
        return self.queue.arn

    @property
    def url(self) -> str:
        return self.queue.url
