"""Alarms, the alarm topic they notify, and the per-environment dashboard."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarm,
    CloudwatchMetricAlarmMetricQuery,
    CloudwatchMetricAlarmMetricQueryMetric,
)
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from .tagging import component_tags
from .terraform_values import instances, is_set

#: Where every alarm description sends on-call: the runbook's path in the repository (a URL works too).
RUNBOOK = "docs/runbook.md"
#: CloudWatch refuses a longer AlarmDescription:
#: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
MAX_DESCRIPTION_CHARS = 1024


@dataclass(frozen=True)
class AlarmProps:
    """Where every alarm of a construct reports, over which period it evaluates, and where its runbook is."""

    topic_arn: str
    period_s: int
    runbook: str = RUNBOOK


@dataclass(frozen=True)
class AlarmTopicProps:
    """The alarm topic's name, its customer-managed key, and its subscribers (None: not subscribed)."""

    name: str
    kms_key_arn: str
    email: str | None = None
    https_endpoint: str | None = None


class AlarmTopic(Construct):
    """An SNS topic every alarm notifies, encrypted with the environment's customer-managed key.

    Not the AWS-managed ``alias/aws/sns`` key: CloudWatch can publish to an encrypted topic only when
    the key policy lets ``cloudwatch.amazonaws.com`` use the key, and that key's policy cannot be
    changed (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html). Subscribes
    ``props.email`` and ``props.https_endpoint`` (e.g. AWS Chatbot) when given.
    """

    def __init__(self, scope: Construct, id_: str, *, props: AlarmTopicProps) -> None:
        super().__init__(scope, id_)
        self.topic = SnsTopic(
            self, "topic",
            name=props.name,
            kms_master_key_id=props.kms_key_arn,
            tags=component_tags("monitoring"),
        )
        subscribers = {"email": props.email, "https": props.https_endpoint}
        for protocol, endpoint in subscribers.items():
            subscribed, count = instances(is_set(endpoint))
            if subscribed:
                SnsTopicSubscription(self, protocol, topic_arn=self.topic.arn, protocol=protocol, endpoint=endpoint,
                                     count=count)

    @property
    def arn(self) -> str:
        return self.topic.arn


@dataclass(frozen=True)
class AlarmSpec:
    """What to watch; the alarm's actions and naming are added by :func:`metric_alarm`.

    ``runbook_entry`` is the anchor of the alarm's entry in the runbook, which the description ends with.
    """

    name: str
    description: str
    runbook_entry: str
    namespace: str
    metric: str
    dimensions: Mapping[str, str]
    threshold: float
    statistic: str | None = "Sum"
    extended_statistic: str | None = None
    comparison: str = "GreaterThanThreshold"
    evaluation_periods: int = 1


def alarm_description(text: str, runbook_entry: str, alarms: AlarmProps) -> str:
    """``text`` followed by the link to its runbook entry; ValueError if CloudWatch would refuse its length."""
    description = f"{text} Runbook: {alarms.runbook}#{runbook_entry}"
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise ValueError(f"alarm description of {len(description)} characters is longer than CloudWatch's "
                         f"{MAX_DESCRIPTION_CHARS}: shorten it (or the runbook URL {alarms.runbook!r}): {description}")
    return description


def _notifying(alarms: AlarmProps, component: str) -> dict[str, object]:
    """What every alarm shares: both state changes notify the topic, and no data is no alarm."""
    return {
        "treat_missing_data": "notBreaching",
        "alarm_actions": [alarms.topic_arn],
        "ok_actions": [alarms.topic_arn],
        "tags": component_tags(component),
    }


def metric_alarm(scope: Construct, id_: str, spec: AlarmSpec, *, alarms: AlarmProps,
                 component: str) -> CloudwatchMetricAlarm:
    """A CloudWatch alarm whose alarm and OK actions both notify the alarm topic.

    Missing data counts as not breaching: an idle pipeline is a healthy one.
    """
    return CloudwatchMetricAlarm(
        scope, id_,
        alarm_name=spec.name,
        alarm_description=alarm_description(spec.description, spec.runbook_entry, alarms),
        namespace=spec.namespace,
        metric_name=spec.metric,
        dimensions=dict(spec.dimensions),
        statistic=spec.statistic if spec.extended_statistic is None else None,
        extended_statistic=spec.extended_statistic,
        threshold=spec.threshold,
        comparison_operator=spec.comparison,
        evaluation_periods=spec.evaluation_periods,
        period=alarms.period_s,
        **_notifying(alarms, component),
    )


@dataclass(frozen=True)
class MetricInput:
    """One metric a math expression reads, by its id in the expression."""

    id: str
    namespace: str
    metric: str
    dimensions: Mapping[str, str]
    statistic: str = "Maximum"


