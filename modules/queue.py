"""SQS queues: a consumed queue with its dead-letter queue, and terminal queues (DLQs, rejects)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocument
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from cdktf_cdktf_provider_aws.sqs_queue_redrive_policy import SqsQueueRedrivePolicy
from constructs import Construct

from .monitoring import AlarmProps, AlarmSpec, MathAlarmSpec, MetricInput, math_alarm, metric_alarm
from .permissions import deny_insecure_transport
from .queue_arn import queue_arn
from .retired import retire
from .tagging import component_tags
from .terraform_values import choose, is_expression, text

# SQS long polling: the longest wait a receive may ask for, which keeps empty receives (and their cost) down.
RECEIVE_WAIT_TIME_S = 20
# How many alarm periods the arrivals alarm looks back: at least two, so that the newest depth has a
# predecessor to differ from; the alarm returns to OK this many quiet periods after the last arrival, and the
# next arrival notifies again.
ARRIVALS_EVALUATION_PERIODS = 3
#: The operator command that moves a terminal queue's messages back (tools/redrive.py).
REDRIVE_COMMAND = "python -m tools redrive --queue"


@dataclass(frozen=True)
class TerminalQueueProps:
    """A queue nobody consumes: its name, owner, retention and why a person should look at it."""

    name: str
    component: str
    retention_s: int
    purpose: str
    #: The environment's account: the queue's ARN in its own policy is built from it and the name.
    account_id: str
    kms_key_arn: str | None = None
    #: A Terraform expression, true exactly when ``kms_key_arn`` is not null (None: decided in Python).
    kms_key_enabled: Any = None
    #: Names of the only queues allowed to use this one as their dead-letter queue (empty: no redrive-allow
    #: policy, so SQS's default applies).
    redrive_sources: tuple[str, ...] = ()
    #: The runbook entries its alarms link to are ``<runbook_entry>-not-empty`` and ``-arrivals``; None: a
    #: dead-letter queue's when ``redrive_sources`` names its sources, the rejects queue's otherwise.
    runbook_entry: str | None = None

    @property
    def runbook_prefix(self) -> str:
        if self.runbook_entry is not None:
            return self.runbook_entry
        return "dead-letter-queue" if self.redrive_sources else "rejects-queue"


def _encryption(kms_key_arn: str | None, kms_key_enabled: Any = None) -> dict[str, object]:
    """SSE with the given customer-managed key, else SQS-managed SSE (the two attributes exclude each other).

    ``kms_key_enabled`` None: the key is used when given; a Terraform expression: true exactly when
    ``kms_key_arn`` (then an expression too) is not null.
    """
    if kms_key_enabled is not None and is_expression(kms_key_enabled):
        return {"kms_master_key_id": kms_key_arn, "sqs_managed_sse_enabled": choose(kms_key_enabled, None, True)}
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
    #: The environment's account: the queues' ARNs in their own policies are built from it and the names.
    account_id: str
    kms_key_arn: str | None = None
    #: A Terraform expression, true exactly when ``kms_key_arn`` is not null (None: decided in Python).
    kms_key_enabled: Any = None


def _tls_only_policy(scope: Construct, queue_name: str, account_id: str) -> str:
    """The TLS-only policy document of the queue named ``queue_name``, for its own ``policy`` argument.

    The Resource is the queue's ARN built from its name, so that the queue does not reference itself.
    """
    document = DataAwsIamPolicyDocument(
        scope, "tls-only-document",
        statement=[deny_insecure_transport("DenyInsecureTransport", ["sqs:*"],
                                           [queue_arn(scope, queue_name, account_id)])],
    )
    return document.json


# The separate policy resources of earlier releases, by construct id: set inline on the queue now. Their
# removal must not run SetQueueAttributes with an empty value, which could land after the queue's own
# update and clear what it set (Terraform orders neither before the other), so they are only forgotten.
_RETIRED_TERMINAL = {"tls-only-policy": "aws_sqs_queue_policy"}
_RETIRED_SOURCE = {
    "tls-only-policy": "aws_sqs_queue_policy",
    "dlq-redrive-allow": "aws_sqs_queue_redrive_allow_policy",
}


def _compact_json(value: object) -> str:
    # SQS hands policies back compacted: writing them so keeps plans free of whitespace-only diffs.
    return json.dumps(value, separators=(",", ":"))


def _queue_alarm(scope: Construct, id_: str, *, alarms: AlarmProps, queue_name: str, component: str,
                 alarm_name: str, metric: str, threshold: float, description: str, runbook_entry: str,
                 evaluation_periods: int = 1) -> CloudwatchMetricAlarm:
    """An alarm on one queue's maximum of ``metric`` over the alarm period."""
    return metric_alarm(
        scope, id_,
        AlarmSpec(name=alarm_name, description=description, runbook_entry=runbook_entry, namespace="AWS/SQS",
                  metric=metric, dimensions={"QueueName": queue_name}, statistic="Maximum", threshold=threshold,
                  evaluation_periods=evaluation_periods),
        alarms=alarms, component=component,
    )


def arrivals_alarm_spec(queue_name: str, description: str, runbook_entry: str) -> MathAlarmSpec:
    """An alarm whenever ``queue_name`` holds more messages than one period before: every new arrival.

    The queue's depth is visible plus in flight, so that peeking at messages (which hides them for a while)
    is no arrival. Not NumberOfMessagesSent: messages that a redrive policy moves into a dead-letter queue
    are not counted there ("Available CloudWatch metrics for Amazon SQS",
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html).
    The in-flight count is only reported while messages are in flight, so its gaps count as zero (FILL).
    """
    dimensions = {"QueueName": queue_name}
    return MathAlarmSpec(
        name=f"{queue_name}-arrivals",
        description=description,
        runbook_entry=runbook_entry,
        expression="DIFF(visible + FILL(in_flight, 0))",
        label=f"{queue_name}: messages added since the previous period",
        inputs=(
            MetricInput("visible", "AWS/SQS", "ApproximateNumberOfMessagesVisible", dimensions),
            MetricInput("in_flight", "AWS/SQS", "ApproximateNumberOfMessagesNotVisible", dimensions),
        ),
        threshold=0,
        evaluation_periods=ARRIVALS_EVALUATION_PERIODS,
        datapoints_to_alarm=1,
    )


