"""QueueWithDeadLetter and TerminalQueue, synthesized alone."""

from __future__ import annotations

import json

import pytest
from cdktf import Testing as CdktfTesting

from modules.monitoring import AlarmProps
from modules.queue import QueueProps, QueueWithDeadLetter, TerminalQueue, TerminalQueueProps
from modules.retired import retired_addresses
from tests.support.synth import synth_scope
from tools.policy.stack_json import StackJson, reference

TOPIC = "arn:aws:sns:us-east-1:123456789012:alarms"
ALARMS = AlarmProps(topic_arn=TOPIC, period_s=60)
PROPS = QueueProps(name="work-dev", component="enricher", consumer="enricher", visibility_timeout_s=247,
                   retention_s=4 * 24 * 3600, dlq_retention_s=14 * 24 * 3600, max_receive_count=3,
                   oldest_message_age_threshold_s=900, account_id="123456789012")
# A queue's ARN as the constructs must build it from its name (partition and region from the provider).
ARN_PREFIX = "arn:${data.aws_partition.aws-partition.partition}:sqs:${data.aws_region.aws-region.name}:123456789012:"


@pytest.fixture(scope="module")
def stack() -> StackJson:
    return synth_scope(lambda scope: QueueWithDeadLetter(scope, "work", props=PROPS, alarms=ALARMS))


def queue(stack: StackJson, name: str) -> dict:
    [found] = [r.body for r in stack.resources("aws_sqs_queue") if r.body["name"] == name]
    return found


def test_dead_letter_queue_is_named_after_its_source(stack: StackJson) -> None:
    assert sorted(r.body["name"] for r in stack.resources("aws_sqs_queue")) == ["work-dev", "work-dev-dlq"]


def test_visibility_timeout_and_long_polling_come_from_the_props(stack: StackJson) -> None:
    assert queue(stack, "work-dev")["visibility_timeout_seconds"] == 247
    assert queue(stack, "work-dev")["receive_wait_time_seconds"] == 20


def test_dead_letter_queue_keeps_messages_14_days_longer_than_source(stack: StackJson) -> None:
    source, dlq = queue(stack, "work-dev"), queue(stack, "work-dev-dlq")
    assert dlq["message_retention_seconds"] == 14 * 24 * 3600
    assert dlq["message_retention_seconds"] > source["message_retention_seconds"]


def test_redrive_moves_messages_after_max_receive_count(stack: StackJson) -> None:
    [redrive] = stack.resources("aws_sqs_queue_redrive_policy")
    assert stack.referenced(redrive.body["queue_url"]).body["name"] == "work-dev"
    policy = json.loads(redrive.body["redrive_policy"])
    assert policy["maxReceiveCount"] == 3
    dlq_type, dlq_name, attribute = reference(policy["deadLetterTargetArn"])
    assert attribute == "arn"
    assert stack.resource(f"{dlq_type}.{dlq_name}").body["name"] == "work-dev-dlq"
    assert queue(stack, "work-dev")["lifecycle"] == {"ignore_changes": ["redrive_policy"]}, "the resource owns it"


def test_dead_letter_queue_allows_redrive_only_from_its_source(stack: StackJson) -> None:
    policy = json.loads(queue(stack, "work-dev-dlq")["redrive_allow_policy"])
    assert policy == {"redrivePermission": "byQueue", "sourceQueueArns": [ARN_PREFIX + "work-dev"]}


def test_queue_policies_are_arguments_of_their_queue_not_resources_of_their_own(stack: StackJson) -> None:
    assert not stack.resources("aws_sqs_queue_policy")
    assert not stack.resources("aws_sqs_queue_redrive_allow_policy")
    assert "redrive_allow_policy" not in queue(stack, "work-dev")
    assert "lifecycle" not in queue(stack, "work-dev-dlq"), "nothing on the DLQ is owned elsewhere"


def test_neither_queue_references_the_other(stack: StackJson) -> None:
    """Two waves: both queues first (no reference between them), then the redrive that names both."""
    for name in ("work-dev", "work-dev-dlq"):
        assert "${aws_sqs_queue." not in json.dumps(queue(stack, name)), name


def test_every_queue_is_encrypted_with_sqs_managed_keys(stack: StackJson) -> None:
    assert all(r.body["sqs_managed_sse_enabled"] is True for r in stack.resources("aws_sqs_queue"))


def test_every_queue_has_its_own_policy_denying_non_tls_access(stack: StackJson) -> None:
    for name in ("work-dev", "work-dev-dlq"):
        document = stack.referenced(queue(stack, name)["policy"])
        assert document.type == "aws_iam_policy_document"
        assert document.body["statement"] == [{
            "sid": "DenyInsecureTransport", "effect": "Deny", "actions": ["sqs:*"],
            "principals": [{"type": "*", "identifiers": ["*"]}],
            "resources": [ARN_PREFIX + name],
            "condition": [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}],
        }], name


def test_the_separate_policy_resources_of_earlier_releases_are_retired_at_their_old_paths() -> None:
    built: list[QueueWithDeadLetter] = []
    stack = synth_scope(lambda scope: built.append(QueueWithDeadLetter(scope, "work", props=PROPS, alarms=ALARMS)))
    assert "removed" not in stack.document and not stack.resources("aws_sqs_queue_policy")
    assert retired_addresses(built[0]) == [
        "aws_sqs_queue_policy.work_dlq_tls-only-policy_CAB7E5DB",
        "aws_sqs_queue_policy.work_tls-only-policy_389E90CE",
        "aws_sqs_queue_redrive_allow_policy.work_dlq-redrive-allow_E5DE2C67",
    ]