@dataclass(frozen=True)
class MathAlarmSpec:
    """An alarm on a metric math ``expression`` over ``inputs``; actions and naming as :class:`AlarmSpec`'s.

    ``datapoints_to_alarm`` of the last ``evaluation_periods`` values must breach.
    """

    name: str
    description: str
    runbook_entry: str
    expression: str
    label: str
    inputs: Sequence[MetricInput]
    threshold: float
    comparison: str = "GreaterThanThreshold"
    evaluation_periods: int = 1
    datapoints_to_alarm: int = 1


def math_alarm(scope: Construct, id_: str, spec: MathAlarmSpec, *, alarms: AlarmProps,
               component: str) -> CloudwatchMetricAlarm:
    """A CloudWatch alarm on a metric math expression, notifying the alarm topic like :func:`metric_alarm`."""
    queries = [
        CloudwatchMetricAlarmMetricQuery(
            id=metric.id,
            metric=CloudwatchMetricAlarmMetricQueryMetric(
                namespace=metric.namespace, metric_name=metric.metric, dimensions=dict(metric.dimensions),
                stat=metric.statistic, period=alarms.period_s,
            ),
            return_data=False,
        )
        for metric in spec.inputs
    ]
    queries.append(CloudwatchMetricAlarmMetricQuery(
        id="alarmed", expression=spec.expression, label=spec.label, return_data=True,
    ))
    return CloudwatchMetricAlarm(
        scope, id_,
        alarm_name=spec.name,
        alarm_description=alarm_description(spec.description, spec.runbook_entry, alarms),
        metric_query=queries,
        threshold=spec.threshold,
        comparison_operator=spec.comparison,
        evaluation_periods=spec.evaluation_periods,
        datapoints_to_alarm=spec.datapoints_to_alarm,
        **_notifying(alarms, component),
    )


@dataclass(frozen=True)
class StageView:
    """The names a dashboard row needs for one stage."""

    stage: str
    function_name: str
    queue_name: str
    dlq_name: str


def _metric_widget(title: str, metrics: Sequence[Sequence[object]], region: str, x: int, y: int,
                   stat: str = "Sum") -> dict[str, object]:
    return {
        "type": "metric", "x": x, "y": y, "width": 8, "height": 6,
        "properties": {"title": title, "region": region, "stat": stat, "period": 60, "view": "timeSeries",
                       "metrics": [list(m) for m in metrics]},
    }


def dashboard_body(region: str, stages: Sequence[StageView], table_name: str, rejects_queue: str) -> str:
    """CloudWatch dashboard JSON: a row per stage, then the table and the rejects queue."""
    widgets: list[dict[str, object]] = []
    for row, view in enumerate(stages):
        y = row * 6
        fn = ("FunctionName", view.function_name)
        widgets += [
            _metric_widget(f"{view.stage}: queue depth and age", [
                ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", view.queue_name],
                ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", view.queue_name, {"stat": "Maximum"}],
                ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", view.dlq_name],
            ], region, 0, y, stat="Maximum"),
            _metric_widget(f"{view.stage}: invocations, errors, throttles", [
                ["AWS/Lambda", "Invocations", *fn],
                ["AWS/Lambda", "Errors", *fn],
                ["AWS/Lambda", "Throttles", *fn],
            ], region, 8, y),
            _metric_widget(f"{view.stage}: duration", [
                ["AWS/Lambda", "Duration", *fn, {"stat": "p99"}],
                ["AWS/Lambda", "Duration", *fn, {"stat": "Average"}],
            ], region, 16, y, stat="p99"),
        ]
    y = len(stages) * 6
    table = ("TableName", table_name)
    widgets += [
        _metric_widget("table: consumed capacity", [
            ["AWS/DynamoDB", "ConsumedWriteCapacityUnits", *table],
            ["AWS/DynamoDB", "ConsumedReadCapacityUnits", *table],
        ], region, 0, y),
        _metric_widget("table: throttles", [
            ["AWS/DynamoDB", "WriteThrottleEvents", *table],
            ["AWS/DynamoDB", "ReadThrottleEvents", *table],
            ["AWS/DynamoDB", "ThrottledRequests", *table, "Operation", "BatchWriteItem"],
        ], region, 8, y),
        _metric_widget("rejected records", [
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", rejects_queue],
        ], region, 16, y, stat="Maximum"),
    ]
    return json.dumps({"widgets": widgets}, sort_keys=True)


@dataclass(frozen=True)
class DashboardProps:
    """What the dashboard shows: every stage's names, the table and the rejects queue."""

    name: str
    region: str
    stages: Sequence[StageView]
    table_name: str
    rejects_queue: str


class PipelineDashboard(Construct):
    """One CloudWatch dashboard per environment: every stage, the table and the rejects queue."""

    def __init__(self, scope: Construct, id_: str, *, props: DashboardProps) -> None:
        super().__init__(scope, id_)
        self.dashboard = CloudwatchDashboard(
            self, "dashboard",
            dashboard_name=props.name,
            dashboard_body=dashboard_body(props.region, props.stages, props.table_name, props.rejects_queue),
        )