class TerminalQueue(Construct):
    """A queue nobody consumes: a dead-letter queue or the rejects queue.

    Keeps messages for ``props.retention_s`` (14 days, SQS's longest, in every
    environment), encrypts them with ``props.kms_key_arn`` or else SQS-managed keys, refuses non-TLS access,
    and alarms as soon as it holds anything, because every message here needs a person, and again on every
    later arrival: the "not empty" alarm stays in ALARM while anything is left, up to the 14 days, and would
    not speak twice. With ``props.redrive_sources`` only those queues may use it as their dead-letter queue.
    """

    def __init__(self, scope: Construct, id_: str, *, props: TerminalQueueProps, alarms: AlarmProps) -> None:
        super().__init__(scope, id_)
        self.name = props.name
        redrive_allow = _compact_json({
            "redrivePermission": "byQueue",
            "sourceQueueArns": [queue_arn(self, source, props.account_id) for source in props.redrive_sources],
        }) if props.redrive_sources else None
        self.queue = SqsQueue(
            self, "queue",
            name=props.name,
            message_retention_seconds=props.retention_s,
            **_encryption(props.kms_key_arn, props.kms_key_enabled),
            # Every attribute in the one CreateQueue call: SQS applies them together, and the provider then
            # waits for them to settle once per queue rather than once per policy resource.
            policy=_tls_only_policy(self, props.name, props.account_id),
            redrive_allow_policy=redrive_allow,
            tags=component_tags(props.component),
        )
        for construct_id, resource_type in _RETIRED_TERMINAL.items():
            retire(self, construct_id, resource_type)
        redrive = f"{REDRIVE_COMMAND} {props.name} (a dry run; then add --apply)"
        self.depth_alarm = _queue_alarm(
            self, "depth-alarm", alarms=alarms, queue_name=props.name, component=props.component,
            alarm_name=f"{props.name}-not-empty", metric="ApproximateNumberOfMessagesVisible", threshold=0,
            description=f"{props.name} holds messages: {props.purpose}. Inspect them, fix the cause, then "
                        f"redrive: {redrive}.",
            runbook_entry=f"{props.runbook_prefix}-not-empty",
        )
        self.arrivals_alarm = math_alarm(
            self, "arrivals-alarm",
            arrivals_alarm_spec(
                props.name,
                f"More messages arrived in {props.name}: {props.purpose}. Inspect them, fix the cause, then "
                f"redrive: {redrive}.",
                f"{props.runbook_prefix}-arrivals",
            ),
            alarms=alarms, component=props.component,
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
    this queue may redrive into.  The TLS-only and redrive-allow policies are arguments of
    their queue, naming queue ARNs built from names; the redrive policy is its own resource
    naming the DLQ.  Both queues come first, the redrive second: two waves, no cycle.
    """

    def __init__(self, scope: Construct, id_: str, *, props: QueueProps, alarms: AlarmProps) -> None:
        super().__init__(scope, id_)
        self.name = props.name
        self.dlq = TerminalQueue(
            self, "dlq",
            props=TerminalQueueProps(
                name=f"{props.name}-dlq", component=props.component, retention_s=props.dlq_retention_s,
                purpose=f"records that failed {text(props.max_receive_count)} times in {props.consumer}",
                account_id=props.account_id, kms_key_arn=props.kms_key_arn, kms_key_enabled=props.kms_key_enabled,
                redrive_sources=(props.name,),
            ),
            alarms=alarms,
        )
        self.queue = SqsQueue(
            self, "queue",
            name=props.name,
            visibility_timeout_seconds=props.visibility_timeout_s,
            message_retention_seconds=props.retention_s,
            receive_wait_time_seconds=RECEIVE_WAIT_TIME_S,
            **_encryption(props.kms_key_arn, props.kms_key_enabled),
            policy=_tls_only_policy(self, props.name, props.account_id),
            # The redrive resource below owns this attribute.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["redrive_policy"]),
            tags=component_tags(props.component),
        )
        # The redrive policy is its own resource so that this queue is created together with its DLQ:
        # SQS checks that the target exists, and the functions, which only need the queues, then need not
        # wait for a second round of the provider's attribute settling (about 25 s) before they start.
        self.redrive = SqsQueueRedrivePolicy(
            self, "redrive",
            queue_url=self.queue.url,
            redrive_policy=_compact_json({
                "deadLetterTargetArn": self.dlq.arn,
                "maxReceiveCount": props.max_receive_count,
            }),
        )
        for construct_id, resource_type in _RETIRED_SOURCE.items():
            retire(self, construct_id, resource_type)
        threshold = props.oldest_message_age_threshold_s
        self.age_alarm = _queue_alarm(
            self, "age-alarm", alarms=alarms, queue_name=props.name, component=props.component,
            alarm_name=f"{props.name}-oldest-message-age", metric="ApproximateAgeOfOldestMessage",
            threshold=threshold,
            description=f"{props.name}'s oldest message is older than {text(threshold)} s: {props.consumer} is falling "
                        "behind or failing.",
            runbook_entry="queue-oldest-message-age",
            evaluation_periods=3,
        )

    @property
    def arn(self) -> str:
        return self.queue.arn

    @property
    def url(self) -> str:
        return self.queue.url