def test_alarms_on_dead_letter_depth_and_arrivals_and_oldest_message_age(stack: StackJson) -> None:
    alarms = {r.body["alarm_name"]: r.body for r in stack.resources("aws_cloudwatch_metric_alarm")}
    assert set(alarms) == {"work-dev-dlq-not-empty", "work-dev-dlq-arrivals", "work-dev-oldest-message-age"}
    depth = alarms["work-dev-dlq-not-empty"]
    assert (depth["metric_name"], depth["threshold"], depth["comparison_operator"]) == (
        "ApproximateNumberOfMessagesVisible", 0, "GreaterThanThreshold")
    assert alarms["work-dev-oldest-message-age"]["metric_name"] == "ApproximateAgeOfOldestMessage"


def arrivals(stack: StackJson, name: str = "work-dev-dlq-arrivals") -> dict:
    [alarm] = [r.body for r in stack.resources("aws_cloudwatch_metric_alarm") if r.body["alarm_name"] == name]
    return alarm


def test_arrivals_alarm_fires_on_any_rise_of_the_dead_letter_queues_depth(stack: StackJson) -> None:
    """The depth (visible + in flight, so that a peek is no arrival) rose since the period before: a redrive
    policy's moves are not in NumberOfMessagesSent, and "not empty" stays in ALARM, silent, while anything
    is left."""
    alarm = arrivals(stack)
    queries = {q["id"]: q for q in alarm["metric_query"]}
    assert queries["alarmed"] == {"id": "alarmed", "expression": "DIFF(visible + FILL(in_flight, 0))",
                                  "label": "work-dev-dlq: messages added since the previous period",
                                  "return_data": True}
    assert queries["visible"]["metric"] == {
        "namespace": "AWS/SQS", "metric_name": "ApproximateNumberOfMessagesVisible",
        "dimensions": {"QueueName": "work-dev-dlq"}, "stat": "Maximum", "period": 60}
    assert queries["in_flight"]["metric"] == {
        "namespace": "AWS/SQS", "metric_name": "ApproximateNumberOfMessagesNotVisible",
        "dimensions": {"QueueName": "work-dev-dlq"}, "stat": "Maximum", "period": 60}
    assert queries["visible"]["return_data"] is False and queries["in_flight"]["return_data"] is False
    assert (alarm["threshold"], alarm["comparison_operator"]) == (0, "GreaterThanThreshold")


def test_arrivals_alarm_looks_back_far_enough_for_a_difference_and_then_rearms(stack: StackJson) -> None:
    """DIFF needs the period before the newest in the evaluated range; one rising period alarms, and once the
    three periods are quiet the alarm is OK again, ready to notify the next arrival."""
    alarm = arrivals(stack)
    assert (alarm["evaluation_periods"], alarm["datapoints_to_alarm"]) == (3, 1)
    assert alarm["treat_missing_data"] == "notBreaching"
    assert not {"metric_name", "namespace", "statistic", "period", "dimensions"} & set(alarm), "all in the queries"


def test_terminal_queue_alarms_name_the_redrive_command_and_their_runbook_entries(stack: StackJson) -> None:
    alarms = {r.body["alarm_name"]: r.body["alarm_description"] for r in stack.resources("aws_cloudwatch_metric_alarm")}
    command = "python -m tools redrive --queue work-dev-dlq (a dry run; then add --apply)"
    assert command in alarms["work-dev-dlq-not-empty"] and command in alarms["work-dev-dlq-arrivals"]
    assert alarms["work-dev-dlq-not-empty"].endswith("Runbook: docs/runbook.md#dead-letter-queue-not-empty")
    assert alarms["work-dev-dlq-arrivals"].endswith("Runbook: docs/runbook.md#dead-letter-queue-arrivals")
    assert alarms["work-dev-oldest-message-age"].endswith("Runbook: docs/runbook.md#queue-oldest-message-age")


def test_every_alarm_notifies_the_topic_on_alarm_and_ok(stack: StackJson) -> None:
    for alarm in stack.resources("aws_cloudwatch_metric_alarm"):
        assert alarm.body["alarm_actions"] == [TOPIC] and alarm.body["ok_actions"] == [TOPIC], alarm.address


def test_terminal_queue_has_no_redrive_and_alarms_when_not_empty() -> None:
    props = TerminalQueueProps(name="rejects-dev", component="validator", retention_s=14 * 24 * 3600,
                               purpose="rejected records", account_id="123456789012")
    stack = synth_scope(lambda scope: TerminalQueue(scope, "rejects", props=props, alarms=ALARMS))
    [queue_resource] = stack.resources("aws_sqs_queue")
    assert queue_resource.body["message_retention_seconds"] == 14 * 24 * 3600
    assert "redrive_policy" not in queue_resource.body
    assert "redrive_allow_policy" not in queue_resource.body, "no sources named: SQS's default applies"
    assert stack.referenced(queue_resource.body["policy"]).body["statement"][0]["resources"] == [
        ARN_PREFIX + "rejects-dev"]
    assert CdktfTesting.to_have_resource_with_properties(
        json.dumps(stack.document), "aws_cloudwatch_metric_alarm", {"alarm_name": "rejects-dev-not-empty"})
    described = {r.body["alarm_name"]: r.body["alarm_description"]
                 for r in stack.resources("aws_cloudwatch_metric_alarm")}
    assert described["rejects-dev-not-empty"].endswith("#rejects-queue-not-empty")
    assert described["rejects-dev-arrivals"].endswith("#rejects-queue-arrivals")
    assert arrivals(stack, "rejects-dev-arrivals")["alarm_actions"] == [TOPIC]
