"""AlarmTopic, metric_alarm and PipelineDashboard, synthesized alone."""

from __future__ import annotations

import json

import pytest

from modules.monitoring import (
    MAX_DESCRIPTION_CHARS,
    AlarmProps,
    AlarmSpec,
    AlarmTopic,
    AlarmTopicProps,
    DashboardProps,
    PipelineDashboard,
    StageView,
    alarm_description,
    metric_alarm,
)
from modules.settings import MonitoringSettings, SettingsError
from tests.support.synth import synth_scope
from tools.policy.stack_json import StackJson

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
CHATBOT = "https://global.sns-api.chatbot.amazonaws.com"


@pytest.fixture(scope="module")
def with_email() -> StackJson:
    props = AlarmTopicProps(name="pipeline-alarms-dev", kms_key_arn=KEY_ARN, email="oncall@example.com")
    return synth_scope(lambda scope: AlarmTopic(scope, "alarm-topic", props=props))


def test_topic_is_encrypted_with_the_given_customer_managed_key(with_email: StackJson) -> None:
    # Not alias/aws/sns: CloudWatch cannot publish to a topic under that key, whose policy cannot grant it.
    [topic] = with_email.resources("aws_sns_topic")
    assert topic.body["kms_master_key_id"] == KEY_ARN
    assert topic.body["name"] == "pipeline-alarms-dev"


def test_email_from_the_props_is_subscribed(with_email: StackJson) -> None:
    [subscription] = with_email.resources("aws_sns_topic_subscription")
    assert (subscription.body["protocol"], subscription.body["endpoint"]) == ("email", "oncall@example.com")


def test_https_endpoint_is_subscribed_beside_the_email() -> None:
    props = AlarmTopicProps(name="pipeline-alarms-dev", kms_key_arn=KEY_ARN, email="oncall@example.com",
                            https_endpoint=CHATBOT)
    stack = synth_scope(lambda scope: AlarmTopic(scope, "alarm-topic", props=props))
    subscriptions = {(s.body["protocol"], s.body["endpoint"]) for s in stack.resources("aws_sns_topic_subscription")}
    assert subscriptions == {("email", "oncall@example.com"), ("https", CHATBOT)}


def test_no_subscription_without_a_subscriber() -> None:
    props = AlarmTopicProps(name="pipeline-alarms-dev", kms_key_arn=KEY_ARN)
    stack = synth_scope(lambda scope: AlarmTopic(scope, "alarm-topic", props=props))
    assert stack.resources("aws_sns_topic_subscription") == []


@pytest.mark.parametrize("email", ["oncall", "oncall@", "on call@example.com", "oncall@example"])
def test_alarm_email_must_be_an_address(email: str) -> None:
    with pytest.raises(SettingsError, match=f"monitoring.alarm_email='{email}'.*an e-mail address"):
        MonitoringSettings(alarm_email=email)


@pytest.mark.parametrize("endpoint", ["http://hooks.example.com/alarms", "hooks.example.com", "https://"])
def test_alarm_https_endpoint_must_be_an_https_url(endpoint: str) -> None:
    with pytest.raises(SettingsError, match="monitoring.alarm_https_endpoint=.*an https:// URL"):
        MonitoringSettings(alarm_https_endpoint=endpoint)


def test_good_subscribers_are_accepted() -> None:
    settings = MonitoringSettings(alarm_email="oncall@example.com", alarm_https_endpoint=f"{CHATBOT}/x")
    assert (settings.alarm_email, settings.alarm_https_endpoint) == ("oncall@example.com", f"{CHATBOT}/x")


def test_p99_alarm_uses_an_extended_statistic_and_no_plain_one() -> None:
    spec = AlarmSpec(name="a", description="d", runbook_entry="e", namespace="AWS/Lambda", metric="Duration",
                     dimensions={"FunctionName": "f"}, threshold=1, statistic=None, extended_statistic="p99")
    alarms = AlarmProps(topic_arn="arn:t", period_s=30)
    stack = synth_scope(lambda scope: metric_alarm(scope, "a", spec, alarms=alarms, component="x"))
    [alarm] = stack.resources("aws_cloudwatch_metric_alarm")
    assert alarm.body["extended_statistic"] == "p99" and "statistic" not in alarm.body
    assert alarm.body["treat_missing_data"] == "notBreaching"
    assert (alarm.body["period"], alarm.body["alarm_actions"], alarm.body["ok_actions"]) == (30, ["arn:t"], ["arn:t"])


def test_dashboard_has_a_row_per_stage_and_a_row_for_table_and_rejects() -> None:
    views = [StageView(s, f"{s}-dev", f"{s}-q", f"{s}-q-dlq") for s in ("validator", "enricher", "processor")]
    props = DashboardProps(name="tap-pipeline-dev", region="us-east-1", stages=views, table_name="data-table-dev",
                           rejects_queue="rejects-dev")
    stack = synth_scope(lambda scope: PipelineDashboard(scope, "dashboard", props=props))
    [dashboard] = stack.resources("aws_cloudwatch_dashboard")
    widgets = json.loads(dashboard.body["dashboard_body"])["widgets"]
    assert len(widgets) == 3 * 3 + 3
    rows = {w["y"] for w in widgets}
    assert rows == {0, 6, 12, 18}
    assert dashboard.body["dashboard_name"] == "tap-pipeline-dev"


def test_an_alarm_description_ends_with_its_runbook_entry() -> None:
    alarms = AlarmProps(topic_arn="arn:t", period_s=60, runbook="https://example.com/runbook.md")
    assert alarm_description("It broke.", "it-broke", alarms) == "It broke. Runbook: https://example.com/runbook.md#it-broke"


def test_the_default_runbook_is_the_repositorys() -> None:
    assert AlarmProps(topic_arn="arn:t", period_s=60).runbook == "docs/runbook.md"


def test_a_description_cloudwatch_would_refuse_stops_the_synth() -> None:
    """PutMetricAlarm accepts at most 1024 characters of AlarmDescription: both sides of the bound."""
    alarms = AlarmProps(topic_arn="arn:t", period_s=60, runbook="r")
    tail = len(" Runbook: r#e")
    assert len(alarm_description("x" * (1024 - tail), "e", alarms)) == 1024
    with pytest.raises(ValueError, match="1025 characters is longer than CloudWatch's 1024"):
        alarm_description("x" * (1025 - tail), "e", alarms)
    assert MAX_DESCRIPTION_CHARS == 1024
